/**
 * Intervening from a second terminal while `unroll exec` runs: `pending` + `approve`,
 * `send`, and `interrupt` (the exec exits 130 and the thread resumes normally).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import type { ScriptedResponsesServer } from '../support/responses-server';
import { waitFor } from '../support/worker-process';
import { runCli, startCliFixture, type CliFixture, type CliRun } from './run-cli';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'unroll');

/** Starts `unroll exec --json -s workspace-write` (the commands write files) in the background; resolves the thread id once printed. */
function startExec(args: string[], env: Record<string, string | undefined>, cwd: string) {
  const child = spawn(process.execPath, [CLI, 'exec', '--json', '-s', 'workspace-write', ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliRun>((resolve) => child.once('exit', (code) => resolve({ code: code ?? 1, stdout, stderr })));
  const threadId = async () => {
    await waitFor('thread.started', () => stdout.includes('thread.started'));
    return (JSON.parse(stdout.split('\n')[0]) as { thread_id: string }).thread_id;
  };
  return { done, threadId, events: () => stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as { type: string }) };
}

describe('intervening with the CLI', () => {
  let model: ScriptedResponsesServer;
  let workspace: string;
  let env: Record<string, string | undefined>;

  let fixture: CliFixture;

  beforeAll(async () => {
    fixture = await startCliFixture('hitl-cli');
    ({ model, workspace, env } = fixture);
  });
  afterAll(async () => {
    await fixture.close();
  });
  afterEach(() => model.assertProtocol());

  test('pending lists the waiting call and approve lets it run', async () => {
    model.enqueue(respond(shellCall('echo yes >> approved.txt')), respond(assistantMessage('done')));
    const exec = startExec(['-a', 'untrusted', 'write a file'], env, workspace);
    const threadId = await exec.threadId();
    let pending: Array<{ callId: string; summary: string }> = [];
    await waitFor('the pending approval', async () => {
      const run = await runCli(['pending', '--json', threadId], env, workspace);
      pending = run.code === 0 ? (JSON.parse(run.stdout) as typeof pending) : [];
      return pending.length === 1;
    }, 60_000);
    expect(pending[0].summary).toBe('shell: echo yes >> approved.txt');
    const approved = await runCli(['approve', threadId], env, workspace);
    expect(approved.stdout).toBe(`approved ${pending[0].callId}\n`);
    const result = await exec.done;
    expect(result.code).toBe(0);
    expect(await readFile(path.join(workspace, 'approved.txt'), 'utf8')).toBe('yes\n');
    expect(exec.events().map((e) => e.type)).toContain('approval.resolved');
  });

  test('interrupt stops the running command, exec exits 130, and the thread resumes', async () => {
    model.enqueue(respond(shellCall('echo started > long.txt; sleep 30', { timeout_ms: 60_000 })));
    const exec = startExec(['run something long'], env, workspace);
    const threadId = await exec.threadId();
    await waitFor('the command to start', () => existsSync(path.join(workspace, 'long.txt')), 60_000);
    const interrupted = await runCli(['interrupt', threadId], env, workspace);
    expect(interrupted.code).toBe(0);
    const result = await exec.done;
    expect(result.code).toBe(130);
    expect(exec.events().pop()).toEqual({ type: 'turn.failed', error: { message: 'turn interrupted by the user' } });

    model.enqueue(respond(assistantMessage('resumed fine')));
    const resumed = await runCli(['resume', '--json', threadId, 'carry on'], env, workspace);
    expect(resumed.code).toBe(0);
    expect(JSON.stringify(model.requests[model.requests.length - 1].input)).toContain('<turn_aborted>');
  });

  test('an intervention with no worker running says so instead of hanging', async () => {
    model.enqueue(respond(assistantMessage('short')));
    const first = await runCli(['exec', '--json', 'hello'], env, workspace);
    const threadId = (JSON.parse(first.stdout.split('\n')[0]) as { thread_id: string }).thread_id;
    // exec left the home's resident worker running (it would answer): stop it.
    expect((await runCli(['worker', 'stop'], env, workspace)).code).toBe(0);
    const deny = await runCli(['deny', threadId], { ...env, UNROLL_WORKER_WAIT_MS: '2000' }, workspace);
    expect(deny.code).toBe(2);
    expect(deny.stderr).toContain(`no worker answered for thread ${threadId} within 2 s`);
  });
});
