/**
 * What every CLI command that talks to Temporal needs: the server (started locally
 * when none answers and the address is local), a client, the transcript store and,
 * for commands that run agents, an in-process worker.
 */
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { DefaultLogger, makeTelemetryFilterString, NativeConnection, Runtime, type LogLevel, type Logger } from '@temporalio/worker';
import { currentHostFacts } from '../activities';
import { dataConverterFor } from '../codec/data-converter';
import { keyRingFor, type KeyRing } from '../codec/keys';
import { MissingKeyPayloadCodec } from '../codec/missing-key-codec';
import type { UnrollConfig } from '../config/config';
import { checkStore, openStore, type OpenedStore, type TranscriptStore } from '../store';
import { ensureDevServer, isServerReachable, parseTemporalAddress } from '../temporal/dev-server';
import { NotATemporalFrontendError } from '../temporal/errors';
import { http2Problem } from '../temporal/frontend-probe';
import { findTemporalCli } from '../temporal/temporal-cli';
import { toolEnvironment } from '../tools/environment';
import { withoutExpectedWarnings } from '../workers/expected-warnings';
import { createHostWorkers, type HostWorkers } from '../workers/worker';

/** The Temporal server is not reachable and Unroll may not start one. */
export class TemporalUnreachableError extends Error {
  override readonly name = 'TemporalUnreachableError';
  constructor(readonly address: string, reason: string) {
    super(`cannot reach Temporal at ${address}: ${reason}`);
  }
}

/** The repository's tools folder, where `npm run setup` installs the Temporal CLI. */
export const REPO_TOOLS_DIR = path.resolve(__dirname, '..', '..', '..', '.tools');

/** True for loopback addresses, where Unroll may start its own dev server. */
export function isLocalAddress(address: string): boolean {
  const { host } = parseTemporalAddress(address);
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);
}

/**
 * Makes sure a server answers at the configured address: starts the embedded dev server
 * (SQLite file under the Unroll home, so threads survive its restarts) when allowed.
 */
export async function ensureServer(config: UnrollConfig, log: (msg: string) => void): Promise<void> {
  const { address } = config.temporal;
  if (await isServerReachable(address)) {
    // Something answers; make sure it speaks gRPC before the SDK spends its deadline on it.
    const problem = await http2Problem(address);
    if (problem) throw new NotATemporalFrontendError(address, problem);
    return;
  }
  if (!config.temporal.autoStartServer) throw new TemporalUnreachableError(address, 'nothing answers and auto-start is off (UNROLL_AUTO_START_SERVER=0)');
  if (!isLocalAddress(address)) throw new TemporalUnreachableError(address, 'nothing answers there (Unroll only starts a dev server on a loopback address)');
  const cliPath = await findTemporalCli({ explicitPath: config.temporal.cliPath, toolsDir: REPO_TOOLS_DIR, install: true, log });
  log(`starting the Temporal dev server at ${address} (data: ${config.temporal.dbFile}, log: ${config.temporal.logFile})`);
  await ensureDevServer({ address, cliPath, dbFile: config.temporal.dbFile, logFile: config.temporal.logFile, namespace: config.temporal.namespace });
}

/** A connected runtime; `close()` stops the worker (if any) and the connections. */
export interface UnrollRuntime {
  readonly client: Client;
  readonly store: TranscriptStore;
  /** The configured store (UNROLL_STORE or config.json `store`), checked at start-up. */
  readonly opened: OpenedStore;
  /** Its id, which new threads record (SessionSettings `storeId`). */
  readonly storeId: string;
  /** The in-process workers of this host (the shared queue's and the host queue's), if any. */
  readonly worker: HostWorkers | undefined;
  /** The encryption keys the client and worker use; null when encryption is off. */
  readonly keys: KeyRing | null;
  /** Settles when the in-process worker has stopped (rejects when it failed); undefined without one. */
  readonly stopped: Promise<void> | undefined;
  close(): Promise<void>;
}

/**
 * Opens the configured transcript store and checks it (connect, create or upgrade,
 * read its id) before anything else happens: a wrong or unreachable store is a
 * StoreConfigError naming its setting, password redacted. Close it when done.
 */
export async function openConfiguredStore(config: UnrollConfig, keys: KeyRing | null): Promise<{ opened: OpenedStore; storeId: string }> {
  const opened = openStore(config.store.spec, { home: config.home, keys, source: config.store.source });
  try {
    return { opened, storeId: await checkStore(opened) };
  } catch (err) {
    await opened.close();
    throw err;
  }
}

/** gRPC status UNIMPLEMENTED: the server at the address does not offer Temporal's service. */
const GRPC_UNIMPLEMENTED = 12;

/**
 * The data converter of every client and worker: the key ring's, or, without keys, one
 * that refuses encrypted payloads with a message naming the missing key (see
 * src/codec/missing-key-codec.ts).
 */
export function runtimeDataConverter(keys: KeyRing | null): DataConverter {
  return dataConverterFor(keys) ?? { payloadCodecs: [new MissingKeyPayloadCodec()] };
}

