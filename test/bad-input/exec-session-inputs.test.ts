/**
 * Bad input to exec_command / write_stdin: each call goes back to the model as a tool
 * error that names what is wrong, runs nothing (or nothing more than asked), and never
 * leaves a call waiting. Real processes, no Temporal.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ToolCallItem } from '../../src/items/schemas';
import { describeCall, executeToolCall } from '../../src/tools/registry';
import type { ToolContext } from '../../src/tools/types';
import { hostExecSessions } from '../../src/tools/unified-exec';

const OPTIONS = { shellTimeoutMs: 10_000 };
const TOOLS = ['exec_command', 'write_stdin'];
const call = (name: string, args: string): ToolCallItem => ({ type: 'function_call', call_id: 'call_bad', name, arguments: args });

describe('exec_command and write_stdin with bad input', () => {
  let workspace: string;
  const ctx = (): ToolContext => ({
    cwd: workspace, signal: new AbortController().signal, heartbeat: () => undefined, callId: 'call_bad', threadId: 'bad-input', turn: 1,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    markers: { get: () => Promise.resolve(undefined), put: () => Promise.resolve() },
  });
  beforeAll(async () => {
    workspace = await realpath(await mkdtemp(path.join(os.tmpdir(), 'exec-bad-')));
  });
  afterAll(async () => {
    hostExecSessions().endAll();
    await rm(workspace, { recursive: true, force: true });
  });

  test.each([
    ['arguments that are not JSON', 'exec_command', '{"cmd": "echo hi"', 'failed to parse arguments of exec_command as JSON'],
    ['no cmd', 'exec_command', '{"workdir": "."}', 'invalid arguments for exec_command: cmd:'],
    ['an empty cmd', 'exec_command', '{"cmd": ""}', 'invalid arguments for exec_command: cmd:'],
    ['cmd that is not a string', 'exec_command', '{"cmd": ["ls"]}', 'invalid arguments for exec_command: cmd:'],
    ['a negative yield time', 'exec_command', '{"cmd": "true", "yield_time_ms": -5}', 'invalid arguments for exec_command: yield_time_ms:'],
    ['a zero token budget', 'exec_command', '{"cmd": "true", "max_output_tokens": 0}', 'invalid arguments for exec_command: max_output_tokens:'],
    ['an unknown sandbox_permissions', 'exec_command', '{"cmd": "true", "sandbox_permissions": "root"}', 'invalid arguments for exec_command: sandbox_permissions:'],
    ['a workdir that does not exist', 'exec_command', '{"cmd": "true", "workdir": "nope/deeper"}', 'exec_command failed: workdir'],
    ['no session_id', 'write_stdin', '{"chars": "x"}', 'invalid arguments for write_stdin: session_id:'],
    ['a session_id that is not a number', 'write_stdin', '{"session_id": "12"}', 'invalid arguments for write_stdin: session_id:'],
    ['a fractional session_id', 'write_stdin', '{"session_id": 1.5}', 'invalid arguments for write_stdin: session_id:'],
    ['a session that does not exist', 'write_stdin', '{"session_id": 31337, "chars": "y\\n"}', 'write_stdin failed: Unknown process id 31337'],
  ])('%s is answered with a tool error', async (_what, name, args, message) => {
    const result = await executeToolCall(call(name, args), ctx(), OPTIONS, TOOLS);
    expect(result.success).toBe(false);
    expect(result.output).toContain(message);
    expect(hostExecSessions().get('bad-input', 31337)).toBeUndefined();
  });

  test('a call whose arguments do not parse asks nothing and changes nothing (it will not run)', () => {
    expect(describeCall(call('exec_command', '{"cmd": 7}'), OPTIONS, TOOLS).facts).toMatchObject({ approval: 'safe', changesFiles: false });
  });

  test('an escalation request is declared, with its justification, for the approval policy', () => {
    const described = describeCall(call('exec_command', JSON.stringify({ cmd: 'curl example.com', sandbox_permissions: 'require_escalated', justification: 'needs the network' })), OPTIONS, TOOLS);
    expect(described.facts).toMatchObject({ approval: 'policy', escalate: true, justification: 'needs the network', argv: ['/bin/bash', '-lc', 'curl example.com'], knownSafe: false });
  });
});
