/**
 * What answers at a Temporal address, and whether it is the dev server this Unroll home
 * started.
 *
 * Every Temporal cluster has a cluster id (a UUID) that the dev server keeps in its
 * SQLite file, so it survives restarts on the same file and differs for every other
 * file. When Unroll starts a dev server it records the address and that id next to the
 * home's database (`temporal-server.json`); later commands compare the id the server at
 * the address reports with the recorded one. A server some other home (or another user)
 * started on the same port answers with another id and is refused instead of being
 * silently reused.
 */
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

import { Connection } from '@temporalio/client';

import { ForeignServerError, NamespaceNotFoundError, NotATemporalFrontendError } from './errors';

const RPC_TIMEOUT_MS = 5_000;
/** gRPC status codes the probe tells apart. */
const GRPC_NOT_FOUND = 5;
const GRPC_UNIMPLEMENTED = 12;

/** What the home records about the dev server it started. */
export interface ServerRecord {
  readonly address: string;
  readonly clusterId: string;
  readonly dbFile: string;
  readonly pid?: number;
}

/** Where the home records its dev server: next to the database file. */
export function serverRecordFile(dbFile: string): string {
  return path.join(path.dirname(path.resolve(dbFile)), 'temporal-server.json');
}

/** The recorded server, or undefined when there is none (or the file is unreadable). */
export async function readServerRecord(dbFile: string): Promise<ServerRecord | undefined> {
  try {
    const parsed = JSON.parse(await readFile(serverRecordFile(dbFile), 'utf8')) as Partial<ServerRecord>;
    if (typeof parsed.address !== 'string' || typeof parsed.clusterId !== 'string') return undefined;
    return { address: parsed.address, clusterId: parsed.clusterId, dbFile: String(parsed.dbFile ?? dbFile), ...(typeof parsed.pid === 'number' ? { pid: parsed.pid } : {}) };
  } catch {
    return undefined;
  }
}

/** Records the home's dev server (atomically: a reader never sees half a file). */
export async function writeServerRecord(record: ServerRecord): Promise<void> {
  const file = serverRecordFile(record.dbFile);
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(record, null, 2)}\n`);
  await rename(tmp, file);
}

/** What a Temporal frontend says about itself. */
export interface FrontendInfo {
  readonly clusterId: string;
  readonly serverVersion: string;
}

/**
 * Asks the server at `address` for its cluster id and for `namespace`.
 *
 * @throws NotATemporalFrontendError when its gRPC service is not Temporal's.
 * @throws NamespaceNotFoundError when the namespace does not exist there.
 * @throws the SDK's error when the server cannot be reached.
 */
export async function probeFrontend(address: string, namespace: string): Promise<FrontendInfo> {
  const connection = await Connection.connect({ address, connectTimeout: RPC_TIMEOUT_MS });
  try {
    const service = connection.workflowService;
    const info = await connection
      .withDeadline(Date.now() + RPC_TIMEOUT_MS, () => service.getClusterInfo({}))
      .catch((err: unknown) => {
        if (grpcCode(err) === GRPC_UNIMPLEMENTED) throw new NotATemporalFrontendError(address, `its gRPC service is not Temporal's: ${messageOf(err)}`);
        throw err;
      });
    await connection
      .withDeadline(Date.now() + RPC_TIMEOUT_MS, () => service.describeNamespace({ namespace }))
      .catch((err: unknown) => {
        if (grpcCode(err) === GRPC_NOT_FOUND) throw new NamespaceNotFoundError(address, namespace);
        throw err;
      });
    return { clusterId: info.clusterId ?? '', serverVersion: info.serverVersion ?? '' };
  } finally {
    await connection.close();
  }
}

/**
 * Why the server with cluster id `clusterId` at `address` is not the one this home
 * recorded, or undefined when it is.
 */
export function foreignServerReason(record: ServerRecord | undefined, address: string, clusterId: string): string | undefined {
  if (record === undefined) return `this home has not started a server there (no ${path.basename(serverRecordFile('x'))} next to its database)`;
  if (record.address !== address) return `this home's server was started at ${record.address}`;
  if (record.clusterId !== clusterId) return `it reports cluster id ${clusterId}, while this home's server (data: ${record.dbFile}) has cluster id ${record.clusterId}`;
  return undefined;
}

/** What {@link checkFrontend} checks against. */
export interface FrontendExpectation {
  readonly address: string;
  readonly namespace: string;
  /** The home's Temporal database: its record lies next to it. */
  readonly dbFile: string;
  /** The Unroll home, for messages. */
  readonly home: string;
  /** Whether the server must be the dev server this home started (see the top of this file). */
  readonly ownServer: boolean;
}

/**
 * Checks that what answers at the address is a Temporal frontend with the namespace and,
 * with `ownServer`, that it is the dev server this home recorded. A server an earlier
 * Unroll started (its pid file names a live process, but no record exists yet) is
 * adopted: its cluster id is recorded.
 *
 * @throws NotATemporalFrontendError, NamespaceNotFoundError, ForeignServerError as named.
 */
export async function checkFrontend(expect: FrontendExpectation): Promise<FrontendInfo> {
  const info = await probeFrontend(expect.address, expect.namespace);
  if (!expect.ownServer) return info;
  const record = await readServerRecord(expect.dbFile);
  if (record === undefined) {
    const pid = await legacyServerPid(expect.dbFile);
    if (pid !== undefined) {
      await writeServerRecord({ address: expect.address, clusterId: info.clusterId, dbFile: path.resolve(expect.dbFile), pid });
      return info;
    }
  }
  const reason = foreignServerReason(record, expect.address, info.clusterId);
  if (reason !== undefined) throw new ForeignServerError(expect.address, expect.home, reason);
  return info;
}

/** The live pid in the `server.pid` an Unroll without server records wrote next to the database (see devServerPidFile). */
async function legacyServerPid(dbFile: string): Promise<number | undefined> {
  try {
    const pid = Number.parseInt((await readFile(path.join(path.dirname(path.resolve(dbFile)), 'server.pid'), 'utf8')).trim(), 10);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    process.kill(pid, 0);
    return pid;
  } catch {
    return undefined;
  }
}

function grpcCode(err: unknown): unknown {
  return typeof err === 'object' && err !== null && 'code' in err ? (err).code : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
