/**
 * Runs tool processes inside a bubblewrap (`bwrap`) sandbox on Linux, enforcing a
 * {@link SandboxPolicy}: the whole filesystem is mounted read-only, then the writable
 * places are bound back read-write (workspace-write) and every `.git` inside them is
 * bound read-only again; the network namespace is unshared unless the policy allows the
 * network. The policy itself is decided elsewhere (src/shared/sandbox-policy.ts); this
 * module only turns it into a command line.
 *
 * Process control stays with the caller: bwrap runs in the caller's process group (no
 * `--new-session`: the shell tool already starts every command in a new session with no
 * controlling terminal), so killing the group kills the sandbox too. On top of that the
 * sandbox has its own PID namespace, whose init is bwrap itself: when it dies (killed with
 * the group, or because its parent died: `--die-with-parent`), the kernel kills every
 * process left inside, even one that moved to another process group. A consequence:
 * background processes a sandboxed command leaves behind end when the command ends.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import type { SandboxPolicy } from '../shared/sandbox-policy';
import { SandboxUnavailableError } from './sandbox-errors';

/** The bubblewrap binary used when no explicit path is given: `bwrap`, looked up on PATH. */
export const DEFAULT_BWRAP = 'bwrap';

/** Where and how the sandboxed command runs. */
export interface SandboxArgvOptions {
  /** The bwrap binary: an absolute path, or a name looked up on PATH ({@link DEFAULT_BWRAP}). */
  readonly bwrapPath: string;
  /** The command's working directory (absolute); it must exist inside the sandbox. */
  readonly cwd: string;
  /** The temp dir that stays writable in workspace-write mode. Defaults to `os.tmpdir()`. */
  readonly tmpdir?: string;
}

/**
 * The bwrap command line (binary first) that runs `argv` under `policy`. In order: `/`
 * read-only; fresh `/dev` and `/proc`; an empty private tmpfs on `/tmp`; for read-only, the
 * workspace bound read-only again (it may live under `/tmp`); for workspace-write, the temp
 * dir, the writable roots (skipped when missing) and the workspace bound read-write, then
 * `<root>/.git` bound read-only for the workspace and each writable root that has one.
 * Later mounts win, so the order matters. Then a new PID namespace, `--unshare-net` unless
 * `policy.networkAccess`, every capability dropped (a sandboxed root could otherwise simply
 * remount `/` read-write), `--die-with-parent`, and `--chdir` to `options.cwd`.
 * Pure apart from reading `os.tmpdir()` when `options.tmpdir` is absent; never throws.
 */
export function sandboxArgv(argv: readonly string[], policy: SandboxPolicy, options: SandboxArgvOptions): string[] {
  const mounts = ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--tmpfs', '/tmp'];
  if (policy.mode === 'read-only') {
    mounts.push('--ro-bind', policy.workspace, policy.workspace);
  } else {
    const tmpdir = options.tmpdir ?? os.tmpdir();
    mounts.push('--bind', tmpdir, tmpdir);
    for (const root of policy.writableRoots) mounts.push('--bind-try', root, root);
    mounts.push('--bind', policy.workspace, policy.workspace);
    for (const root of unique([policy.workspace, ...policy.writableRoots])) {
      const git = path.join(root, '.git');
      mounts.push('--ro-bind-try', git, git);
    }
  }
  return [
    options.bwrapPath,
    ...mounts,
    '--unshare-pid',
    ...(policy.networkAccess ? [] : ['--unshare-net']),
    '--cap-drop', 'ALL',
    '--die-with-parent',
    '--chdir', options.cwd,
    '--',
    ...argv,
  ];
}

/**
 * The error for a bwrap binary that could not be started (the spawn itself failed with
 * `error`, typically ENOENT when bubblewrap is not installed, or EACCES). Never throws.
 */
export function sandboxUnavailable(policy: SandboxPolicy, bwrapPath: string, error: NodeJS.ErrnoException): SandboxUnavailableError {
  const reasons: Record<string, string> = { ENOENT: 'not found', EACCES: 'permission denied' };
  const reason = (error.code !== undefined ? reasons[error.code] : undefined) ?? error.message;
  const where = bwrapPath === DEFAULT_BWRAP ? '`bwrap` (looked up on PATH)' : bwrapPath;
  return new SandboxUnavailableError(policy.mode, where, reason);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values)];
}
