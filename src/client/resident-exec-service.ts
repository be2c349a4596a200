/**
 * The resident worker's side of thin `exec` (see ./resident-exec-protocol.ts): it listens
 * on `<home>/worker.sock` and runs each client's command line in this process, with the
 * worker's own connection to Temporal and its store, already loaded and connected. That
 * is what makes `exec` with a resident worker a thin client: the client process loads no
 * Temporal SDK, gRPC or schema code (issue "As fast as Codex").
 *
 * The command runs as it would in the client (the same handler, the client's environment,
 * working directory, argv and terminal flags), with these differences:
 * - Output written before the command takes the worker's runtime is held back: if the
 *   command declines (its configuration is not the worker's, or it asks for another
 *   worker), the client runs it itself and nothing is printed twice.
 * - Ctrl-C and SIGTERM arrive as frames; "leave at once" ends the client, and the command's
 *   watcher here ends with the turn (it only reads).
 * - A client that disconnects is treated as one that left at once.
 */
import { EventEmitter } from 'node:events';
import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import { Readable, Writable } from 'node:stream';
import type { UnrollConfig } from '../config/config';
import { isServerReachable } from '../temporal/dev-server';
import type { Io, SignalHost } from './process-io';
import { frameLine, frameReader, MAX_SOCKET_PATH_BYTES, type ClientFrame, type ServiceFrame } from './resident-exec-protocol';
import type { UnrollRuntime } from './runtime';

/** The command needs a runtime other than the resident worker's: the client runs it itself. */
export class ResidentExecDeclined extends Error {
  override readonly name = 'ResidentExecDeclined';
}

/** What the service needs from the worker it runs in. */
export interface ResidentExecServiceOptions {
  readonly socketPath: string;
  readonly buildId: string;
  /** The worker's fingerprint (./resident-worker.ts `workerFingerprint`). */
  readonly fingerprint: string;
  /** The fingerprint a command's configuration and environment would give its worker. */
  readonly fingerprintOf: (config: UnrollConfig, env: Record<string, string | undefined>) => string;
  readonly runtime: UnrollRuntime;
  /** Runs a command line (the CLI's `main`). */
  readonly run: (argv: string[], io: Io) => Promise<number>;
  /** Where the service reports problems (the worker's log). */
  readonly log: (message: string) => void;
}

/** A running service. */
export interface ResidentExecService {
  /** Commands running for clients now (the worker is not idle while one runs). */
  active(): number;
  /** Stops accepting clients and removes the socket (running commands go on). */
  close(): Promise<void>;
}

/**
 * Starts listening; resolves with undefined when the socket path is too long for a Unix
 * socket (the home then serves no thin clients).
 */
export async function startResidentExecService(options: ResidentExecServiceOptions): Promise<ResidentExecService | undefined> {
  if (Buffer.byteLength(options.socketPath) > MAX_SOCKET_PATH_BYTES) {
    options.log(`thin exec clients disabled: the socket path ${options.socketPath} is longer than ${MAX_SOCKET_PATH_BYTES} bytes`);
    return undefined;
  }
  await rm(options.socketPath, { force: true });
  let active = 0;
  const server = net.createServer((socket) => {
    active += 1;
    void serveClient(socket, options).finally(() => {
      active -= 1;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => resolve());
  });
  // The client sends its environment (API keys included): only this user may connect.
  await chmod(options.socketPath, 0o600);
  return {
    active: () => active,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(options.socketPath, { force: true });
    },
  };
}

/** One client's command, from its `start` frame to its `exit` (or `decline`). */
async function serveClient(socket: net.Socket, options: ResidentExecServiceOptions): Promise<void> {
  const session = new ClientSession(socket, options);
  await session.finished;
}

class ClientSession {
  readonly finished: Promise<void>;
  private resolveFinished!: () => void;
  private done = false;
  /** Output held back until the command takes the worker's runtime (or ends). */
  private held: ServiceFrame[] | null = [];
  private declined: string | null = null;
  private stdinText: Promise<string> | null = null;
  private resolveStdin: ((text: string) => void) | null = null;
  private input: Readable | null = null;
  private readonly signals = new EventEmitter();

  constructor(
    private readonly socket: net.Socket,
    private readonly options: ResidentExecServiceOptions,
  ) {
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
    socket.on('data', frameReader<ClientFrame>((frame) => this.onFrame(frame), (line) => options.log(`thin exec: a malformed frame from a client: ${line.slice(0, 200)}`)));
    socket.on('error', () => this.onClientGone());
    socket.on('close', () => this.onClientGone());
  }

