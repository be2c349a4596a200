/**
 * A production-shaped Temporal server for the cluster benchmark: the release binary
 * (./server-binaries.ts) on PostgreSQL, configured from the module's own
 * config/development-postgres12.yaml (4 history shards) with private loopback ports,
 * Prometheus metrics and a dynamic config file of our choosing.
 */
import { type ChildProcess, spawn, execFile } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import type { PostgresCluster } from '../../test/support/postgres';
import { createServer } from 'node:net';
import type { ServerBinaries } from './server-binaries';

const run = promisify(execFile);

/** A step of setting up or starting the server failed. */
export class ClusterSetupError extends Error {
  override readonly name = 'ClusterSetupError';
  constructor(step: string, detail: string) {
    super(`Temporal cluster ${step} failed: ${detail}`);
  }
}

const DATABASES = [
  { name: 'temporal', schema: 'temporal' },
  { name: 'temporal_visibility', schema: 'visibility' },
] as const;

/** Creates the two databases and their schemas (the release's SQL tool and versioned schema files). */
export async function setupSchemas(binaries: ServerBinaries, pg: PostgresCluster): Promise<void> {
  for (const db of DATABASES) {
    const base = ['--ep', '127.0.0.1', '-p', String(pg.port), '-u', pg.user, '--pw', pg.password, '--pl', 'postgres12', '--db', db.name];
    const versioned = path.join(binaries.moduleDir, 'schema', 'postgresql', 'v12', db.schema, 'versioned');
    for (const args of [['create'], ['setup-schema', '-v', '0.0'], ['update-schema', '-d', versioned]]) {
      try {
        await run(binaries.sqlTool, [...base, ...args], { timeout: 120_000 });
      } catch (err) {
        const e = err as { stderr?: string; message: string };
        throw new ClusterSetupError(`schema setup (${db.name}: ${args[0]})`, (e.stderr ?? e.message).trim().split('\n').slice(-3).join(' | '));
      }
    }
  }
}

/**
 * A free loopback port in 20000-32767: Temporal stores membership ports in a PostgreSQL
 * smallint, so the kernel's ephemeral ports (32768 and up) make the server exit.
 */
async function freePortBelow32768(): Promise<number> {
  for (;;) {
    const candidate = 20_000 + Math.floor(Math.random() * 12_768);
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer();
      server.once('error', () => resolve(false));
      server.listen(candidate, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) return candidate;
  }
}

/** The server's ports: frontend gRPC (what workers and clients dial) and Prometheus. */
export interface ClusterPorts {
  readonly frontend: number;
  readonly metrics: number;
}

/**
 * Writes `<dir>/config/cluster.yaml`: the module's development-postgres12.yaml with this
 * PostgreSQL, free loopback ports, warn-level logs and `dynamicConfigFile` (polled every
 * 10 s, as in the original).
 */
export async function writeClusterConfig(binaries: ServerBinaries, pg: PostgresCluster, dir: string, dynamicConfigFile: string): Promise<ClusterPorts> {
  const original = await readFile(path.join(binaries.moduleDir, 'config', 'development-postgres12.yaml'), 'utf8');
  const port = async () => String(await freePortBelow32768());
  const ports: Record<string, string> = {};
  for (const p of ['7233', '7234', '7235', '7239', '6933', '6934', '6935', '6939', '7243', '8000']) ports[p] = await port();
  const replacements: [RegExp, string][] = [
    [/connectAddr: "127\.0\.0\.1:5432"/g, `connectAddr: "127.0.0.1:${pg.port}"`],
    [/user: "temporal"/g, `user: "${pg.user}"`],
    [/password: "temporal"/g, `password: "${pg.password}"`],
    [/level: info/, 'level: warn'],
    [/port: 7936/, 'port: 0'], // pprof off
    [/listenAddress: "127\.0\.0\.1:8000"/, `listenAddress: "127.0.0.1:${ports['8000']}"`],
    [/(grpcPort|membershipPort|httpPort): (\d+)/g, (_m: string, key: string, p: string) => `${key}: ${ports[p] ?? p}`] as unknown as [RegExp, string],
    [/rpcAddress: "localhost:7233"/, `rpcAddress: "127.0.0.1:${ports['7233']}"`],
    [/filepath: "config\/dynamicconfig\/development-sql\.yaml"/, `filepath: "${dynamicConfigFile}"`],
  ];
  let config = original;
  for (const [pattern, replacement] of replacements) {
    if (!pattern.test(config)) throw new ClusterSetupError('config', `the module's development-postgres12.yaml has no ${pattern.source}`);
    pattern.lastIndex = 0;
    config = config.replace(pattern, replacement);
  }
  await mkdir(path.join(dir, 'config'), { recursive: true });
  await writeFile(path.join(dir, 'config', 'cluster.yaml'), config);
  return { frontend: Number(ports['7233']), metrics: Number(ports['8000']) };
}

