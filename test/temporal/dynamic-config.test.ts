/**
 * Every Temporal dev server Unroll starts runs with Unroll's dynamic config
 * (src/temporal/dynamic-config.ts): the one the CLI starts in the background and the
 * one the test suite runs on. Read back from the running server process's command
 * line (Linux /proc), not from the arguments Unroll meant to pass.
 */
import { readdir, readFile, mkdtemp, rm, stat } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { devServerPidFile, ensureDevServer, stopDevServer } from '../../src/temporal/dev-server';
import { DEV_SERVER_DYNAMIC_CONFIG, dynamicConfigFile } from '../../src/temporal/dynamic-config';
import { unusedLoopbackPort } from '../support/ports';

jest.setTimeout(120_000);

/** The command line of a running process, one argument per entry. */
async function commandLine(pid: number): Promise<string[]> {
  const raw = await readFile(`/proc/${pid}/cmdline`, 'utf8');
  return raw.split('\0').filter((arg) => arg !== '');
}

/** The `--dynamic-config-value KEY=VALUE` pairs of a command line, values parsed as the server parses them (JSON). */
function dynamicConfigOf(args: readonly string[]): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  args.forEach((arg, i) => {
    if (arg !== '--dynamic-config-value') return;
    const pair = args[i + 1] ?? '';
    const at = pair.indexOf('=');
    values[pair.slice(0, at)] = JSON.parse(pair.slice(at + 1)) as unknown;
  });
  return values;
}

const expected = Object.fromEntries(DEV_SERVER_DYNAMIC_CONFIG.map((s) => [s.key, s.value]));

/** The pid of the `temporal server start-dev` process serving `port`. */
async function devServerPidOnPort(port: number): Promise<number> {
  for (const entry of await readdir('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const args = await commandLine(Number(entry)).catch(() => [] as string[]);
    const at = args.indexOf('--port');
    if (args.includes('start-dev') && at >= 0 && args[at + 1] === String(port)) return Number(entry);
  }
  throw new Error(`no temporal server start-dev process serves port ${port}`);
}

describe('dev server dynamic config', () => {
  it('is set on the dev server the CLI starts', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-dyncfg-'));
    const dbFile = path.join(dir, 'temporal.db');
    try {
      const started = await ensureDevServer({
        address: `127.0.0.1:${await unusedLoopbackPort()}`,
        cliPath: process.env.UNROLL_TEST_TEMPORAL_CLI ?? '',
        dbFile,
        logFile: path.join(dir, 'server.log'),
        uiPort: 65_536,
        startTimeoutMs: 60_000,
      });
      expect(started.started).toBe(true);
      expect(dynamicConfigOf(await commandLine(started.pid ?? 0))).toEqual(expected);
      // Its database is in write-ahead-log mode (DEV_SERVER_SQLITE_PRAGMAS): SQLite keeps
      // the log next to the file while the server has it open; a rollback journal has none.
      expect((await stat(`${dbFile}-wal`)).isFile()).toBe(true);
    } finally {
      await stopDevServer(devServerPidFile(dbFile));
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('is set on the server the tests run on', async () => {
    const address = process.env.UNROLL_TEST_TEMPORAL_ADDRESS ?? '';
    const port = Number(address.slice(address.lastIndexOf(':') + 1));
    // The SDK adds its own values (e.g. frontend.enableUpdateWorkflowExecution); ours must all be there.
    expect(dynamicConfigOf(await commandLine(await devServerPidOnPort(port)))).toMatchObject(expected);
  });

  it("is what docker-compose.yml's Temporal server runs with (docker/dynamic-config.yaml)", async () => {
    const repo = path.resolve(__dirname, '..', '..');
    const file = await readFile(path.join(repo, 'docker', 'dynamic-config.yaml'), 'utf8');
    expect(file.split('\n').filter((line) => !line.startsWith('#')).join('\n')).toBe(dynamicConfigFile());
    const compose = await readFile(path.join(repo, 'docker-compose.yml'), 'utf8');
    expect(compose).toContain('./docker/dynamic-config.yaml:/etc/temporal/config/dynamicconfig/unroll.yaml:ro');
    expect(compose).toContain('DYNAMIC_CONFIG_FILE_PATH: config/dynamicconfig/unroll.yaml');
  });

  it('can be written as a server dynamic config file, one unconstrained value per key', () => {
    const file = dynamicConfigFile();
    for (const { key, value } of DEV_SERVER_DYNAMIC_CONFIG) {
      expect(file).toContain(`${key}:\n  - value: ${JSON.stringify(value)}\n`);
    }
  });
});
