/**
 * A private, throwaway PostgreSQL cluster for tests and benchmarks: `initdb` into a temp
 * directory, `pg_ctl start` on a free loopback port, one superuser with a password, and
 * `pg_ctl stop -m fast` + removal at the end. Nothing here depends on Jest, so bench/
 * scripts can use it too.
 *
 * PostgreSQL refuses to run as root, and tests (and CI) run as root: then the cluster
 * directory is chowned to the `postgres` system user (Debian's package creates it) and
 * every server binary runs through `runuser -u postgres --`. As any other user, the
 * binaries run as that user.
 *
 * The server binaries come from `/usr/lib/postgresql/<version>/bin` (Debian's layout,
 * newest version first), or from `$UNROLL_PG_BIN` / the PATH when `pg_ctl` is there.
 * The cluster runs with `fsync=off`: data survives a server or process crash (the
 * restart tests rely on that), only an operating-system crash could lose it, which no
 * test causes.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import { appendFile, chmod, chown, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { Client } from 'pg';

const run = promisify(execFile);

/** The superuser every test cluster has. */
export const TEST_PG_USER = 'unroll';

/** A running (or stopped, after {@link stopPostgresServer}) private cluster. */
export interface PostgresCluster {
  /** The directory holding the data directory, the socket and the log. */
  readonly dir: string;
  /** The directory of initdb, pg_ctl and postgres. */
  readonly binDir: string;
  readonly port: number;
  readonly user: string;
  readonly password: string;
  /** The database created at start-up. */
  readonly database: string;
  /** `postgres://unroll:<password>@127.0.0.1:<port>/<database>`. */
  readonly url: string;
}

/** The server binaries cannot be found: PostgreSQL is not installed. */
export class PostgresNotInstalledError extends Error {
  override readonly name = 'PostgresNotInstalledError';
  constructor(searched: readonly string[]) {
    super(`PostgreSQL server binaries (initdb, pg_ctl, postgres) not found in ${searched.join(', ')}; install Debian's "postgresql" package (.ci/run does) or set UNROLL_PG_BIN`);
  }
}

/** A server command failed; the message carries its output and the server log's tail. */
export class PostgresCommandError extends Error {
  override readonly name = 'PostgresCommandError';
  constructor(command: string, detail: string) {
    super(`${command} failed: ${detail}`);
  }
}

/**
 * The directory holding initdb, pg_ctl and postgres. `explicit` (e.g. `$UNROLL_PG_BIN`)
 * wins; then Debian's `/usr/lib/postgresql/<newest>/bin`. Throws
 * {@link PostgresNotInstalledError}.
 */
export function findPostgresBinaries(explicit?: string): string {
  const candidates: string[] = [];
  if (explicit) candidates.push(explicit);
  const debian = '/usr/lib/postgresql';
  if (existsSync(debian)) {
    const versions = readdirSync(debian).filter((v) => /^\d+(\.\d+)?$/.test(v)).sort((a, b) => Number(b) - Number(a));
    candidates.push(...versions.map((v) => path.join(debian, v, 'bin')));
  }
  for (const dir of (process.env.PATH ?? '').split(path.delimiter).filter(Boolean)) candidates.push(dir);
  const found = candidates.find((dir) => ['initdb', 'pg_ctl', 'postgres'].every((bin) => existsSync(path.join(dir, bin))));
  if (!found) throw new PostgresNotInstalledError(candidates.length > 0 ? candidates.slice(0, 4) : [debian]);
  return found;
}

/** Options of {@link startPostgres}. */
export interface StartPostgresOptions {
  /** The server binaries' directory (default: {@link findPostgresBinaries}). */
  binDir?: string;
  /** The database to create (default `unroll`). */
  database?: string;
  /** Where the cluster directory goes (default the OS temp dir). */
  parentDir?: string;
}

