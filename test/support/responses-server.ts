/**
 * A real HTTP server that speaks the OpenAI Responses API for tests: `POST /v1/responses`
 * is answered from a script (FIFO queue, then an optional handler) with SSE framed and
 * shaped as the real API streams it, so the real `openai` client can point at `url`.
 *
 * Every request is also checked against the protocol an agent must keep, and each
 * breach is recorded (and the request still served, unless `strict`):
 * - basics: `model` present, `stream: true`, `store: false`, `input` an array;
 * - pairing: each `function_call` / `custom_tool_call` in `input` has exactly one
 *   matching output after it, and no output lacks its call;
 * - prefix: within one thread (`prompt_cache_key`), the input extends the previous
 *   request's input item by item, unless the request carries `x-unroll-prefix-reset: 1`
 *   or the test called {@link ScriptedResponsesServer.allowPrefixBreak}.
 * Violations name the request by its index in {@link ScriptedResponsesServer.requests}.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { isDeepStrictEqual } from 'node:util';
import {
  assistantMessage,
  estimateUsage,
  itemEvents,
  responseEnvelope,
  type OutputItem,
  type ScriptStep,
  type StreamEvent,
} from './responses-builders';

/** An item of a request's `input`, as sent by the client (unvalidated JSON). */
export interface InputItem {
  readonly type?: unknown;
  readonly call_id?: unknown;
  readonly [field: string]: unknown;
}

/** One `POST /v1/responses` the server received. */
export interface RecordedRequest {
  /** Position in {@link ScriptedResponsesServer.requests}; violations say `request #<index>`. */
  readonly index: number;
  /** The parsed JSON body. */
  readonly body: Record<string, unknown>;
  /** `body.input` when it is an array, else empty. */
  readonly input: readonly InputItem[];
  /** `body.prompt_cache_key` when it is a string: the thread the prefix check groups by. */
  readonly threadKey: string | undefined;
  readonly headers: http.IncomingHttpHeaders;
  readonly receivedAt: Date;
}

/** Options of {@link ScriptedResponsesServer.start}. */
export interface ScriptedResponsesServerOptions {
  /**
   * Reject requests that break the basics or the call/output pairing with a 400
   * `invalid_request_error`, as the real API does, instead of serving the next step
   * (which stays queued). Prefix breaks are only recorded: the API accepts them.
   */
  readonly strict?: boolean;
  /** Port to listen on (loopback only); 0, the default, picks a free one. */
  readonly port?: number;
}

/** Thrown by {@link ScriptedResponsesServer.assertProtocol}; lists every violation. */
export class ProtocolViolationError extends Error {
  override readonly name = 'ProtocolViolationError';
  constructor(readonly violations: readonly string[]) {
    super(`The Responses API protocol was broken ${violations.length} time(s):\n- ${violations.join('\n- ')}`);
  }
}

/** Header with which a client declares that this request starts its thread's input afresh. */
export const PREFIX_RESET_HEADER = 'x-unroll-prefix-reset';

const OUTPUT_TYPE_OF_CALL: Record<string, string> = {
  function_call: 'function_call_output',
  custom_tool_call: 'custom_tool_call_output',
};
const OUTPUT_TYPES = new Set(Object.values(OUTPUT_TYPE_OF_CALL));

/** Violations of the request basics: model, `stream: true`, `store: false`, array input. */
export function findBasicViolations(body: Record<string, unknown>): string[] {
  const found: string[] = [];
  if (typeof body.model !== 'string' || body.model === '') found.push(`model is missing (got ${preview(body.model)})`);
  if (body.stream !== true) found.push(`stream must be true (got ${preview(body.stream)})`);
  if (body.store !== false) found.push(`store must be false (got ${preview(body.store)})`);
  if (!Array.isArray(body.input)) found.push(`input must be an array (got ${preview(body.input)})`);
  return found;
}

/**
 * Violations of call/output pairing in one input: a call without an output, an output
 * without a call (or before it), a second output for one call, a call without call_id,
 * a repeated call_id, and an output of the wrong kind for its call.
 */
