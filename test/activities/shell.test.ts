import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CORE_VARIABLES, DEFAULT_SHELL_ENVIRONMENT_POLICY, ShellEnvironmentPolicy, toolEnvironment } from '../../src/tools/environment';
import { truncateHeadTail } from '../../src/tools/output-truncation';
import {
  displayCommand,
  formatShellOutput,
  MAX_SHELL_TIMEOUT_MS,
  runShellCommand,
  ShellArgs,
  shellTool,
  type ShellRunResult,
} from '../../src/tools/shell';
import type { ToolContext } from '../../src/tools/types';

let workspace: string;

beforeEach(() => {
  workspace = realpathSync(mkdtempSync(path.join(tmpdir(), 'unroll-shell-')));
});

afterEach(() => {
  rmSync(workspace, { recursive: true, force: true });
});

function makeContext(overrides: Partial<ToolContext> = {}): ToolContext {
  return { cwd: workspace, signal: new AbortController().signal, heartbeat: jest.fn(), callId: 'call_test', ...overrides };
}

/** Alive means running or sleeping; a zombie nobody has reaped yet is already dead. */
function isAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const state = stat.slice(stat.lastIndexOf(')') + 2).charAt(0);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** Polls generously: the kernel needs a moment to tear a killed process down. */
async function waitUntil(condition: () => boolean, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return condition();
}

function readPid(file: string): number {
  return Number(readFileSync(path.join(workspace, file), 'utf8').trim());
}

