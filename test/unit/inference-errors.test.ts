import { ApplicationFailure } from '@temporalio/common';
import { msOptionalToNumber } from '@temporalio/common/lib/time';
import OpenAI from 'openai';

import {
  classifyInferenceError,
  classifyStreamError,
  InferenceFailureType,
  isContextWindowError,
  missingApiKeyFailure,
  retryAfterMs,
} from '../../src/activities/inference-errors';

/** The parts of a failure the workflow and the retry policy look at. */
function summary(failure: ApplicationFailure) {
  return {
    type: failure.type,
    nonRetryable: failure.nonRetryable,
    message: failure.message,
    nextRetryDelayMs: msOptionalToNumber(failure.nextRetryDelay ?? undefined),
  };
}

/** A real openai client error, as the client builds it from a response. */
function apiError(status: number, error: { message: string; code?: string | null; type?: string }, headers: Record<string, string> = {}) {
  return OpenAI.APIError.generate(status, { error }, undefined, new Headers(headers));
}

describe('classifyInferenceError', () => {
  it.each([
    {
      name: '429 with retry-after: 2 is retried after 2000 ms',
      err: apiError(429, { message: 'Rate limit reached', code: 'rate_limit_exceeded', type: 'requests' }, { 'retry-after': '2' }),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme answered 429: 429 Rate limit reached', nextRetryDelayMs: 2000 },
    },
    {
      name: '429 with retry-after-ms is retried after that many ms',
      err: apiError(429, { message: 'slow down' }, { 'retry-after-ms': '250', 'retry-after': '9' }),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme answered 429: 429 slow down', nextRetryDelayMs: 250 },
    },
    {
      name: '429 without retry-after is retried on the default schedule',
      err: apiError(429, { message: 'slow down' }),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme answered 429: 429 slow down', nextRetryDelayMs: undefined },
    },
    {
      name: '429 insufficient_quota (code) is final',
      err: apiError(429, { message: 'You exceeded your current quota', code: 'insufficient_quota', type: 'insufficient_quota' }, { 'retry-after': '2' }),
      expected: {
        type: InferenceFailureType.QuotaExceeded,
        nonRetryable: true,
        message: 'acme answered 429: 429 You exceeded your current quota (the account is out of quota)',
        nextRetryDelayMs: undefined,
      },
    },
    {
      name: '429 insufficient_quota (type only) is final',
      err: apiError(429, { message: 'quota', type: 'insufficient_quota' }),
      expected: { type: InferenceFailureType.QuotaExceeded, nonRetryable: true, message: 'acme answered 429: 429 quota (the account is out of quota)', nextRetryDelayMs: undefined },
    },
    ...[500, 502, 503, 408, 409].map((status) => ({
      name: `${status} is retried`,
      err: apiError(status, { message: 'try again' }),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: `acme answered ${status}: ${status} try again`, nextRetryDelayMs: undefined },
    })),
    {
      name: '503 with retry-after is retried after it',
      err: apiError(503, { message: 'overloaded' }, { 'retry-after': '1.5' }),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme answered 503: 503 overloaded', nextRetryDelayMs: 1500 },
    },
    {
      name: '400 context_length_exceeded is a context window failure',
      err: apiError(400, { message: 'Your input exceeds the context window of this model.', code: 'context_length_exceeded', type: 'invalid_request_error' }),
      expected: {
        type: InferenceFailureType.ContextWindowExceeded,
        nonRetryable: true,
        message: 'acme answered 400: 400 Your input exceeds the context window of this model.',
        nextRetryDelayMs: undefined,
      },
    },
    {
      name: '400 whose message mentions the maximum context length is a context window failure',
      err: apiError(400, { message: "This model's maximum context length is 8192 tokens." }),
      expected: {
        type: InferenceFailureType.ContextWindowExceeded,
        nonRetryable: true,
        message: "acme answered 400: 400 This model's maximum context length is 8192 tokens.",
        nextRetryDelayMs: undefined,
      },
    },
    ...[401, 403].map((status) => ({
      name: `${status} is an authentication failure`,
      err: apiError(status, { message: 'Incorrect API key provided', code: 'invalid_api_key' }),
      expected: {
        type: InferenceFailureType.AuthenticationFailed,
        nonRetryable: true,
        message: `acme answered ${status}: ${status} Incorrect API key provided`,
        nextRetryDelayMs: undefined,
      },
    })),
    ...[400, 404, 422].map((status) => ({
      name: `${status} for another reason is a rejected request`,
      err: apiError(status, { message: 'Invalid value for tools', code: 'invalid_value', type: 'invalid_request_error' }),
      expected: {
        type: InferenceFailureType.RequestRejected,
        nonRetryable: true,
        message: `acme answered ${status}: ${status} Invalid value for tools`,
        nextRetryDelayMs: undefined,
      },
    })),
    {
      name: 'a connection error is retried',
      err: new OpenAI.APIConnectionError({ message: 'connect ECONNREFUSED 127.0.0.1:1' }),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'cannot reach acme: connect ECONNREFUSED 127.0.0.1:1', nextRetryDelayMs: undefined },
    },
    {
      name: 'a connection timeout is retried',
      err: new OpenAI.APIConnectionTimeoutError(),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'cannot reach acme: Request timed out.', nextRetryDelayMs: undefined },
    },
    {
      name: 'a plain Error is retried',
      err: new Error('socket hang up'),
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'model stream failed: socket hang up', nextRetryDelayMs: undefined },
    },
    {
      name: 'a thrown string is retried',
      err: 'boom',
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'model stream failed: boom', nextRetryDelayMs: undefined },
    },
  ])('classifies $name', ({ err, expected }) => {
    expect(summary(classifyInferenceError(err, 'acme'))).toEqual(expected);
  });

  it('keeps the original error as the cause of a retryable failure', () => {
    const err = apiError(500, { message: 'oops' });
    expect(classifyInferenceError(err, 'acme').cause).toBe(err);
  });

  it('passes an ApplicationFailure through unchanged', () => {
    const failure = ApplicationFailure.nonRetryable('already classified', 'Custom');
    expect(classifyInferenceError(failure, 'acme')).toBe(failure);
  });
});

