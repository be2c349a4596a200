/**
 * A {@link StoreBackend} on PostgreSQL, shared by every worker and CLI of a fleet.
 * Objects are rows `(hash, data bytea, parent)` written with `INSERT … ON CONFLICT DO
 * NOTHING` (immutable: the first write wins and every later one is the same bytes);
 * markers are upserted rows. Each statement is committed before its promise resolves
 * (PostgreSQL's durability is the store's). The schema is created or upgraded on first
 * use (./pg-schema.ts).
 *
 * Reads are batched: {@link PgStoreBackend.getChain} walks a transcript chain with one
 * recursive query over the `parent` links, {@link PgStoreBackend.getMany} fetches any
 * number of objects in one query, so loading a transcript costs two round trips however
 * long it is. {@link PgStoreBackend.roundTrips} counts every statement sent.
 *
 * A database that cannot be reached, or goes away mid-operation, surfaces as
 * {@link StoreUnavailableError} (transient: retry); the pool drops broken connections and
 * reconnects on the next call.
 */
import { Pool, type PoolClient } from 'pg';
import { OBJECT_HASH } from './canonical-json';
import type { ChainRow, ObjectLinks, RoundTripCounter, StoreBackend } from './backend';
import { nodeLinks } from './node-links';
import { describeDatabaseError, isTransientDatabaseError } from './pg-failures';
import { migrate, readCurrentSchema } from './pg-schema';
import { StoreUnavailableError } from './errors';

/** How to reach the database. */
export interface PgStoreOptions {
  /** A `postgres://` URL, passed to the driver as is. */
  readonly url: string;
  /** The URL with its password redacted, for messages. */
  readonly description: string;
  /** Connections in the pool (default 10). */
  readonly poolSize?: number;
  /** How long to wait for a connection before calling the store unavailable (default 10 s). */
  readonly connectTimeoutMs?: number;
  /** Nodes one chain query returns at most (default {@link CHAIN_BATCH}); tests lower it. */
  readonly chainBatch?: number;
}

/** How many nodes one chain query returns at most; a longer chain takes more queries. */
export const CHAIN_BATCH = 10_000;

// The same rule as the file store's, so a key valid on one backend is valid on the other.
const MARKER_KEY = /^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/;

/** The PostgreSQL store backend; see the module comment. Call {@link close} when done. */
export class PgStoreBackend implements StoreBackend, RoundTripCounter {
  private readonly pool: Pool;
  private schema: Promise<string> | undefined;
  private sent = 0;
  private closed = false;

