/**
 * What answers at the Temporal address is checked before Unroll uses it: a Temporal
 * frontend, with the namespace, and, where the home runs its own dev server, that very
 * server (not one another home or user started on the same port). Read-only commands
 * never start a server that would outlive them. Real dev servers, real HTTP server.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig, type UnrollConfig } from '../../src/config/config';
import { main, type Io } from '../../src/client/cli';
import { ensureServer, TemporalUnreachableError } from '../../src/client/runtime';
import { devServerPidFile, isServerReachable, stopDevServer } from '../../src/temporal/dev-server';
import { ForeignServerError, NamespaceNotFoundError, NotATemporalFrontendError } from '../../src/temporal/errors';
import { checkFrontend, readServerRecord } from '../../src/temporal/server-record';
import { testEnvironment } from '../support/harness';
import { unusedLoopbackPort } from '../support/ports';

jest.setTimeout(180_000);

const roots: string[] = [];
const servers: string[] = [];

async function tempHome(name: string): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), `unroll-srvid-${name}-`));
  roots.push(dir);
  return dir;
}

afterAll(async () => {
  for (const pidFile of servers) await stopDevServer(pidFile);
  for (const dir of roots) await rm(dir, { recursive: true, force: true });
});

function configOf(home: string, address: string, extra: Record<string, string> = {}): UnrollConfig {
  return loadConfig({ HOME: home, UNROLL_HOME: home, UNROLL_TEMPORAL_ADDRESS: address, UNROLL_TEMPORAL_CLI: testEnvironment().cliPath, ...extra });
}

/** A free port whose Web UI port (+1000) is a valid port too. */
async function portWithUi(): Promise<number> {
  for (;;) {
    const port = await unusedLoopbackPort();
    if (port + 1000 <= 65_535) return port;
  }
}

/** Starts (through ensureServer, as every command does) the dev server of `home` at `address`; returns its log lines. */
async function startHomeServer(home: string, address: string): Promise<string[]> {
  const lines: string[] = [];
  const config = configOf(home, address);
  servers.push(devServerPidFile(config.temporal.dbFile));
  await ensureServer(config, (m) => lines.push(m));
  return lines;
}

describe('the server at the Temporal address', () => {
  it('is refused when an HTTP server answers there, naming the address setting', async () => {
    const server = http.createServer((_req, res) => res.end('hello'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const home = await tempHome('http');
      const failure = ensureServer(configOf(home, address), () => undefined);
      await expect(failure).rejects.toThrow(NotATemporalFrontendError);
      await expect(failure).rejects.toThrow(/HTTP\/1.*UNROLL_TEMPORAL_ADDRESS/);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('is refused when the namespace does not exist there, naming the namespace setting', async () => {
    const home = await tempHome('ns');
    await writeFile(path.join(home, 'config.toml'), '[unroll.temporal]\nnamespace = "no-such-namespace"\n');
    const failure = ensureServer(configOf(home, testEnvironment().address), () => undefined);
    await expect(failure).rejects.toThrow(NamespaceNotFoundError);
    await expect(failure).rejects.toThrow(/no namespace "no-such-namespace".*\[unroll\.temporal\] namespace/);
  });

  it('is refused as this home\'s own server when this home never started one (the default address case)', async () => {
    const home = await tempHome('norecord');
    const failure = checkFrontend({ address: testEnvironment().address, namespace: 'default', dbFile: path.join(home, 'temporal.db'), home, ownServer: true });
    await expect(failure).rejects.toThrow(ForeignServerError);
    await expect(failure).rejects.toThrow(/has not started a server there.*auto_start_server = false/);
  });

  it('started by Unroll prints its Web UI address once, and a server another home then started on the same port is not reused', async () => {
    const port = await portWithUi();
    const address = `127.0.0.1:${port}`;
    const homeA = await tempHome('a');
    const homeB = await tempHome('b');

    // Home B starts its dev server there first: it prints the UI address and records the server.
    const firstStart = await startHomeServer(homeB, address);
    expect(firstStart.filter((line) => line.includes('Web UI'))).toEqual([`Temporal Web UI: http://127.0.0.1:${port + 1000}`]);
    const recordB = await readServerRecord(configOf(homeB, address).temporal.dbFile);
    expect(recordB?.address).toBe(address);
    // Using it again starts nothing and prints nothing.
    const reuse: string[] = [];
    await ensureServer(configOf(homeB, address), (m) => reuse.push(m));
    expect(reuse).toEqual([]);

    // B's server stops; home A starts its own on the same port.
    await stopDevServer(devServerPidFile(configOf(homeB, address).temporal.dbFile));
    await startHomeServer(homeA, address);
    const recordA = await readServerRecord(configOf(homeA, address).temporal.dbFile);
    expect(recordA?.clusterId).not.toBe(recordB?.clusterId);

    // Home B finds A's server at its address: refused, naming both cluster ids.
    const failure = ensureServer(configOf(homeB, address), () => undefined);
    await expect(failure).rejects.toThrow(ForeignServerError);
    await expect(failure).rejects.toThrow(new RegExp(`not the dev server of the Unroll home ${homeB}.*${recordA?.clusterId}.*${recordB?.clusterId}`));
    // With auto-start off, B uses whatever answers there on purpose.
    await expect(ensureServer(configOf(homeB, address, { UNROLL_AUTO_START_SERVER: '0' }), () => undefined)).resolves.toBeUndefined();
  });
});

describe('read-only commands', () => {
  it.each([['threads'], ['show', '0000000000000000']])('`unroll %s` with no server running fails clearly and starts none', async (...args) => {
    const home = await tempHome('ro');
    const address = `127.0.0.1:${await unusedLoopbackPort()}`;
    const err: string[] = [];
    const io: Io = {
      env: { HOME: home, UNROLL_HOME: home, UNROLL_TEMPORAL_ADDRESS: address, UNROLL_TEMPORAL_CLI: testEnvironment().cliPath, NO_COLOR: '1' },
      out: { write: () => true } as unknown as NodeJS.WritableStream,
      err: { write: (s: string) => err.push(s) > 0 } as unknown as NodeJS.WritableStream,
      cwd: home,
      stdin: () => Promise.resolve(''),
    };
    const code = await main(args, io);
    expect(code).not.toBe(0);
    expect(err.join('')).toContain(`cannot reach Temporal at ${address}: no server answers there; start one with \`unroll server\`, or run \`unroll exec\``);
    expect(await isServerReachable(address)).toBe(false);
  });

  it('report the unreachable server as a TemporalUnreachableError when asked not to start one', async () => {
    const home = await tempHome('ro2');
    const address = `127.0.0.1:${await unusedLoopbackPort()}`;
    await expect(ensureServer(configOf(home, address), () => undefined, { start: false })).rejects.toThrow(TemporalUnreachableError);
  });
});
