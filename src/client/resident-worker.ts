/**
 * The resident worker: one `unroll worker --resident` per Unroll home, started in the
 * background by the first command that needs a worker (`exec`, `resume`, `compact`,
 * `fork`) and reused by the next ones, so those commands are thin clients and a thread
 * keeps a worker after its `exec` has exited (queries, `pending`, approvals answer).
 *
 * Files in the home: `worker.json` (the running worker's record, written by the worker
 * itself once it polls, removed when it exits), `worker.log` (its output, appended) and
 * `worker.lock` (held while a client checks, replaces or starts the worker, so two
 * clients starting at once end with one worker).
 *
 * A worker is reused only when its {@link WorkerRecord.fingerprint} equals the client's:
 * the build (a hash of the compiled files, see ./build-id.ts) and everything of the
 * configuration the worker runs with (server, namespace, task queue, host id, store,
 * encryption keys, the provider key values, idle timeout). Otherwise it is stopped and
 * replaced. A record whose process is gone (or is not a resident worker any more) is
 * stale and removed.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { mkdir, open, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { UnrollConfig } from '../config/config';

/** The record a resident worker writes to `worker.json` once it polls. */
export interface WorkerRecord {
  readonly pid: number;
  readonly buildId: string;
  readonly fingerprint: string;
  readonly startedAt: string;
  readonly taskQueue: string;
  readonly address: string;
}

/** A resident worker could not be started (it exited, or did not come up in time). */
export class ResidentWorkerStartError extends Error {
  override readonly name = 'ResidentWorkerStartError';
  constructor(
    readonly home: string,
    detail: string,
    readonly logTail: string,
  ) {
    super(`cannot start the resident worker for ${home}: ${detail}${logTail ? `\nlast lines of ${residentWorkerFiles(home).log}:\n${logTail}` : ''}`);
  }
}

/** The files of the resident worker of `home`. */
export function residentWorkerFiles(home: string): { record: string; log: string; lock: string } {
  return { record: path.join(home, 'worker.json'), log: path.join(home, 'worker.log'), lock: path.join(home, 'worker.lock') };
}

/**
 * What a worker's behaviour depends on besides its code: two processes with the same
 * fingerprint serve a thread the same way. Secret values enter only as a hash.
 */
export function workerFingerprint(config: UnrollConfig, env: Record<string, string | undefined>, buildId: string): string {
  const secrets = [...config.toolEnvironment.secretNames].sort().map((name) => [name, env[name] ?? null]);
  const encryption = config.encryption?.kind === 'file' ? { file: config.encryption.path, content: readQuietly(config.encryption.path) } : config.encryption;
  const facts = {
    buildId,
    temporal: [config.temporal.address, config.temporal.namespace, config.temporal.taskQueue],
    hostId: config.hostId,
    store: config.store.spec ?? null,
    encryption: encryption ?? null,
    secrets,
    policy: config.toolEnvironment.policy,
    idleTimeoutMs: config.residentWorker.idleTimeoutMs,
  };
  return createHash('sha256').update(JSON.stringify(facts)).digest('hex').slice(0, 32);
}

function readQuietly(file: string): string | null {
  try {
    return createHash('sha256').update(readFileSync(file)).digest('hex');
  } catch {
    return null;
  }
}

/** Reads `worker.json`; undefined when absent or unreadable. */
export async function readWorkerRecord(home: string): Promise<WorkerRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(residentWorkerFiles(home).record, 'utf8')) as WorkerRecord;
    return Number.isInteger(parsed.pid) && parsed.pid > 0 ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `worker.json` atomically (the worker, once it polls). */
export async function writeWorkerRecord(home: string, record: WorkerRecord): Promise<void> {
  const file = residentWorkerFiles(home).record;
  const temporary = `${file}.${record.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(record)}\n`);
  await rename(temporary, file);
}

/** Removes `worker.json` if it still names process `pid` (a replacement may have written its own). */
export async function removeWorkerRecord(home: string, pid: number): Promise<void> {
  const record = await readWorkerRecord(home);
  if (record?.pid === pid) await rm(residentWorkerFiles(home).record, { force: true });
}

/** True while `pid` runs (EPERM: it exists, as another user's). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Whether `pid` is a running resident worker. Where /proc exists its command line must
 * say so, so that a pid reused by an unrelated process after a crash is not taken for one.
 */
function isResidentWorker(pid: number): boolean {
  if (!isAlive(pid)) return false;
  let cmdline: string;
  try {
    cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return true;
  }
  const args = cmdline.split('\0');
  return args.includes('worker') && args.includes('--resident');
}

/** The record of the live resident worker of `home`; a stale record (dead process) is removed. */
export async function liveWorkerRecord(home: string): Promise<WorkerRecord | undefined> {
  const record = await readWorkerRecord(home);
  if (!record) return undefined;
  if (isResidentWorker(record.pid)) return record;
  await removeWorkerRecord(home, record.pid);
  return undefined;
}

/** How long {@link stopResidentWorker} waits for a graceful stop before SIGKILL (ms). */
const STOP_GRACE_MS = 25_000;

/**
 * Stops the resident worker of `home` (SIGTERM: it drains, then exits; SIGKILL after
 * `graceMs`) and removes its record. Resolves with its pid, or undefined when none ran.
 */
export async function stopResidentWorker(home: string, graceMs = STOP_GRACE_MS): Promise<number | undefined> {
  const record = await liveWorkerRecord(home);
  if (!record) return undefined;
  await stopProcess(record.pid, graceMs);
  await removeWorkerRecord(home, record.pid);
  return record.pid;
}