  constructor(readonly options: PgStoreOptions) {
    this.pool = new Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: options.connectTimeoutMs ?? 10_000,
      keepAlive: true,
      application_name: 'unroll',
    });
    // An idle connection the server closed (a restart, a failover) is dropped by the pool
    // and replaced on the next query; without a listener the event would crash the process.
    this.pool.on('error', () => undefined);
  }

  /** Statements sent to the database so far (schema set-up included). */
  get roundTrips(): number {
    return this.sent;
  }

  async get(hash: string): Promise<Buffer | undefined> {
    checkHash(hash);
    const { rows } = await this.query<{ data: Buffer }>('SELECT data FROM unroll_objects WHERE hash = $1', [hash]);
    return rows[0]?.data;
  }

  async has(hash: string): Promise<boolean> {
    checkHash(hash);
    const { rows } = await this.query('SELECT 1 FROM unroll_objects WHERE hash = $1', [hash]);
    return rows.length > 0;
  }

  async put(hash: string, data: Buffer, links?: ObjectLinks): Promise<void> {
    checkHash(hash);
    const parent = (links ?? nodeLinks(data))?.parent ?? null;
    await this.query('INSERT INTO unroll_objects (hash, data, parent) VALUES ($1, $2, $3) ON CONFLICT (hash) DO NOTHING', [hash, data, parent]);
  }

  async getMany(hashes: readonly string[]): Promise<Map<string, Buffer>> {
    hashes.forEach(checkHash);
    const found = new Map<string, Buffer>();
    if (hashes.length === 0) return found;
    const { rows } = await this.query<{ hash: string; data: Buffer }>('SELECT hash, data FROM unroll_objects WHERE hash = ANY($1::text[])', [[...new Set(hashes)]]);
    for (const row of rows) found.set(row.hash, row.data);
    return found;
  }

  async getChain(head: string, known: readonly string[]): Promise<ChainRow[]> {
    checkHash(head);
    known.forEach(checkHash);
    // The depth bound also ends the walk on a damaged table whose links form a cycle.
    const { rows } = await this.query<{ hash: string; data: Buffer }>(
      `WITH RECURSIVE chain (hash, parent, data, depth) AS (
         SELECT hash, parent, data, 1 FROM unroll_objects WHERE hash = $1
         UNION ALL
         SELECT o.hash, o.parent, o.data, c.depth + 1
           FROM chain c JOIN unroll_objects o ON o.hash = c.parent
          WHERE c.depth < $3 AND NOT (c.parent = ANY($2::text[]))
       )
       SELECT hash, data FROM chain ORDER BY depth`,
      [head, [...known], this.options.chainBatch ?? CHAIN_BATCH],
    );
    return rows;
  }

  async putMarker(key: string, value: string): Promise<void> {
    checkMarkerKey(key);
    await this.query('INSERT INTO unroll_markers (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value', [key, value]);
  }

  async getMarker(key: string): Promise<string | undefined> {
    checkMarkerKey(key);
    const { rows } = await this.query<{ value: string }>('SELECT value FROM unroll_markers WHERE key = $1', [key]);
    return rows[0]?.value;
  }

  /**
   * The store's id, created with the schema: two processes see the same id exactly when
   * they use the same store. Creates or upgrades the schema on first call.
   */
  storeId(): Promise<string> {
    return this.ready();
  }

  /** Closes the pool; later calls fail. Safe to call twice. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }

  /** The schema is current: the store id, once per backend (retried after a failure). */
  private ready(): Promise<string> {
    this.schema ??= this.prepareSchema().catch((err: unknown) => {
      this.schema = undefined;
      throw err;
    });
    return this.schema;
  }

  private async prepareSchema(): Promise<string> {
    const run = (sql: string, params?: unknown[]) => this.send(sql, params);
    const current = await readCurrentSchema(run);
    if (current) return current;
    const client = await this.connect();
    let broken: Error | undefined;
    // A checked-out connection that dies between statements emits 'error'; the statement
    // in flight fails with it anyway.
    const ignore = () => undefined;
    client.on('error', ignore);
    try {
      await migrate(client, () => this.sent++);
    } catch (err) {
      broken = err as Error;
      throw this.translate(err);
    } finally {
      client.off('error', ignore);
      client.release(broken && isTransientDatabaseError(broken) ? broken : undefined);
    }
    const id = await readCurrentSchema(run);
    if (!id) throw new Error(`the schema of ${this.options.description} was migrated but its store id is missing`);
    return id;
  }

  private async query<R extends Record<string, unknown>>(sql: string, params: unknown[]): Promise<{ rows: R[] }> {
    await this.ready();
    return (await this.send(sql, params)) as { rows: R[] };
  }

  private async send(sql: string, params?: unknown[]): Promise<{ rows: Record<string, unknown>[] }> {
    if (this.closed) throw new StoreClosedError(this.options.description);
    this.sent++;
    try {
      return await this.pool.query(sql, params);
    } catch (err) {
      throw this.translate(err);
    }
  }

  private async connect(): Promise<PoolClient> {
    try {
      return await this.pool.connect();
    } catch (err) {
      throw this.translate(err);
    }
  }

  private translate(err: unknown): unknown {
    if (err instanceof StoreUnavailableError || !isTransientDatabaseError(err)) return err;
    return new StoreUnavailableError(this.options.description, describeDatabaseError(err), { cause: err });
  }
}

/** The store was used after `close()`. */
export class StoreClosedError extends Error {
  override readonly name = 'StoreClosedError';
  constructor(readonly description: string) {
    super(`transcript store ${description} was used after it was closed`);
  }
}

function checkHash(hash: string): void {
  if (!OBJECT_HASH.test(hash)) throw new TypeError(`not an object hash: ${JSON.stringify(hash)}`);
}

function checkMarkerKey(key: string): void {
  if (!MARKER_KEY.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
    throw new TypeError(`not a marker key: ${JSON.stringify(key)}`);
  }
}
