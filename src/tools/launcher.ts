/**
 * Starts tool and git processes from a small launcher process instead of the worker.
 *
 * Why: Node starts a child with fork() + exec(), and fork() copies the page tables of the
 * whole parent. A worker holds about 300 MB (the Temporal core, the workflow bundle and
 * its V8 context), so each spawn() blocked the worker's event loop for 10-40 ms on this
 * machine (measured: spawning /bin/true from a Node process holding 300 MB took 22-40 ms,
 * from an empty one 3 ms), once per shell command and about eight times per workspace
 * checkpoint. The launcher is a small Node process started once per worker process; it
 * starts what it is asked to with execa and relays the child's events and output over
 * its IPC channel (`serialization: 'advanced'`, so output travels as bytes).
 *
 * What a caller gets behaves like a ChildProcess for what Unroll uses: `spawn` (with the
 * pid), `error` (spawn failures, including those Node throws synchronously, such as
 * E2BIG), `exit` and `close`, `stdout`/`stderr` and, merged in arrival order, `all`;
 * `stdin` when asked for. The pid is real (same PID namespace), so a caller kills a
 * process group with `process.kill(-pid)` itself. If the launcher dies, its running
 * children are reported as failed to the caller (`error`) and the next launch starts a
 * new launcher. The launcher exits when its worker does (its IPC channel closes); what a
 * command started keeps running as it would after a worker crash (sandboxed commands end
 * with bwrap's `--die-with-parent`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { PassThrough, Writable } from 'node:stream';

/** How a process is started. */
export interface LaunchOptions {
  readonly cwd: string;
  /** Exactly the child's environment. */
  readonly env: Record<string, string>;
  /** Lead a new process group (so `process.kill(-pid)` reaches everything it starts). */
  readonly detached?: boolean;
  /** `pipe`: {@link LaunchedProcess.stdin} is writable; default `ignore`. */
  readonly stdin?: 'pipe' | 'ignore';
}

/** A process started by the launcher; see the module comment. */
export interface LaunchedProcess extends EventEmitter {
  /** Known once `spawn` has been emitted. */
  pid: number | undefined;
  readonly stdout: PassThrough;
  readonly stderr: PassThrough;
  /** stdout and stderr, merged in the order their chunks arrived. */
  readonly all: PassThrough;
  readonly stdin: Writable | null;
}

/** The launcher's messages (worker → launcher, launcher → worker). */
type Request =
  | { op: 'spawn'; id: number; file: string; args: string[]; cwd: string; env: Record<string, string>; detached: boolean; stdin: 'pipe' | 'ignore' }
  | { op: 'stdin'; id: number; chunk?: Uint8Array; end?: boolean };
type Event =
  | { id: number; ev: 'spawn'; pid: number }
  | { id: number; ev: 'error'; error: { message: string; code?: string; errno?: number; syscall?: string; path?: string } }
  | { id: number; ev: 'data'; fd: 1 | 2; chunk: Uint8Array }
  | { id: number; ev: 'end'; fd: 1 | 2 }
  | { id: number; ev: 'exit' | 'close'; code: number | null; signal: NodeJS.Signals | null };

/**
 * The launcher process's program. It runs as `node -e`, so it must be self-contained:
 * nothing from the enclosing module; execa is loaded from the path it is given.
 */
function launcherProgram(execaPath: string): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { execa } = require(execaPath) as typeof import('execa');
  const children = new Map<number, ReturnType<typeof execa>>();
  const send = (message: unknown) => {
    if (process.connected) process.send?.(message);
  };
  const errorOf = (e: unknown) => {
    const err = (typeof e === 'object' && e !== null ? e : new Error(String(e))) as NodeJS.ErrnoException;
    return { message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, path: err.path };
  };
  process.on('message', (m: { op: string; id: number; file: string; args: string[]; cwd: string; env: Record<string, string>; detached: boolean; stdin: 'pipe' | 'ignore'; chunk?: Uint8Array; end?: boolean }) => {
    if (m.op === 'stdin') {
      const stdin = children.get(m.id)?.stdin;
      if (!stdin) return;
      if (m.chunk) stdin.write(Buffer.from(m.chunk));
      if (m.end) stdin.end();
      return;
    }
    const child = execa(m.file, m.args, {
      cwd: m.cwd,
      env: m.env,
      extendEnv: false,
      detached: m.detached,
      stdin: m.stdin,
      buffer: false,
      encoding: 'buffer',
      stripFinalNewline: false,
      reject: false,
    });
    // Failures Node throws synchronously (E2BIG) leave no pid and emit nothing: only the promise says.
    if (child.pid === undefined) {
      void child.then((result) => send({ id: m.id, ev: 'error', error: errorOf(result.cause) }));
      return;
    }
    children.set(m.id, child);
    send({ id: m.id, ev: 'spawn', pid: child.pid });
    child.catch(() => undefined);
    child.on('error', (e: NodeJS.ErrnoException) => send({ id: m.id, ev: 'error', error: errorOf(e) }));
    child.stdin?.on('error', () => undefined);
    child.stdout?.on('data', (chunk: Buffer) => send({ id: m.id, ev: 'data', fd: 1, chunk }));
    child.stderr?.on('data', (chunk: Buffer) => send({ id: m.id, ev: 'data', fd: 2, chunk }));
    child.stdout?.on('end', () => send({ id: m.id, ev: 'end', fd: 1 }));
    child.stderr?.on('end', () => send({ id: m.id, ev: 'end', fd: 2 }));
    child.on('exit', (code, signal) => send({ id: m.id, ev: 'exit', code, signal }));
    child.on('close', (code, signal) => {
      children.delete(m.id);
      send({ id: m.id, ev: 'close', code, signal });
    });
  });
  process.on('disconnect', () => process.exit(0));
}

