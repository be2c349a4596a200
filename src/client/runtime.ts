/**
 * What every CLI command that talks to Temporal needs: the server (started locally
 * when none answers and the address is local), a client, the transcript store and,
 * for commands that run agents, a worker: the home's resident worker (started in the
 * background when none runs, see ./resident-worker.ts) or, when asked, one in this process.
 */
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import { dataConverterFor } from '../codec/data-converter';
import { keyRingFor, type KeyRing } from '../codec/keys';
import { MissingKeyPayloadCodec } from '../codec/missing-key-codec';
import type { UnrollConfig } from '../config/config';
import { checkStore, openStore, type OpenedStore, type TranscriptStore } from '../store';
import { devServerUiUrl, ensureDevServer, isServerReachable, parseTemporalAddress } from '../temporal/dev-server';
import { ForeignServerError, NamespaceNotFoundError, NotATemporalFrontendError } from '../temporal/errors';
import { checkFrontend, readServerRecord } from '../temporal/server-record';
import { http2Problem } from '../temporal/frontend-probe';
import { findTemporalCli } from '../temporal/temporal-cli';
import type { HostWorkers } from '../workers/worker';
import type { InProcessWorker } from './in-process-worker';
import { buildId, compiledCliPath } from './build-id';
import { ensureResidentWorker, workerFingerprint, type ResidentWorker } from './resident-worker';

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

/** The address Unroll uses (and starts its own dev server on) when none is configured. */
export const DEFAULT_TEMPORAL_ADDRESS = '127.0.0.1:7233';

/**
 * Makes sure the expected server answers at the configured address: starts the embedded
 * dev server (SQLite file under the Unroll home, so threads survive its restarts) when
 * allowed and `start` is not false (read-only commands pass false: a server they started
 * would outlive them). What answers must be a Temporal frontend with the namespace and,
 * where this home runs its own dev server, that server (see src/temporal/server-record.ts).
 */
export async function ensureServer(config: UnrollConfig, log: (msg: string) => void, options: { start?: boolean } = {}): Promise<void> {
  const { address, namespace, dbFile } = config.temporal;
  if (await isServerReachable(address)) {
    // Something answers; make sure it speaks gRPC before the SDK spends its deadline on it.
    const problem = await http2Problem(address);
    if (problem) throw new NotATemporalFrontendError(address, problem);
    await checkServer(config);
    return;
  }
  if (options.start === false) throw new TemporalUnreachableError(address, 'no server answers there; start one with `unroll server`, or run `unroll exec` (it starts one)');
  if (!config.temporal.autoStartServer) throw new TemporalUnreachableError(address, 'nothing answers and auto-start is off (UNROLL_AUTO_START_SERVER=0)');
  if (!isLocalAddress(address)) throw new TemporalUnreachableError(address, 'nothing answers there (Unroll only starts a dev server on a loopback address)');
  const cliPath = await findTemporalCli({ explicitPath: config.temporal.cliPath, toolsDir: REPO_TOOLS_DIR, install: true, log });
  log(`starting the Temporal dev server at ${address} (data: ${dbFile}, log: ${config.temporal.logFile})`);
  const started = await ensureDevServer({ address, cliPath, dbFile, logFile: config.temporal.logFile, namespace });
  const ui = devServerUiUrl(address);
  if (started.started && ui) log(`Temporal Web UI: ${ui}`);
}

/**
 * Whether this home expects its own dev server at the address: it may start one there
 * (auto-start on, loopback) and the address is the default one or the one it recorded.
 * An address given explicitly for a server the user runs is used as it is.
 */
