/**
 * The chaos run's model: the scripted Responses server with a handler that decides each
 * answer from the request itself, never from a FIFO, because retries and crashes change
 * how many requests arrive. The thread (`prompt_cache_key`) names the session; the last
 * user message names the turn; the last function calls name the step. When a call's
 * output says it was interrupted (or the tool gave up), the "model" re-issues that call
 * under a new call id, as a model that reads its outputs would; otherwise it moves on.
 *
 * Provider faults are served, in order, on the first attempts at a slot; only then does
 * the slot get its normal answer. Hooks report each first normal answer (the runner
 * kills workers and restarts the server from them).
 */
import type { OutputItem, ScriptStep } from '../../test/support/responses-builders';
import {
  assistantMessage,
  cut,
  hang,
  httpError,
  malformed,
  noCompleted,
  rateLimited,
  reasoning,
  respond,
  streamError,
} from '../../test/support/responses-builders';
import { ScriptedResponsesServer, type InputItem, type RecordedRequest } from '../../test/support/responses-server';
import { emptyFaultCounts, type FaultCounts, type ProviderFault } from './faults';
import { slotKey, type SessionPlan } from './plan';
import { callId, ledgerTag, parseCallId, renderCall } from './steps';

/** Where in its script a request puts a session. */
export interface ScriptPosition {
  readonly turn: number;
  readonly step: number;
  readonly retry: number;
  /** Indexes (within the step) of the calls to send: all of them, or the re-issued ones. */
  readonly calls: readonly number[];
}

/** A first normal answer, reported to the listeners of {@link ChaosModel.onAnswer}. */
export interface AnswerEvent {
  readonly threadId: string;
  readonly session: SessionPlan;
  readonly position: ScriptPosition;
}

/** Outputs that mean the call's outcome is unknown, so the script issues it again. */
export function needsReissue(output: string): boolean {
  return output.startsWith('interrupted:') || output.startsWith('tool failed after') || output.startsWith('aborted:');
}

/**
 * Decides where a request stands in `plan` from its input: the turn from the last
 * `chaos turn N` user message, the step and retry from the call ids after it, and which
 * calls need re-issuing from their outputs. Pure.
 */
export function locate(plan: SessionPlan, input: readonly InputItem[]): ScriptPosition {
  let lastUser = -1;
  let turn = 1;
  input.forEach((item, i) => {
    const text = userText(item);
    const m = text === undefined ? null : /^chaos turn (\d+) /.exec(text);
    if (m) {
      lastUser = i;
      turn = Number(m[1]);
    }
  });
  const after = input.slice(lastUser + 1);
  const outputs = new Map(after.filter((i) => i.type === 'function_call_output').map((i) => [String(i.call_id), String(i.output)]));
  const calls = after.filter((i) => i.type === 'function_call').map((i) => parseCallId(String(i.call_id))).filter((c) => c !== undefined);
  const last = calls[calls.length - 1];
  const stepCount = plan.turns[turn - 1]?.steps.length ?? 0;
  const allCalls = (step: number) => (step < stepCount ? plan.turns[turn - 1].steps[step].calls.map((_, i) => i) : []);
  if (!last) return { turn, step: 0, retry: 0, calls: allCalls(0) };
  const group = calls.filter((c) => c.step === last.step && c.retry === last.retry);
  const reissue = group.filter((c) => needsReissue(outputs.get(callId(plan.name, c.turn, c.step, c.call, c.retry)) ?? 'aborted: no output'));
  if (reissue.length > 0) return { turn, step: last.step, retry: last.retry + 1, calls: reissue.map((c) => c.call) };
  return { turn, step: last.step + 1, retry: 0, calls: allCalls(last.step + 1) };
}

/** The normal answer at `position`: the step's calls (with reasoning on a first issue), or the closing message. */
export function answerAt(plan: SessionPlan, position: ScriptPosition): OutputItem[] {
  const turn = plan.turns[position.turn - 1];
  if (!turn) return [assistantMessage(`There is no turn ${position.turn} in the script of ${plan.name}.`)];
  if (position.step >= turn.steps.length) return [assistantMessage(turn.finalMessage)];
  const step = turn.steps[position.step];
  const calls = position.calls.map((i) =>
    renderCall(step.calls[i], callId(plan.name, position.turn, position.step, i, position.retry), ledgerTag(plan.name, position.turn, position.step, i, position.retry)),
  );
  const thinking = step.reasoning && position.retry === 0 ? [reasoning(step.reasoning, `enc-${plan.name}-t${position.turn}-k${position.step}`)] : [];
  return [...thinking, ...calls];
}