class Launched extends EventEmitter implements LaunchedProcess {
  pid: number | undefined;
  readonly stdout = new PassThrough();
  readonly stderr = new PassThrough();
  readonly all = new PassThrough();
  readonly stdin: Writable | null;
  private open = 2;
  closed = false;

  constructor(send: (request: Request) => void, id: number, withStdin: boolean) {
    super();
    this.stdin = withStdin
      ? new Writable({
          write: (chunk: Buffer, _encoding, callback) => {
            send({ op: 'stdin', id, chunk });
            callback();
          },
          final: (callback) => {
            send({ op: 'stdin', id, end: true });
            callback();
          },
        })
      : null;
  }

  /** Applies one event from the launcher. */
  deliver(event: Event): void {
    switch (event.ev) {
      case 'spawn':
        this.pid = event.pid;
        this.emit('spawn');
        return;
      case 'error':
        this.fail(Object.assign(new Error(event.error.message), event.error));
        return;
      case 'data': {
        const chunk = Buffer.from(event.chunk.buffer, event.chunk.byteOffset, event.chunk.byteLength);
        write(event.fd === 1 ? this.stdout : this.stderr, chunk);
        write(this.all, chunk);
        return;
      }
      case 'end':
        end(event.fd === 1 ? this.stdout : this.stderr);
        this.open -= 1;
        if (this.open === 0) end(this.all);
        return;
      case 'exit':
        this.emit('exit', event.code, event.signal);
        return;
      case 'close':
        this.finish();
        this.emit('close', event.code, event.signal);
        return;
    }
  }

  /** The process could not be started, or the launcher died under it. */
  fail(error: Error): void {
    if (this.closed) return;
    this.finish();
    this.emit('error', error);
  }

  private finish(): void {
    this.closed = true;
    for (const stream of [this.stdout, this.stderr, this.all]) end(stream);
  }
}

/** Writes unless the reader has already destroyed the stream (it stopped listening). */
function write(stream: PassThrough, chunk: Buffer): void {
  if (!stream.destroyed && !stream.writableEnded) stream.write(chunk);
}

function end(stream: PassThrough): void {
  if (!stream.destroyed && !stream.writableEnded) stream.end();
}

/** The launcher of this process, started on first use. */
class Launcher {
  private child: ChildProcess | undefined;
  private readonly running = new Map<number, Launched>();
  private nextId = 1;

  launch(file: string, args: readonly string[], options: LaunchOptions): LaunchedProcess {
    const id = this.nextId++;
    const send = (request: Request) => this.send(request);
    const launched = new Launched(send, id, options.stdin === 'pipe');
    this.running.set(id, launched);
    launched.once('close', () => this.settled(id));
    launched.once('error', () => this.settled(id));
    try {
      this.send({ op: 'spawn', id, file, args: [...args], cwd: options.cwd, env: options.env, detached: options.detached === true, stdin: options.stdin ?? 'ignore' });
    } catch (err) {
      // Not even the launcher could be started: report it as the spawn's failure, later (as Node does).
      setImmediate(() => launched.fail(err instanceof Error ? err : new Error(String(err))));
    }
    return launched;
  }

  /** The launcher's pid while it runs. */
  pid(): number | undefined {
    return this.child?.connected ? this.child.pid : undefined;
  }

  private settled(id: number): void {
    this.running.delete(id);
    // An idle launcher must not keep a worker (or a test) from exiting.
    if (this.running.size === 0) this.setRef(false);
  }

  private send(request: Request): void {
    const child = this.ensure();
    this.setRef(true);
    child.send(request);
  }

  private setRef(on: boolean): void {
    const channel = this.child?.channel as { ref(): void; unref(): void } | undefined;
    if (on) channel?.ref();
    else channel?.unref();
  }

  private ensure(): ChildProcess {
    if (this.child?.connected) return this.child;
    const child = spawn(process.execPath, ['-e', `(${launcherProgram.toString()})(${JSON.stringify(require.resolve('execa'))})`], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'], serialization: 'advanced', env: {} });
    child.unref();
    child.on('message', (event: Event) => this.running.get(event.id)?.deliver(event));
    const lost = (why: string) => {
      if (this.child === child) this.child = undefined;
      for (const launched of this.running.values()) launched.fail(new Error(`the process launcher ${why}; the command's outcome is unknown`));
    };
    child.on('exit', (code, signal) => lost(`exited (${signal ?? `code ${code}`})`));
    child.on('error', (err) => lost(`failed: ${err.message}`));
    this.child = child;
    return child;
  }
}

let shared: Launcher | undefined;

/** Starts `file` with `args` through this process's launcher; see the module comment. */
export function launch(file: string, args: readonly string[], options: LaunchOptions): LaunchedProcess {
  shared ??= new Launcher();
  return shared.launch(file, args, options);
}

/** The pid of this process's launcher, while one runs (for tests and diagnostics). */
export function launcherPid(): number | undefined {
  return shared?.pid();
}
