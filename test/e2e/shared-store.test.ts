/**
 * The shared store as a fleet uses it: the compiled CLI with `UNROLL_STORE=postgres://…`
 * (the run's private PostgreSQL, a fresh database per file). A thread's transcript goes
 * to the database and not to the home's file store; a CLI with another Unroll home but
 * the same store and Temporal reads and exports it; a worker on another store than the
 * thread's refuses its turn by name instead of retrying missing objects forever.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { stopResidentWorker } from '../../src/client/resident-worker';
import { readBundle } from '../../src/history/bundle';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { spawnWorker } from '../support/worker-process';
import { runCli, startCliFixture, type CliFixture } from './run-cli';

jest.setTimeout(180_000);

/** The JSON events of an `exec --json` run. */
function events(stdout: string): { type: string; thread_id?: string; error?: { message: string }; item?: { type: string; aggregated_output?: string } }[] {
  return stdout
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l));
}

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

describe('a thread in the shared PostgreSQL store', () => {
  let fixture: CliFixture;
  let url: string;
  let password: string;
  let db: Client;
  let otherHome: string;
  let threadId: string;

  beforeAll(async () => {
    fixture = await startCliFixture('shared-store');
    url = await freshDatabase(testPostgresUrl());
    password = decodeURIComponent(new URL(url).password);
    db = new Client({ connectionString: url });
    await db.connect();
    otherHome = await mkdtemp(path.join(os.tmpdir(), 'unroll-shared-store-other-home-'));
  });
  // exec starts the home's resident worker; the tests below count on the workers they start being the only ones.
  afterEach(async () => {
    await stopResidentWorker(fixture.home);
  });
  afterAll(async () => {
    await db.end();
    await fixture.close();
    await rm(otherHome, { recursive: true, force: true });
  });

  const redactedUrl = () => {
    const redacted = new URL(url);
    redacted.password = '***';
    return decodeURIComponent(redacted.toString());
  };
  // One host id for every process: the CLIs and workers here share the workspace (one host, b).
  const envWith = (home: string) => ({ ...fixture.env, HOME: home, UNROLL_HOME: home, UNROLL_STORE: url, UNROLL_HOST_ID: 'host-b' });

  test('exec with UNROLL_STORE=postgres://… completes and its objects are in the database, not in the home', async () => {
    fixture.model.enqueue(respond(shellCall('echo from-the-shared-store')), respond(assistantMessage('stored in postgres')));
    const run = await runCli(['exec', '--json', 'run echo'], envWith(fixture.home), fixture.workspace);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const stream = events(run.stdout);
    threadId = stream[0].thread_id ?? '';
    expect(stream.at(-1)?.type).toBe('turn.completed');
    expect(stream.find((e) => e.item?.type === 'command_execution' && e.type === 'item.completed')?.item?.aggregated_output).toBe('from-the-shared-store\n');

    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM unroll_objects');
    // The user message, the context messages, the call, its output, the answer and the nodes.
    expect(Number(rows[0].n)).toBeGreaterThan(5);
    const markers = await db.query<{ key: string }>('SELECT key FROM unroll_markers');
    expect(markers.rows.map((r) => r.key).join('\n')).toContain(threadId);
    // The home's file store was never written (not even its store id).
    const storeDir = path.join(fixture.home, 'store');
    expect(existsSync(storeDir) ? await readdir(storeDir) : []).toEqual([]);
  });

  test('a CLI with another Unroll home but the same store shows the thread like the home that ran it', async () => {
    const here = await runCli(['show', threadId, '--json'], envWith(fixture.home), fixture.workspace);
    const there = await runCli(['show', threadId, '--json'], envWith(otherHome), otherHome);
    expect(there.stderr).toBe('');
    expect(there.code).toBe(0);
    expect(JSON.parse(there.stdout)).toEqual(JSON.parse(here.stdout));
    const human = await runCli(['show', threadId], envWith(otherHome), otherHome);
    expect(human.stdout).toContain('from-the-shared-store');
    expect(human.stdout).toContain('stored in postgres');
  });

  test('a CLI with another Unroll home exports the thread complete, objects included', async () => {
    const file = path.join(otherHome, 'thread.unroll.gz');
    const run = await runCli(['export', threadId, '-o', file], envWith(otherHome), otherHome);
    expect(run.code).toBe(0);
    expect(run.stderr).not.toContain('incomplete');
    const bundle = await readBundle(file);
    const { rows } = await db.query<{ n: string }>('SELECT count(*) AS n FROM unroll_objects');
    // Checkpoint bundles travel as binary blobs beside the JSON objects.
    expect(Object.keys(bundle.objects).length + Object.keys(bundle.blobs ?? {}).length).toBe(Number(rows[0].n));
  });

  test('a standalone worker with another home on the same store serves a thread the CLI starts', async () => {
    const worker = await spawnWorker({
      home: otherHome,
      taskQueue: fixture.env.UNROLL_TASK_QUEUE ?? '',
      address: fixture.env.UNROLL_TEMPORAL_ADDRESS ?? '',
      env: { UNROLL_STORE: url, UNROLL_HOST_ID: 'host-b' },
    });
    try {
      expect(worker.log()).toContain(`store ${redactedUrl()}`);
      fixture.model.enqueue(respond(shellCall('echo served-by-b')), respond(assistantMessage('fleet answer')));
      const run = await runCli(['exec', '--json', '--no-worker', 'fleet'], envWith(fixture.home), fixture.workspace);
      expect(run.code).toBe(0);
      const stream = events(run.stdout);
      expect(stream.at(-1)?.type).toBe('turn.completed');
      expect(stream.find((e) => e.item?.type === 'command_execution' && e.type === 'item.completed')?.item?.aggregated_output).toBe('served-by-b\n');
      expect(worker.log()).not.toContain(password);
    } finally {
      await worker.stop();
    }
  });

  test('resume from a CLI on another store refuses before sending anything, naming both stores', async () => {
    const before = fixture.model.requests.length;
    const { UNROLL_STORE: _shared, ...fileEnv } = envWith(fixture.home);
    const run = await runCli(['resume', threadId, 'more'], fileEnv, fixture.workspace);
    const redacted = new URL(url);
    redacted.password = '***';
    expect(run.stderr).toMatch(
      new RegExp(`^unroll: thread ${threadId} lives in store ${escape(decodeURIComponent(redacted.toString()))} \\(id [0-9a-f-]{36}\\) but UNROLL_STORE names file:${escape(path.join(fixture.home, 'store'))} \\(id [0-9a-f-]{36}\\); point UNROLL_STORE at the thread's store\n$`),
    );
    expect(run.code).toBe(2);
    expect(fixture.model.requests.length).toBe(before);
  });

  test('show and export from a CLI on another store name the thread’s store instead of reporting missing objects', async () => {
    const { UNROLL_STORE: _shared, ...fileEnv } = envWith(otherHome);
    for (const args of [['show', threadId], ['export', threadId, '-o', path.join(otherHome, 'nothing.unroll.gz')]]) {
      const run = await runCli(args, fileEnv, otherHome);
      expect(run.stderr).toContain(`unroll: thread ${threadId} lives in store postgres://`);
      expect(run.stderr).toContain(`but UNROLL_STORE names file:${path.join(otherHome, 'store')} (id `);
      expect(run.stderr).not.toContain(password);
      expect(run.code).toBe(2);
    }
    expect(existsSync(path.join(otherHome, 'nothing.unroll.gz'))).toBe(false);
  });

  test('a worker on another store than the thread’s fails the turn with a message naming both stores, once', async () => {
    // The client (and the thread) on PostgreSQL; the only worker on its home's file store.
    const worker = await spawnWorker({ home: otherHome, taskQueue: fixture.env.UNROLL_TASK_QUEUE ?? '', address: fixture.env.UNROLL_TEMPORAL_ADDRESS ?? '', env: { UNROLL_HOST_ID: 'host-b' } });
    try {
      const before = fixture.model.requests.length;
      const run = await runCli(['exec', '--json', '--no-worker', 'never answered'], envWith(fixture.home), fixture.workspace);
      expect(run.code).toBe(1);
      const failed = events(run.stdout).find((e) => e.type === 'turn.failed');
      const message = failed?.error?.message ?? '';
      const redacted = new URL(url);
      redacted.password = '***';
      expect(message).toContain(`worker on host host-b uses store file:${path.join(otherHome, 'store')} (id `);
      expect(message).toContain(`lives in store ${decodeURIComponent(redacted.toString())} (id `);
      expect(message).toContain('point UNROLL_STORE at the thread');
      expect(run.stdout + run.stderr + worker.log()).not.toContain(password);
      // Refused before any inference: the model never saw the turn.
      expect(fixture.model.requests.length).toBe(before);
    } finally {
      await worker.stop();
    }
  });
});
