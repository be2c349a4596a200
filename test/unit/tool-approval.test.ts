/**
 * Approval and checkpoint decisions on the facts tools declare (src/tools/contract.ts):
 * what the approval policy does with each tool's calls, that anything not known to be
 * safe asks under `untrusted` and `on-request`, and that calls recorded before tools
 * declared their facts are decided as they were then (recorded histories replay).
 */
import type { ToolCallItem } from '../../src/items/schemas';
import { approvalRequirement, sessionApprovalKey, type ApprovalPolicyName, type CallFacts } from '../../src/shared/approval-policy';
import { describeCall } from '../../src/tools/registry';
import { mayChangeFiles } from '../../src/workflows/decisions';

const OPTIONS = { shellTimeoutMs: 10_000 };
const fn = (name: string, args: unknown): ToolCallItem => ({ type: 'function_call', call_id: 'c1', name, arguments: JSON.stringify(args) });
const factsOf = (call: ToolCallItem): CallFacts => describeCall(call, OPTIONS).facts;
const none = new Set<string>();

const calls = {
  unknown: fn('frobnicate', { x: 1 }),
  plan: fn('update_plan', { plan: [{ step: 'a', status: 'pending' }] }),
  readOnly: fn('shell', { command: ['ls'] }),
  write: fn('shell', { command: 'rm -rf build' }),
  patch: fn('apply_patch', { input: '*** Begin Patch\n*** Add File: a\n+a\n*** End Patch' }),
};

describe('approval of declared calls', () => {
  const table: Array<[ApprovalPolicyName, keyof typeof calls, 'run' | 'ask']> = [
    ['untrusted', 'unknown', 'ask'],
    ['on-request', 'unknown', 'ask'],
    ['never', 'unknown', 'run'],
    ['untrusted', 'plan', 'run'],
    ['on-request', 'plan', 'run'],
    ['untrusted', 'readOnly', 'run'],
    ['untrusted', 'write', 'ask'],
    ['on-request', 'write', 'run'],
    ['untrusted', 'patch', 'ask'],
    ['on-request', 'patch', 'run'],
    ['never', 'patch', 'run'],
  ];
  test.each(table)('under %s, a call of kind %s is to %s', (policy, kind, expected) => {
    const call = calls[kind];
    expect(approvalRequirement(policy, call.name, factsOf(call), none).kind).toBe(expected);
  });

  test('an unknown tool asks with a reason that names it, and "approve for session" covers its later calls', () => {
    const facts = factsOf(calls.unknown);
    expect(approvalRequirement('untrusted', 'frobnicate', facts, none)).toEqual({ kind: 'ask', reason: 'the tool frobnicate is not known to be safe', sandboxedIfApproved: true });
    const approved = new Set([sessionApprovalKey('frobnicate', facts)!]);
    expect(approvalRequirement('on-request', 'frobnicate', factsOf(fn('frobnicate', { other: true })), approved)).toEqual({ kind: 'run', sandboxed: true });
  });

  test('calls recorded before tools declared their approval class are decided as they were (an unknown tool ran)', () => {
    const recorded: CallFacts = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false };
    expect(approvalRequirement('untrusted', 'frobnicate', recorded, none)).toEqual({ kind: 'run', sandboxed: true });
    expect(approvalRequirement('on-request', 'frobnicate', recorded, none)).toEqual({ kind: 'run', sandboxed: true });
  });
});

describe('mayChangeFiles follows the tools’ declarations', () => {
  const ref = (call: ToolCallItem) => ({ name: call.name, facts: factsOf(call) });
  test.each([
    ['a plan', false, [calls.plan]],
    ['a read-only command', false, [calls.readOnly]],
    ['a plan and a read-only command', false, [calls.plan, calls.readOnly]],
    ['a command that may write', true, [calls.write]],
    ['a patch', true, [calls.patch]],
    ['an unknown tool', true, [calls.unknown]],
  ] as Array<[string, boolean, ToolCallItem[]]>)('a step with %s may change files: %s', (_what, expected, step) => {
    expect(mayChangeFiles(step.map(ref))).toBe(expected);
  });

  test('a declaration wins over the tool name; calls recorded without one keep the old rule', () => {
    const base = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false };
    expect(mayChangeFiles([{ name: 'view_image', facts: { ...base, changesFiles: false } }])).toBe(false);
    expect(mayChangeFiles([{ name: 'update_plan', facts: base }])).toBe(false);
    expect(mayChangeFiles([{ name: 'view_image', facts: base }])).toBe(true);
    expect(mayChangeFiles([{ name: 'shell', facts: { ...base, knownSafe: true } }])).toBe(false);
  });
});
