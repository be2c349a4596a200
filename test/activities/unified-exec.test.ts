/**
 * exec_command / write_stdin against real processes in real PTYs (no Temporal): an
 * interactive python3 driven through a session, Codex's output layout and token
 * truncation, sessions that end, unknown and lost sessions, and bad arguments going back
 * to the model as tool errors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { functionCall } from '../support/responses-builders';
import { executeToolCall } from '../../src/tools/registry';
import type { ToolContext, ToolResult } from '../../src/tools/types';
import { hostExecSessions } from '../../src/tools/unified-exec';
import { sessionMarkerKey } from '../../src/tools/unified-exec/session-markers';
import { truncateToTokens } from '../../src/tools/unified-exec/format';
import type { ToolCallItem } from '../../src/items/schemas';

const OPTIONS = { shellTimeoutMs: 10_000 };
const TOOLS = ['exec_command', 'write_stdin'];

describe('unified exec (exec_command + write_stdin)', () => {
  let workspace: string;
  const markers = new Map<string, string>();
  let thread = 0;
  let threadId: string;
  const ctx = (): ToolContext => ({
    cwd: workspace,
    signal: new AbortController().signal,
    heartbeat: () => undefined,
    callId: 'call_1',
    threadId,
    turn: 1,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: workspace },
    markers: { get: (k) => Promise.resolve(markers.get(k)), put: (k, v) => Promise.resolve(void markers.set(k, v)) },
  });
  const call = (name: string, args: unknown): Promise<ToolResult> =>
    executeToolCall(functionCall(name, args) as unknown as ToolCallItem, ctx(), OPTIONS, TOOLS);
  const sessionOf = (output: string): number => Number(/Process running with session ID (\d+)/.exec(output)?.[1]);

  beforeAll(async () => {
    workspace = await realpath(await mkdtemp(path.join(os.tmpdir(), 'unified-exec-')));
  });
  beforeEach(() => {
    threadId = `thread-${++thread}`;
  });
  afterAll(async () => {
    hostExecSessions().endAll();
    await rm(workspace, { recursive: true, force: true });
  });

  test('python3 -i keeps running in a session; write_stdin sends print(6*7) and reads 42', async () => {
    const started = await call('exec_command', { cmd: 'python3 -i -q', tty: true, yield_time_ms: 1000 });
    expect(started.output).toMatch(/^Chunk ID: [0-9a-f]{6}\nWall time: \d+\.\d{4} seconds\nProcess running with session ID \d+\nOriginal token count: \d+\nOutput:\n/);
    expect(started.success).toBe(true);
    const id = sessionOf(started.output);
    const answered = await call('write_stdin', { session_id: id, chars: 'print(6*7)\n', yield_time_ms: 1000 });
    expect(answered.output).toContain(`Process running with session ID ${id}`);
    expect(answered.output).toMatch(/\n42\r?\n/);
    const ended = await call('write_stdin', { session_id: id, chars: 'exit()\n', yield_time_ms: 2000 });
    expect(ended.output).toContain('Process exited with code 0');
    expect(ended.metadata).toMatchObject({ running: false, exitCode: 0 });
    // An ended session is gone from the host, as in Codex.
    expect((await call('write_stdin', { session_id: id, chars: '' })).output).toBe(`write_stdin failed: Unknown process id ${id}`);
  });

  test('a command that ends within its yield time reports its exit code and output in Codex’s layout', async () => {
    const result = await call('exec_command', { cmd: 'echo hi; exit 3' });
    expect(result.output).toMatch(/^Chunk ID: [0-9a-f]{6}\nWall time: \d+\.\d{4} seconds\nProcess exited with code 3\nOriginal token count: 1\nOutput:\n(.|\n)*hi\n$/);
    expect(result).toMatchObject({ success: false, metadata: { exitCode: 3, running: false, command: "/bin/bash -lc 'echo hi; exit 3'" } });
  });

  test('output over max_output_tokens keeps its head and tail around Codex’s truncation marker', async () => {
    const result = await call('exec_command', { cmd: 'seq 1 20000', login: false, max_output_tokens: 100 });
    expect(result.output).toContain('Original token count: 27224\nOutput:\nWarning: truncated output (original token count: 27224)\nTotal output lines: 20000\n\n1\n2\n');
    expect(result.output).toContain('69\n70…27124 tokens truncated…7\n19968\n');
    expect(result.output.endsWith('19999\n20000\n')).toBe(true);
    expect(truncateToTokens('short', 100)).toBe('short');
  });

  test('write_stdin to a session no worker ever started is an unknown process id; to one of a stopped worker, the session is gone', async () => {
    expect((await call('write_stdin', { session_id: 4242, chars: 'x' })).output).toBe('write_stdin failed: Unknown process id 4242');
    markers.set(sessionMarkerKey(threadId, 777), JSON.stringify({ host: 'a-worker-that-stopped', turn: 1 }));
    const gone = await call('write_stdin', { session_id: 777, chars: 'x' });
    expect(gone.success).toBe(false);
    expect(gone.output).toContain('session 777 is gone: the worker that ran it stopped');
  });

  test('ending a turn’s sessions kills the command and everything it started', async () => {
    const started = await call('exec_command', { cmd: 'sleep 300 & echo $!; wait', tty: true, yield_time_ms: 500 });
    const pid = Number(/\n(\d+)\r?\n/.exec(started.output)?.[1]);
    expect(pid).toBeGreaterThan(0);
    expect(hostExecSessions().endThreadSessions(threadId, 1)).toEqual([sessionOf(started.output)]);
    await waitUntil(() => !alive(pid));
    expect(alive(pid)).toBe(false);
  });

  test('a command without a terminal has its stdin closed: write_stdin says so, polling still reads it', async () => {
    const started = await call('exec_command', { cmd: 'sleep 0.5; echo late', login: false, yield_time_ms: 250 });
    const id = sessionOf(started.output);
    expect((await call('write_stdin', { session_id: id, chars: 'x' })).output).toContain('started without a terminal (tty: false)');
    const polled = await call('write_stdin', { session_id: id, yield_time_ms: 5000 });
    expect(polled.output).toMatch(/Process exited with code 0\nOriginal token count: 2\nOutput:\nlate\n$/);
  });

  test('a program that does not exist exits 127 with the reason as its output', async () => {
    const result = await call('exec_command', { cmd: 'x', shell: '/no/such/shell' });
    expect(result).toMatchObject({ success: false, metadata: { exitCode: 127, running: false } });
    expect(result.output).toContain('failed to start /no/such/shell');
  });

  test('sessions run in the thread’s sandbox: read-only refuses a write to the workspace, workspace-write allows it (in a PTY too)', async () => {
    const run = (cmd: string, mode: 'read-only' | 'workspace-write') =>
      executeToolCall(
        functionCall('exec_command', { cmd, tty: true, login: false, yield_time_ms: 5000 }) as unknown as ToolCallItem,
        { ...ctx(), sandbox: { mode, workspace, writableRoots: [], networkAccess: false } },
        OPTIONS,
        TOOLS,
      );
    const refused = await run('echo ro > read-only.txt', 'read-only');
    expect(refused.output).toMatch(/Process exited with code [1-9]/);
    expect(refused.output).toContain('Read-only file system');
    expect(existsSync(path.join(workspace, 'read-only.txt'))).toBe(false);
    expect((await run('echo rw > writable.txt', 'workspace-write')).output).toContain('Process exited with code 0');
    expect(readFileSync(path.join(workspace, 'writable.txt'), 'utf8')).toBe('rw\n');
  });

  test('bad arguments go back to the model as tool errors and run nothing', async () => {
    expect(await call('exec_command', { nocmd: 1 })).toMatchObject({ success: false, output: expect.stringContaining('invalid arguments for exec_command: cmd:') });
    expect(await call('write_stdin', { session_id: 'one' })).toMatchObject({ success: false, output: expect.stringContaining('invalid arguments for write_stdin: session_id:') });
    expect(await call('exec_command', { cmd: 'true', workdir: 'missing-dir' })).toMatchObject({ success: false, output: expect.stringContaining('missing-dir does not exist') });
  });
});

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function waitUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !condition(); i++) await new Promise((resolve) => setTimeout(resolve, 50));
}
