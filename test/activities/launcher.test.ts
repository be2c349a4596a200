/**
 * The process launcher (src/tools/launcher.ts): tool and git processes are started by a
 * small launcher process, not by a fork of the worker, and behave as children do: output,
 * stdin, exit codes and signals relayed; spawn failures reported as errors; a launcher that
 * dies fails its running commands (never a hang) and is replaced on the next launch.
 * Real processes throughout.
 */
import { readFileSync } from 'node:fs';
import { launch, launcherPid, type LaunchedProcess } from '../../src/tools/launcher';

const ENV = { PATH: process.env.PATH ?? '/usr/bin:/bin' };

interface Ended {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly all: string;
  readonly error?: NodeJS.ErrnoException;
}

function ended(child: LaunchedProcess): Promise<Ended> {
  let stdout = '';
  let stderr = '';
  let all = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  child.all.on('data', (c: Buffer) => (all += c.toString()));
  return new Promise((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal, stdout, stderr, all }));
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, stdout, stderr, all, error }));
  });
}

/** The parent pid of a running process, from /proc. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

describe('the process launcher', () => {
  test('relays stdin, stdout, stderr (and both merged) and the exit code', async () => {
    const child = launch('sh', ['-c', 'read line; echo "out:$line"; echo err >&2; exit 7'], { cwd: '/tmp', env: ENV, stdin: 'pipe' });
    const result = ended(child);
    child.stdin?.end('hello\n');
    const done = await result;
    expect(done).toMatchObject({ code: 7, signal: null, stdout: 'out:hello\n', stderr: 'err\n' });
    expect(done.all.split('\n').sort()).toEqual(['', 'err', 'out:hello']);
  });

  test('the command is a child of the launcher, not of this process, and leads its own group when asked', async () => {
    const child = launch('sleep', ['5'], { cwd: '/tmp', env: ENV, detached: true });
    const result = ended(child);
    await new Promise((resolve) => child.once('spawn', resolve));
    const pid = child.pid as number;
    expect(parentOf(pid)).toBe(launcherPid());
    expect(parentOf(pid)).not.toBe(process.pid);
    process.kill(-pid, 'SIGTERM');
    expect(await result).toMatchObject({ code: null, signal: 'SIGTERM' });
  });

  test('spawn failures are errors with their code: a missing program, a command line over the kernel limit', async () => {
    expect((await ended(launch('/nonexistent/program', [], { cwd: '/tmp', env: ENV }))).error?.code).toBe('ENOENT');
    expect((await ended(launch('true', ['x'.repeat(3 * 1024 * 1024)], { cwd: '/tmp', env: ENV }))).error?.code).toBe('E2BIG');
    expect((await ended(launch('true', [], { cwd: '/nonexistent/dir', env: ENV }))).error?.code).toBe('ENOENT');
  });

  test('a launcher that dies fails its running commands, and the next launch starts a new one', async () => {
    const running = launch('sleep', ['30'], { cwd: '/tmp', env: ENV, detached: true });
    const result = ended(running);
    await new Promise((resolve) => running.once('spawn', resolve));
    const first = launcherPid() as number;
    process.kill(first, 'SIGKILL');
    const failed = await result;
    expect(failed.error?.message).toMatch(/the process launcher exited \(SIGKILL\); the command's outcome is unknown/);
    process.kill(-(running.pid as number), 'SIGKILL');
    const next = await ended(launch('echo', ['again'], { cwd: '/tmp', env: ENV }));
    expect(next).toMatchObject({ code: 0, stdout: 'again\n' });
    expect(launcherPid()).not.toBe(first);
  });
});
