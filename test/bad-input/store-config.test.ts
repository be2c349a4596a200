/**
 * Store configuration users get wrong: specs that do not parse, stores that cannot be
 * reached or used at start-up, a database migrated by a newer Unroll, a damaged store
 * id. Each is a StoreConfigError whose message starts with where the spec came from
 * (`UNROLL_STORE=…`), shows the spec with its password redacted, and says what is wrong;
 * none leaks the password.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { Client } from 'pg';
import { checkStore, describeStoreSpec, openStore, parseStoreSpec, StoreConfigError, type OpenedStore } from '../../src/store';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';
import { unusedLoopbackPort } from '../support/ports';

const home = '/home/someone/.unroll';
const password = 'S3cr3t-pw';
const opened: OpenedStore[] = [];

afterEach(async () => {
  await Promise.all(opened.splice(0).map((s) => s.close()));
});

function open(spec: string, source?: string): OpenedStore {
  const store = openStore(spec, { home, source });
  opened.push(store);
  return store;
}

/** The StoreConfigError `op` throws (failing the test when it throws anything else or nothing). */
async function configError(op: () => unknown): Promise<StoreConfigError> {
  try {
    await op();
  } catch (err) {
    if (err instanceof StoreConfigError) return err;
    throw err;
  }
  throw new Error('expected a StoreConfigError');
}

describe('store specs that do not parse', () => {
  test.each<[string, string, string]>([
    ['an empty spec', '', 'the store spec is empty; use file:<absolute dir> or postgres://user:password@host:port/database (or leave it unset for the default file store)'],
    ['a blank spec', '   ', 'the store spec is empty; use file:<absolute dir> or postgres://user:password@host:port/database (or leave it unset for the default file store)'],
    ['an unknown kind', `mysql://unroll:${password}@db/unroll`, 'unknown store kind "mysql"; use file:<absolute dir> or postgres://user:password@host:port/database'],
    ['an S3 bucket', 's3://bucket/unroll', 'unknown store kind "s3"; use file:<absolute dir> or postgres://user:password@host:port/database'],
    ['a bare directory', '/var/lib/unroll/store', 'a store spec names its kind: write file:/var/lib/unroll/store'],
    ['a bare word', 'postgres', 'not a store spec; use file:<absolute dir> or postgres://user:password@host:port/database'],
    ['a relative file directory', 'file:store', 'the directory must be absolute (workers and the CLI run in different directories): "store"'],
    ['a file store on another host', 'file://nas/unroll', 'a file store is local: file://host/… is not supported; use file:/absolute/dir'],
    ['a URL without a host', `postgres://unroll:${password}@/unroll`, 'the URL names no host: postgres://user:password@host:port/database'],
    ['a URL without a database', `postgres://unroll:${password}@db.internal:5432`, 'the URL names no database: postgres://user:password@host:port/database'],
    ['a URL with a trailing slash only', `postgresql://unroll:${password}@db.internal/`, 'the URL names no database: postgres://user:password@host:port/database'],
    ['a database path with two segments', `postgres://unroll:${password}@db.internal/unroll/extra`, '"unroll/extra" is not a database name (one path segment after the host)'],
    ['a port out of range', `postgres://unroll:${password}@db.internal:99999/unroll`, 'not a valid URL (is the port a number from 1 to 65535, and are special characters in the password percent-encoded?)'],
    ['a port that is not a number', `postgres://unroll:${password}@db.internal:port/unroll`, 'not a valid URL (is the port a number from 1 to 65535, and are special characters in the password percent-encoded?)'],
    ['a bad %-escape in the password', `postgres://unroll:${password}%zz@db.internal/unroll`, 'the password has an invalid %-escape (write a literal % as %25)'],
    ['a fragment', `postgres://unroll:${password}@db.internal/unroll#main`, 'the URL has a #fragment, which PostgreSQL URLs do not use'],
  ])('%s is refused with a message naming UNROLL_STORE and the problem', async (_name, spec, reason) => {
    const err = await configError(() => parseStoreSpec(spec, { home }));
    expect(err.message).toBe(`UNROLL_STORE=${describeStoreSpec(spec)}: ${reason}`);
    expect(err.message).not.toContain(password);
    expect(await configError(() => open(spec))).toEqual(err);
  });

  it('names a config file field as the source when the spec came from there', async () => {
    const err = await configError(() => openStore('file:relative', { home, source: 'store in /home/someone/.unroll/config.json' }));
    expect(err.message).toBe('store in /home/someone/.unroll/config.json (file:relative): the directory must be absolute (workers and the CLI run in different directories): "relative"');
  });

  test.each<[string, string]>([
    [`postgres://unroll:${password}@db:5432/unroll`, 'postgres://unroll:***@db:5432/unroll'],
    [`postgresql://unroll:${password}@db/unroll?sslmode=require`, 'postgresql://unroll:***@db/unroll?sslmode=require'],
    [`postgres://unroll:p@ss/w:rd@db/unroll`, 'postgres://unroll:***@db/unroll'],
    [`postgres://unroll@db/unroll?password=${password}&sslmode=require`, 'postgres://unroll@db/unroll?password=***&sslmode=require'],
    [`mysql://root:${password}@db/x`, 'mysql://root:***@db/x'],
    ['postgres://db/unroll', 'postgres://db/unroll'],
    ['file:/var/lib/unroll/store', 'file:/var/lib/unroll/store'],
  ])('describeStoreSpec(%j) hides the password: %s', (spec, shown) => {
    expect(describeStoreSpec(spec)).toBe(shown);
  });

  it('takes file: alone as the default store and expands ~ to the user home', () => {
    expect(parseStoreSpec(undefined, { home })).toEqual({ kind: 'file', dir: '/home/someone/.unroll/store', description: 'file:/home/someone/.unroll/store' });
    expect(parseStoreSpec('file:', { home })).toEqual(parseStoreSpec(undefined, { home }));
    expect(parseStoreSpec('file:~/stores/a', { home, userHome: '/home/someone' })).toMatchObject({ dir: '/home/someone/stores/a' });
    expect(parseStoreSpec('file:///srv/unroll/../store', { home })).toMatchObject({ dir: '/srv/store' });
  });
});