/** Connects the client; failures name the address (and say when it is not Temporal at all). */
async function connectClient(address: string): Promise<Connection> {
  try {
    return await Connection.connect({ address });
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    if ((err as { code?: unknown }).code === GRPC_UNIMPLEMENTED) throw new NotATemporalFrontendError(address, `its gRPC service is not Temporal's: ${message}`);
    throw new TemporalUnreachableError(address, message);
  }
}

/** How long `close()` waits for the in-process worker to finish its tasks before leaving anyway. */
const WORKER_CLOSE_DEADLINE_MS = 15_000;

let runtimeLogLevel: LogLevel | undefined;

/**
 * Installs the SDK runtime's logger once per process. With `nativeLevel`, the SDK core's
 * own log lines (printed to the console at WARN otherwise) are filtered at that level
 * too (`unroll replay` expects the core's non-determinism warnings and reports them itself).
 * With `sink`, SDK lines go there instead of the console (and the core's are forwarded to it).
 */
export function installRuntimeLogger(level: LogLevel, nativeLevel?: LogLevel, sink?: Logger): void {
  if (runtimeLogLevel) return;
  runtimeLogLevel = level;
  Runtime.install({
    // The host queue's activity-only worker makes the SDK warn that it polls no workflows: expected.
    logger: withoutExpectedWarnings(sink ?? new DefaultLogger(level)),
    // The commands handle their own signals (Ctrl-C interrupts a turn in `exec`; `worker`
    // shuts down gracefully), so the SDK must not shut the worker down behind their back.
    shutdownSignals: [],
    // A given sink (the log file of src/client/sdk-log.ts) receives the core's lines too.
    ...(nativeLevel ? { telemetryOptions: { logging: { filter: makeTelemetryFilterString({ core: nativeLevel, other: nativeLevel }), ...(sink ? { forward: {} } : {}) } } } : {}),
  });
}

/**
 * Connects to Temporal and, when `withWorker`, starts this host's workers in this process. With an
 * encryption key configured (`config.encryption`, or `options.keys` when the caller
 * already loaded it), the client and the worker encrypt every payload and the store
 * encrypts at rest. Throws `EncryptionKeyError` for a bad key before connecting.
 */
export async function openRuntime(
  config: UnrollConfig,
  env: Record<string, string | undefined>,
  options: { withWorker: boolean; log: (msg: string) => void; keys?: KeyRing | null; store?: { opened: OpenedStore; storeId: string } },
): Promise<UnrollRuntime> {
  const keys = options.keys !== undefined ? options.keys : keyRingFor(config);
  const dataConverter = runtimeDataConverter(keys);
  // The store first: a wrong UNROLL_STORE is reported before any server starts or workflow runs.
  const ownsStore = options.store === undefined;
  const { opened, storeId } = options.store ?? (await openConfiguredStore(config, keys));
  const closeStore = () => (ownsStore ? opened.close() : Promise.resolve());
  try {
    return await connectRuntime(config, env, { ...options, keys, opened, storeId, closeStore, dataConverter });
  } catch (err) {
    await closeStore();
    throw err;
  }
}

async function connectRuntime(
  config: UnrollConfig,
  env: Record<string, string | undefined>,
  options: { withWorker: boolean; log: (msg: string) => void; keys: KeyRing | null; opened: OpenedStore; storeId: string; closeStore: () => Promise<void>; dataConverter: DataConverter },
): Promise<UnrollRuntime> {
  const { keys, opened, storeId, dataConverter } = options;
  await ensureServer(config, options.log);
  const { address, namespace, taskQueue } = config.temporal;
  const connection = await connectClient(address);
  const client = new Client({ connection, namespace, dataConverter });
  const store = opened.store;
  let worker: HostWorkers | undefined;
  let running: Promise<void> | undefined;
  let native: NativeConnection | undefined;
  if (options.withWorker) {
    native = await NativeConnection.connect({ address });
    worker = await createHostWorkers({
      connection: native,
      namespace,
      taskQueue,
      hostId: config.hostId,
      failover: config.failover,
      deps: {
        store,
        apiKey: (name) => env[name],
        host: currentHostFacts(env),
        toolEnvironment: toolEnvironment(env, config.toolEnvironment.policy, config.toolEnvironment.secretNames),
        storeIdentity: { id: storeId, description: opened.description, host: config.hostId, source: opened.source },
        checkpointRoot: config.checkpointRoot,
      },
      dataConverter,
    });
    running = worker.run();
  }
  return {
    client,
    store,
    opened,
    storeId,
    worker,
    keys,
    stopped: running,
    async close() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      // A worker that cannot drain (a task stuck in the SDK) must not keep the CLI from exiting.
      const stopped = await Promise.race([running?.then(() => true, () => true) ?? true, delay(WORKER_CLOSE_DEADLINE_MS, false, { ref: false })]);
      if (!stopped) return;
      await native?.close();
      await connection.close();
      await options.closeStore();
    },
  };
}
