/**
 * Bad host-failover settings, as a user meets them through the compiled CLI (`npm run
 * build` first): a failover delay that is not a whole number of seconds in range (the
 * `--failover-after` flag, `UNROLL_FAILOVER_AFTER`, `failoverAfter` in config.json), a
 * liveness window of 0, and a worker workspace root that is empty, a file, under a file
 * or on a read-only disk. Each is refused at start-up with exit 2 and one line naming the
 * setting and what is wrong; no thread starts, the model is never asked, no worker polls.
 */
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { runCli, spawnCli, startCliFixture, type CliFixture } from '../e2e/run-cli';
import { mountSmallDisk, remountSmallDisk, unmountSmallDisk } from '../support/small-disk';
import { waitFor } from '../support/worker-process';

jest.setTimeout(120_000);

const DELAY = (origin: string, text: string) => `unroll: ${origin} (failoverAfter) must be a whole number of seconds from 0 to 604800, not "${text}"\n`;
const ROOT_FLAGS = '(--workspace-root, UNROLL_WORKSPACE_ROOT or workspaceRoot in config.json)';

describe('bad host-failover settings given to the CLI', () => {
  let fixture: CliFixture;
  let temporal: Client;
  let scratch: string;

  beforeAll(async () => {
    fixture = await startCliFixture('failover-settings');
    temporal = new Client({ connection: await Connection.connect({ address: fixture.env.UNROLL_TEMPORAL_ADDRESS ?? '' }) });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'unroll-failover-settings-'));
  });
  afterAll(async () => {
    await temporal.connection.close();
    await fixture.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** The workflows ever started on the fixture's task queue. */
  async function workflowsOnQueue(): Promise<string[]> {
    const ids: string[] = [];
    for await (const wf of temporal.workflow.list({ query: `TaskQueue = "${fixture.env.UNROLL_TASK_QUEUE}"` })) ids.push(wf.workflowId);
    return ids;
  }

  /** A run refused at start-up: exit 2, exactly `stderr`, nothing else happened. */
  async function expectRefused(run: { code: number; stdout: string; stderr: string }, stderr: string): Promise<void> {
    expect({ code: run.code, stderr: run.stderr, stdout: run.stdout }).toEqual({ code: 2, stderr, stdout: '' });
    expect(fixture.model.requests).toHaveLength(0);
    expect(await workflowsOnQueue()).toEqual([]);
  }

  test.each(['abc', '-5', '1.5', '604801', ' '])('exec --failover-after %j is refused naming the flag, before any thread starts', async (value) => {
    const run = await runCli(['exec', '--failover-after', value, 'hello'], fixture.env, fixture.workspace);
    await expectRefused(run, DELAY('--failover-after', value));
  });

  test('UNROLL_FAILOVER_AFTER that is not a number is refused naming the variable', async () => {
    const run = await runCli(['exec', 'hello'], { ...fixture.env, UNROLL_FAILOVER_AFTER: 'ten' }, fixture.workspace);
    await expectRefused(run, DELAY('UNROLL_FAILOVER_AFTER', 'ten'));
  });

  test.each([
    ['a string', '"120"', 'failoverAfter: Invalid input: expected number, received string'],
    ['negative', '-1', 'failoverAfter: Too small: expected number to be >=0'],
  ])('failoverAfter in config.json that is %s is refused naming the file and the key', async (_what, value, problem) => {
    const home = await mkdtemp(path.join(scratch, 'home-'));
    await writeFile(path.join(home, 'config.json'), `{"failoverAfter": ${value}}\n`);
    const run = await runCli(['exec', 'hello'], { ...fixture.env, HOME: home, UNROLL_HOME: home }, fixture.workspace);
    const file = path.join(home, 'config.json');
    await expectRefused(run, `unroll: ${file} is deprecated: run \`unroll config migrate\` to convert it to config.toml\nunroll: ${file} is invalid: ${problem}\n`);
  });

  test.each([
    ['0', 'unroll: UNROLL_HOST_LIVENESS_WINDOW must be at least 1 second\n'],
    ['soon', 'unroll: UNROLL_HOST_LIVENESS_WINDOW must be a whole number of seconds from 0 to 604800, not "soon"\n'],
  ])('a worker with UNROLL_HOST_LIVENESS_WINDOW=%s is refused naming the variable', async (value, stderr) => {
    const run = await runCli(['worker'], { ...fixture.env, UNROLL_HOST_LIVENESS_WINDOW: value }, fixture.workspace);
    await expectRefused(run, stderr);
  });

  test('a worker with an empty --workspace-root is refused', async () => {
    const run = await runCli(['worker', '--workspace-root', ''], fixture.env, fixture.workspace);
    await expectRefused(run, 'unroll: the workspace root (--workspace-root) is empty\n');
  });

  test('a worker whose workspace root is a file, or under a file, is refused at start-up instead of failing the first adoption', async () => {
    const file = path.join(scratch, 'not-a-dir');
    await writeFile(file, 'a file\n');
    await expectRefused(await runCli(['worker', '--workspace-root', file], fixture.env, fixture.workspace), `unroll: the workspace root ${file} ${ROOT_FLAGS} is not a directory\n`);
    const under = path.join(file, 'workspaces');
    await expectRefused(
      await runCli(['worker'], { ...fixture.env, UNROLL_WORKSPACE_ROOT: under }, fixture.workspace),
      `unroll: the workspace root ${under} ${ROOT_FLAGS} cannot be created (ENOTDIR)\n`,
    );
  });

  test('a worker whose workspace root is on a read-only disk is refused with the disk error', async () => {
    const disk = path.join(scratch, 'ro-disk');
    await mountSmallDisk(disk, '64k');
    try {
      await remountSmallDisk(disk, 'ro');
      const root = path.join(disk, 'workspaces');
      const run = await runCli(['worker', '--workspace-root', root], fixture.env, fixture.workspace);
      await expectRefused(run, `unroll: the workspace root ${root} ${ROOT_FLAGS} cannot be created (EROFS)\n`);
    } finally {
      await unmountSmallDisk(disk);
    }
  });

  test('a workspace root that does not exist yet is created, and the worker starts', async () => {
    const root = path.join(scratch, 'new', 'workspaces');
    const worker = spawnCli(['worker', '--workspace-root', root], fixture.env, fixture.workspace);
    try {
      await waitFor('the worker to poll', () => worker.stderr().includes('worker running on task queue'), 60_000);
    } finally {
      worker.child.kill('SIGTERM');
      await worker.done;
    }
    expect((await stat(root)).isDirectory()).toBe(true);
  });
});