/** The faulty answer standing in for `output`. */
export function faultStep(fault: ProviderFault, output: OutputItem[]): ScriptStep {
  switch (fault) {
    case 'http-429':
      return rateLimited(1);
    case 'http-500':
      return httpError(500);
    case 'http-503':
      return httpError(503);
    case 'connection-reset':
      return cut(4, output);
    case 'no-completed':
      return noCompleted(output);
    case 'stall':
      return hang();
    case 'malformed-json':
      return malformed();
    case 'malformed-sse':
      return { kind: 'http-error', status: 200, body: { note: 'a JSON document where an event stream was expected' } };
    case 'stream-error':
      return streamError('server_error', 'The server had an error while processing your request.');
  }
}

/**
 * Awaited before the normal answer at `position` is sent (a targeted scenario fills a
 * disk there, so the fault lands while the model's answer is on its way).
 */
export type BeforeAnswer = (position: ScriptPosition) => Promise<void>;

interface Registration {
  readonly plan: SessionPlan;
  readonly faults: boolean;
  readonly beforeAnswer?: BeforeAnswer;
}

/** The scripted model of a chaos run, serving every registered session. */
export class ChaosModel {
  /** Provider faults served so far. */
  readonly injected: FaultCounts = emptyFaultCounts();
  /** Normal answers served again for a slot already answered (the first answer was lost to a kill or a restart). */
  resent = 0;
  /** Requests the handler could not place (should stay empty). */
  readonly anomalies: string[] = [];
  private readonly listeners = new Set<(event: AnswerEvent) => void>();
  private readonly sessions = new Map<string, Registration>();
  private readonly attempts = new Map<string, number>();

  private constructor(readonly server: ScriptedResponsesServer) {}

  /** Starts the HTTP server on a free loopback port. */
  static async start(): Promise<ChaosModel> {
    const model = new ChaosModel(await ScriptedResponsesServer.start());
    model.server.setHandler((request) => model.answer(request));
    return model;
  }

  /** Base URL for the sessions' provider settings. */
  get url(): string {
    return this.server.url;
  }

  /** Protocol violations the scripted server recorded. */
  get violations(): readonly string[] {
    return this.server.violations;
  }

  /** Requests served so far. */
  get requestCount(): number {
    return this.server.requests.length;
  }

  /**
   * Calls `listener` on the first normal answer to each slot of every session with
   * faults (after the slot's provider faults). Returns the function that removes it.
   */
  onAnswer(listener: (event: AnswerEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Makes `threadId` play `plan`, with or without its provider faults. */
  register(threadId: string, plan: SessionPlan, options: { faults: boolean; beforeAnswer?: BeforeAnswer }): void {
    this.sessions.set(threadId, { plan, faults: options.faults, beforeAnswer: options.beforeAnswer });
  }

  /** The requests `threadId` sent so far, in order. */
  requestsOf(threadId: string): RecordedRequest[] {
    return this.server.requests.filter((r) => r.threadKey === threadId);
  }

  /** Stops the server, cutting open streams. */
  close(): Promise<void> {
    return this.server.close();
  }

  private async answer(request: RecordedRequest): Promise<ScriptStep> {
    const registration = request.threadKey === undefined ? undefined : this.sessions.get(request.threadKey);
    if (!registration) {
      this.anomalies.push(`request #${request.index} names no registered session (prompt_cache_key ${String(request.threadKey)})`);
      return respond(assistantMessage('unknown session'));
    }
    const { plan, faults, beforeAnswer } = registration;
    const position = locate(plan, request.input);
    const attemptKey = `${request.threadKey}/${position.turn}/${position.step}/${position.retry}`;
    const attempt = (this.attempts.get(attemptKey) ?? 0) + 1;
    this.attempts.set(attemptKey, attempt);
    const output = answerAt(plan, position);
    const planned = faults && position.retry === 0 ? (plan.providerFaults.get(slotKey(position.turn, position.step)) ?? []) : [];
    if (attempt <= planned.length) {
      const fault = planned[attempt - 1];
      this.injected[`provider:${fault}`] += 1;
      return faultStep(fault, output);
    }
    if (attempt > planned.length + 1) this.resent += 1;
    if (faults && attempt === planned.length + 1) {
      for (const listener of this.listeners) listener({ threadId: request.threadKey!, session: plan, position });
    }
    await beforeAnswer?.(position);
    return respond(output, { chunkDelayMs: 10 });
  }
}

function userText(item: InputItem): string | undefined {
  if (item.type !== 'message' || item.role !== 'user' || !Array.isArray(item.content)) return undefined;
  const first = (item.content as Array<{ text?: unknown }>)[0];
  return typeof first?.text === 'string' ? first.text : undefined;
}
