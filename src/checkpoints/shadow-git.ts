/**
 * The shadow git repository of one thread on one host: a git directory outside the
 * workspace whose work tree is the workspace. Git is the snapshot engine (hashing,
 * trees, .gitignore, bundles); this module only runs it in isolation:
 * - the user's repository is never touched: GIT_DIR points at the shadow directory, so
 *   the workspace's own `.git` (which git never adds) keeps its index, refs and hooks;
 * - no user or system git config is read (GIT_CONFIG_NOSYSTEM, GIT_CONFIG_GLOBAL=/dev/null,
 *   HOME inside the shadow directory), hooks are off, and `info/attributes` turns off
 *   every content conversion (eol, filters, encodings), so a restored file is byte for
 *   byte the file that was snapshotted.
 * The repository is a cache: everything it holds can be rebuilt from the store.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';
import { launch } from '../tools/launcher';
import { DEFAULT_EXCLUDES } from './types';

/** Git is not installed (or not on PATH) where the snapshot runs. */
export class GitUnavailableError extends Error {
  override readonly name = 'GitUnavailableError';
  constructor(readonly detail: string) {
    super(`git is not available on this host (${detail}): install git to checkpoint workspaces`);
  }
}

/** A git command of the snapshot engine failed. */
export class GitCommandError extends Error {
  override readonly name = 'GitCommandError';
  constructor(
    readonly args: readonly string[],
    readonly exitCode: number | undefined,
    readonly stderr: string,
  ) {
    super(`git ${args[0]} failed${exitCode === undefined ? '' : ` (exit ${exitCode})`}: ${stderr.trim().split('\n').slice(-3).join(' | ') || 'no message'}`);
  }
}

/** Options of one git command. */
export interface GitRun {
  /** Bytes for the command's stdin. */
  readonly input?: string | Buffer;
  /** The work tree (default: none; commands that need one get it here). */
  readonly workTree?: string;
  /** An index file other than the repository's own. */
  readonly indexFile?: string;
  /** Treat pathspecs literally (no globs), for paths that came from the file system. */
  readonly literalPathspecs?: boolean;
  /** Return stdout as bytes (bundles, -z output with arbitrary names). */
  readonly binary?: boolean;
  /** Receives stderr of a command that succeeded (git reports skipped directories there). */
  readonly onStderr?: (text: string) => void;
  /**
   * Let the command take git's optional locks. `git status` then saves what it learnt
   * (the files' stat data and the untracked cache) in the index, so the next status only
   * looks at what changed since. Off by default: readers never write.
   */
  readonly optionalLocks?: boolean;
}

/** Fixed identity and dates: a commit's id then depends only on its tree, parent and message. */
const IDENTITY = {
  GIT_AUTHOR_NAME: 'unroll',
  GIT_AUTHOR_EMAIL: 'checkpoints@unroll.invalid',
  GIT_COMMITTER_NAME: 'unroll',
  GIT_COMMITTER_EMAIL: 'checkpoints@unroll.invalid',
  GIT_AUTHOR_DATE: '1970-01-01T00:00:00Z',
  GIT_COMMITTER_DATE: '1970-01-01T00:00:00Z',
};

/** Config for every command: no hooks, no maintenance, no conversions, fast status. */
const CONFIG = [
  'core.hooksPath=/dev/null',
  'core.autocrlf=false',
  'core.safecrlf=false',
  'core.symlinks=true',
  'core.fsmonitor=false',
  'core.untrackedCache=true',
  'core.quotePath=false',
  'core.preloadIndex=true',
  'gc.auto=0',
  'maintenance.auto=false',
  'safe.directory=*',
  'advice.addEmbeddedRepo=false',
  'advice.detachedHead=false',
].flatMap((c) => ['-c', c]);

/** Attributes that make every file a plain byte string, whatever the workspace's .gitattributes say. */
const NO_CONVERSIONS = '* -text -filter -ident -working-tree-encoding\n';

/** The ref holding the commit the repository's index was last set to. */
export const STATE_REF = 'refs/heads/checkpoints';
/** The file recording which checkpoint id the index and {@link STATE_REF} stand for. */
const STATE_FILE = 'unroll-checkpoint';

/** One thread's shadow repository under a host's checkpoint root. */
export class ShadowRepo {
  private constructor(
    readonly gitDir: string,
    private readonly env: Readonly<Record<string, string>>,
    private readonly gitBinary: string,
  ) {}

  /**
   * Opens (creating it if needed) the shadow repository of `threadId` under `root`,
   * with the default excludes plus `exclude`, running `gitBinary` (default: `git` on
   * PATH). Throws {@link GitUnavailableError}.
   */
  static async open(root: string, threadId: string, exclude: readonly string[] = [], gitBinary = 'git'): Promise<ShadowRepo> {
    const gitDir = path.join(root, repoDirName(threadId));
    const env = {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: gitDir,
      LC_ALL: 'C',
      GIT_DIR: gitDir,
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_OPTIONAL_LOCKS: '0',
      ...IDENTITY,
    };
    const repo = new ShadowRepo(gitDir, env, gitBinary);
    if (!(await exists(path.join(gitDir, 'HEAD')))) {
      await fs.mkdir(gitDir, { recursive: true });
      await repo.git(['init', '--quiet', `--initial-branch=${STATE_REF.slice('refs/heads/'.length)}`, gitDir]);
      await repo.git(['config', 'core.bare', 'false']);
    }
    await fs.mkdir(path.join(gitDir, 'info'), { recursive: true });
    await writeIfChanged(path.join(gitDir, 'info', 'exclude'), [...DEFAULT_EXCLUDES, ...exclude].join('\n') + '\n');
    await writeIfChanged(path.join(gitDir, 'info', 'attributes'), NO_CONVERSIONS);
    return repo;
  }

