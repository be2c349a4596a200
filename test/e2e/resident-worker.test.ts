/**
 * The resident worker as a user meets it through the compiled CLI (`npm run build`
 * first): `exec` starts one in the background for its Unroll home and the next command
 * reuses it; it outlives `exec`, so queries answer afterwards; `worker stop`, idle
 * shutdown, stale records, replacement after a rebuild, concurrent starts; `--no-worker`
 * and `--in-process-worker`; and the environment rule: a tool sees the environment
 * recorded with its thread (the shell that started the thread, filtered), never the
 * environment of whichever client happened to start the worker.
 */
import { spawn } from 'node:child_process';
import { readFile, stat, utimes, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { distRoot } from '../../src/client/build-id';
import { isAlive, readWorkerRecord, residentWorkerFiles, stopResidentWorker, type WorkerRecord } from '../../src/client/resident-worker';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { spawnWorker, waitFor } from '../support/worker-process';
import { runCli, startCliFixture, type CliFixture } from './run-cli';

jest.setTimeout(240_000);

describe('the resident worker of an Unroll home', () => {
  let fixture: CliFixture;

  beforeAll(async () => {
    fixture = await startCliFixture('resident');
  });
  afterEach(async () => {
    await stopResidentWorker(fixture.home);
    fixture.model.assertProtocol();
  });
  afterAll(async () => {
    await fixture.close();
  });

  /** Runs `exec` for a one-message turn; returns the run and the thread id. */
  async function execAnswer(args: string[] = [], env: Record<string, string | undefined> = fixture.env): Promise<{ threadId: string; code: number; stderr: string }> {
    fixture.model.enqueue(respond(assistantMessage('hello')));
    const run = await runCli(['exec', '--json', ...args, 'say hello'], env, fixture.workspace);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: expect.any(String) });
    const started = JSON.parse(run.stdout.split('\n')[0]) as { thread_id: string };
    return { threadId: started.thread_id, code: run.code, stderr: run.stderr };
  }

  async function record(): Promise<WorkerRecord> {
    const current = await readWorkerRecord(fixture.home);
    if (!current) throw new Error(`no ${residentWorkerFiles(fixture.home).record}`);
    return current;
  }

  /** How many resident workers have started in the home (each logs one start line). */
  async function startsLogged(): Promise<number> {
    const log = await readFile(residentWorkerFiles(fixture.home).log, 'utf8').catch(() => '');
    return log.split('\n').filter((line) => line.startsWith('worker running on task queue')).length;
  }

  test('exec starts a resident worker, a second exec reuses it, and it still answers queries after exec exits', async () => {
    await execAnswer();
    const first = await record();
    expect(isAlive(first.pid)).toBe(true);
    const { threadId } = await execAnswer();
    expect((await record()).pid).toBe(first.pid);
    // No exec runs now; the thread's session workflow still answers a query.
    const pending = await runCli(['pending', threadId], { ...fixture.env, UNROLL_WORKER_WAIT_MS: '15000' }, fixture.workspace);
    expect(pending).toEqual({ code: 0, stdout: 'nothing waits for approval\n', stderr: '' });
    const status = await runCli(['worker', 'status', '--json'], fixture.env, fixture.workspace);
    expect(JSON.parse(status.stdout)).toEqual(first);
  });

  test('worker stop stops it and removes its record; a second stop finds none', async () => {
    await execAnswer();
    const { pid } = await record();
    const stopped = await runCli(['worker', 'stop'], fixture.env, fixture.workspace);
    expect(stopped).toEqual({ code: 0, stdout: `stopped the resident worker (pid ${pid}) of ${fixture.home}\n`, stderr: '' });
    expect(isAlive(pid)).toBe(false);
    expect(await readWorkerRecord(fixture.home)).toBeUndefined();
    const again = await runCli(['worker', 'stop'], fixture.env, fixture.workspace);
    expect(again.stdout).toBe(`no resident worker runs for ${fixture.home}\n`);
    expect((await runCli(['worker', 'status'], fixture.env, fixture.workspace)).code).toBe(1);
  });

  test('an idle resident worker stops by itself and removes its record', async () => {
    const env = { ...fixture.env, UNROLL_WORKER_IDLE_MS: '1500' };
    await execAnswer([], env);
    const { pid } = await record();
    await waitFor('the idle worker to exit', () => !isAlive(pid), 60_000);
    expect(await readWorkerRecord(fixture.home)).toBeUndefined();
    expect(await readFile(residentWorkerFiles(fixture.home).log, 'utf8')).toContain('idle for 1.5 s with no running turn');
  });

  test('a stale record (its process is gone, or its pid now belongs to another program) is replaced, and that program is left alone', async () => {
    const gone = spawn(process.execPath, ['-e', '0']);
    await new Promise((resolve) => gone.once('exit', resolve));
    const stale = { pid: gone.pid!, buildId: 'x', fingerprint: 'x', startedAt: new Date(0).toISOString(), taskQueue: 'q', address: 'a' };
    await writeFile(residentWorkerFiles(fixture.home).record, JSON.stringify(stale));
    await execAnswer();
    const fresh = await record();
    expect(fresh.pid).not.toBe(gone.pid);
    expect(isAlive(fresh.pid)).toBe(true);
    await stopResidentWorker(fixture.home);

    // A live process that is not a resident worker (this test runner) under a recorded pid.
    await writeFile(residentWorkerFiles(fixture.home).record, JSON.stringify({ ...stale, pid: process.pid }));
    await execAnswer();
    expect((await record()).pid).not.toBe(process.pid);
    expect(isAlive(process.pid)).toBe(true);
  });

  test('a worker started by another build is replaced, not reused', async () => {
    await execAnswer();
    const old = await record();
    // A rebuild: the compiled files change (here only their modification time).
    const bundle = path.join(distRoot(), 'workflow-bundle.js');
    const { atime, mtime } = await stat(bundle);
    await utimes(bundle, atime, new Date(mtime.getTime() + 60_000));
    try {
      const { stderr } = await execAnswer();
      const fresh = await record();
      expect(fresh.pid).not.toBe(old.pid);
      expect(fresh.buildId).not.toBe(old.buildId);
      expect(isAlive(old.pid)).toBe(false);
      expect(stderr).toContain(`replacing the resident worker (pid ${old.pid}): it runs an older build (${old.buildId}, now ${fresh.buildId})`);
    } finally {
      await utimes(bundle, atime, mtime);
    }
  });

  test('two commands starting at once end with one worker', async () => {
    const before = await startsLogged();
    fixture.model.enqueue(respond(assistantMessage('one')), respond(assistantMessage('two')));
    const runs = await Promise.all([1, 2].map(() => runCli(['exec', 'say something'], fixture.env, fixture.workspace)));
    expect(runs.map((r) => r.code)).toEqual([0, 0]);
    expect(await startsLogged()).toBe(before + 1);
    expect(isAlive((await record()).pid)).toBe(true);
  });

  test('--in-process-worker runs the turn without a resident worker', async () => {
    await execAnswer(['--in-process-worker']);
    expect(await readWorkerRecord(fixture.home)).toBeUndefined();
  });

  test('--no-worker leaves the turn to a worker started elsewhere and starts none', async () => {
    const worker = await spawnWorker({ home: fixture.home, taskQueue: fixture.env.UNROLL_TASK_QUEUE!, address: fixture.env.UNROLL_TEMPORAL_ADDRESS! });
    try {
      await execAnswer(['--no-worker']);
      expect(await readWorkerRecord(fixture.home)).toBeUndefined();
    } finally {
      await worker.stop();
    }
  });

  test("a tool sees its thread's recorded environment, not the environment of the client that started the worker", async () => {
    // The worker is started by a client with its own values...
    await execAnswer([], { ...fixture.env, BUILD_FLAVOUR: 'from-the-starter', ONLY_IN_STARTER: 'starter-only' });
    const { pid } = await record();
    // ...and a thread started from another shell runs its tools with that shell's.
    fixture.model.enqueue(respond(shellCall('echo "[$BUILD_FLAVOUR][$ONLY_IN_STARTER][$OPENAI_API_KEY][$DEPLOY_TOKEN]"', { callId: 'call_env' })), respond(assistantMessage('done')));
    const run = await runCli(['exec', 'show me the environment'], { ...fixture.env, BUILD_FLAVOUR: 'from-the-thread', DEPLOY_TOKEN: 'tok-secret-91' }, fixture.workspace);
    expect(run.code).toBe(0);
    expect((await record()).pid).toBe(pid);
    const output = String(fixture.model.requests.at(-1)?.input.find((i) => i.type === 'function_call_output')?.output);
    expect(output).toContain('\n[from-the-thread][][][]\n');
    expect(JSON.stringify(fixture.model.requests.map((r) => r.body))).not.toMatch(/tok-secret-91|test-key/);
  });
});
