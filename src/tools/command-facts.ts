/**
 * What the approval policy and the checkpoint decision learn about a command, for every
 * command-running tool (`shell`, `exec_command`): it is judged by its argv (`policy`),
 * known-safe when it is on the read-only list, and it may change files unless it is
 * known-safe or confined to the read-only sandbox (the workspace is mounted read-only
 * there: only an escalated command, run outside the sandbox once approved, could write).
 */
import type { CallDeclaration, ToolRunOptions } from './contract';
import { isKnownSafeCommand } from './safe-commands';

/** The facts of a command call with this argv, escalation and justification. */
export function commandFacts(
  argv: string[],
  call: { readonly escalate: boolean; readonly justification?: unknown },
  options: Pick<ToolRunOptions, 'sandboxMode'>,
): Pick<CallDeclaration, 'approval' | 'argv' | 'knownSafe' | 'escalate' | 'justification' | 'changesFiles'> {
  const knownSafe = isKnownSafeCommand(argv);
  const confinedReadOnly = options.sandboxMode === 'read-only' && !call.escalate;
  return {
    approval: 'policy',
    argv,
    knownSafe,
    escalate: call.escalate,
    ...(typeof call.justification === 'string' ? { justification: call.justification } : {}),
    changesFiles: !knownSafe && !confinedReadOnly,
  };
}
