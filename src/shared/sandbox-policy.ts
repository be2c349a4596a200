/**
 * What a thread's sandbox mode means for the processes its tools start, as plain data.
 * Pure (no Node imports): the turn workflow derives the policy from the session settings
 * and hands it to the tool activity, which enforces it (src/tools/sandbox.ts).
 */
import type { SessionSettings } from '../config/settings';

/**
 * The restrictions a sandboxed tool runs under. `read-only`: every file may be read and
 * none written. `workspace-write`: writes only under `workspace`, `writableRoots` and the
 * temp dir, and never under a `.git` of those roots. Network access is off unless
 * `networkAccess`. The absence of a policy (`null`) is `danger-full-access`: no sandbox.
 */
export interface SandboxPolicy {
  readonly mode: 'read-only' | 'workspace-write';
  /** Absolute path of the thread's workspace (its cwd). */
  readonly workspace: string;
  /** Absolute paths writable besides the workspace (workspace-write only; empty for read-only). */
  readonly writableRoots: readonly string[];
  /** True when tool processes may open network connections. */
  readonly networkAccess: boolean;
}

/**
 * The sandbox policy of a thread's settings, or null for `danger-full-access` (no
 * sandbox). `networkAccess` defaults to false; `writableRoots` are the settings'
 * (config.toml `sandbox_workspace_write.writable_roots`) under workspace-write, none under
 * read-only. Pure and deterministic.
 */
export function sandboxPolicyFor(settings: Pick<SessionSettings, 'sandboxMode' | 'cwd' | 'networkAccess' | 'writableRoots'>): SandboxPolicy | null {
  if (settings.sandboxMode === 'danger-full-access') return null;
  return {
    mode: settings.sandboxMode,
    workspace: settings.cwd,
    writableRoots: settings.sandboxMode === 'workspace-write' ? (settings.writableRoots ?? []) : [],
    networkAccess: settings.networkAccess ?? false,
  };
}