export function findPairingViolations(input: readonly InputItem[]): string[] {
  const found: string[] = [];
  const calls = new Map<string, { index: number; type: string; outputs: number }>();
  const answeredEarly = new Set<string>();
  input.forEach((item, index) => {
    const type = typeof item.type === 'string' ? item.type : '';
    const callId = typeof item.call_id === 'string' ? item.call_id : '';
    if (type in OUTPUT_TYPE_OF_CALL) {
      const earlier = calls.get(callId);
      if (callId === '') found.push(`${describeItem(item, index)} has no call_id`);
      else if (earlier) found.push(`${describeItem(item, index)} repeats the call_id of input[${earlier.index}]`);
      else calls.set(callId, { index, type, outputs: answeredEarly.has(callId) ? 1 : 0 });
    } else if (OUTPUT_TYPES.has(type)) {
      const call = calls.get(callId);
      if (!call) {
        const later = input.slice(index + 1).some((other) => other.call_id === callId && String(other.type) in OUTPUT_TYPE_OF_CALL);
        found.push(`${describeItem(item, index)} ${later ? 'comes before its call' : 'has no matching call (orphan output)'}`);
        if (later) answeredEarly.add(callId);
        return;
      }
      call.outputs += 1;
      if (call.outputs > 1) found.push(`${describeItem(item, index)} is a duplicate output for input[${call.index}]`);
      if (OUTPUT_TYPE_OF_CALL[call.type] !== type) found.push(`${describeItem(item, index)} answers a ${call.type} (input[${call.index}])`);
    }
  });
  for (const [callId, call] of calls) {
    if (call.outputs === 0) {
      found.push(`${describeItem(input[call.index], call.index)} has no ${OUTPUT_TYPE_OF_CALL[call.type]} (call_id ${callId})`);
    }
  }
  return found;
}

/** Why `next` does not extend `previous` item by item, or undefined when it does. */
export function findPrefixBreak(previous: readonly InputItem[], next: readonly InputItem[]): string | undefined {
  const shared = Math.min(previous.length, next.length);
  for (let i = 0; i < shared; i++) {
    if (!isDeepStrictEqual(previous[i], next[i])) {
      return `input[${i}] differs: was ${preview(previous[i])}, now ${preview(next[i])}`;
    }
  }
  if (next.length < previous.length) return `input shrank from ${previous.length} to ${next.length} items`;
  return undefined;
}

/** Opening tag of the summary message a local compaction writes (see src/prompt/compaction.ts). */
export const HANDOFF_SUMMARY_TAG = '<handoff_summary>';

/**
 * True when `next` carries a compaction that `previous` did not: a `compaction` item
 * (remote compaction) or a handoff summary message (local compaction). Only then may a
 * request of a thread not extend the previous one.
 */
export function introducesCompaction(previous: readonly InputItem[], next: readonly InputItem[]): boolean {
  const marks = (items: readonly InputItem[]) =>
    items.filter((item) => item.type === 'compaction' || JSON.stringify(item).includes(HANDOFF_SUMMARY_TAG)).map((item) => JSON.stringify(item));
  const before = new Set(marks(previous));
  return marks(next).some((mark) => !before.has(mark));
}

/** True for a step that tells the client its input exceeds the context window. */
function rejectsForLength(step: ScriptStep): boolean {
  if (step.kind === 'response-failed') return step.error.code === 'context_length_exceeded';
  if (step.kind === 'stream-error') return step.code === 'context_length_exceeded';
  if (step.kind !== 'http-error') return false;
  return JSON.stringify(step.body ?? '').includes('context_length_exceeded');
}

/** How the server answers one `POST /v1/responses/compact`. */
export type CompactStep =
  | { kind: 'compacted'; output: unknown[] }
  | { kind: 'http-error'; status: number; body?: unknown; headers?: Record<string, string> }
  /** No answer until the client leaves or the server closes (a compaction still in flight). */
  | { kind: 'hang' };

/**
 * The scripted Responses API server. Start one per test (`await ScriptedResponsesServer.start()`),
 * queue steps with {@link enqueue}, point the client at {@link url}, and call
 * {@link assertProtocol} and {@link close} when done.
 */
export class ScriptedResponsesServer {
  /** Every `POST /v1/responses`, in arrival order. */
  readonly requests: RecordedRequest[] = [];
  /** Protocol violations found so far, human readable, each naming its request. */
  readonly violations: string[] = [];

  /** Every `POST /v1/responses/compact`, in arrival order. */
  readonly compactRequests: RecordedRequest[] = [];