async function stopProcess(pid: number, graceMs: number): Promise<void> {
  signal(pid, 'SIGTERM');
  if (await waitForExit(pid, graceMs)) return;
  signal(pid, 'SIGKILL');
  await waitForExit(pid, 5_000);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

async function waitForExit(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (isAlive(pid)) {
    if (Date.now() >= deadline) return false;
    await delay(25);
  }
  return true;
}

/** A lock older than this is taken over even if its holder still runs (it is stuck). */
const LOCK_STALE_MS = 120_000;

/**
 * Runs `body` holding `worker.lock` (created exclusively; a lock whose holder died, or
 * that is older than {@link LOCK_STALE_MS}, is taken over).
 */
async function withLock<T>(home: string, body: () => Promise<T>): Promise<T> {
  const { lock } = residentWorkerFiles(home);
  for (;;) {
    try {
      const handle = await open(lock, 'wx');
      await handle.writeFile(`${process.pid}\n`);
      await handle.close();
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      if (await lockIsStale(lock)) await rm(lock, { force: true });
      else await delay(25);
    }
  }
  try {
    return await body();
  } finally {
    await rm(lock, { force: true });
  }
}

async function lockIsStale(lock: string): Promise<boolean> {
  try {
    const [text, info] = await Promise.all([readFile(lock, 'utf8'), stat(lock)]);
    const holder = Number.parseInt(text.trim(), 10);
    // An empty file: its creator is between open and write; give it time.
    if (!Number.isInteger(holder)) return Date.now() - info.mtimeMs > 5_000;
    return !isAlive(holder) || Date.now() - info.mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}

/** What {@link ensureResidentWorker} needs to start a worker. */
export interface ResidentWorkerLaunch {
  readonly home: string;
  /** The fingerprint a reusable worker must have (see {@link workerFingerprint}). */
  readonly fingerprint: string;
  /** The build the new worker runs, for messages. */
  readonly buildId: string;
  /** node and the arguments that run `unroll worker --resident` with the client's overrides. */
  readonly command: { readonly file: string; readonly args: readonly string[] };
  /** The worker's environment: the client's (it holds the provider keys inference needs). */
  readonly env: Record<string, string | undefined>;
  readonly log: (message: string) => void;
  /** How long to wait for a new worker to poll (ms). */
  readonly startTimeoutMs?: number;
}

/** The outcome of {@link ensureResidentWorker}. */
export interface ResidentWorker {
  readonly pid: number;
  /** True when this call started it (else an already running one is reused). */
  readonly started: boolean;
}

/**
 * Makes sure the resident worker of `launch.home` runs with `launch.fingerprint`: reuses
 * the running one, or (under the lock) replaces a mismatched one and starts a new one,
 * waiting until it polls.
 *
 * @throws ResidentWorkerStartError with the end of its log when it exits or does not come up.
 */
export async function ensureResidentWorker(launch: ResidentWorkerLaunch): Promise<ResidentWorker> {
  const running = await liveWorkerRecord(launch.home);
  if (running?.fingerprint === launch.fingerprint) return { pid: running.pid, started: false };
  await mkdir(launch.home, { recursive: true });
  return withLock(launch.home, async () => {
    const current = await liveWorkerRecord(launch.home);
    if (current?.fingerprint === launch.fingerprint) return { pid: current.pid, started: false };
    if (current) {
      const why = current.buildId !== launch.buildId ? `it runs an older build (${current.buildId}, now ${launch.buildId})` : 'it runs with another configuration';
      launch.log(`replacing the resident worker (pid ${current.pid}): ${why}`);
      await stopProcess(current.pid, STOP_GRACE_MS);
      await removeWorkerRecord(launch.home, current.pid);
    }
    return { pid: await startWorker(launch), started: true };
  });
}

async function startWorker(launch: ResidentWorkerLaunch): Promise<number> {
  const { log: logFile } = residentWorkerFiles(launch.home);
  const logStart = await fileSize(logFile);
  const fd = openSync(logFile, 'a');
  let exited: string | undefined;
  let child;
  try {
    child = spawn(launch.command.file, [...launch.command.args], { detached: true, stdio: ['ignore', fd, fd], env: launch.env, cwd: launch.home });
  } finally {
    closeSync(fd);
  }
  child.once('exit', (code, sig) => (exited = sig ? `it was killed by ${sig}` : `it exited with code ${code}`));
  child.once('error', (err) => (exited = `it could not be spawned: ${err.message}`));
  child.unref();
  const deadline = Date.now() + (launch.startTimeoutMs ?? 60_000);
  for (;;) {
    const record = await readWorkerRecord(launch.home);
    if (record && record.pid === child.pid) return record.pid;
    if (exited) throw new ResidentWorkerStartError(launch.home, exited, await logTail(logFile, logStart));
    if (Date.now() > deadline) {
      if (child.pid !== undefined) signal(child.pid, 'SIGKILL');
      throw new ResidentWorkerStartError(launch.home, `it did not start polling within ${(launch.startTimeoutMs ?? 60_000) / 1000} s`, await logTail(logFile, logStart));
    }
    await delay(10);
  }
}

async function fileSize(file: string): Promise<number> {
  try {
    return (await stat(file)).size;
  } catch {
    return 0;
  }
}

async function logTail(file: string, from: number): Promise<string> {
  try {
    const text = (await readFile(file)).subarray(from).toString('utf8').trimEnd();
    return text.split('\n').slice(-20).map((line) => `  ${line}`).join('\n');
  } catch {
    return '';
  }
}
