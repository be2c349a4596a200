import { spawn } from 'node:child_process';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

import {
  devServerArgs,
  devServerPidFile,
  ensureDevServer,
  isServerReachable,
  parseTemporalAddress,
  stopDevServer,
} from '../../src/temporal/dev-server';
import { searchAttributeArgs } from '../../src/shared/search-attributes';
import { dynamicConfigArgs } from '../../src/temporal/dynamic-config';
import { DevServerStartError, InvalidTemporalAddressError } from '../../src/temporal/errors';

let root: string;

beforeAll(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'unroll-dev-server-'));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

/** A TCP server on a free local port; close it with the returned function. */
async function listen(): Promise<{ address: string; close: () => Promise<void> }> {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return { address: `127.0.0.1:${port}`, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

/** An address where nothing listens: a port that was free a moment ago. */
async function closedAddress(): Promise<string> {
  const server = await listen();
  await server.close();
  return server.address;
}

describe('parseTemporalAddress', () => {
  it.each([
    ['127.0.0.1:7233', { host: '127.0.0.1', port: 7233 }],
    ['localhost:17233', { host: 'localhost', port: 17233 }],
    ['[::1]:7233', { host: '::1', port: 7233 }],
  ])('splits %s into host and port', (address, expected) => {
    expect(parseTemporalAddress(address)).toEqual(expected);
  });

  it.each(['7233', 'localhost:', 'localhost:70000', 'localhost:0', 'http://localhost:7233'])('rejects %s', (address) => {
    expect(() => parseTemporalAddress(address)).toThrow(InvalidTemporalAddressError);
  });
});

describe('isServerReachable', () => {
  it('is true when something listens at the address', async () => {
    const server = await listen();
    try {
      expect(await isServerReachable(server.address)).toBe(true);
    } finally {
      await server.close();
    }
  });

  it('is false when nothing listens at the address', async () => {
    expect(await isServerReachable(await closedAddress(), 500)).toBe(false);
  });
});

describe('devServerArgs', () => {
  it('binds the host and port, puts the UI 1000 ports higher, logs warnings only, keeps its database in write-ahead-log mode and sets Unroll\'s dynamic config', () => {
    expect(devServerArgs({ address: '127.0.0.1:17233', cliPath: '/bin/temporal', dbFile: '/data/temporal.db' })).toEqual([
      'server', 'start-dev',
      '--ip', '127.0.0.1',
      '--port', '17233',
      '--ui-port', '18233',
      '--db-filename', '/data/temporal.db',
      '--sqlite-pragma', 'journal_mode=wal',
      '--sqlite-pragma', 'synchronous=full',
      '--log-level', 'warn',
      '--namespace', 'default',
      ...dynamicConfigArgs(),
      ...searchAttributeArgs(),
    ]);
  });

  it('uses the given UI port and namespace', () => {
    const args = devServerArgs({ address: 'localhost:7233', cliPath: 't', dbFile: 'db', uiPort: 9000, namespace: 'unroll' });
    expect(args).toEqual(expect.arrayContaining(['--ui-port', '9000', '--namespace', 'unroll']));
  });

  it('runs headless when the gRPC port + 1000 is not a valid port', () => {
    const args = devServerArgs({ address: 'localhost:65000', cliPath: 't', dbFile: 'db' });
    expect(args).toContain('--headless');
    expect(args).not.toContain('--ui-port');
  });
});

describe('ensureDevServer', () => {
  it('starts nothing when the address is already reachable', async () => {
    const server = await listen();
    try {
      const result = await ensureDevServer({
        address: server.address,
        cliPath: path.join(root, 'no-such-temporal'),
        dbFile: path.join(root, 'reachable', 'db.sqlite'),
        logFile: path.join(root, 'reachable', 'server.log'),
      });
      expect(result).toEqual({ started: false });
    } finally {
      await server.close();
    }
  });

  it('fails with this run\'s server log when the server exits at once', async () => {
    const cliPath = path.join(root, 'failing-temporal');
    await writeFile(cliPath, '#!/bin/sh\necho "starting"\necho "boom: address already in use" >&2\nexit 3\n');
    await chmod(cliPath, 0o755);
    const logFile = path.join(root, 'failing', 'logs', 'server.log');
    await mkdir(path.dirname(logFile), { recursive: true });
    await writeFile(logFile, 'output of an earlier run\n');

    const error: unknown = await ensureDevServer({
      address: await closedAddress(),
      cliPath,
      dbFile: path.join(root, 'failing', 'db', 'db.sqlite'),
      logFile,
      startTimeoutMs: 10_000,
    }).catch((err: unknown) => err);

    expect(error).toBeInstanceOf(DevServerStartError);
    expect((error as DevServerStartError).message).toContain('the server process exited with code 3');
    expect((error as DevServerStartError).logTail).toBe('  starting\n  boom: address already in use');
    expect((await stat(path.join(root, 'failing', 'db'))).isDirectory()).toBe(true);
  });
});

describe('stopDevServer', () => {
  it('terminates the process named in the pid file and removes the file', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.once('exit', (_code, signal) => resolve(signal)));
    const pidFile = devServerPidFile(path.join(root, 'stop', 'db.sqlite'));
    await mkdir(path.dirname(pidFile), { recursive: true });
    await writeFile(pidFile, `${child.pid}\n`);

    expect(await stopDevServer(pidFile, 2_000)).toBe(true);
    expect(await exited).toBe('SIGTERM');
    await expect(readFile(pidFile, 'utf8')).rejects.toThrow(/ENOENT/);
  });

  it('reports false when the pid file is missing', async () => {
    expect(await stopDevServer(path.join(root, 'none', 'server.pid'))).toBe(false);
  });
});
