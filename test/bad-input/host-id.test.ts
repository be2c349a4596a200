/**
 * A bad host id given to `unroll worker` (the flag or UNROLL_HOST_ID): one clear line
 * naming the id and where it came from, exit 2, and no worker starts. Runs the compiled
 * CLI (`npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'unroll');

function runCli(args: string[], env: Record<string, string | undefined>): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, timeout: 60_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

describe('unroll worker with a bad host id', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'unroll-bad-host-'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });
  // Nothing answers at this address: the id must be refused before any connection is tried.
  const env = () => ({ PATH: process.env.PATH, HOME: home, UNROLL_HOME: home, UNROLL_TEMPORAL_ADDRESS: '127.0.0.1:9', UNROLL_AUTO_START_SERVER: '0' });

  test.each([
    ['--host-id', ['worker', '--host-id', 'box one'], {}, '"box one" is not a valid host id: use 1-253 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit (from --host-id)'],
    ['UNROLL_HOST_ID', ['worker'], { UNROLL_HOST_ID: '../etc' }, '"../etc" is not a valid host id: use 1-253 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit (from UNROLL_HOST_ID)'],
  ])('refuses a bad %s with one line naming it', async (_what, args, extra, message) => {
    const run = await runCli(args, { ...env(), ...extra });
    expect(run.code).toBe(2);
    expect(run.stderr).toBe(`unroll: ${message}\n`);
  });
});
