/**
 * The environment a benchmark runs in: a real Temporal dev server (the same binary the
 * tests use), an in-process Unroll worker with the built workflow bundle, a transcript
 * store in a temp dir and a scripted Responses server. Everything is torn down by
 * `close()`.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { DefaultLogger, NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { DEFAULT_TIMINGS, type SessionSettings } from '../src/config/settings';
import { scriptedSessionSettings } from '../test/support/session-settings';
import { openFsStore, type TranscriptStore } from '../src/store';
import { DEV_SERVER_DYNAMIC_CONFIG, dynamicConfigArgs, type DynamicConfigSetting } from '../src/temporal/dynamic-config';
import { findTemporalCli } from '../src/temporal/temporal-cli';
import { createUnrollWorker, defaultWorkflowBundlePath } from '../src/workers/worker';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, toolEnvironment } from '../src/tools/environment';
import { ScriptedResponsesServer } from '../test/support/responses-server';

export interface BenchEnv {
  readonly client: Client;
  readonly store: TranscriptStore;
  readonly model: ScriptedResponsesServer;
  readonly workspace: string;
  readonly taskQueue: string;
  readonly worker: Worker;
  /** The worker's connection, for extra workers in the same benchmark. */
  readonly nativeConnection: NativeConnection;
  /** The dev server's frontend address (host:port), for workers in child processes. */
  readonly address: string;
  settings(overrides?: Partial<SessionSettings>): SessionSettings;
  close(): Promise<void>;
}

const repoRoot = path.resolve(__dirname, '..', '..');

/** Options of {@link startBenchEnv}. */
export interface BenchEnvOptions {
  /** The worker's transcript store (default: a file store in a temp dir). */
  readonly store?: TranscriptStore;
  /** The dev server's dynamic config (default: Unroll's, the one the CLI and the tests use). */
  readonly dynamicConfig?: readonly DynamicConfigSetting[];
  /** More `temporal server start-dev` arguments, e.g. `--metrics-port`. */
  readonly serverArgs?: readonly string[];
  /** The caller installed the SDK's Runtime itself (e.g. with metrics); do not install one. */
  readonly runtimeInstalled?: boolean;
}

/** Starts everything. */
export async function startBenchEnv(options: BenchEnvOptions = {}): Promise<BenchEnv> {
  if (!options.runtimeInstalled) Runtime.install({ logger: new DefaultLogger('ERROR') });
  const cliPath = await findTemporalCli({ explicitPath: process.env.UNROLL_TEMPORAL_CLI, toolsDir: path.join(repoRoot, '.tools'), install: true });
  const server = await TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: cliPath },
      ip: '127.0.0.1',
      extraArgs: [
        '--log-level', 'error',
        ...dynamicConfigArgs(options.dynamicConfig ?? DEV_SERVER_DYNAMIC_CONFIG),
        ...(options.serverArgs ?? []),
      ],
    },
  });
  const address = server.connection.options.address;
  const home = await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-'));
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-ws-'));
  const store = options.store ?? openFsStore(home);
  const model = await ScriptedResponsesServer.start();
  const taskQueue = `bench-${randomUUID()}`;
  const native = await NativeConnection.connect({ address });
  const connection = await Connection.connect({ address });
  const client = new Client({ connection });
  const bundle = defaultWorkflowBundlePath();
  if (!bundle) throw new Error('dist/workflow-bundle.js is missing: run `npm run build` first');
  const worker = await createUnrollWorker({
    connection: native,
    namespace: 'default',
    taskQueue,
    workflowBundlePath: bundle,
    deps: {
      store,
      apiKey: () => 'bench-key',
      host: { shell: 'bash', timezone: 'UTC', now: () => new Date('2026-11-21T00:00:00Z') },
      toolEnvironment: toolEnvironment(process.env, DEFAULT_SHELL_ENVIRONMENT_POLICY),
    },
  });
  const running = worker.run();
  return {
    client,
    store,
    model,
    workspace,
    taskQueue,
    worker,
    nativeConnection: native,
    address,
    settings: (overrides = {}) => ({
      ...scriptedSessionSettings({ cwd: workspace, baseUrl: model.url, taskQueue, model: 'bench-model', timings: { ...DEFAULT_TIMINGS, retryInitialMs: 100, retryMaxMs: 1_000 } }),
      ...overrides,
    }),
    async close() {
      worker.shutdown();
      await running;
      await model.close();
      await connection.close();
      await native.close();
      await server.teardown();
      await rm(home, { recursive: true, force: true });
      await rm(workspace, { recursive: true, force: true });
    },
  };
}

/** A benchmark run that stopped making progress. */
export class BenchStalledError extends Error {
  override readonly name = 'BenchStalledError';
}

/**
 * Waits for `work`, but fails with {@link BenchStalledError} once the scripted model has
 * received no request for `idleMs`: a run that is stuck (e.g. a workflow task failing on
 * every attempt, which Temporal retries forever) becomes an error instead of a hang.
 */
export async function awaitProgress<T>(env: BenchEnv, what: string, work: Promise<T>, idleMs = 120_000): Promise<T> {
  const started = Date.now();
  const lastRequestAt = () => env.model.requests[env.model.requests.length - 1]?.receivedAt.getTime() ?? 0;
  let timer: NodeJS.Timeout | undefined;
  const stalled = new Promise<never>((_, reject) => {
    const check = () => {
      const idle = Date.now() - Math.max(started, lastRequestAt());
      if (idle >= idleMs) {
        reject(new BenchStalledError(`${what}: no model request for ${Math.round(idle / 1000)} s; look for failing workflow tasks (\`temporal workflow show\`), e.g. a workflow bundle rebuilt mid-run`));
      } else {
        timer = setTimeout(check, Math.min(5_000, idleMs - idle));
      }
    };
    timer = setTimeout(check, Math.min(5_000, idleMs));
  });
  void work.catch(() => undefined); // it may settle after the watchdog gave up
  try {
    return await Promise.race([work, stalled]);
  } finally {
    clearTimeout(timer);
  }
}