describe('retryAfterMs', () => {
  const now = Date.UTC(2025, 0, 31, 12, 0, 0);

  it.each<{ name: string; headers: Record<string, string> | undefined; expected: number | undefined }>([
    { name: 'no headers', headers: undefined, expected: undefined },
    { name: 'no retry headers', headers: {}, expected: undefined },
    { name: 'retry-after-ms', headers: { 'retry-after-ms': '1500' }, expected: 1500 },
    { name: 'retry-after-ms over retry-after', headers: { 'retry-after-ms': '10', 'retry-after': '5' }, expected: 10 },
    { name: 'retry-after when retry-after-ms is garbage', headers: { 'retry-after-ms': 'soon', 'retry-after': '5' }, expected: 5000 },
    { name: 'retry-after in whole seconds', headers: { 'retry-after': '2' }, expected: 2000 },
    { name: 'retry-after in fractional seconds', headers: { 'retry-after': '0.25' }, expected: 250 },
    { name: 'retry-after of zero', headers: { 'retry-after': '0' }, expected: 0 },
    { name: 'retry-after as a future HTTP date', headers: { 'retry-after': new Date(now + 30_000).toUTCString() }, expected: 30_000 },
    { name: 'retry-after as a past HTTP date', headers: { 'retry-after': new Date(now - 30_000).toUTCString() }, expected: 0 },
    { name: 'garbage retry-after', headers: { 'retry-after': 'soon' }, expected: undefined },
    { name: 'an empty retry-after as absent', headers: { 'retry-after': '' }, expected: undefined },
    { name: 'retry-after when retry-after-ms is empty', headers: { 'retry-after-ms': '', 'retry-after': '5' }, expected: 5000 },
  ])('reads $name', ({ headers, expected }) => {
    expect(retryAfterMs(headers ? new Headers(headers) : undefined, now)).toBe(expected);
  });
});

describe('isContextWindowError', () => {
  it.each([
    { code: 'context_length_exceeded', message: 'anything', expected: true },
    { code: null, message: 'Input exceeds the context window', expected: true },
    { code: undefined, message: 'maximum context length is 128000 tokens', expected: true },
    { code: null, message: 'context_length too long', expected: true },
    { code: 'invalid_value', message: 'Invalid value for tools', expected: false },
    { code: null, message: '', expected: false },
  ])('returns $expected for code $code and message $message', ({ code, message, expected }) => {
    expect(isContextWindowError(code, message)).toBe(expected);
  });
});

describe('classifyStreamError', () => {
  it.each([
    {
      name: 'context_length_exceeded is a context window failure',
      error: { code: 'context_length_exceeded', message: 'too long' },
      expected: { type: InferenceFailureType.ContextWindowExceeded, nonRetryable: true, message: 'acme reported context_length_exceeded: too long' },
    },
    {
      name: 'a message about the context window is a context window failure',
      error: { code: null, message: 'Your input exceeds the context window of this model.' },
      expected: {
        type: InferenceFailureType.ContextWindowExceeded,
        nonRetryable: true,
        message: 'acme reported an error: Your input exceeds the context window of this model.',
      },
    },
    {
      name: 'insufficient_quota is a quota failure',
      error: { code: 'insufficient_quota', message: 'out of credits' },
      expected: { type: InferenceFailureType.QuotaExceeded, nonRetryable: true, message: 'acme reported insufficient_quota: out of credits' },
    },
    {
      name: 'invalid_prompt is a rejected request',
      error: { code: 'invalid_prompt', message: 'flagged' },
      expected: { type: InferenceFailureType.RequestRejected, nonRetryable: true, message: 'acme reported invalid_prompt: flagged' },
    },
    {
      name: 'invalid_request_error is a rejected request',
      error: { code: 'invalid_request_error', message: 'bad input' },
      expected: { type: InferenceFailureType.RequestRejected, nonRetryable: true, message: 'acme reported invalid_request_error: bad input' },
    },
    {
      name: 'server_error is retried',
      error: { code: 'server_error', message: 'The server had an error' },
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme reported server_error: The server had an error' },
    },
    {
      name: 'rate_limit_exceeded is retried',
      error: { code: 'rate_limit_exceeded', message: 'slow down' },
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme reported rate_limit_exceeded: slow down' },
    },
    {
      name: 'a missing error is retried with a default message',
      error: null,
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme reported an error: the response failed without an error message' },
    },
    {
      name: 'an error without code or message is retried with a default message',
      error: { code: null, message: null },
      expected: { type: InferenceFailureType.Transient, nonRetryable: false, message: 'acme reported an error: the response failed without an error message' },
    },
  ])('classifies $name', ({ error, expected }) => {
    expect(summary(classifyStreamError(error, 'acme'))).toEqual({ ...expected, nextRetryDelayMs: undefined });
  });
});

describe('missingApiKeyFailure', () => {
  it('is a final MissingApiKey failure naming the variable and the provider', () => {
    expect(summary(missingApiKeyFailure('ACME_KEY', 'acme'))).toEqual({
      type: InferenceFailureType.MissingApiKey,
      nonRetryable: true,
      message: 'ACME_KEY is not set: the acme provider needs an API key. Set ACME_KEY in the environment of the worker (and of `unroll exec`).',
      nextRetryDelayMs: undefined,
    });
  });
});