  /** Runs git; resolves to stdout (text, or bytes with `binary`). */
  async git(args: readonly string[], run: GitRun & { binary: true }): Promise<Buffer>;
  async git(args: readonly string[], run?: GitRun): Promise<string>;
  async git(args: readonly string[], run: GitRun = {}): Promise<string | Buffer> {
    const env: Record<string, string> = { ...this.env };
    if (run.workTree) env.GIT_WORK_TREE = run.workTree;
    if (run.indexFile) env.GIT_INDEX_FILE = run.indexFile;
    if (run.literalPathspecs) env.GIT_LITERAL_PATHSPECS = '1';
    if (run.optionalLocks) delete env.GIT_OPTIONAL_LOCKS;
    const result = await runProcess(this.gitBinary, [...CONFIG, ...args], { env, cwd: run.workTree ?? this.gitDir, input: run.input });
    if (result.spawnError) {
      throw new GitUnavailableError(result.spawnError.code === 'ENOENT' ? `\`${this.gitBinary}\` was not found` : result.spawnError.message);
    }
    if (result.exitCode !== 0) throw new GitCommandError(args, result.exitCode ?? undefined, result.stderr.toString() || `killed by ${result.signal ?? 'a signal'}`);
    if (run.onStderr && result.stderr.length > 0) run.onStderr(result.stderr.toString());
    return run.binary ? result.stdout : result.stdout.toString('utf8');
  }

  /** True when the repository has `commit` (and so everything it reaches, bundles being complete). */
  async hasCommit(commit: string): Promise<boolean> {
    try {
      await this.git(['cat-file', '-e', `${commit}^{commit}`]);
      return true;
    } catch (err) {
      if (err instanceof GitCommandError) return false;
      throw err;
    }
  }

  /** Which of `commits` the repository has, in one git process. */
  async presentCommits(commits: readonly string[]): Promise<Set<string>> {
    if (commits.length === 0) return new Set();
    const out = await this.git(['cat-file', '--batch-check=%(objectname) %(objecttype)'], { input: commits.join('\n') + '\n' });
    const present = new Set<string>();
    for (const line of out.split('\n')) {
      const [name, type] = line.split(' ');
      if (type === 'commit') present.add(name);
    }
    return present;
  }

  /** The checkpoint id the index and state ref stand for (null: none), or undefined if unknown. */
  async state(): Promise<string | null | undefined> {
    try {
      const text = (await fs.readFile(path.join(this.gitDir, STATE_FILE), 'utf8')).trim();
      return text === '' ? null : text;
    } catch {
      return undefined;
    }
  }

  /** Records which checkpoint the index and state ref now stand for. */
  async setState(id: string | null): Promise<void> {
    const file = path.join(this.gitDir, STATE_FILE);
    await fs.writeFile(`${file}.tmp`, id ?? '');
    await fs.rename(`${file}.tmp`, file);
  }

  /** Removes the state record: the next snapshot rebuilds the index from its previous checkpoint. */
  async forgetState(): Promise<void> {
    await fs.rm(path.join(this.gitDir, STATE_FILE), { force: true });
  }

  /** A fresh path for a temporary file inside the repository (an index, a bundle). */
  tempPath(what: string): string {
    return path.join(this.gitDir, `tmp-${what}-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 8)}`);
  }
}

/** How a process ended: its output, or why it could not start. */
interface ProcessResult {
  readonly stdout: Buffer;
  readonly stderr: Buffer;
  readonly exitCode: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly spawnError?: NodeJS.ErrnoException;
}

/**
 * Runs a process to its end, feeding it `input`. Through the process launcher
 * (src/tools/launcher.ts) with no wrapper library: a step runs several git commands, and
 * both a fork of the whole worker and a heavier wrapper cost time on every one of them.
 */
function runProcess(file: string, args: readonly string[], options: { env: Record<string, string>; cwd: string; input?: string | Buffer }): Promise<ProcessResult> {
  return new Promise((resolve) => {
    // Through the launcher: a fork of the worker itself would block it for each git command.
    const child = launch(file, args, { env: options.env, cwd: options.cwd, stdin: 'pipe' });
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
    const done = (exitCode: number | null, signal: NodeJS.Signals | null, spawnError?: NodeJS.ErrnoException) =>
      resolve({ stdout: Buffer.concat(stdout), stderr: Buffer.concat(stderr), exitCode, signal, spawnError });
    child.once('error', (err: NodeJS.ErrnoException) => done(null, null, err));
    child.once('close', (exitCode: number | null, signal: NodeJS.Signals | null) => done(exitCode, signal));
    child.stdin?.end(options.input);
  });
}

/** The directory name of a thread's repository: readable, and unique even for odd ids. */
function repoDirName(threadId: string): string {
  const readable = threadId.replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 80);
  return `${readable}-${createHash('sha256').update(threadId).digest('hex').slice(0, 12)}.git`;
}

async function exists(file: string): Promise<boolean> {
  try {
    await fs.access(file);
    return true;
  } catch {
    return false;
  }
}

async function writeIfChanged(file: string, text: string): Promise<void> {
  const current = await fs.readFile(file, 'utf8').catch(() => null);
  if (current !== text) await fs.writeFile(file, text);
}