async function checkServer(config: UnrollConfig): Promise<void> {
  const { address, namespace, dbFile } = config.temporal;
  const recorded = await readServerRecord(dbFile);
  const ownServer = config.temporal.autoStartServer && isLocalAddress(address) && (address === DEFAULT_TEMPORAL_ADDRESS || recorded?.address === address);
  try {
    await checkFrontend({ address, namespace, dbFile, home: config.home, ownServer });
  } catch (err) {
    if (err instanceof NotATemporalFrontendError || err instanceof NamespaceNotFoundError || err instanceof ForeignServerError) throw err;
    throw new TemporalUnreachableError(address, err instanceof Error ? err.message : String(err));
  }
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
  /** The home's resident worker this command uses, if it uses one. */
  readonly resident?: ResidentWorker;
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

/** Which worker a command that runs agents uses. */
export interface RuntimeOptions {
  /** False: none (`--no-worker`: a worker elsewhere serves the task queue). */
  readonly withWorker: boolean;
  /** With `withWorker`: run the workers in this process (`--in-process-worker`, `unroll worker`) instead of the resident one. */
  readonly inProcessWorker?: boolean;
  readonly log: (msg: string) => void;
  /** False for read-only commands: fail when no server answers rather than start one that outlives them. */
  readonly startServer?: boolean;
  readonly keys?: KeyRing | null;
  readonly store?: { opened: OpenedStore; storeId: string };
}

/**
 * Starts (or reuses) the resident worker of the configured home with this configuration:
 * `unroll worker --resident` from the compiled CLI, with the caller's environment.
 */
export function ensureHomeWorker(config: UnrollConfig, env: Record<string, string | undefined>, log: (msg: string) => void): Promise<ResidentWorker> {
  const build = buildId();
  const args = [compiledCliPath(), 'worker', '--resident', '--temporal-address', config.temporal.address, '--host-id', config.hostId];
  return ensureResidentWorker({ home: config.home, buildId: build, fingerprint: workerFingerprint(config, env, build), command: { file: process.execPath, args }, env, log });
}

/**
 * Connects to Temporal and, with `withWorker`, makes sure a worker serves this host: the
 * home's resident worker, or with `inProcessWorker` this host's workers in this process. With an
 * encryption key configured (`config.encryption`, or `options.keys` when the caller
 * already loaded it), the client and the worker encrypt every payload and the store
 * encrypts at rest. Throws `EncryptionKeyError` for a bad key before connecting.
 */
export async function openRuntime(
  config: UnrollConfig,
  env: Record<string, string | undefined>,
  options: RuntimeOptions,
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
  options: RuntimeOptions & { keys: KeyRing | null; opened: OpenedStore; storeId: string; closeStore: () => Promise<void>; dataConverter: DataConverter },
): Promise<UnrollRuntime> {
  const { keys, opened, storeId, dataConverter } = options;
  await ensureServer(config, options.log, { start: options.startServer });
  const { address, namespace } = config.temporal;
  const useResident = options.withWorker && !options.inProcessWorker;
  // The worker comes up while this client connects: neither waits for the other.
  const [connected, resident] = await Promise.allSettled([connectClient(address), useResident ? ensureHomeWorker(config, env, options.log) : Promise.resolve(undefined)]);
  if (connected.status === 'rejected') throw connected.reason;
  const connection = connected.value;
  if (resident.status === 'rejected') {
    await connection.close();
    throw resident.reason;
  }
  const client = new Client({ connection, namespace, dataConverter });
  const store = opened.store;
  let inProcess: InProcessWorker | undefined;
  if (options.withWorker && !useResident) {
    try {
      const { startInProcessWorker } = await import('./in-process-worker');
      inProcess = await startInProcessWorker(config, env, { opened, storeId, dataConverter });
    } catch (err) {
      await connection.close();
      throw err;
    }
  }
  const worker = inProcess?.worker;
  const running = inProcess?.running;
  return {
    client,
    store,
    opened,
    storeId,
    worker,
    resident: resident.value,
    keys,
    stopped: running,
    async close() {
      if (worker && worker.getState() === 'RUNNING') worker.shutdown();
      // A worker that cannot drain (a task stuck in the SDK) must not keep the CLI from exiting.
      const stopped = await Promise.race([running?.then(() => true, () => true) ?? true, delay(WORKER_CLOSE_DEADLINE_MS, false, { ref: false })]);
      if (!stopped) return;
      await inProcess?.connection.close();
      await connection.close();
      await options.closeStore();
    },
  };
}
