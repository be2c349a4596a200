/**
 * Unified-exec sessions: commands the model started with `exec_command` that are still
 * running, each in its own PTY (`@lydell/node-pty`), held in the memory of the worker
 * process that started them. They are host state: nothing about them survives the
 * worker (a PTY's processes get SIGHUP when the worker dies, as a terminal's do), and
 * `write_stdin` on a session of a stopped worker is told so (see ./write-stdin.ts).
 *
 * One {@link ExecSessions} registry per process ({@link hostExecSessions}); sessions are
 * keyed by thread and numbered like Codex's (random five-digit ids). At most
 * {@link MAX_EXEC_SESSIONS} live on a host: starting one more ends the least recently
 * used, as Codex prunes its process store. Every session remembers the turn that started
 * it, so a turn's end (or its interrupt) ends that turn's sessions.
 */
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import { launch } from '../launcher';
import type { Writable } from 'node:stream';
import { randomUUID } from 'node:crypto';
import { constants as osConstants } from 'node:os';
import * as pty from '@lydell/node-pty';

/** At most this many sessions run on one host at once (Codex 0.171's limit). */
export const MAX_EXEC_SESSIONS = 64;
/** Output a session buffers between two reads; beyond it the oldest bytes are dropped (Codex keeps 1 MiB too). */
const MAX_PENDING_BYTES = 1024 * 1024;
/** How long a killed session's processes get to go after SIGHUP before SIGKILL. */
const KILL_GRACE_MS = 200;
/** After exit, output counts as complete once the PTY has been quiet this long (at most 50 rounds). */
const DRAIN_QUIET_MS = 25;
/** How long a pipe session's exit waits for its pipes to close (a background child may hold them). */
const PIPE_CLOSE_GRACE_MS = 100;
const DRAIN_MAX_ROUNDS = 50;

/** What to start: the argv (already wrapped by the sandbox when there is one), where, with what environment. */
export interface SessionSpawn {
  readonly threadId: string;
  readonly turn: number;
  readonly argv: readonly [string, ...string[]];
  readonly cwd: string;
  readonly env: Readonly<Record<string, string>>;
  /** True: a PTY (node-pty); false (Codex's default): pipes, stdin closed. */
  readonly tty: boolean;
}

/** The outcome of one wait on a session: the output since the last read, and whether it ended. */
export interface SessionChunk {
  readonly output: string;
  /** The exit code once the process has ended (128+N for signal N); null while it runs. */
  readonly exitCode: number | null;
  /** Bytes dropped because more than 1 MiB arrived between two reads. */
  readonly droppedBytes: number;
}

/** One running command in a PTY. */
export class ExecSession {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private dropped = 0;
  private received = 0;
  private exit: number | null = null;
  private readonly waiters = new Set<() => void>();
  /** When it was last started or written to, for least-recently-used pruning. */
  lastUsed = Date.now();

  constructor(
    readonly id: number,
    readonly threadId: string,
    readonly turn: number,
    private readonly proc: SessionProcess,
  ) {
    proc.onData((data) => this.push(data));
    proc.onExit((code) => {
      this.exit = code;
      this.wake();
    });
  }

  /** The process id of the PTY's child (the session leader). */
  get pid(): number {
    return this.proc.pid;
  }

  /** True once the command has exited. */
  get exited(): boolean {
    return this.exit !== null;
  }

  /** Writes `chars` to the command's terminal. */
  write(chars: string): void {
    this.lastUsed = Date.now();
    if (!this.exited && chars !== '') this.proc.write(chars);
  }

  /** False for a command started without a terminal (`tty: false`): its stdin is closed. */
  get acceptsInput(): boolean {
    return this.proc.tty;
  }

