import type { SessionSettings } from '../config/settings';
import { sandboxPolicyFor } from '../shared/sandbox-policy';

/**
 * The developer message that tells the model what it may do: sandbox mode, approval
 * policy, writable roots and network access. It is part of the initial context and is
 * appended again (never edited) when these settings change mid-thread. Pure.
 */
export function permissionsMessageText(settings: Pick<SessionSettings, 'sandboxMode' | 'approvalPolicy' | 'cwd' | 'networkAccess'>): string {
  const policy = sandboxPolicyFor(settings);
  const network = policy === null || policy.networkAccess ? 'network access is on' : 'network access is off';
  const sandbox = {
    'read-only': `The sandbox is read-only: commands may read files but any write will fail (except to a private /tmp that is discarded when the command ends); ${network}.`,
    'workspace-write': `Commands may write only inside the workspace (${settings.cwd}) and temporary directories; .git is read-only; ${network}.`,
    'danger-full-access': 'There is no sandbox: commands run with the full permissions of the user, with network access. Be careful with destructive commands.',
  }[settings.sandboxMode];
  const approval = {
    untrusted: 'The user must approve every command that is not known to be read-only and every patch.',
    'on-request': 'Commands run sandboxed; ask for escalation (with a justification) only when a command truly needs it.',
    never: 'Never ask for approval: the user is not watching. Work around restrictions instead of asking.',
  }[settings.approvalPolicy];
  return [
    '<permissions instructions>',
    `sandbox_mode: ${settings.sandboxMode}. ${sandbox}`,
    `approval_policy: ${settings.approvalPolicy}. ${approval}`,
    `writable_roots: ${writableRoots(settings.cwd, policy)}`,
    '</permissions instructions>',
  ].join('\n');
}

function writableRoots(cwd: string, policy: ReturnType<typeof sandboxPolicyFor>): string {
  if (policy === null) return cwd;
  if (policy.mode === 'read-only') return '(none)';
  return [policy.workspace, ...policy.writableRoots].join(', ');
}
