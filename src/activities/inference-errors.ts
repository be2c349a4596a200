/**
 * How a failed model request is reported to Temporal. Transient failures are thrown as
 * retryable ApplicationFailures (with the provider's Retry-After as the next delay);
 * failures that a retry cannot fix are non-retryable, with a `type` the workflow
 * recognises. See {@link InferenceFailureType}.
 */
import { ApplicationFailure } from '@temporalio/common';
import OpenAI from 'openai';
import { InferenceFailureType } from '../shared/failure-types';

export { InferenceFailureType, NON_RETRYABLE_INFERENCE_FAILURES } from '../shared/failure-types';

/** Builds a retryable failure, honouring a server-suggested delay when there is one. */
export function transientFailure(message: string, retryAfterMs?: number, cause?: Error): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: InferenceFailureType.Transient,
    nonRetryable: false,
    ...(retryAfterMs !== undefined ? { nextRetryDelay: retryAfterMs } : {}),
    ...(cause ? { cause } : {}),
  });
}

function finalFailure(type: string, message: string): ApplicationFailure {
  return ApplicationFailure.create({ message, type, nonRetryable: true });
}

/** Parses `retry-after-ms` / `retry-after` (seconds or an HTTP date) into milliseconds. */
export function retryAfterMs(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const msText = headers.get('retry-after-ms')?.trim();
  const ms = Number(msText);
  if (msText && Number.isFinite(ms) && ms >= 0) return ms;
  const value = headers.get('retry-after')?.trim();
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1000);
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** True when a provider error code or message says the input is too long. */
export function isContextWindowError(code: string | null | undefined, message: string): boolean {
  return code === 'context_length_exceeded' || /context[ _]length|context window|maximum context/i.test(message);
}

/**
 * Maps an error from the openai client (or the stream) to the failure Temporal should
 * see. `providerName` names the provider in messages so the user knows where to look.
 */
export function classifyInferenceError(err: unknown, providerName: string): ApplicationFailure {
  if (err instanceof ApplicationFailure) return err;
  if (err instanceof OpenAI.APIConnectionError) {
    return transientFailure(`cannot reach ${providerName}: ${err.message}`, undefined, err);
  }
  if (err instanceof OpenAI.APIError && typeof err.status === 'number') {
    const status = err.status;
    const detail = `${providerName} answered ${status}: ${err.message}`;
    if (status === 429 && (err.code === 'insufficient_quota' || err.type === 'insufficient_quota')) {
      return finalFailure(InferenceFailureType.QuotaExceeded, `${detail} (the account is out of quota)`);
    }
    if (status === 408 || status === 409 || status === 429 || status >= 500) {
      return transientFailure(detail, retryAfterMs(err.headers as Headers | undefined), err);
    }
    if (isContextWindowError(err.code, err.message)) {
      return finalFailure(InferenceFailureType.ContextWindowExceeded, detail);
    }
    if (status === 401 || status === 403) return finalFailure(InferenceFailureType.AuthenticationFailed, detail);
    return finalFailure(InferenceFailureType.RequestRejected, detail);
  }
  const message = err instanceof Error ? err.message : String(err);
  return transientFailure(`model stream failed: ${message}`, undefined, err instanceof Error ? err : undefined);
}

/** Maps a `response.failed` / `error` stream event to a failure. */
export function classifyStreamError(error: { code?: string | null; message?: string | null } | null | undefined, providerName: string): ApplicationFailure {
  const code = error?.code ?? null;
  const message = error?.message ?? 'the response failed without an error message';
  const detail = `${providerName} reported ${code ?? 'an error'}: ${message}`;
  if (isContextWindowError(code, message)) return finalFailure(InferenceFailureType.ContextWindowExceeded, detail);
  if (code === 'insufficient_quota') return finalFailure(InferenceFailureType.QuotaExceeded, detail);
  if (code === 'invalid_prompt' || code === 'invalid_request_error') return finalFailure(InferenceFailureType.RequestRejected, detail);
  return transientFailure(detail);
}

/** The failure for a worker that has no key for the provider. */
export function missingApiKeyFailure(envKey: string, providerName: string): ApplicationFailure {
  return finalFailure(
    InferenceFailureType.MissingApiKey,
    `${envKey} is not set: the ${providerName} provider needs an API key. Set ${envKey} in the environment of the worker (and of \`unroll exec\`).`,
  );
}
