/**
 * The sandbox against real bubblewrap, real temp dirs, a real TCP server and real
 * processes. The "outside" directory lives outside the temp dir on purpose: the temp dir
 * is writable in workspace-write by design.
 */
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import path from 'node:path';
import type { SandboxPolicy } from '../../src/shared/sandbox-policy';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, toolEnvironment } from '../../src/tools/environment';
import { applyPatchTool } from '../../src/tools/apply-patch';
import { formatShellOutput, runShellCommand, type ShellArgs } from '../../src/tools/shell';
import type { ToolContext } from '../../src/tools/types';

const TIMEOUT_MS = 30_000;

let workspace: string;
let outside: string;

function isInside(root: string, candidate: string): boolean {
  const rel = path.relative(root, candidate);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

/** A directory that no sandbox mode may write: not under the temp dir, not the workspace. */
function outsideParent(): string {
  const parent = ['/var/tmp', homedir()].find((dir) => existsSync(dir) && !isInside(realpathSync(tmpdir()), realpathSync(dir)));
  if (parent === undefined) throw new Error('no directory outside the temp dir to test writes against');
  return parent;
}

beforeEach(() => {
  workspace = realpathSync(mkdtempSync(path.join(tmpdir(), 'unroll-sandbox-ws-')));
  mkdirSync(path.join(workspace, '.git'));
  writeFileSync(path.join(workspace, '.git', 'config'), '[core]\n');
  writeFileSync(path.join(workspace, 'README.md'), 'hello from the workspace\n');
  outside = realpathSync(mkdtempSync(path.join(outsideParent(), 'unroll-sandbox-outside-')));
});

afterEach(() => {
  rmSync(workspace, { recursive: true, force: true });
  rmSync(outside, { recursive: true, force: true });
});

function policy(mode: SandboxPolicy['mode'], networkAccess = false): SandboxPolicy {
  return { mode, workspace, writableRoots: [], networkAccess };
}

function context(sandbox: SandboxPolicy | null, signal = new AbortController().signal): ToolContext {
  return { cwd: workspace, signal, heartbeat: () => undefined, callId: 'call_sandbox', sandbox };
}

function run(command: ShellArgs['command'], sandbox: SandboxPolicy | null, timeoutMs = TIMEOUT_MS) {
  return runShellCommand({ command, timeout_ms: timeoutMs }, context(sandbox));
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

/** Host pids of live processes whose argv contains `marker` (pids inside the sandbox differ). */
function pidsWith(marker: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const argv = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (argv[0] === 'sleep' && argv.includes(marker) && isAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

async function waitUntil(condition: () => boolean, timeoutMs = 10_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (condition()) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return condition();
}

/** A unique `sleep` duration, so the process can be found by its argv from the host. */
function uniqueSleep(): string {
  return `${3000 + Math.floor(Math.random() * 1000)}.${Math.floor(Math.random() * 1e6)}`;
}

describe('shell in the workspace-write sandbox', () => {
  it('allows a write inside the workspace', async () => {
    const result = await run('echo inside > inside.txt && cat inside.txt', policy('workspace-write'));
    expect([result.exitCode, result.output]).toEqual([0, 'inside\n']);
    expect(readFileSync(path.join(workspace, 'inside.txt'), 'utf8')).toBe('inside\n');
  });

  it('blocks a write outside the workspace, and the file does not appear', async () => {
    const target = path.join(outside, 'escaped.txt');
    const result = await run(`echo escaped > ${target}`, policy('workspace-write'));
    expect(result.exitCode).toBe(1);
    expect(result.output).toBe(`bash: line 1: ${target}: Read-only file system\n`);
    expect(existsSync(target)).toBe(false);
  });

  it('allows the same write without a sandbox (the control case)', async () => {
    const target = path.join(outside, 'allowed.txt');
    const result = await run(`echo allowed > ${target}`, null);
    expect(result.exitCode).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('allowed\n');
  });

  it('keeps .git read-only inside a writable workspace', async () => {
    const result = await run('echo "[evil]" >> .git/config; echo rc=$?; rm -rf .git 2>/dev/null; test -d .git && echo still-there', policy('workspace-write'));
    expect(result.output).toContain('.git/config: Read-only file system');
    expect(result.output).toContain('rc=1\n');
    expect(result.output).toContain('still-there\n');
    expect(readFileSync(path.join(workspace, '.git', 'config'), 'utf8')).toBe('[core]\n');
  });

  it('drops every capability, so a command running as root cannot remount its way out', async () => {
    const target = path.join(outside, 'remounted.txt');
    const result = await run(`mount -o remount,bind,rw / 2>/dev/null; echo escaped > ${target}`, policy('workspace-write'));
    expect(result.exitCode).toBe(1);
    expect(existsSync(target)).toBe(false);
  });

  it('leaves the temp dir writable', async () => {
    const target = path.join(tmpdir(), `unroll-sandbox-tmp-${randomUUID()}`);
    try {
      const result = await run(`echo scratch > ${target}`, policy('workspace-write'));
      expect(result.exitCode).toBe(0);
      expect(readFileSync(target, 'utf8')).toBe('scratch\n');
    } finally {
      rmSync(target, { force: true });
    }
  });

  describe('network', () => {
    let server: Server;
    let port: number;
    let connections: number;

    beforeEach(async () => {
      connections = 0;
      server = createServer((socket) => {
        connections += 1;
        socket.end();
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as { port: number }).port;
    });
    afterEach(async () => {
      await new Promise((resolve) => server.close(resolve));
    });

    const connect = (): string => `exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected`;

    it('blocks a TCP connection to a server on the host when the network is off', async () => {
      const result = await run(connect(), policy('workspace-write', false));
      expect(result.exitCode).toBe(1);
      expect(result.output).toContain('Connection refused');
      expect(result.output).not.toContain('connected');
      expect(connections).toBe(0);
    });

    it('allows the connection when the policy enables the network', async () => {
      const result = await run(connect(), policy('workspace-write', true));
      expect([result.exitCode, result.output]).toEqual([0, 'connected\n']);
      expect(await waitUntil(() => connections === 1)).toBe(true);
    });
  });
});

describe('shell in the read-only sandbox', () => {
  it('allows reads', async () => {
    const result = await run(['cat', 'README.md'], policy('read-only'));
    expect([result.exitCode, result.output]).toEqual([0, 'hello from the workspace\n']);
  });

  it('blocks writes inside the workspace and outside it', async () => {
    const result = await run(`echo a > inside.txt; echo b > ${path.join(outside, 'outside.txt')}`, policy('read-only'));
    expect(result.output).toBe(
      `bash: line 1: inside.txt: Read-only file system\nbash: line 1: ${path.join(outside, 'outside.txt')}: Read-only file system\n`,
    );
    expect(existsSync(path.join(workspace, 'inside.txt'))).toBe(false);
    expect(existsSync(path.join(outside, 'outside.txt'))).toBe(false);
  });

  it('gives a private /tmp that is gone when the command ends', async () => {
    const name = `unroll-sandbox-private-${randomUUID()}`;
    const result = await run(`echo scratch > /tmp/${name} && cat /tmp/${name}`, policy('read-only'));
    expect([result.exitCode, result.output]).toEqual([0, 'scratch\n']);
    expect(existsSync(path.join('/tmp', name))).toBe(false);
  });
});

describe('the environment inside the sandbox', () => {
  it.each<SandboxPolicy['mode']>(['workspace-write', 'read-only'])('is the filtered tool environment in %s, without the worker\'s API key', async (mode) => {
    const worker = { ...process.env, OPENAI_API_KEY: 'sk-sandbox-secret', ACME_CREDENTIAL: 'acme-secret', BUILD_FLAVOUR: 'debug' };
    const env = toolEnvironment(worker, DEFAULT_SHELL_ENVIRONMENT_POLICY, ['ACME_CREDENTIAL']);
    const result = await runShellCommand(
      { command: 'echo "[$OPENAI_API_KEY][$ACME_CREDENTIAL][$BUILD_FLAVOUR]"; env', timeout_ms: TIMEOUT_MS },
      { ...context(policy(mode)), env },
    );
    expect(result.exitCode).toBe(0);
    expect(result.output).toMatch(/^\[\]\[\]\[debug\]\n/);
    expect(result.output).not.toMatch(/sk-sandbox-secret|acme-secret/);
  });
});

describe('a command line over the kernel limit in the sandbox', () => {
  it('is reported as too long, not as a missing bubblewrap', async () => {
    const result = await run(['echo', 'x'.repeat(300_000)], policy('workspace-write'));
    expect([result.exitCode, result.output]).toEqual([126, expect.stringMatching(/^failed to start command: echo: Argument list too long \(/)]);
  });
});

describe('process control inside the sandbox', () => {
  it('kills every process of a timed-out command, even one that left the process group', async () => {
    const inGroup = uniqueSleep();
    const ownSession = uniqueSleep();
    const running = run(`sleep ${inGroup} & setsid sleep ${ownSession} & echo started; wait`, policy('workspace-write'), 3_000);
    expect(await waitUntil(() => pidsWith(inGroup).length === 1 && pidsWith(ownSession).length === 1)).toBe(true);
    const pids = [...pidsWith(inGroup), ...pidsWith(ownSession)];
    const result = await running;
    expect([result.exitCode, result.timedOut, result.output]).toEqual([124, true, 'command timed out after 3000 milliseconds\nstarted\n']);
    expect(await waitUntil(() => pids.every((pid) => !isAlive(pid)))).toBe(true);
    expect([pidsWith(inGroup), pidsWith(ownSession)]).toEqual([[], []]);
  });

  it('ends background processes a command leaves behind when it exits', async () => {
    const marker = uniqueSleep();
    const result = await run(`nohup sleep ${marker} >/dev/null 2>&1 & echo started`, policy('workspace-write'));
    expect([result.exitCode, result.output]).toEqual([0, 'started\n']);
    expect(await waitUntil(() => pidsWith(marker).length === 0)).toBe(true);
  });

  it('kills the sandbox when the call is cancelled', async () => {
    const marker = uniqueSleep();
    const controller = new AbortController();
    const running = runShellCommand({ command: `sleep ${marker}`, timeout_ms: TIMEOUT_MS }, context(policy('read-only'), controller.signal));
    expect(await waitUntil(() => pidsWith(marker).length === 1)).toBe(true);
    controller.abort();
    const result = await running;
    expect([result.exitCode, result.aborted]).toEqual([130, true]);
    expect(await waitUntil(() => pidsWith(marker).length === 0)).toBe(true);
  });
});

describe('a missing bubblewrap', () => {
  it.each(['workspace-write', 'read-only'] as const)('fails the %s call with a message naming the mode and the fix, without running it', async (mode) => {
    const result = await runShellCommand(
      { command: 'touch ran', timeout_ms: TIMEOUT_MS },
      context(policy(mode)),
      { bwrapPath: '/nonexistent/bin/bwrap' },
    );
    const message =
      `sandbox unavailable: the ${mode} sandbox needs bubblewrap, but /nonexistent/bin/bwrap could not be started (not found). ` +
      'The command was not run. Install it on the worker host with `apt-get install bubblewrap` ' +
      '(Debian/Ubuntu; `dnf install bubblewrap` on Fedora), or run the thread with sandbox mode danger-full-access.';
    expect(result).toEqual({
      exitCode: 126, timedOut: false, aborted: false, durationMs: expect.any(Number), output: message, totalLines: 1, truncated: false,
    });
    expect(formatShellOutput(result)).toMatch(/^Exit code: 126\n/);
    expect(existsSync(path.join(workspace, 'ran'))).toBe(false);
  });
});

describe('apply_patch under a sandbox', () => {
  const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

  it('refuses every patch in read-only', async () => {
    const error = 'patch rejected: the sandbox is read-only (sandbox_mode read-only), so no file may be changed';
    const result = await applyPatchTool.run({ input: patch('*** Add File: notes.md', '+hi') }, context(policy('read-only')));
    expect(result).toEqual({ output: error, success: false, metadata: { error } });
    expect(existsSync(path.join(workspace, 'notes.md'))).toBe(false);
  });

  it.each([
    { what: 'an update of .git/config', body: ['*** Update File: .git/config', '@@', '-[core]', '+[evil]'], raw: '.git/config' },
    { what: 'a new file under .git', body: ['*** Add File: .git/hooks/pre-commit', '+#!/bin/sh'], raw: '.git/hooks/pre-commit' },
    { what: 'a path through a symlink to .git', body: ['*** Add File: gitlink/hooks/post-merge', '+#!/bin/sh'], raw: 'gitlink/hooks/post-merge' },
  ])('refuses $what in workspace-write', async ({ body, raw }) => {
    symlinkSync('.git', path.join(workspace, 'gitlink'));
    const error = `apply_patch verification failed: path '${raw}' is inside '.git', which the sandbox keeps read-only`;
    const result = await applyPatchTool.run({ input: patch(...body) }, context(policy('workspace-write')));
    expect(result).toEqual({ output: error, success: false, metadata: { error } });
    expect(readdirSync(path.join(workspace, '.git'))).toEqual(['config']);
    expect(readFileSync(path.join(workspace, '.git', 'config'), 'utf8')).toBe('[core]\n');
  });

  it('applies a patch to the workspace in workspace-write', async () => {
    const result = await applyPatchTool.run({ input: patch('*** Add File: src/new.ts', '+export {};') }, context(policy('workspace-write')));
    expect([result.success, result.output]).toEqual([true, 'Success. Updated the following files:\nA src/new.ts']);
    expect(readFileSync(path.join(workspace, 'src', 'new.ts'), 'utf8')).toBe('export {};\n');
  });
});