  private onFrame(frame: ClientFrame): void {
    switch (frame.t) {
      case 'start':
        void this.start(frame);
        return;
      case 'stdin':
        this.resolveStdin?.(frame.data);
        return;
      case 'input':
        this.input?.push(frame.data);
        return;
      case 'input-end':
        this.input?.push(null);
        return;
      case 'signal':
        this.signals.emit(frame.name);
        return;
    }
  }

  private async start(frame: Extract<ClientFrame, { t: 'start' }>): Promise<void> {
    if (frame.build !== this.options.buildId) {
      this.finish({ t: 'decline', reason: `the resident worker runs build ${this.options.buildId}, this command ${frame.build}` });
      return;
    }
    let code: number;
    try {
      code = await this.options.run(frame.argv, this.io(frame));
    } catch (err) {
      this.send({ t: 'err', data: `unroll: ${err instanceof Error ? err.message : String(err)}\n` });
      code = 1;
    }
    this.finish(this.declined !== null ? { t: 'decline', reason: this.declined } : { t: 'exit', code });
  }

  private io(frame: Extract<ClientFrame, { t: 'start' }>): Io {
    const signals: SignalHost = {
      on: (name, listener) => this.signals.on(name, listener),
      off: (name, listener) => this.signals.off(name, listener),
      exit: (code) => this.finish({ t: 'exit', code }),
    };
    const stream = (t: 'out' | 'err', isTTY: boolean) =>
      Object.assign(
        new Writable({
          write: (chunk: Buffer | string, _encoding, callback) => {
            this.send({ t, data: chunk.toString() });
            callback();
          },
        }),
        { isTTY },
      );
    if (frame.tty.in) {
      this.input = Object.assign(new Readable({ encoding: 'utf8', read: () => this.sendNow({ t: 'want-input' }) }), { isTTY: true });
    }
    return {
      env: frame.env,
      cwd: frame.cwd,
      out: stream('out', frame.tty.out),
      err: stream('err', frame.tty.err),
      stdin: () => this.readStdin(),
      ...(this.input ? { input: this.input } : { input: Object.assign(Readable.from([]), { isTTY: false }) }),
      signals,
      resident: {
        runtimeFor: (config, flags) => this.runtimeFor(config, frame.env, flags),
        notify: (text) => this.sendNow({ t: 'err', data: text }),
      },
    };
  }

  private readStdin(): Promise<string> {
    if (!this.stdinText) {
      this.stdinText = new Promise((resolve) => {
        this.resolveStdin = resolve;
      });
      this.sendNow({ t: 'read-stdin' });
    }
    return this.stdinText;
  }

  private async runtimeFor(config: UnrollConfig, env: Record<string, string | undefined>, flags: { worker?: boolean; inProcessWorker?: boolean; verbose?: boolean }): Promise<UnrollRuntime> {
    const reason =
      flags.worker === false ? '--no-worker'
      : flags.inProcessWorker ? '--in-process-worker'
      : flags.verbose ? '-v'
      : this.options.fingerprintOf(config, env) !== this.options.fingerprint ? 'its configuration is not the resident worker\'s'
      : !(await isServerReachable(config.temporal.address)) ? `no Temporal server answers at ${config.temporal.address}`
      : null;
    if (reason !== null) {
      this.declined = reason;
      throw new ResidentExecDeclined(`the command runs in its own process: ${reason}`);
    }
    this.release();
    // The worker's connection and store outlive the command.
    return { ...this.options.runtime, close: () => Promise.resolve() };
  }

  /** Sends what was held back; later output goes out as it comes. */
  private release(): void {
    const held = this.held;
    this.held = null;
    for (const frame of held ?? []) this.sendNow(frame);
  }

  private send(frame: ServiceFrame): void {
    if (this.held) this.held.push(frame);
    else this.sendNow(frame);
  }

  private sendNow(frame: ServiceFrame): void {
    if (!this.done && this.socket.writable) this.socket.write(frameLine(frame));
  }

  private finish(last: ServiceFrame): void {
    if (this.done) return;
    if (last.t === 'decline') this.held = null;
    else this.release();
    this.sendNow(last);
    this.done = true;
    this.socket.end();
    this.resolveFinished();
  }

  /** The client left (or its connection broke): as if it had left at once. */
  private onClientGone(): void {
    if (this.done) return;
    this.done = true;
    this.input?.push(null);
    this.resolveStdin?.('');
    this.resolveFinished();
  }
}