  /**
   * Waits until the command exits, `ms` pass, or `signal` aborts, then takes the output
   * gathered since the last read. Returns early on exit, as Codex does.
   */
  async waitAndRead(ms: number, signal?: AbortSignal): Promise<SessionChunk> {
    if (!this.exited && ms > 0) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          clearTimeout(timer);
          this.waiters.delete(done);
          signal?.removeEventListener('abort', done);
          resolve();
        };
        const timer = setTimeout(done, ms);
        this.waiters.add(done);
        signal?.addEventListener('abort', done, { once: true });
      });
    }
    // node-pty delivers the last bytes after the exit event: read until the PTY is quiet.
    // (A pipe session reports its exit once its pipes have closed: nothing is left.)
    if (this.exited && this.proc.tty) await this.drain();
    const raw = Buffer.concat(this.pending).toString('utf8');
    const chunk = { output: raw, exitCode: this.exit, droppedBytes: this.dropped };
    this.pending = [];
    this.pendingBytes = 0;
    this.dropped = 0;
    return chunk;
  }

  private async drain(): Promise<void> {
    for (let i = 0; i < DRAIN_MAX_ROUNDS; i++) {
      const before = this.received;
      await new Promise((resolve) => setTimeout(resolve, DRAIN_QUIET_MS));
      if (this.received === before) return;
    }
  }

  /** Ends the command and everything it started: SIGHUP to its process group, SIGKILL shortly after. */
  kill(): void {
    if (this.exited) return;
    // A pipe session's pid arrives with its start: a kill asked for before then waits for it.
    this.proc.onSpawn((pid) => {
      signalGroup(pid, 'SIGHUP');
      setTimeout(() => {
        if (!this.exited) signalGroup(pid, 'SIGKILL');
      }, KILL_GRACE_MS).unref();
    });
  }

  private push(data: Buffer): void {
    this.received += data.length;
    this.pending.push(data);
    this.pendingBytes += data.length;
    while (this.pendingBytes > MAX_PENDING_BYTES && this.pending.length > 1) {
      const oldest = this.pending.shift()!;
      this.pendingBytes -= oldest.length;
      this.dropped += oldest.length;
    }
    this.wake();
  }

  private wake(): void {
    // Output wakes only a waiter for exit; see waitAndRead (output is read at the deadline).
    if (this.exited) for (const waiter of [...this.waiters]) waiter();
  }
}

/**
 * The sessions of one host (worker process). Not durable by design: see the module
 * comment.
 */
export class ExecSessions {
  private readonly sessions = new Map<string, ExecSession>();
  /** Tells this process's sessions from those of an earlier (stopped) worker. */
  readonly incarnation = randomUUID();
  private readonly watchdog = new SessionWatchdog();

  /**
   * Starts a command in a new PTY session and returns it. Throws what node-pty throws
   * when the program cannot be started (the caller reports it to the model).
   */
  start(spec: SessionSpawn): ExecSession {
    this.pruneIfFull();
    const proc = spec.tty ? spawnInPty(spec) : spawnWithPipes(spec);
    const id = this.freshId(spec.threadId);
    const session = new ExecSession(id, spec.threadId, spec.turn, proc);
    proc.onSpawn((pid) => {
      if (!(pid > 1)) return;
      this.watchdog.watch(pid);
      proc.onExit(() => this.watchdog.forget(pid));
    });
    this.sessions.set(key(spec.threadId, id), session);
    return session;
  }

  /** The live session `id` of the thread, if this host holds it. */
  get(threadId: string, id: number): ExecSession | undefined {
    return this.sessions.get(key(threadId, id));
  }

  /** Forgets a session whose command has exited (its last output was read). */
  release(session: ExecSession): void {
    if (this.sessions.get(key(session.threadId, session.id)) === session) this.sessions.delete(key(session.threadId, session.id));
  }

  /** Kills and forgets every session of the thread started in `turn` (all of the thread's when absent); returns their ids. */
  endThreadSessions(threadId: string, turn?: number): number[] {
    const ended: number[] = [];
    for (const session of [...this.sessions.values()]) {
      if (session.threadId !== threadId || (turn !== undefined && session.turn > turn)) continue;
      session.kill();
      this.release(session);
      ended.push(session.id);
    }
    return ended;
  }

  /** Kills every session (the worker is shutting down). */
  endAll(): void {
    for (const session of this.sessions.values()) session.kill();
    this.sessions.clear();
  }

  /** How many sessions this host holds. */
  get size(): number {
    return this.sessions.size;
  }

  private pruneIfFull(): void {
    if (this.sessions.size < MAX_EXEC_SESSIONS) return;
    const oldest = [...this.sessions.values()].sort((a, b) => Number(b.exited) - Number(a.exited) || a.lastUsed - b.lastUsed)[0];
    if (oldest) {
      oldest.kill();
      this.release(oldest);
    }
  }

  private freshId(threadId: string): number {
    for (;;) {
      const id = 1000 + Math.floor(Math.random() * 99_000);
      if (!this.sessions.has(key(threadId, id))) return id;
    }
  }
}

/** What a session needs of its process, whether it runs in a PTY or with pipes. */
interface SessionProcess {
  /** -1 until the process has started. */
  readonly pid: number;
  readonly tty: boolean;
  /** Called with the pid once the process has started (at once when it already has). */
  onSpawn(listener: (pid: number) => void): void;
  write(chars: string): void;
  onData(listener: (data: Buffer) => void): void;
  /** The exit code, or 128+N for signal N. */
  onExit(listener: (code: number) => void): void;
}

