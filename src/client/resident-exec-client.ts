/**
 * The thin `unroll exec`: when the home's resident worker runs (of this build), the
 * command line goes to it over `<home>/worker.sock` and runs there
 * (./resident-exec-service.ts); this process only relays its terminal. It loads Node
 * built-ins only, so `exec` reaches its first model request without loading the Temporal
 * SDK, gRPC or the schemas in this process.
 *
 * Anything else runs the ordinary way (the caller loads the whole CLI): another command,
 * `-v`, `--no-worker`, `--in-process-worker`, help, no resident worker yet (the ordinary
 * path starts one), a worker of another build or configuration (it declines; the ordinary
 * path replaces it), `UNROLL_RESIDENT_EXEC=0`. A worker that goes away during the command
 * ends it with exit 1 and says how to continue; the thread goes on with the next worker.
 */
import net from 'node:net';
import os from 'node:os';
import * as path from 'node:path';
import { buildId } from './build-id';
import { frameLine, frameReader, RESIDENT_SOCKET_NAME, type ClientFrame, type ServiceFrame } from './resident-exec-protocol';
import { readAll } from './process-io';

/** How the command went: run by the worker (with its exit code), or to be run here. */
export type ResidentExecOutcome = { readonly kind: 'done'; readonly code: number } | { readonly kind: 'run-here'; readonly stdin?: string };

/** Options that `-c`/`-p` take a value for: they come before the command name, too. */
const VALUED_GLOBALS = new Set(['-c', '--config', '-p', '--profile']);
/** Flags that need this process (its own worker or logs) or print help. */
const RUN_HERE_FLAGS = new Set(['--no-worker', '--in-process-worker', '-v', '--verbose', '-h', '--help', '-V', '--version']);

/** True when the command line is an `exec` (new thread, `exec resume`, `exec fork`) the worker may run. */
export function isResidentExecCandidate(argv: readonly string[]): boolean {
  let command: string | undefined;
  for (let i = 0; i < argv.length; i += 1) {
    const word = argv[i];
    if (word === '--') break;
    if (RUN_HERE_FLAGS.has(word)) return false;
    if (command === undefined) {
      if (VALUED_GLOBALS.has(word)) i += 1;
      else if (!word.startsWith('-')) command = word;
    }
  }
  return command === 'exec';
}

/** The socket of the home's resident worker, when the home names one. */
function socketOf(env: Record<string, string | undefined>): string {
  const home = path.resolve(env.UNROLL_HOME ?? path.join(os.homedir(), '.unroll'));
  return path.join(home, RESIDENT_SOCKET_NAME);
}

/** How long connecting to the worker's socket may take before the command runs here. */
const CONNECT_TIMEOUT_MS = 1_000;

function connect(socketPath: string): Promise<net.Socket | null> {
  return new Promise((resolve) => {
    const socket = net.connect(socketPath);
    const timer = setTimeout(() => {
      socket.destroy();
      resolve(null);
    }, CONNECT_TIMEOUT_MS);
    socket.once('connect', () => {
      clearTimeout(timer);
      resolve(socket);
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(null);
    });
  });
}

/**
 * Runs `argv` in the home's resident worker when it can (see the module comment); resolves
 * with `run-here` (and the stdin it read, if any) when the caller must run it.
 */
export async function tryResidentExec(argv: string[], env: NodeJS.ProcessEnv = process.env): Promise<ResidentExecOutcome> {
  if (env.UNROLL_RESIDENT_EXEC === '0' || !isResidentExecCandidate(argv)) return { kind: 'run-here' };
  const socket = await connect(socketOf(env));
  if (!socket) return { kind: 'run-here' };
  return relay(socket, {
    t: 'start',
    argv,
    env: { ...env },
    cwd: process.cwd(),
    build: buildId(),
    tty: { in: process.stdin.isTTY === true, out: process.stdout.isTTY === true, err: process.stderr.isTTY === true },
  });
}

/** Relays the terminal to the worker until it sends `exit` or `decline`. */
function relay(socket: net.Socket, start: ClientFrame): Promise<ResidentExecOutcome> {
  return new Promise((resolve) => {
    let settled = false;
    let started = false;
    let stdinText: string | undefined;
    let inputWired = false;
    const send = (frame: ClientFrame) => {
      if (!socket.destroyed) socket.write(frameLine(frame));
    };
    const onSigint = () => send({ t: 'signal', name: 'SIGINT' });
    const onSigterm = () => send({ t: 'signal', name: 'SIGTERM' });
    process.on('SIGINT', onSigint);
    process.on('SIGTERM', onSigterm);
    const settle = (outcome: ResidentExecOutcome) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', onSigint);
      process.off('SIGTERM', onSigterm);
      process.stdin.pause();
      socket.destroy();
      resolve(outcome);
    };
    const onFrame = (frame: ServiceFrame) => {
      started = true;
      switch (frame.t) {
        case 'out':
          process.stdout.write(frame.data);
          return;
        case 'err':
          process.stderr.write(frame.data);
          return;
        case 'read-stdin':
          void readAll(process.stdin).then((text) => {
            stdinText = text;
            send({ t: 'stdin', data: text });
          });
          return;
        case 'want-input':
          process.stdin.once('data', (chunk: Buffer) => {
            process.stdin.pause();
            send({ t: 'input', data: chunk.toString('utf8') });
          });
          if (!inputWired) process.stdin.once('end', () => send({ t: 'input-end' }));
          inputWired = true;
          process.stdin.resume();
          return;
        case 'decline':
          settle({ kind: 'run-here', ...(stdinText !== undefined ? { stdin: stdinText } : {}) });
          return;
        case 'exit':
          settle({ kind: 'done', code: frame.code });
          return;
      }
    };
    socket.on('data', frameReader<ServiceFrame>(onFrame, () => undefined));
    socket.on('close', () => {
      if (settled) return;
      // Gone before it said anything (stopping, say): run the command here instead.
      if (!started) {
        settle({ kind: 'run-here', ...(stdinText !== undefined ? { stdin: stdinText } : {}) });
        return;
      }
      process.stderr.write('unroll: the resident worker stopped during this command; the thread goes on when a worker runs (see `unroll worker status`, and `unroll exec resume --last` to follow it)\n');
      settle({ kind: 'done', code: 1 });
    });
    socket.on('error', () => undefined);
    send(start);
  });
}
