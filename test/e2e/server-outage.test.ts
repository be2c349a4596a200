/**
 * `unroll exec` rides out a Temporal server outage: a dev server of its own (fixed port,
 * SQLite file, so its state survives a restart) is stopped for 30 s while the turn's
 * model request streams, then started again. The client says once that the server is
 * unreachable and once that it is back, and exits 0 with the turn's answer. Before, the
 * SDK gave up after about 20 s and exec exited 1 ("Failed to get Workflow execution
 * history") though the turn finished. Runs the compiled CLI (`npm run build` first).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { devServerPidFile, ensureDevServer, stopDevServer, type EnsureDevServerOptions } from '../../src/temporal/dev-server';
import { testEnvironment } from '../support/harness';
import { assistantMessage, respond } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';
import { spawnCli, startCliFixture, type CliFixture } from './run-cli';
import { unusedLoopbackPort } from '../support/ports';

jest.setTimeout(300_000);

const OUTAGE_MS = 30_000;

describe('a Temporal server outage during a turn', () => {
  let fixture: CliFixture;
  let dir: string;
  let server: EnsureDevServerOptions;

  beforeAll(async () => {
    fixture = await startCliFixture('outage');
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-outage-server-'));
    server = {
      address: `127.0.0.1:${await unusedLoopbackPort()}`,
      cliPath: testEnvironment().cliPath,
      dbFile: path.join(dir, 'temporal.sqlite'),
      logFile: path.join(dir, 'server.log'),
      uiPort: 65_536, // no Web UI
    };
    await ensureDevServer(server);
  });
  afterAll(async () => {
    await stopDevServer(devServerPidFile(server.dbFile));
    await fixture.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('exec waits for the server, says so once and again when it is back, and exits 0 with the answer', async () => {
    const { model, workspace } = fixture;
    const env = { ...fixture.env, UNROLL_TEMPORAL_ADDRESS: server.address, UNROLL_AUTO_START_SERVER: '0' };
    // The answer streams slowly (a frame every 5 s), so the model request outlasts the outage.
    model.enqueue(respond(assistantMessage('the answer after the outage'), { chunkDelayMs: 5_000 }));
    const exec = spawnCli(['exec', 'a question'], env, workspace);
    await waitFor('the model request', () => model.requests.length === 1, 60_000);

    expect(await stopDevServer(devServerPidFile(server.dbFile))).toBe(true);
    await sleep(OUTAGE_MS);
    await ensureDevServer(server);

    const run = await exec.done;
    expect(run.stdout).toBe('the answer after the outage\n');
    expect(run.code).toBe(0);
    const lines = run.stderr.split('\n');
    expect(lines.filter((l) => l.includes('is unreachable'))).toEqual([expect.stringMatching(new RegExp(`^Temporal server at ${server.address} is unreachable; waiting \\(\\d+ s\\)…$`))]);
    expect(lines.filter((l) => l.includes('reachable again'))).toEqual([expect.stringMatching(new RegExp(`^Temporal server at ${server.address} is reachable again after \\d+ s; continuing$`))]);
    expect(run.stderr).not.toContain('Failed to get Workflow execution history');
  });
});
