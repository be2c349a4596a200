/**
 * The PostgreSQL store's schema and its versioned migrations. A database is brought up
 * to date on first use: each migration runs once, in order, recorded by version in
 * `unroll_schema_migrations`. Applying is idempotent and safe when several workers start
 * at once: the whole upgrade runs in one transaction holding a transaction-scoped
 * advisory lock, so a second worker waits, then finds nothing left to do. A database
 * migrated by a newer Unroll (a version this code does not know) is refused rather than
 * written to with an older idea of the schema.
 */
import { randomUUID } from 'node:crypto';
import type { ClientBase } from 'pg';

/** One schema step. `apply` runs inside the upgrade transaction. */
export interface Migration {
  readonly version: number;
  readonly description: string;
  apply(run: (sql: string, params?: unknown[]) => Promise<unknown>): Promise<void>;
}

/** Every migration, oldest first; append only, never edit a released one. */
export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'objects (with node parent links), markers and the store id',
    async apply(run) {
      // `parent` is the parent link of a transcript node (null for roots and for objects
      // that are not nodes): it lets one recursive query read a whole chain. It is kept
      // in plaintext even when objects are encrypted: it reveals which node follows
      // which, never what they hold (object names are visible anyway).
      await run(`CREATE TABLE unroll_objects (
        hash text PRIMARY KEY CHECK (hash ~ '^[0-9a-f]{64}$'),
        data bytea NOT NULL,
        parent text
      )`);
      await run(`CREATE TABLE unroll_markers (
        key text PRIMARY KEY,
        value text NOT NULL
      )`);
      await run(`CREATE TABLE unroll_store_identity (
        singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
        id text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      )`);
      await run('INSERT INTO unroll_store_identity (id) VALUES ($1)', [randomUUID()]);
    },
  },
];

/** The schema version this code writes. */
export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

// Any fixed number works: it only has to be the same in every Unroll process ("unroll" in ASCII).
const MIGRATION_LOCK = '128979097137260';

/** The database was migrated by a newer Unroll than this one. */
export class StoreSchemaTooNewError extends Error {
  override readonly name = 'StoreSchemaTooNewError';
  constructor(
    readonly found: number,
    readonly supported: number,
  ) {
    super(`the store's schema is at version ${found} but this Unroll knows versions up to ${supported}: upgrade Unroll before pointing it at this store`);
  }
}

/** A query runner that counts: every call is one round trip. */
export type RunQuery = (sql: string, params?: unknown[]) => Promise<{ rows: Record<string, unknown>[] }>;

/**
 * The store id when the schema is current (one round trip), or undefined when it is
 * missing or behind. Throws {@link StoreSchemaTooNewError}.
 */
export async function readCurrentSchema(run: RunQuery): Promise<string | undefined> {
  let rows: Record<string, unknown>[];
  try {
    ({ rows } = await run('SELECT (SELECT max(version) FROM unroll_schema_migrations) AS version, (SELECT id FROM unroll_store_identity) AS id'));
  } catch (err) {
    if ((err as { code?: string }).code === '42P01') return undefined; // undefined_table: a fresh database
    throw err;
  }
  const version = Number(rows[0]?.version ?? 0);
  if (version > SCHEMA_VERSION) throw new StoreSchemaTooNewError(version, SCHEMA_VERSION);
  return version === SCHEMA_VERSION && typeof rows[0]?.id === 'string' ? rows[0].id : undefined;
}

/**
 * Applies the missing migrations on `client` (a dedicated connection) under the
 * advisory lock, in one transaction, and returns the versions it applied (empty when
 * another process had already done it).
 */
export async function migrate(client: ClientBase, count: () => void): Promise<number[]> {
  const run = async (sql: string, params?: unknown[]) => {
    count();
    return client.query(sql, params);
  };
  await run('BEGIN');
  try {
    await run(`SELECT pg_advisory_xact_lock(${MIGRATION_LOCK})`);
    await run(`CREATE TABLE IF NOT EXISTS unroll_schema_migrations (
      version integer PRIMARY KEY,
      description text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await run('SELECT version FROM unroll_schema_migrations');
    const done = new Set(rows.map((r: { version: number }) => Number(r.version)));
    const newest = Math.max(0, ...done);
    if (newest > SCHEMA_VERSION) throw new StoreSchemaTooNewError(newest, SCHEMA_VERSION);
    const applied: number[] = [];
    for (const migration of MIGRATIONS) {
      if (done.has(migration.version)) continue;
      await migration.apply(run);
      await run('INSERT INTO unroll_schema_migrations (version, description) VALUES ($1, $2)', [migration.version, migration.description]);
      applied.push(migration.version);
    }
    await run('COMMIT');
    return applied;
  } catch (err) {
    await run('ROLLBACK').catch(() => undefined);
    throw err;
  }
}
