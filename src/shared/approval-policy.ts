/**
 * Approval decisions, as Codex makes them, as pure functions (workflow code uses them).
 *
 * - `untrusted`: commands that are known to be read-only run without asking; every
 *   other command and every patch needs the user's approval.
 * - `on-request`: everything runs in the sandbox without asking; the model may ask to
 *   run a command outside the sandbox (escalation, with a justification), and only that
 *   needs approval.
 * - `never`: nothing is ever asked; an escalation request is refused and the model is
 *   told to work within the sandbox.
 * Anything the user approved "for the session" runs without asking again.
 *
 * Each tool declares how its calls are judged (`approval`, see {@link ApprovalClass}): a
 * tool not known to be safe (an unknown tool; later MCP tools) asks under `untrusted`
 * and `on-request`. Calls recorded before tools declared it carry no `approval` and are
 * judged as they were then (by argv and mutatesFiles alone), so recorded histories
 * replay the same decisions.
 */

/**
 * How the policy treats a tool's calls:
 * - `safe`: no effect outside the transcript and the tool's own read (update_plan,
 *   view_image): runs without asking (unless the model asks to escalate).
 * - `policy`: acts on the workspace inside the sandbox: commands and patches are judged
 *   by the rules above (argv, knownSafe, mutatesFiles).
 * - `ask`: not known to be safe (an unknown tool): asks under `untrusted` and `on-request`.
 */
export type ApprovalClass = 'safe' | 'policy' | 'ask';

/** What the workflow knows about a call to decide on it (computed by the inference activity). */
export interface CallFacts {
  /** The command's argv for shell calls (a string command is `['bash', '-c', text]`); null otherwise. */
  readonly argv: string[] | null;
  /** True when the command is on the known read-only list. */
  readonly knownSafe: boolean;
  /** True when the model asked to run outside the sandbox. */
  readonly escalate: boolean;
  readonly justification: string | null;
  /** True for calls that change files (apply_patch). */
  readonly mutatesFiles: boolean;
  /** The tool's approval class for the call; absent in calls recorded before tools declared it. */
  readonly approval?: ApprovalClass;
  /**
   * Whether the call may change files in the workspace, as its tool declares (a checkpoint
   * follows the step); absent in calls recorded before tools declared it.
   */
  readonly changesFiles?: boolean;
}

export type ApprovalPolicyName = 'untrusted' | 'on-request' | 'never';

/** What to do with a call. */
export type ApprovalRequirement =
  | { readonly kind: 'run'; readonly sandboxed: boolean }
  | { readonly kind: 'ask'; readonly reason: string; readonly sandboxedIfApproved: boolean }
  | { readonly kind: 'refuse'; readonly output: string };

/** The key under which an "approve for session" is remembered for a call. */
export function sessionApprovalKey(name: string, facts: CallFacts): string | null {
  if (facts.argv) return `${name}:${JSON.stringify(facts.argv)}${facts.escalate ? ':escalated' : ''}`;
  if (facts.mutatesFiles || facts.approval === 'ask') return `${name}:*`;
  return null;
}

/** The text the model gets when the policy refuses an escalation. */
export const ESCALATION_REFUSED =
  'escalation refused: the approval policy is "never", so commands cannot run outside the sandbox. Find a way to do this within the sandbox.';

/** Decides whether a call runs, must be approved first, or is refused. */
export function approvalRequirement(
  policy: ApprovalPolicyName,
  name: string,
  facts: CallFacts,
  approvedForSession: ReadonlySet<string>,
): ApprovalRequirement {
  const sandboxed = !facts.escalate;
  const key = sessionApprovalKey(name, facts);
  if (key !== null && approvedForSession.has(key)) return { kind: 'run', sandboxed };
  if (policy === 'never') {
    return facts.escalate ? { kind: 'refuse', output: ESCALATION_REFUSED } : { kind: 'run', sandboxed: true };
  }
  if (facts.escalate) {
    const why = facts.justification ? `: ${facts.justification}` : '';
    return { kind: 'ask', reason: `the model asks to run this outside the sandbox${why}`, sandboxedIfApproved: false };
  }
  if (facts.approval === 'ask') return { kind: 'ask', reason: `the tool ${name} is not known to be safe`, sandboxedIfApproved: true };
  if (policy === 'on-request' || facts.approval === 'safe') return { kind: 'run', sandboxed: true };
  if (facts.mutatesFiles) return { kind: 'ask', reason: 'the approval policy asks before every patch', sandboxedIfApproved: true };
  if (facts.argv && !facts.knownSafe) return { kind: 'ask', reason: 'the command is not known to be read-only', sandboxedIfApproved: true };
  return { kind: 'run', sandboxed: true };
}
