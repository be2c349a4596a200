import { approvalRequirement, ESCALATION_REFUSED, sessionApprovalKey, type ApprovalPolicyName, type CallFacts } from '../../src/shared/approval-policy';
import { isKnownSafeCommand } from '../../src/tools/safe-commands';

const shell = (argv: string[], extra: Partial<CallFacts> = {}): CallFacts => ({
  argv,
  knownSafe: isKnownSafeCommand(argv),
  escalate: false,
  justification: null,
  mutatesFiles: false,
  ...extra,
});
const patch: CallFacts = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: true };
const plan: CallFacts = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false };
const none = new Set<string>();

describe('approvalRequirement', () => {
  const table: Array<[ApprovalPolicyName, string, CallFacts, ReturnType<typeof approvalRequirement>]> = [
    ['untrusted', 'shell', shell(['ls', '-la']), { kind: 'run', sandboxed: true }],
    ['untrusted', 'shell', shell(['git', 'status']), { kind: 'run', sandboxed: true }],
    ['untrusted', 'shell', shell(['rm', '-rf', 'build']), { kind: 'ask', reason: 'the command is not known to be read-only', sandboxedIfApproved: true }],
    ['untrusted', 'apply_patch', patch, { kind: 'ask', reason: 'the approval policy asks before every patch', sandboxedIfApproved: true }],
    ['untrusted', 'update_plan', plan, { kind: 'run', sandboxed: true }],
    ['untrusted', 'shell', shell(['ls'], { escalate: true, justification: 'needs /etc' }), { kind: 'ask', reason: 'the model asks to run this outside the sandbox: needs /etc', sandboxedIfApproved: false }],
    ['on-request', 'shell', shell(['rm', '-rf', 'build']), { kind: 'run', sandboxed: true }],
    ['on-request', 'apply_patch', patch, { kind: 'run', sandboxed: true }],
    ['on-request', 'shell', shell(['npm', 'install'], { escalate: true }), { kind: 'ask', reason: 'the model asks to run this outside the sandbox', sandboxedIfApproved: false }],
    ['never', 'shell', shell(['rm', '-rf', 'build']), { kind: 'run', sandboxed: true }],
    ['never', 'apply_patch', patch, { kind: 'run', sandboxed: true }],
    ['never', 'shell', shell(['npm', 'install'], { escalate: true }), { kind: 'refuse', output: ESCALATION_REFUSED }],
  ];
  test.each(table)('%s policy, %s %j → %j', (policy, name, facts, expected) => {
    expect(approvalRequirement(policy, name, facts, none)).toEqual(expected);
  });

  test('a call approved for the session runs without asking, with the sandbox it was approved with', () => {
    const facts = shell(['make', 'deploy'], { escalate: true });
    const approved = new Set([sessionApprovalKey('shell', facts)!]);
    expect(approvalRequirement('untrusted', 'shell', facts, approved)).toEqual({ kind: 'run', sandboxed: false });
    expect(approvalRequirement('untrusted', 'shell', shell(['make', 'deploy']), approved).kind).toBe('ask');
  });

  test('approving one patch for the session approves every patch', () => {
    const approved = new Set([sessionApprovalKey('apply_patch', patch)!]);
    expect(approvalRequirement('untrusted', 'apply_patch', patch, approved)).toEqual({ kind: 'run', sandboxed: true });
  });
});

describe('isKnownSafeCommand', () => {
  test.each([
    [['ls'], true],
    [['cat', 'a.txt'], true],
    [['rg', 'TODO'], true],
    [['git', 'diff'], true],
    [['git', 'push'], false],
    [['find', '.', '-name', '*.ts'], true],
    [['find', '.', '-delete'], false],
    [['sed', '-n', '1,20p', 'f'], true],
    [['sed', '-i', 's/a/b/', 'f'], false],
    [['sort', '-o', 'out', 'in'], false],
    [['bash', '-c', 'ls && cat a.txt | wc -l'], true],
    // exec_command's form: the user's shell by path.
    [['/bin/bash', '-lc', 'cat chunk.txt'], true],
    [['/usr/bin/zsh', '-lc', 'ls -la && wc -l notes.txt'], true],
    [['/bin/bash', '-lc', 'echo step >> log.txt'], false],
    [['/bin/bash', '-lc', 'rm -rf build'], false],
    [['/opt/evil/bash-wrapper', '-lc', 'ls'], false],
    [['bash', '-c', 'ls > out.txt'], false],
    [['bash', '-c', 'cat $(whoami)'], false],
    [['bash', '-c', 'rm -rf /'], false],
    [['rm', 'x'], false],
    [[], false],
  ] as Array<[string[], boolean]>)('%j → %s', (argv, safe) => {
    expect(isKnownSafeCommand(argv)).toBe(safe);
  });
});