/** `tty: true`: a real terminal (node-pty); the command leads its own session and process group. */
function spawnInPty(spec: SessionSpawn): SessionProcess {
  const [file, ...args] = spec.argv;
  const proc = pty.spawn(file, args, { name: spec.env.TERM ?? 'dumb', cols: 200, rows: 50, cwd: spec.cwd, env: { ...spec.env } });
  return {
    pid: proc.pid,
    tty: true,
    onSpawn: (listener) => listener(proc.pid),
    write: (chars) => proc.write(chars),
    onData: (listener) => void proc.onData((data) => listener(Buffer.from(data, 'utf8'))),
    onExit: (listener) => void proc.onExit(({ exitCode, signal }) => listener(signal ? 128 + signal : exitCode)),
  };
}

/**
 * `tty: false` (Codex's default): plain pipes, stdout and stderr interleaved, stdin closed
 * as Codex has it, in a new process group. Pipes also lose no output at exit, which a
 * PTY's last bytes can be. Started by the process launcher (../launcher.ts), not by a fork
 * of the worker, so its pid arrives with `spawn`.
 */
function spawnWithPipes(spec: SessionSpawn): SessionProcess {
  const [file, ...args] = spec.argv;
  const child = launch(file, args, { cwd: spec.cwd, env: { ...spec.env }, detached: true, stdin: 'ignore' });
  return {
    get pid() {
      return child.pid ?? -1;
    },
    tty: false,
    write: () => undefined,
    onSpawn(listener) {
      if (child.pid !== undefined) listener(child.pid);
      else child.once('spawn', () => listener(child.pid ?? -1));
    },
    onData(listener) {
      child.all.on('data', listener);
    },
    onExit(listener) {
      let told = false;
      const tell = (code: number) => {
        if (!told) listener(code);
        told = true;
      };
      // The program could not be started (ENOENT, EACCES): say so as its output, exit 127.
      child.once('error', (err: Error) => {
        if (!told) child.all.emit('data', Buffer.from(`failed to start ${file}: ${err.message}\n`));
        tell(127);
      });
      // The exit counts once the pipes have closed (all output read), or after a short
      // grace when a background process that inherited them keeps them open.
      child.once('exit', (code: number | null, signal: NodeJS.Signals | null) => {
        const exitCode = code ?? 128 + (signal ? (osConstants.signals[signal] ?? 0) : 0);
        const grace = setTimeout(() => tell(exitCode), PIPE_CLOSE_GRACE_MS);
        child.once('close', () => {
          clearTimeout(grace);
          tell(exitCode);
        });
      });
    },
  };
}

/**
 * Kills the process groups of this worker's sessions when the worker dies, however it
 * dies (SIGKILL, the OOM killer): a PTY's hang-up alone does not reliably reach them (a
 * process that ignores SIGHUP, or one whose terminal is not its controlling one). A
 * small detached `sh` reads `+pgid`/`-pgid` lines from a pipe the worker holds; end of
 * input means the worker is gone, and it SIGKILLs every group still listed.
 */
class SessionWatchdog {
  private watcher: ChildProcessByStdio<Writable, null, null> | undefined;

  watch(pgid: number): void {
    this.send(`+${pgid}`);
  }

  forget(pgid: number): void {
    this.send(`-${pgid}`);
  }

  private send(line: string): void {
    try {
      this.watcher ??= startWatcher();
      this.watcher.stdin.write(`${line}\n`);
    } catch {
      // Without a watchdog, sessions still end with their turn; only a crash could leak them.
    }
  }
}

const WATCHER_SCRIPT = [
  'groups=" "',
  'while read -r line; do',
  '  case "$line" in',
  '    +*) groups="$groups${line#+} " ;;',
  '    -*) groups=$(printf "%s" "$groups" | sed "s/ ${line#-} / /") ;;',
  '  esac',
  'done',
  'for g in $groups; do kill -9 "-$g" 2>/dev/null; done',
].join('\n');

function startWatcher(): ChildProcessByStdio<Writable, null, null> {
  const watcher = spawn('/bin/sh', ['-c', WATCHER_SCRIPT], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
  watcher.on('error', () => undefined);
  watcher.stdin.on('error', () => undefined);
  // The worker must be able to exit while its watchdog waits.
  watcher.unref();
  (watcher.stdin as Writable & { unref?: () => void }).unref?.();
  return watcher;
}

let host: ExecSessions | undefined;

/** The sessions of this process (one registry per worker process). */
export function hostExecSessions(): ExecSessions {
  host ??= new ExecSessions();
  return host;
}

function key(threadId: string, id: number): string {
  return `${threadId}\u0000${id}`;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  // A process that never started has no pid; kill(-1) would signal everything.
  if (!(pid > 1)) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // Already gone.
    }
  }
}