/** A running server process. */
export interface RunningCluster {
  readonly address: string;
  readonly metricsUrl: string;
  stop(): Promise<void>;
}

/** Starts the server from `<dir>/config/cluster.yaml` (all services in one process) and waits until its frontend answers. */
export async function startCluster(binaries: ServerBinaries, dir: string, ports: ClusterPorts, logFile: string): Promise<RunningCluster> {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(binaries.server, ['--root', dir, '--config', 'config', '--env', 'cluster', '--allow-no-auth', 'start'], { stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
  let exited = false;
  child.once('exit', () => (exited = true));
  const address = `127.0.0.1:${ports.frontend}`;
  const stop = async (): Promise<void> => {
    if (exited) return;
    const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await gone;
    clearTimeout(timer);
  };
  const deadline = Date.now() + 120_000;
  let problem = 'not started';
  while (Date.now() < deadline) {
    if (exited) throw new ClusterSetupError('start', `the server exited:\n${await logTail(logFile)}`);
    try {
      const connection = await Connection.connect({ address, connectTimeout: 2_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return { address, metricsUrl: `http://127.0.0.1:${ports.metrics}/metrics`, stop };
      } finally {
        await connection.close();
      }
    } catch (err) {
      problem = err instanceof Error ? err.message : String(err);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  await stop();
  throw new ClusterSetupError('start', `the frontend did not answer within 120 s (${problem}); see ${logFile}`);
}

async function logTail(logFile: string): Promise<string> {
  const text = await readFile(logFile, 'utf8').catch(() => '');
  return text.trimEnd().split('\n').slice(-15).map((line) => `  ${line.slice(0, 400)}`).join('\n');
}

/** Registers namespace `name` (1-day retention) unless it exists. */
export async function registerNamespace(address: string, name: string): Promise<void> {
  const connection = await Connection.connect({ address });
  try {
    await connection.workflowService.registerNamespace({ namespace: name, workflowExecutionRetentionPeriod: msToTs('1 day') });
  } catch (err) {
    if (!/already exists|AlreadyExists/i.test(err instanceof Error ? err.message : String(err))) throw err;
  } finally {
    await connection.close();
  }
}

/**
 * `server validate-dynamic-config` on a dynamic config file: the release's own check
 * that every key exists and every value has the key's type. Resolves with its output;
 * throws {@link ClusterSetupError} when it warns.
 */
export async function validateDynamicConfig(binaries: ServerBinaries, file: string): Promise<string> {
  try {
    const { stdout, stderr } = await run(binaries.server, ['validate-dynamic-config', file], { timeout: 60_000 });
    const output = `${stdout}${stderr}`.trim();
    // It exits 0 either way; an unknown key or a mistyped value is a warning line.
    if (/warning:/.test(output)) throw new ClusterSetupError('dynamic config validation', output);
    return output;
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; message: string };
    throw new ClusterSetupError('dynamic config validation', `${e.stdout ?? ''}${e.stderr ?? e.message}`.trim());
  }
}