describe('stores that cannot be used at start-up', () => {
  it('a closed loopback port: connection refused, naming UNROLL_STORE with the password redacted', async () => {
    const port = await unusedLoopbackPort();
    const err = await configError(() => checkStore(open(`postgres://unroll:${password}@127.0.0.1:${port}/unroll`)));
    expect(err.message).toBe(`UNROLL_STORE=postgres://unroll:***@127.0.0.1:${port}/unroll: connection refused (is PostgreSQL running and listening on that host and port?)`);
  });

  it('a host that does not resolve', async () => {
    const err = await configError(() => checkStore(open(`postgres://unroll:${password}@no-such-host.invalid:5432/unroll`)));
    expect(err.message).toMatch(/^UNROLL_STORE=postgres:\/\/unroll:\*\*\*@no-such-host\.invalid:5432\/unroll: host "no-such-host\.invalid" (not found|could not be resolved)/);
  });

  it('a wrong password, and a database that does not exist, as the server words them', async () => {
    const url = new URL(testPostgresUrl());
    const wrong = `postgres://unroll:${password}@127.0.0.1:${url.port}/unroll`;
    expect((await configError(() => checkStore(open(wrong)))).message).toBe(`UNROLL_STORE=postgres://unroll:***@127.0.0.1:${url.port}/unroll: password authentication failed for user "unroll"`);
    url.pathname = '/no_such_db';
    const err = await configError(() => checkStore(open(url.toString())));
    expect(err.message).toBe(`UNROLL_STORE=postgres://unroll:***@127.0.0.1:${url.port}/no_such_db: database "no_such_db" does not exist`);
    expect(err.message).not.toContain(decodeURIComponent(url.password));
  });

  it('a database whose schema a newer Unroll migrated is refused, not written to', async () => {
    const url = await freshDatabase(testPostgresUrl());
    await checkStore(open(url));
    const client = new Client({ connectionString: url });
    await client.connect();
    await client.query("INSERT INTO unroll_schema_migrations (version, description) VALUES (99, 'from the future')");
    await client.end();
    const err = await configError(() => checkStore(open(url)));
    expect(err.message).toBe(`UNROLL_STORE=${describeStoreSpec(url)}: the store's schema is at version 99 but this Unroll knows versions up to 1: upgrade Unroll before pointing it at this store`);
  });

  describe('file stores', () => {
    let dir: string;
    beforeEach(async () => {
      dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-store-config-'));
    });
    afterEach(async () => {
      await rm(dir, { recursive: true, force: true });
    });

    it('a directory below a regular file', async () => {
      await writeFile(path.join(dir, 'plain-file'), 'x');
      const spec = `file:${path.join(dir, 'plain-file', 'store')}`;
      expect((await configError(() => checkStore(open(spec)))).message).toMatch(new RegExp(`^UNROLL_STORE=${spec}: ENOTDIR: not a directory`));
    });

    it('a directory the filesystem will not create (under /proc), without hanging', async () => {
      expect((await configError(() => checkStore(open('file:/proc/unroll/store')))).message).toBe("UNROLL_STORE=file:/proc/unroll/store: ENOENT: no such file or directory, mkdir '/proc/unroll'");
    });

    it('a store-id file that does not hold an id', async () => {
      await writeFile(path.join(dir, 'store-id'), 'not an id\n');
      expect((await configError(() => checkStore(open(`file:${dir}`)))).message).toBe(
        `UNROLL_STORE=file:${dir}: ${path.join(dir, 'store-id')} should hold this store's id (a UUID) but holds "not an id\\n"; restore it from a backup, or delete it if no thread recorded the old id`,
      );
    });
  });
});