  private readonly queue: ScriptStep[] = [];
  private readonly compactQueue: CompactStep[] = [];
  private handler: ((request: RecordedRequest) => ScriptStep | Promise<ScriptStep>) | undefined;
  private readonly threads = new Map<string, RecordedRequest>();
  private readonly prefixBreaksAllowed = new Set<string>();
  private readonly streams = new Set<http.ServerResponse>();
  private readonly waiters: { count: number; resolve: () => void }[] = [];
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly server: http.Server,
    /** Base URL for the `openai` client: `http://127.0.0.1:<port>/v1`. */
    readonly url: string,
    private readonly strict: boolean,
  ) {}

  /** Listens on an ephemeral port of 127.0.0.1 and resolves once the server accepts requests. */
  static async start(options: ScriptedResponsesServerOptions = {}): Promise<ScriptedResponsesServer> {
    const server = http.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const scripted = new ScriptedResponsesServer(server, `http://127.0.0.1:${port}/v1`, options.strict ?? false);
    server.on('request', (req: http.IncomingMessage, res: http.ServerResponse) => void scripted.handle(req, res));
    return scripted;
  }

  /** Appends steps to the script; each `POST /v1/responses` consumes the first one. */
  enqueue(...steps: ScriptStep[]): void {
    this.queue.push(...steps);
  }

  /**
   * Queues answers for `POST /v1/responses/compact`. With none queued the server
   * compacts as the real API does: the input's user messages, then one compaction item.
   */
  enqueueCompact(...steps: CompactStep[]): void {
    this.compactQueue.push(...steps);
  }

  /** Answers requests that find the queue empty (e.g. "always reply with a message"). */
  setHandler(handler: (request: RecordedRequest) => ScriptStep | Promise<ScriptStep>): void {
    this.handler = handler;
  }

  /** Lets the next request of thread `threadKey` not extend the previous one (once), e.g. after compaction. */
  allowPrefixBreak(threadKey: string): void {
    this.prefixBreaksAllowed.add(threadKey);
  }

  /** Steps still queued. */
  pending(): number {
    return this.queue.length;
  }

  /** SSE streams and hanging compaction requests currently open (they stay open until their client leaves). */
  openStreams(): number {
    return this.streams.size;
  }

  /** Throws {@link ProtocolViolationError} when any violation was recorded. */
  assertProtocol(): void {
    if (this.violations.length > 0) throw new ProtocolViolationError([...this.violations]);
  }

  /** Resolves once at least `count` requests have arrived; rejects after `timeoutMs`. */
  waitForRequests(count: number, timeoutMs = 10_000): Promise<void> {
    if (this.requests.length >= count) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        reject(new Error(`Waited ${timeoutMs} ms for ${count} requests to ${this.url}/responses; ${this.requests.length} arrived`));
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  /** Stops listening and destroys every connection, hanging streams included. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      for (const stream of this.streams) stream.destroy();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
    return this.closing;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    try {
      const raw = await readBody(req);
      const pathname = new URL(req.url ?? '/', 'http://x').pathname;
      if (req.method === 'POST' && pathname === '/v1/responses/compact') {
        this.compact(req, raw, res);
        return;
      }
      if (req.method !== 'POST' || pathname !== '/v1/responses') {
        this.violations.push(`unexpected ${req.method} ${req.url}: only POST /v1/responses is served`);
        sendJson(res, 404, apiError(`No route for ${req.method} ${req.url}`, 'invalid_request_error'));
        return;
      }
      const body = parseObject(raw);
      if (!body) {
        this.violations.push(`request #${this.requests.length} (not recorded): body is not a JSON object: ${preview(raw)}`);
        sendJson(res, 400, apiError('We could not parse the JSON body of your request.', 'invalid_request_error'));
        return;
      }
      const request = this.record(req, body);
      const rejections = this.check(request);
      if (this.strict && rejections.length > 0) {
        sendJson(res, 400, apiError(rejections.join('; '), 'invalid_request_error', 'input'));
        return;
      }
      const step = this.queue.shift() ?? (await this.handler?.(request));
      if (!step) {
        this.violations.push(`unexpected request #${request.index}: the script is empty and no handler is set`);
        sendJson(res, 500, apiError(`unexpected request #${request.index}: the script is empty`, 'server_error'));
        return;
      }
      await this.answer(step, request, res);
    } catch (error) {
      this.violations.push(`the scripted server failed on ${req.method} ${req.url}: ${String(error)}`);
      if (res.headersSent) res.destroy();
      else sendJson(res, 500, apiError(`scripted server error: ${String(error)}`, 'server_error'));
    }
  }

  /** Answers a compaction request; checks call/output pairing of its input. */
  private compact(req: http.IncomingMessage, raw: string, res: http.ServerResponse): void {
    const body = parseObject(raw);
    if (!body) {
      this.violations.push('compact request: body is not a JSON object');
      sendJson(res, 400, apiError('We could not parse the JSON body of your request.', 'invalid_request_error'));
      return;
    }
    const input = Array.isArray(body.input) ? (body.input as InputItem[]) : [];
    const request: RecordedRequest = {
      index: this.compactRequests.length,
      body,
      input,
      threadKey: typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : undefined,
      headers: req.headers,
      receivedAt: new Date(),
    };
    this.compactRequests.push(request);
    this.violations.push(...findPairingViolations(input).map((v) => `compact request #${request.index}: ${v}`));
    const step = this.compactQueue.shift();
    if (step?.kind === 'http-error') {
      sendJson(res, step.status, step.body, step.headers);
      return;
    }
    if (step?.kind === 'hang') {
      // Counted with the open streams, so a test can see when the client gives up on it.
      this.streams.add(res);
      res.on('close', () => this.streams.delete(res));
      return;
    }
    const output = step?.output ?? [
      ...input.filter((item) => item.type === 'message' && item.role === 'user'),
      { type: 'compaction', id: `cmp_${request.index}`, encrypted_content: `compacted ${input.length} items (request ${request.index})` },
    ];
    sendJson(res, 200, {
      id: `cmpresp_${request.index}`,
      object: 'response.compaction',
      created_at: Math.floor(Date.now() / 1000),
      output,
      usage: { input_tokens: Math.ceil(raw.length / 4), input_tokens_details: { cached_tokens: 0 }, output_tokens: 10, output_tokens_details: { reasoning_tokens: 0 }, total_tokens: Math.ceil(raw.length / 4) + 10 },
    });
  }

  private record(req: http.IncomingMessage, body: Record<string, unknown>): RecordedRequest {
    const request: RecordedRequest = {
      index: this.requests.length,
      body,
      input: Array.isArray(body.input) ? (body.input as InputItem[]) : [],
      threadKey: typeof body.prompt_cache_key === 'string' ? body.prompt_cache_key : undefined,
      headers: req.headers,
      receivedAt: new Date(),
    };
    this.requests.push(request);
    for (const waiter of this.waiters.filter((w) => this.requests.length >= w.count)) {
      this.waiters.splice(this.waiters.indexOf(waiter), 1);
      waiter.resolve();
    }
    return request;
  }

  /** Records the request's violations; returns those the real API would reject it for. */
  private check(request: RecordedRequest): string[] {
    const label = `request #${request.index}`;
    const rejections = [...findBasicViolations(request.body), ...findPairingViolations(request.input)];
    this.violations.push(...rejections.map((v) => `${label}: ${v}`));
    const key = request.threadKey;
    if (key === undefined || !Array.isArray(request.body.input)) return rejections;
    const previous = this.threads.get(key);
    const allowed = this.prefixBreaksAllowed.delete(key);
    const reset = request.headers[PREFIX_RESET_HEADER] === '1';
    this.threads.set(key, request);
    const compacted = previous !== undefined && introducesCompaction(previous.input, request.input);
    const broken = previous && !allowed && !reset && !compacted ? findPrefixBreak(previous.input, request.input) : undefined;
    if (broken) {
      this.violations.push(`${label} (prompt_cache_key '${key}'): input does not extend request #${previous?.index}: ${broken}`);
    }
    return rejections;
  }

  private async answer(step: ScriptStep, request: RecordedRequest, res: http.ServerResponse): Promise<void> {
    const headers = { 'x-request-id': `req_${request.index}` };
    // A request rejected as too long was never served: the next one may shrink.
    if (request.threadKey !== undefined && rejectsForLength(step)) this.prefixBreaksAllowed.add(request.threadKey);
    if (step.kind === 'http-error') {
      sendJson(res, step.status, step.body, { ...headers, ...step.headers });
      return;
    }
    const plan = planStream(step, request);
    res.writeHead(200, { ...headers, 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    res.flushHeaders();
    this.streams.add(res);
    const left = new AbortController();
    res.on('close', () => {
      this.streams.delete(res);
      left.abort();
    });
    for (const [i, frame] of plan.frames.entries()) {
      if (i > 0 && plan.delayMs > 0) await sleep(plan.delayMs, undefined, { signal: left.signal }).catch(() => undefined);
      if (left.signal.aborted) return;
      await writeFrame(res, frame);
    }
    if (plan.ending === 'end') res.end();
    else if (plan.ending === 'destroy') res.destroy();
    // 'hold': the stream stays open until the client disconnects or close() destroys it.
  }
}

interface StreamPlan {
  /** SSE frames, already numbered and encoded. */
  readonly frames: string[];
  readonly ending: 'end' | 'destroy' | 'hold';
  readonly delayMs: number;
}

/** Expands a streamed step into the SSE frames the API would send for `request`. */
function planStream(step: Exclude<ScriptStep, { kind: 'http-error' }>, request: RecordedRequest): StreamPlan {
  const id = `resp_${request.index}`;
  const events: (StreamEvent | string)[] = [];
  const start = (): void => {
    const response = responseEnvelope(id, request.body, { status: 'in_progress', output: [], usage: null });
    events.push({ type: 'response.created', response }, { type: 'response.in_progress', response });
  };
  const items = (output: OutputItem[]): void => {
    output.forEach((item, index) => events.push(...itemEvents(item, index)));
  };
  switch (step.kind) {
    case 'response': {
      start();
      items(step.output);
      const usage = estimateUsage(request.body.input, step.output, step.usage);
      const response = responseEnvelope(id, request.body, { status: 'completed', output: step.output, usage });
      events.push({ type: 'response.completed', response });
      return { frames: encode(events), ending: 'end', delayMs: step.chunkDelayMs ?? 0 };
    }
    case 'hang':
      start();
      return { frames: encode(events), ending: 'hold', delayMs: 0 };
    case 'cut': {
      start();
      items(step.output ?? [assistantMessage('This stream is cut off before it completes.')]);
      return { frames: encode(events).slice(0, step.afterEvents ?? 3), ending: 'destroy', delayMs: 0 };
    }
    case 'no-completed':
      start();
      items(step.output);
      return { frames: encode(events), ending: 'end', delayMs: 0 };
    case 'malformed':
      start();
      events.push('event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":\n\n');
      return { frames: encode(events), ending: 'end', delayMs: 0 };
    case 'response-failed': {
      start();
      const output = step.output ?? [];
      items(output);
      const response = responseEnvelope(id, request.body, { status: 'failed', output, usage: null, error: step.error });
      events.push({ type: 'response.failed', response });
      return { frames: encode(events), ending: 'end', delayMs: 0 };
    }
    case 'stream-error':
      start();
      events.push({ type: 'error', code: step.code, message: step.message, param: null });
      return { frames: encode(events), ending: 'end', delayMs: 0 };
  }
}

/** Numbers events from 0 and frames them as `event: <type>\ndata: <json>\n\n`; strings pass as-is. */
function encode(events: (StreamEvent | string)[]): string[] {
  let sequence = 0;
  return events.map((event) => {
    if (typeof event === 'string') return event;
    const { type, ...fields } = event;
    const data = { type, sequence_number: sequence++, ...fields };
    return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
  });
}

/** Writes one frame and waits until it is flushed (or the connection is gone). */
function writeFrame(res: http.ServerResponse, frame: string): Promise<void> {
  return new Promise<void>((resolve) => {
    const done = (): void => {
      res.off('close', done);
      resolve();
    };
    res.once('close', done);
    res.write(frame, done);
  });
}

function sendJson(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body ?? null);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function apiError(message: string, type: string, param: string | null = null): unknown {
  return { error: { message, type, param, code: null } };
}

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function parseObject(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function describeItem(item: InputItem | undefined, index: number): string {
  const name = typeof item?.name === 'string' ? ` '${item.name}'` : '';
  const callId = typeof item?.call_id === 'string' && item.call_id !== '' ? ` (call_id ${item.call_id})` : '';
  return `input[${index}] ${String(item?.type)}${name}${callId}`;
}

function preview(value: unknown, limit = 160): string {
  const text = typeof value === 'string' ? JSON.stringify(value) : (JSON.stringify(value) ?? String(value));
  return text.length > limit ? `${text.slice(0, limit)}…` : text;
}
