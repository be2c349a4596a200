/**
 * The process's side of the CLI (environment, streams, working directory, signals), as
 * every command handler receives it. A command runs either in its own process
 * ({@link processIo}) or, for `exec` handed over by a thin client, inside the home's
 * resident worker, whose {@link Io} forwards to the client's terminal
 * (./resident-exec-service.ts). Node built-ins only: the entry point loads this first.
 */
import type { ConfigSelection, UnrollConfig } from '../config/config';
import type { UnrollRuntime } from './runtime';

/** The signals a command reacts to, and how it leaves at once. */
export interface SignalHost {
  on(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  off(signal: 'SIGINT' | 'SIGTERM', listener: () => void): unknown;
  /** Ends the command at once with this exit code. */
  exit(code: number): void;
}

/**
 * What a command run inside the resident worker for a thin client gets: the worker's own
 * connection and store, when the command's configuration is the worker's.
 */
export interface ResidentSide {
  /**
   * The worker's runtime for a command with this configuration and worker flags; throws
   * `ResidentExecDeclined` when the command needs another runtime (other configuration,
   * `--no-worker`, `--in-process-worker`): the client then runs it itself.
   */
  runtimeFor(config: UnrollConfig, flags: { worker?: boolean; inProcessWorker?: boolean; verbose?: boolean }): Promise<UnrollRuntime>;
  /** Writes a notice to the client's stderr at once (what the command waits for). */
  notify(text: string): void;
}

/** The process's side of the CLI: environment, streams, working directory. */
export interface Io {
  readonly env: Record<string, string | undefined>;
  readonly out: NodeJS.WritableStream;
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  readonly cwd: string;
  /** All of standard input (for a `-` prompt). */
  readonly stdin: () => Promise<string>;
  /** The terminal, for interactive approvals; absent or not a TTY disables prompting. */
  readonly input?: NodeJS.ReadableStream & { isTTY?: boolean };
  /** The shared `-c key=value` and `-p/--profile` options of this invocation. */
  readonly configSelection?: ConfigSelection;
  /** Ctrl-C and SIGTERM (default: this process's). */
  readonly signals?: SignalHost;
  /** Set when the command runs inside the resident worker for a thin client. */
  readonly resident?: ResidentSide;
}

/**
 * Reads a stream to its end. (`readFileSync(0)` fails with EAGAIN when stdin is a
 * non-blocking pipe whose writer has not finished yet.)
 */
export async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk));
  return Buffer.concat(chunks).toString('utf8');
}

/** This process's signals. */
export const PROCESS_SIGNALS: SignalHost = {
  on: (signal, listener) => process.on(signal, listener),
  off: (signal, listener) => process.off(signal, listener),
  exit: (code) => process.exit(code),
};

/**
 * The {@link Io} of this process: its environment, standard streams and working
 * directory; `stdin` overrides how all of stdin is read (a thin client that already read
 * it hands the text on).
 */
export function processIo(stdin?: () => Promise<string>): Io {
  return { env: process.env, out: process.stdout, err: process.stderr, cwd: process.cwd(), stdin: stdin ?? (() => readAll(process.stdin)), input: process.stdin };
}
