/**
 * A workflow-test harness: a client and an in-process worker on the shared dev server
 * (started once by ./global-setup.ts), a fresh transcript store and workspace in a temp
 * dir, and a scripted Responses server. Each harness uses its own task queue, so test
 * files never steal each other's tasks.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import type { SessionSettings } from '../../src/config/settings';
import { dataConverterFor } from '../../src/codec/data-converter';
import type { KeyRing } from '../../src/codec/keys';
import { openFsStore, openStore, type OpenedStore, type TranscriptStore } from '../../src/store';
import { createUnrollWorker } from '../../src/workers/worker';
import { UNROLL_SECRET_VARIABLES } from '../../src/config/config';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, toolEnvironment } from '../../src/tools/environment';
import { followTurn, startThread, submitTurn } from '../../src/client/threads';
import type { TurnEvent, TurnResult } from '../../src/workflows/definitions';
import { ScriptedResponsesServer } from './responses-server';
import { scriptedSessionSettings } from './session-settings';

let runtimeInstalled = false;

/** Quiet the SDK's logs: tests assert on behaviour, not on log lines. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // Already installed by an earlier test file in this process.
  }
}

export { TEST_TIMINGS } from './session-settings';

export interface Harness {
  readonly client: Client;
  readonly connection: NativeConnection;
  readonly store: TranscriptStore;
  readonly home: string;
  readonly workspace: string;
  readonly taskQueue: string;
  readonly model: ScriptedResponsesServer;
  readonly address: string;
  worker: Worker | undefined;
  settings(overrides?: Partial<SessionSettings>): SessionSettings;
  startWorker(): Promise<void>;
  stopWorker(): Promise<void>;
  /** Starts a new thread with `text` and waits for the first turn to finish. */
  runThread(text: string, overrides?: Partial<SessionSettings>): Promise<{ threadId: string; result: TurnResult; events: TurnEvent[] }>;
  /** Runs the next turn of a thread and waits for it. */
  runTurn(threadId: string, text: string): Promise<{ result: TurnResult; events: TurnEvent[] }>;
  close(): Promise<void>;
}

/** The dev server address and workflow bundle the global setup made. */
export function testEnvironment(): { address: string; bundlePath: string; cliPath: string } {
  const address = process.env.UNROLL_TEST_TEMPORAL_ADDRESS;
  const bundlePath = process.env.UNROLL_TEST_WORKFLOW_BUNDLE;
  const cliPath = process.env.UNROLL_TEST_TEMPORAL_CLI;
  if (!address || !bundlePath || !cliPath) throw new Error('test/support/global-setup.ts did not run (run the suite through jest.config.js)');
  return { address, bundlePath, cliPath };
}

/** Options of {@link startHarness}; all optional, the defaults are what most tests want. */
export interface HarnessOptions {
  /** Start the in-process worker at once (default true). */
  readonly worker?: boolean;
  /** Encrypt: the client and worker get the AES-GCM payload codec, the store encrypts at rest. */
  readonly keys?: KeyRing;
  /** The environment the worker reads API keys from (default: OPENAI_API_KEY=test-key). */
  readonly apiKeys?: Record<string, string>;
  /** The environment tool processes get (default: this process's, filtered by the default policy). */
  readonly toolEnvironment?: Record<string, string>;
  /** The transcript store (an `UNROLL_STORE` spec, e.g. postgres://…); default: a file store in the home. */
  readonly storeSpec?: string;
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  quietRuntime();
  const { address, bundlePath } = testEnvironment();
  const home = await mkdtemp(path.join(os.tmpdir(), 'unroll-home-'));
  const workspace = await mkdtemp(path.join(os.tmpdir(), 'unroll-ws-'));
  const connection = await NativeConnection.connect({ address });
  const clientConnection = await Connection.connect({ address });
  const dataConverter = dataConverterFor(options.keys);
  const client = new Client({ connection: clientConnection, ...(dataConverter ? { dataConverter } : {}) });
  // A store spec (e.g. postgres://… for the fleet tests), else the home's file store.
  const opened: OpenedStore | undefined = options.storeSpec !== undefined ? openStore(options.storeSpec, { home, keys: options.keys ?? null }) : undefined;
  const store = opened?.store ?? openFsStore(home, options.keys);
  const model = await ScriptedResponsesServer.start();
  const taskQueue = `test-${randomUUID()}`;
  let running: Promise<void> | undefined;
  const deps = {
    store,
    apiKey: (name: string) => (options.apiKeys ? options.apiKeys[name] : name === 'OPENAI_API_KEY' ? 'test-key' : undefined),
    host: { shell: 'bash', timezone: 'UTC', now: () => new Date('2026-11-21T12:00:00Z') },
    toolEnvironment: options.toolEnvironment ?? toolEnvironment(process.env, DEFAULT_SHELL_ENVIRONMENT_POLICY, UNROLL_SECRET_VARIABLES),
    checkpointRoot: path.join(home, 'checkpoints'),
  };
  const harness: Harness = {
    client,
    connection,
    store,
    home,
    workspace,
    taskQueue,
    model,
    address,
    worker: undefined,
    settings: (overrides = {}) => ({ ...scriptedSessionSettings({ cwd: workspace, baseUrl: model.url, taskQueue }), ...overrides }),
    async startWorker() {
      const worker = await createUnrollWorker({ connection, namespace: 'default', taskQueue, deps, workflowBundlePath: bundlePath, ...(dataConverter ? { dataConverter } : {}) });
      harness.worker = worker;
      running = worker.run();
    },
    async stopWorker() {
      if (!harness.worker) return;
      harness.worker.shutdown();
      await running;
      harness.worker = undefined;
    },
    async runThread(text, overrides) {
      const threadId = `t-${randomUUID()}`;
      const started = await startThread(client, { threadId, settings: harness.settings(overrides), text, taskQueue });
      const events: TurnEvent[] = [];
      const result = await followTurn(client, started.turnWorkflowId, (e) => void events.push(e), { pollMs: 50 });
      return { threadId, result, events };
    },
    async runTurn(threadId, text) {
      const started = await submitTurn(client, threadId, text);
      const events: TurnEvent[] = [];
      const result = await followTurn(client, started.turnWorkflowId, (e) => void events.push(e), { pollMs: 50 });
      return { result, events };
    },
    async close() {
      await harness.stopWorker();
      await model.close();
      await clientConnection.close();
      await connection.close();
      await opened?.close();
      await rm(home, { recursive: true, force: true });
      await rm(workspace, { recursive: true, force: true });
    },
  };
  if (options.worker !== false) await harness.startWorker();
  return harness;
}

/** The transcript a turn ended with, as plain items. */
export async function transcriptItems(harness: Harness, head: string | null) {
  return (await harness.store.loadTranscript(head)).map((s) => s.item);
}
