/**
 * The Temporal server and its SQL schema tool, built from the Go module proxy
 * (`go install go.temporal.io/server/cmd/server@v1.29.1` and `.../cmd/tools/sql`,
 * about 6 minutes on 2 cores) and cached outside the repository, so only the first run
 * of `npm run bench:cluster` pays for the build.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rename, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** The Temporal server release the cluster benchmark builds. */
export const TEMPORAL_SERVER_VERSION = 'v1.29.1';

const MODULE = 'go.temporal.io/server';
const PACKAGES = ['cmd/server', 'cmd/tools/sql'];
const BUILD_TIMEOUT_MS = 40 * 60_000;

/** Where the built binaries live, and the module's source (its config/ and schema/ directories). */
export interface ServerBinaries {
  readonly server: string;
  readonly sqlTool: string;
  readonly moduleDir: string;
}

/** The build failed or Go is missing. */
export class ServerBuildError extends Error {
  override readonly name = 'ServerBuildError';
  constructor(step: string, detail: string) {
    super(`cannot build Temporal server ${TEMPORAL_SERVER_VERSION} (${step}): ${detail}`);
  }
}

/** The cache directory: `$UNROLL_BENCH_CACHE`, else `~/.cache/unroll-bench`. */
export function benchCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.UNROLL_BENCH_CACHE ?? path.join(os.homedir(), '.cache', 'unroll-bench');
}

/**
 * Returns the cached binaries, building them first when they are missing. The build goes
 * to a temporary GOBIN next to the cache and is renamed into place, so an interrupted
 * build never leaves a half-written binary behind.
 */
export async function ensureServerBinaries(cacheDir: string, log: (msg: string) => void): Promise<ServerBinaries> {
  const binDir = path.join(cacheDir, `temporal-server-${TEMPORAL_SERVER_VERSION}`, 'bin');
  const server = path.join(binDir, 'server');
  const sqlTool = path.join(binDir, 'sql');
  if (!existsSync(server) || !existsSync(sqlTool)) {
    await mkdir(cacheDir, { recursive: true });
    const tmp = await mkdtemp(path.join(cacheDir, '.build-'));
    try {
      const targets = PACKAGES.map((p) => `${MODULE}/${p}@${TEMPORAL_SERVER_VERSION}`);
      log(`building ${targets.join(' and ')} into ${binDir} (about 6 minutes, once)`);
      await go(['install', ...targets], { ...process.env, GOBIN: tmp }, 'go install');
      await mkdir(binDir, { recursive: true });
      await rename(path.join(tmp, 'server'), server);
      await rename(path.join(tmp, 'sql'), sqlTool);
    } finally {
      await rm(tmp, { recursive: true, force: true });
    }
  }
  const downloaded = await go(['mod', 'download', '-json', `${MODULE}@${TEMPORAL_SERVER_VERSION}`], process.env, 'go mod download');
  const moduleDir = (JSON.parse(downloaded) as { Dir?: string }).Dir;
  if (!moduleDir) throw new ServerBuildError('go mod download', 'no module directory in its output');
  return { server, sqlTool, moduleDir };
}

async function go(args: string[], env: NodeJS.ProcessEnv, step: string): Promise<string> {
  try {
    // `go install pkg@version` and `go mod download` must not see a go.mod around them.
    const { stdout } = await run('go', args, { env, cwd: os.tmpdir(), timeout: BUILD_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (err) {
    const e = err as NodeJS.ErrnoException & { stderr?: string };
    throw new ServerBuildError(step, e.code === 'ENOENT' ? 'go is not installed (https://go.dev/dl/)' : (e.stderr ?? e.message).trim().split('\n').slice(-5).join(' | '));
  }
}
