/**
 * A store the CLI cannot use, as a user meets it: the compiled CLI with a bad
 * `UNROLL_STORE` (or `unroll.store` in config.toml). Every command that reads or writes the
 * store, and `unroll worker`, stops at start-up with exit 2 and one line naming the
 * setting, the spec with its password redacted, and what is wrong; no workflow starts and
 * the model is never asked.
 */
import { rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { testPostgresUrl } from '../support/postgres-env';
import { runCli, startCliFixture, type CliFixture } from '../e2e/run-cli';
import { unusedLoopbackPort } from '../support/ports';

jest.setTimeout(120_000);

const password = 'S3cr3t-pw';

describe('a store the CLI cannot use', () => {
  let fixture: CliFixture;
  let temporal: Client;
  let unreachable: string;

  beforeAll(async () => {
    fixture = await startCliFixture('store-config-cli');
    temporal = new Client({ connection: await Connection.connect({ address: fixture.env.UNROLL_TEMPORAL_ADDRESS ?? '' }) });
    unreachable = `postgres://unroll:${password}@127.0.0.1:${await unusedLoopbackPort()}/unroll`;
  });
  afterAll(async () => {
    await temporal.connection.close();
    await fixture.close();
  });

  /** The workflows ever started on the fixture's task queue. */
  async function workflowsOnQueue(): Promise<string[]> {
    const ids: string[] = [];
    for await (const wf of temporal.workflow.list({ query: `TaskQueue = "${fixture.env.UNROLL_TASK_QUEUE}"` })) ids.push(wf.workflowId);
    return ids;
  }

  const refused = (port: string) =>
    `unroll: UNROLL_STORE=postgres://unroll:***@127.0.0.1:${port}/unroll: connection refused (is PostgreSQL running and listening on that host and port?)\n`;

  test('exec with an unreachable database exits 2 naming UNROLL_STORE, password redacted, before any workflow starts', async () => {
    const run = await runCli(['exec', 'hello'], { ...fixture.env, UNROLL_STORE: unreachable }, fixture.workspace);
    expect(run.stderr).toBe(refused(new URL(unreachable).port));
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(fixture.model.requests).toHaveLength(0);
    expect(await workflowsOnQueue()).toEqual([]);
  });

  test.each([
    ['show', ['show', 'th-00000000-0000-0000-0000-000000000000']],
    ['threads', ['threads']],
    ['resume', ['resume', 'th-00000000-0000-0000-0000-000000000000', 'more']],
    ['worker', ['worker']],
  ])('%s with an unreachable database exits 2 with the same message', async (_name, args) => {
    const run = await runCli(args, { ...fixture.env, UNROLL_STORE: unreachable }, fixture.workspace);
    expect(run.stderr).toBe(refused(new URL(unreachable).port));
    expect(run.code).toBe(2);
    expect(await workflowsOnQueue()).toEqual([]);
  });

  test('a database that does not exist is named, password redacted', async () => {
    const url = new URL(testPostgresUrl());
    url.pathname = '/no_such_database';
    const run = await runCli(['exec', 'hello'], { ...fixture.env, UNROLL_STORE: url.toString() }, fixture.workspace);
    url.password = '***';
    expect(run.stderr).toBe(`unroll: UNROLL_STORE=${decodeURIComponent(url.toString())}: database "no_such_database" does not exist\n`);
    expect(run.stderr).not.toContain(decodeURIComponent(new URL(testPostgresUrl()).password));
    expect(run.code).toBe(2);
    expect(await workflowsOnQueue()).toEqual([]);
  });

  test('a spec that does not parse exits 2 naming UNROLL_STORE', async () => {
    const run = await runCli(['exec', 'hello'], { ...fixture.env, UNROLL_STORE: `mysql://unroll:${password}@db/unroll` }, fixture.workspace);
    expect(run.stderr).toBe('unroll: UNROLL_STORE=mysql://unroll:***@db/unroll: unknown store kind "mysql"; use file:<absolute dir> or postgres://user:password@host:port/database\n');
    expect(run.code).toBe(2);
  });

  test('a bad store in config.toml names the file and key', async () => {
    const configFile = path.join(fixture.home, 'config.toml');
    await writeFile(configFile, `[unroll]\nstore = "${unreachable}"\n`);
    try {
      const run = await runCli(['exec', 'hello'], fixture.env, fixture.workspace);
      expect(run.stderr).toBe(
        `unroll: unroll.store in ${configFile} (postgres://unroll:***@127.0.0.1:${new URL(unreachable).port}/unroll): connection refused (is PostgreSQL running and listening on that host and port?)\n`,
      );
      expect(run.code).toBe(2);
      expect(await workflowsOnQueue()).toEqual([]);
    } finally {
      await rm(configFile, { force: true });
    }
  });
});