/**
 * Creates and starts a private cluster and its database. Call {@link stopPostgres} at the
 * end (it also removes the directory).
 */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresCluster> {
  const binDir = options.binDir ?? findPostgresBinaries(process.env.UNROLL_PG_BIN);
  const dir = await mkdtemp(path.join(options.parentDir ?? os.tmpdir(), 'unroll-pg-'));
  const password = randomBytes(12).toString('hex');
  const database = options.database ?? 'unroll';
  try {
    await chmod(dir, 0o700);
    await writeFile(path.join(dir, 'pwfile'), `${password}\n`, { mode: 0o600 });
    await mkdir(path.join(dir, 'data'), { mode: 0o700 });
    await handToServerUser(dir);
    await serverCommand(binDir, 'initdb', ['-D', path.join(dir, 'data'), '-U', TEST_PG_USER, `--pwfile=${path.join(dir, 'pwfile')}`, '--auth=scram-sha-256', '-E', 'UTF8', '--locale=C.UTF-8', '--no-instructions']);
    await rm(path.join(dir, 'pwfile'), { force: true });
    let port = 0;
    for (let attempt = 1; ; attempt++) {
      port = await freePort();
      await writeConf(dir, port);
      try {
        await startPostgresServer({ dir, binDir });
        break;
      } catch (err) {
        // Another process may have taken the port between our probe and the server's bind.
        if (attempt >= 3) throw err;
      }
    }
    const cluster: PostgresCluster = { dir, binDir, port, user: TEST_PG_USER, password, database, url: clusterUrl(port, password, database) };
    await createDatabase(cluster, database);
    return cluster;
  } catch (err) {
    await stopPostgresServer({ dir, binDir }).catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

/** Stops the server (fast shutdown: open sessions are ended) and removes its directory. */
export async function stopPostgres(cluster: Pick<PostgresCluster, 'dir' | 'binDir'>): Promise<void> {
  try {
    await stopPostgresServer(cluster);
  } finally {
    await rm(cluster.dir, { recursive: true, force: true });
  }
}

/**
 * Stops the server but keeps its data, port and directory, as an administrator's
 * restart or a database failover would: clients' connections are cut and new ones are
 * refused until {@link startPostgresServer}. A no-op when it is not running.
 */
export async function stopPostgresServer(cluster: Pick<PostgresCluster, 'dir' | 'binDir'>): Promise<void> {
  if (!existsSync(path.join(cluster.dir, 'data', 'postmaster.pid'))) return;
  await serverCommand(cluster.binDir, 'pg_ctl', ['stop', '-D', path.join(cluster.dir, 'data'), '-m', 'fast', '-w'], cluster.dir);
}

/** Starts a stopped cluster again on the same port and directory; waits until it accepts connections. */
export async function startPostgresServer(cluster: Pick<PostgresCluster, 'dir' | 'binDir'>): Promise<void> {
  await serverCommand(cluster.binDir, 'pg_ctl', ['start', '-D', path.join(cluster.dir, 'data'), '-l', path.join(cluster.dir, 'server.log'), '-w', '-t', '60'], cluster.dir);
}

/** Stops then starts the server: every open connection is cut. */
export async function restartPostgres(cluster: Pick<PostgresCluster, 'dir' | 'binDir'>): Promise<void> {
  await stopPostgresServer(cluster);
  await startPostgresServer(cluster);
}

/** Creates a database (owned by the test superuser) and returns its URL. */
export async function createDatabase(cluster: Pick<PostgresCluster, 'port' | 'password'>, name: string): Promise<string> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new TypeError(`not a simple database name: ${JSON.stringify(name)}`);
  const admin = new Client({ connectionString: clusterUrl(cluster.port, cluster.password, 'postgres') });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  return clusterUrl(cluster.port, cluster.password, name);
}

/**
 * A new, empty database on the cluster that `url` points at (same user and password),
 * named `<prefix>_<random>`: tests that need their own schema use one each.
 */
export async function freshDatabase(url: string, prefix = 'unroll_test'): Promise<string> {
  const parsed = new URL(url);
  return createDatabase({ port: Number(parsed.port), password: decodeURIComponent(parsed.password) }, `${prefix}_${randomBytes(6).toString('hex')}`);
}

function clusterUrl(port: number, password: string, database: string): string {
  return `postgres://${TEST_PG_USER}:${encodeURIComponent(password)}@127.0.0.1:${port}/${database}`;
}

async function writeConf(dir: string, port: number): Promise<void> {
  const conf = path.join(dir, 'data', 'postgresql.conf');
  const base = (await readFile(conf, 'utf8')).split('\n# unroll test cluster\n')[0];
  await writeFile(conf, base);
  await appendFile(
    conf,
    [
      '\n# unroll test cluster',
      `port = ${port}`,
      "listen_addresses = '127.0.0.1'",
      `unix_socket_directories = '${dir}'`,
      'fsync = off',
      'full_page_writes = off',
      "shared_buffers = '32MB'",
      'max_connections = 200',
      '',
    ].join('\n'),
  );
  await handToServerUser(conf);
}

const asRoot = process.getuid?.() === 0;

/** As root, the server user must own the cluster directory (postgres refuses root). */
async function handToServerUser(target: string): Promise<void> {
  if (!asRoot) return;
  const { stdout } = await run('id', ['-u', 'postgres']).catch(() => {
    throw new PostgresCommandError('id -u postgres', 'running as root needs a "postgres" system user to run the server as (Debian\'s postgresql package creates it)');
  });
  const { stdout: gid } = await run('id', ['-g', 'postgres']);
  const uid = Number(stdout.trim());
  const group = Number(gid.trim());
  await chown(target, uid, group);
  if (target.endsWith('postgresql.conf')) return;
  await run('chown', ['-R', `${uid}:${group}`, target]);
}

async function serverCommand(binDir: string, bin: string, args: string[], clusterDir?: string): Promise<void> {
  const file = path.join(binDir, bin);
  const [command, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', file, ...args]] : [file, args];
  try {
    await run(command, argv, { cwd: os.tmpdir(), env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8' } });
  } catch (err) {
    const e = err as { stderr?: string; stdout?: string; message: string };
    const log = clusterDir ? await readFile(path.join(clusterDir, 'server.log'), 'utf8').catch(() => '') : '';
    throw new PostgresCommandError(`${bin} ${args[0]}`, [e.stderr?.trim() || e.message, log && `server log:\n${log.split('\n').slice(-15).join('\n')}`].filter(Boolean).join('\n'));
  }
}

/** A TCP port nobody listens on right now, on the loopback interface. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}
