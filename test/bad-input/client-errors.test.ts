/**
 * Client mistakes whose errors used to be opaque, each now with a message that says what
 * is wrong, through the compiled CLI (`npm run build` first): approving a call that does
 * not wait ("Workflow Update failed"), a Temporal address where something else answers
 * (11 s, then "Failed to connect before the deadline"), importing a file that does not
 * exist ("not a valid Unroll bundle: ENOENT"), and a prompt over the size limit (the
 * update was refused after the thread had been created, leaving an empty session).
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import type { ScriptedResponsesServer } from '../support/responses-server';
import { waitFor } from '../support/worker-process';
import { offlineEnv, runCli, spawnCli, startCliFixture, type CliFixture } from '../e2e/run-cli';

jest.setTimeout(180_000);

describe('client errors say what is wrong', () => {
  let model: ScriptedResponsesServer;
  let home: string;
  let workspace: string;
  let env: Record<string, string | undefined>;
  let fixture: CliFixture;
  let requestsBefore: number;

  beforeAll(async () => {
    fixture = await startCliFixture('client-errors');
    ({ model, home, workspace, env } = fixture);
  });
  afterAll(async () => {
    await fixture.close();
  });
  beforeEach(() => {
    requestsBefore = model.requests.length;
  });
  afterEach(() => model.assertProtocol());

  const threadIds = async (): Promise<string[]> => {
    const listed = await runCli(['threads', '--json', '--limit', '1000'], env, workspace);
    expect(listed.code).toBe(0);
    return (JSON.parse(listed.stdout) as { threadId: string }[]).map((t) => t.threadId);
  };

  test('approving a call that is not waiting names the call and the calls that wait', async () => {
    model.enqueue(respond(shellCall('echo yes > approved.txt')), respond(assistantMessage('done')));
    const exec = spawnCli(['exec', '--json', '-a', 'untrusted', 'write a file'], env, workspace);
    await waitFor('thread.started', () => exec.stdout().includes('thread.started'), 60_000);
    const threadId = (JSON.parse(exec.stdout().split('\n')[0]) as { thread_id: string }).thread_id;
    let waiting: { callId: string }[] = [];
    await waitFor('the pending approval', async () => {
      const run = await runCli(['pending', '--json', threadId], env, workspace);
      waiting = run.code === 0 ? (JSON.parse(run.stdout) as typeof waiting) : [];
      return waiting.length === 1;
    }, 60_000);

    const wrong = await runCli(['approve', threadId, 'call_nope'], env, workspace);
    expect(wrong).toEqual({
      code: 2,
      stdout: '',
      stderr: `unroll: thread ${threadId} refused the approval: call "call_nope" is not waiting for approval (waiting: ${waiting[0].callId})\n`,
    });
    const denied = await runCli(['deny', threadId, 'call_nope'], env, workspace);
    expect(denied.stderr).toBe(`unroll: thread ${threadId} refused the denial: call "call_nope" is not waiting for approval (waiting: ${waiting[0].callId})\n`);

    expect((await runCli(['approve', threadId], env, workspace)).code).toBe(0);
    expect((await exec.done).code).toBe(0);
  });

  test('a Temporal address where a web server answers fails at once, naming the address and what answered', async () => {
    const web = http.createServer((_req, res) => res.end('a web page'));
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    const address = `127.0.0.1:${(web.address() as AddressInfo).port}`;
    try {
      for (const args of [['exec', '--temporal-address', address, 'hi'], ['threads', '--temporal-address', address], ['worker', '--temporal-address', address]]) {
        const run = await runCli(args, env, workspace);
        expect({ args, code: run.code, stderr: run.stderr }).toEqual({
          args,
          code: 2,
          stderr: `unroll: the server at ${address} is not a Temporal frontend (it answers HTTP/1, not gRPC over HTTP/2: "HTTP/1.1 400 Bad Request"); check --temporal-address or UNROLL_TEMPORAL_ADDRESS\n`,
        });
      }
    } finally {
      await new Promise<void>((resolve) => web.close(() => resolve()));
    }
    expect(model.requests.length).toBe(requestsBefore);
  });

  test('importing a file that does not exist says there is no such file', async () => {
    const missing = path.join(workspace, 'nope.unroll.gz');
    const run = await runCli(['import', 'nope.unroll.gz'], offlineEnv(home), workspace);
    expect(run).toEqual({ code: 2, stdout: '', stderr: `unroll: no such file: ${missing}\n` });
  });

  test('a prompt over the size limit is refused before a thread is started, naming its size and the limit', async () => {
    const before = await threadIds();
    const prompt = 'x'.repeat(300 * 1024);
    const run = await runCli(['exec', '-'], env, workspace, 60_000, prompt);
    expect(run).toEqual({ code: 2, stdout: '', stderr: 'unroll: the prompt is 300 KiB; the limit is 256 KiB (put large input in a file and refer to it)\n' });
    expect(await threadIds()).toEqual(before);
    expect(model.requests.length).toBe(requestsBefore);
  });

  test('a follow-up over the size limit is refused for resume and send, and the thread is unchanged', async () => {
    model.enqueue(respond(assistantMessage('first')));
    const first = await runCli(['exec', '--json', 'start'], env, workspace);
    expect(first.code).toBe(0);
    const threadId = (JSON.parse(first.stdout.split('\n')[0]) as { thread_id: string }).thread_id;
    requestsBefore = model.requests.length;

    const resumed = await runCli(['resume', threadId, '-'], env, workspace, 60_000, 'y'.repeat(257 * 1024));
    expect(resumed).toEqual({ code: 2, stdout: '', stderr: 'unroll: the prompt is 257 KiB; the limit is 256 KiB (put large input in a file and refer to it)\n' });
    // One argument may not exceed 128 KiB (the kernel's limit), so the message comes in three words.
    const sent = await runCli(['send', threadId, 'z'.repeat(100 * 1024), 'z'.repeat(100 * 1024), 'z'.repeat(100 * 1024)], env, workspace);
    expect(sent.code).toBe(2);
    expect(sent.stderr).toBe('unroll: the message is 300 KiB; the limit is 256 KiB (put large input in a file and refer to it)\n');

    const shown = await runCli(['show', '--json', threadId], env, workspace);
    expect((JSON.parse(shown.stdout) as { turns: unknown[] }).turns).toHaveLength(1);
    expect(model.requests.length).toBe(requestsBefore);
  });
});