describe('runShellCommand', () => {
  it('executes an argv array directly, without shell expansion', async () => {
    const result = await runShellCommand({ command: ['printf', '%s|', 'a b', '$HOME', '*'] }, makeContext());
    expect(result).toEqual({
      exitCode: 0, timedOut: false, aborted: false, durationMs: expect.any(Number),
      output: 'a b|$HOME|*|', totalLines: 1, truncated: false,
    });
  });

  it('runs a string command with bash -c', async () => {
    const result = await runShellCommand({ command: 'echo $((1 + 2)) | tr 3 x' }, makeContext());
    expect([result.exitCode, result.output]).toEqual([0, 'x\n']);
  });

  it('resolves a relative workdir against the workspace', async () => {
    mkdirSync(path.join(workspace, 'sub', 'dir'), { recursive: true });
    const result = await runShellCommand({ command: ['pwd'], workdir: 'sub/dir' }, makeContext());
    expect(result.output).toBe(`${path.join(workspace, 'sub', 'dir')}\n`);
  });

  it('accepts an absolute workdir', async () => {
    const result = await runShellCommand({ command: ['pwd'], workdir: workspace }, makeContext({ cwd: '/' }));
    expect(result.output).toBe(`${workspace}\n`);
  });

  it('reports a missing workdir to the model without running the command', async () => {
    const result = await runShellCommand({ command: 'touch ran', workdir: 'nope' }, makeContext());
    expect(result).toEqual({
      exitCode: 127, timedOut: false, aborted: false, durationMs: expect.any(Number),
      output: `failed to start command: workdir ${path.join(workspace, 'nope')} does not exist`, totalLines: 1, truncated: false,
    });
    expect(existsSync(path.join(workspace, 'ran'))).toBe(false);
  });

  it('reports a workdir that is a file', async () => {
    writeFileSync(path.join(workspace, 'file'), '');
    const result = await runShellCommand({ command: ['true'], workdir: 'file' }, makeContext());
    expect([result.exitCode, result.output]).toEqual([127, `failed to start command: workdir ${path.join(workspace, 'file')} is not a directory`]);
  });

  it('reports a non-zero exit code', async () => {
    const result = await runShellCommand({ command: 'echo failing; exit 3' }, makeContext());
    expect([result.exitCode, result.output]).toEqual([3, 'failing\n']);
  });

  it('reports death by signal as 128 + the signal number', async () => {
    const result = await runShellCommand({ command: 'kill -TERM $$' }, makeContext());
    expect(result.exitCode).toBe(128 + 15);
  });

  it('includes stderr together with stdout', async () => {
    const result = await runShellCommand({ command: 'echo to-out; echo to-err >&2' }, makeContext());
    expect(result.output.split('\n').sort()).toEqual(['', 'to-err', 'to-out']);
  });

  it('sets a plain-text environment and passes extra variables from the caller', async () => {
    const result = await runShellCommand(
      { command: 'printf "%s %s %s %s %s" "$NO_COLOR" "$TERM" "$PAGER" "$GIT_PAGER" "$EXTRA"' },
      makeContext(),
      { env: { EXTRA: 'extra-value' } },
    );
    expect(result.output).toBe('1 dumb cat cat extra-value');
  });

  it('gives the command no stdin', async () => {
    const result = await runShellCommand({ command: 'cat; echo done' }, makeContext());
    expect([result.exitCode, result.output]).toEqual([0, 'done\n']);
  });

  it('kills the whole process group on timeout and reports exit code 124', async () => {
    const result = await runShellCommand({ command: 'sleep 30 & echo $! > pid; echo started; wait', timeout_ms: 500 }, makeContext());
    expect(result).toEqual({
      exitCode: 124, timedOut: true, aborted: false, durationMs: expect.any(Number),
      output: 'command timed out after 500 milliseconds\nstarted\n', totalLines: 1, truncated: false,
    });
    expect(await waitUntil(() => !isAlive(readPid('pid')))).toBe(true);
  });

  it('returns promptly when a background grandchild keeps stdout open, and kills it', async () => {
    // Not timed out (exit 0, not 124 after 20 s): it returned when the shell exited.
    const result = await runShellCommand({ command: 'sleep 30 & echo $! > pid; echo started', timeout_ms: 20_000 }, makeContext());
    expect([result.exitCode, result.timedOut, result.output]).toEqual([0, false, 'started\n']);
    expect(await waitUntil(() => !isAlive(readPid('pid')))).toBe(true);
  });

  it('kills the whole process group when the signal aborts', async () => {
    const controller = new AbortController();
    const running = runShellCommand({ command: 'sleep 30 & echo $! > pid; wait', timeout_ms: 20_000 }, makeContext({ signal: controller.signal }));
    expect(await waitUntil(() => existsSync(path.join(workspace, 'pid')) && readPid('pid') > 0)).toBe(true);
    controller.abort();
    const result = await running;
    expect(result).toEqual({
      exitCode: 130, timedOut: false, aborted: true, durationMs: expect.any(Number),
      output: 'command aborted\n', totalLines: 0, truncated: false,
    });
    expect(await waitUntil(() => !isAlive(readPid('pid')))).toBe(true);
  });

  it('does not start a command when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await runShellCommand({ command: 'touch ran' }, makeContext({ signal: controller.signal }));
    expect([result.exitCode, result.aborted, result.output]).toEqual([130, true, 'command aborted']);
    expect(existsSync(path.join(workspace, 'ran'))).toBe(false);
  });

  it('truncates megabytes of output to head and tail with the exact marker and line count', async () => {
    const lineCount = 700_000;
    const result = await runShellCommand({ command: ['seq', '1', String(lineCount)] }, makeContext());
    let full = '';
    for (let i = 1; i <= lineCount; i += 1) full += `${i}\n`;
    expect(Buffer.byteLength(full)).toBeGreaterThan(4.5 * 1024 * 1024);
    expect(result).toEqual({
      exitCode: 0, timedOut: false, aborted: false, durationMs: expect.any(Number),
      output: truncateHeadTail(full, 10 * 1024).text, totalLines: lineCount, truncated: true,
    });
    expect(result.output.startsWith('1\n2\n3\n')).toBe(true);
    expect(result.output.endsWith(`${lineCount - 1}\n${lineCount}\n`)).toBe(true);
    expect(result.output).toMatch(/\n\[\.\.\. omitted \d+ bytes \(\d+ lines\) \.\.\.\]\n/);
  });

  it('honours a custom output budget', async () => {
    const result = await runShellCommand({ command: 'printf "%s" 0123456789ABCDEFGHIJ' }, makeContext(), { outputBudgetBytes: 10 });
    expect(result.output).toBe('01234\n[... omitted 10 bytes (0 lines) ...]\nFGHIJ');
  });

  it('decodes invalid UTF-8 with replacement characters', async () => {
    const result = await runShellCommand({ command: "printf 'ok \\377\\376\\200 end'" }, makeContext());
    expect([result.exitCode, result.output]).toEqual([0, 'ok \uFFFD\uFFFD\uFFFD end']);
  });

  it('survives large binary output', async () => {
    const result = await runShellCommand({ command: 'head -c 300000 /dev/urandom' }, makeContext());
    expect([result.exitCode, result.truncated]).toEqual([0, true]);
  });

  it('reports an unknown executable as exit code 127 with a clear message', async () => {
    const result = await runShellCommand({ command: ['definitely-not-a-command-xyz', '--flag'] }, makeContext());
    expect(result).toEqual({
      exitCode: 127, timedOut: false, aborted: false, durationMs: expect.any(Number),
      output: 'failed to start command: definitely-not-a-command-xyz: No such file or directory', totalLines: 1, truncated: false,
    });
  });

  it('reports a file without execute permission as exit code 126', async () => {
    const script = path.join(workspace, 'script.sh');
    writeFileSync(script, '#!/bin/sh\necho hi\n');
    chmodSync(script, 0o644);
    const result = await runShellCommand({ command: [script] }, makeContext());
    expect([result.exitCode, result.output]).toEqual([126, `failed to start command: ${script}: Permission denied`]);
  });

  it('reports a command line over the kernel limit as exit code 126 at once instead of hanging', async () => {
    const argv = await runShellCommand({ command: ['echo', 'x'.repeat(300_000)] }, makeContext());
    const string = await runShellCommand({ command: `echo ${'y'.repeat(300_000)}` }, makeContext());
    expect([argv.exitCode, argv.output]).toEqual([126, expect.stringMatching(/^failed to start command: echo: Argument list too long \(/)]);
    expect([string.exitCode, string.output]).toEqual([126, expect.stringMatching(/^failed to start command: bash: Argument list too long \(/)]);
  });

  it('runs a timeout_ms above the 24-hour maximum with the maximum instead of killing the command at once', async () => {
    const result = await runShellCommand({ command: 'echo still-running', timeout_ms: 3e9 }, makeContext());
    expect([result.exitCode, result.timedOut, result.output]).toEqual([
      0,
      false,
      `timeout_ms 3000000000 is above the maximum of ${MAX_SHELL_TIMEOUT_MS} (24 hours); using ${MAX_SHELL_TIMEOUT_MS}\nstill-running\n`,
    ]);
  });

  it('heartbeats with elapsed time and byte count while the command runs', async () => {
    const heartbeat = jest.fn();
    await runShellCommand({ command: 'echo begun; sleep 1.5' }, makeContext({ heartbeat }));
    expect(heartbeat).toHaveBeenCalledWith({ elapsedMs: expect.any(Number), bytes: expect.any(Number) });
    const last = heartbeat.mock.calls.at(-1)?.[0] as { elapsedMs: number; bytes: number };
    expect(last.bytes).toBe('begun\n'.length);
    expect(last.elapsedMs).toBeGreaterThan(0);
  });
});

describe('the environment of a command', () => {
  /** Variable names a command sees, from `env` run without a shell (bash would add its own). */
  async function namesSeen(ctx: ToolContext): Promise<string[]> {
    const result = await runShellCommand({ command: ['env', '-0'] }, ctx);
    expect(result.exitCode).toBe(0);
    return result.output.split('\0').filter((line) => line !== '').map((line) => line.slice(0, line.indexOf('='))).sort();
  }
  const PLAIN_TEXT = ['GIT_PAGER', 'NO_COLOR', 'PAGER', 'TERM'];
  const WORKER_ENV = { ...process.env, OPENAI_API_KEY: 'sk-worker-secret', GITHUB_TOKEN: 'ghp-worker', BUILD_FLAVOUR: 'debug' };

  it('is exactly the tool environment plus the plain-text settings: nothing of the worker process leaks', async () => {
    process.env.UNROLL_TEST_WORKER_ONLY = 'worker-only';
    try {
      expect(await namesSeen(makeContext({ env: { PATH: process.env.PATH ?? '/usr/bin:/bin', GIVEN: 'yes' } }))).toEqual(['GIVEN', ...PLAIN_TEXT, 'PATH'].sort());
    } finally {
      delete process.env.UNROLL_TEST_WORKER_ONLY;
    }
  });

  it('drops keys, secrets and tokens under the default policy, so echo $OPENAI_API_KEY prints nothing', async () => {
    const env = toolEnvironment(WORKER_ENV, DEFAULT_SHELL_ENVIRONMENT_POLICY, ['OPENAI_API_KEY']);
    const result = await runShellCommand({ command: 'echo "[$OPENAI_API_KEY][$GITHUB_TOKEN][$BUILD_FLAVOUR]"; env' }, makeContext({ env }));
    expect(result.output).toMatch(/^\[\]\[\]\[debug\]\n/);
    expect(result.output).not.toMatch(/sk-worker-secret|ghp-worker/);
  });

  it('holds only core variables with inherit core', async () => {
    const env = toolEnvironment(WORKER_ENV, ShellEnvironmentPolicy.parse({ inherit: 'core' }));
    const names = await namesSeen(makeContext({ env }));
    expect(names.filter((name) => !PLAIN_TEXT.includes(name) && !CORE_VARIABLES.includes(name))).toEqual([]);
    expect(names).toEqual(expect.arrayContaining(['PATH', ...PLAIN_TEXT]));
  });

  it('applies exclude and includeOnly patterns and set values', async () => {
    const policy = ShellEnvironmentPolicy.parse({ exclude: ['build_*'], includeOnly: ['PATH', 'HOME', 'CI', 'BUILD_*'], set: { CI: 'true' } });
    const env = toolEnvironment({ ...WORKER_ENV, HOME: '/home/worker' }, policy);
    const result = await runShellCommand({ command: 'echo "$CI|$HOME|$BUILD_FLAVOUR|$GITHUB_TOKEN"' }, makeContext({ env }));
    expect(result.output).toBe('true|/home/worker||\n');
  });
});

describe('formatShellOutput', () => {
  const base: ShellRunResult = {
    exitCode: 0, timedOut: false, aborted: false, durationMs: 123, output: 'hello\n', totalLines: 1, truncated: false,
  };

  it('renders exit code, wall time and output', () => {
    expect(formatShellOutput(base)).toBe('Exit code: 0\nWall time: 0.1 seconds\nOutput:\nhello\n');
  });

  it('adds the total line count when the output was truncated', () => {
    const result = { ...base, exitCode: 2, durationMs: 2_460, output: 'a\n[... omitted 5678 bytes (901 lines) ...]\nz\n', totalLines: 1234, truncated: true };
    expect(formatShellOutput(result)).toBe(
      'Exit code: 2\nWall time: 2.5 seconds\nTotal output lines: 1234\nOutput:\na\n[... omitted 5678 bytes (901 lines) ...]\nz\n',
    );
  });
});

describe('displayCommand', () => {
  it.each([
    { command: ['ls', '-la', 'src/tools'], expected: 'ls -la src/tools' },
    { command: ['echo', 'two words', ''], expected: "echo 'two words' ''" },
    { command: ['echo', "it's", '$HOME'], expected: "echo 'it'\\''s' '$HOME'" },
    { command: 'cd a && make', expected: 'cd a && make' },
  ])('renders $command as $expected', ({ command, expected }) => {
    expect(displayCommand(command)).toBe(expected);
  });
});

describe('ShellArgs', () => {
  it.each([
    { args: { command: [] }, valid: false },
    { args: { command: '' }, valid: false },
    { args: { command: 'ls', timeout_ms: 0 }, valid: false },
    { args: { command: 'ls', timeout_ms: 1.5 }, valid: false },
    { args: { command: ['ls'], workdir: 'src', timeout_ms: 5_000 }, valid: true },
    { args: { command: 'ls | wc -l' }, valid: true },
    { args: { command: 'curl example.com', with_escalated_permissions: true, justification: 'needs the network' }, valid: true },
    { args: { command: 'ls', with_escalated_permissions: 'yes' }, valid: false },
  ])('parses $args as valid=$valid', ({ args, valid }) => {
    expect(ShellArgs.safeParse(args).success).toBe(valid);
  });
});

describe('shellTool', () => {
  it('returns the formatted output, success and display metadata', async () => {
    const result = await shellTool.run({ command: ['echo', 'hi there'] }, makeContext());
    expect(result).toEqual({
      output: expect.stringMatching(/^Exit code: 0\nWall time: \d+\.\d seconds\nOutput:\nhi there\n$/),
      success: true,
      metadata: { exitCode: 0, durationMs: expect.any(Number), timedOut: false, truncated: false, command: "echo 'hi there'" },
    });
  });

  it('marks a failing command unsuccessful and clips a long display command', async () => {
    const result = await shellTool.run({ command: `exit 1 # ${'x'.repeat(600)}` }, makeContext());
    expect(result.success).toBe(false);
    expect(result.metadata.exitCode).toBe(1);
    expect((result.metadata.command as string).length).toBe(500);
  });
});
