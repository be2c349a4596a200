/**
 * `unroll exec` / `unroll resume` as a user runs them: the compiled CLI in a child
 * process, against the shared dev server and a scripted Responses server.
 */
import { readFile, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import type { ScriptedResponsesServer } from '../support/responses-server';
import { runCli, startCliFixture, type CliFixture } from './run-cli';
import { applyPatchCall, assistantMessage, reasoning, respond, shellCall, updatePlanCall } from '../support/responses-builders';

describe('the unroll CLI', () => {
  let model: ScriptedResponsesServer;
  let workspace: string;
  let env: Record<string, string | undefined>;

  let fixture: CliFixture;

  beforeAll(async () => {
    fixture = await startCliFixture('cli');
    ({ model, workspace, env } = fixture);
  });
  afterAll(async () => {
    await fixture.close();
  });
  afterEach(() => model.assertProtocol());

  test('exec --json prints the codex exec event stream for a turn with tools', async () => {
    model.enqueue(
      respond([reasoning('Looking around', 'enc-1'), updatePlanCall([{ step: 'write file', status: 'in_progress' }])]),
      respond(shellCall('echo hi')),
      respond(applyPatchCall('*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch')),
      respond(assistantMessage('All done.')),
    );
    const run = await runCli(['exec', '--json', '-s', 'workspace-write', 'make hello.txt'], env, workspace);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const threadId = events[0].thread_id;
    expect(threadId).toMatch(/^th-/);
    const shapes = events.map((e: { type: string; item?: { type: string } }) => (e.item ? `${e.type}:${e.item.type}` : e.type));
    expect(shapes).toEqual([
      'thread.started',
      'turn.started',
      'item.completed:reasoning',
      'item.started:todo_list',
      'item.started:command_execution',
      'item.completed:command_execution',
      'item.started:file_change',
      'item.completed:file_change',
      'item.completed:agent_message',
      'item.completed:todo_list',
      'turn.completed',
    ]);
    expect(events[5].item).toEqual({ id: events[4].item.id, type: 'command_execution', command: 'echo hi', aggregated_output: 'hi\n', exit_code: 0, status: 'completed' });
    expect(events[7].item.changes).toEqual([{ path: path.join(await realpath(workspace), 'hello.txt'), kind: 'add' }]);
    expect(events[8].item.text).toBe('All done.');
    expect(events[9].item.id).toBe(events[3].item.id);
    expect(events[10].usage.input_tokens).toBeGreaterThan(0);
    expect(await readFile(path.join(workspace, 'hello.txt'), 'utf8')).toBe('hello\n');
    // The encrypted reasoning went back to the model on the next request.
    expect(model.requests[1].input).toContainEqual(expect.objectContaining({ type: 'reasoning', encrypted_content: 'enc-1' }));
  });

  test('exec prints steps on stderr and the final message on stdout, and resume continues the thread', async () => {
    model.enqueue(respond(shellCall(['bash', '-c', 'exit 3'])), respond(assistantMessage('first answer')));
    const first = await runCli(['exec', 'do something'], env, workspace);
    expect(first.code).toBe(0);
    expect(first.stdout).toBe('first answer\n');
    expect(first.stderr).toContain('$ bash -c');
    expect(first.stderr).toContain('exit 3');
    const threadId = /thread: (th-[\w-]+)/.exec(first.stderr)?.[1];
    expect(threadId).toBeDefined();

    model.enqueue(respond(assistantMessage('second answer')));
    const second = await runCli(['resume', threadId!, 'and now?'], env, workspace);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('second answer\n');
    const last = model.requests[model.requests.length - 1];
    const texts = JSON.stringify(last.input);
    expect(texts).toContain('do something');
    expect(texts).toContain('first answer');
    expect(texts).toContain('and now?');
  });

  test('compact compacts a thread and resume --model switches the model from the next turn', async () => {
    model.enqueue(respond(shellCall('echo compact-me')), respond(assistantMessage('first')));
    const first = await runCli(['exec', '--json', 'start'], env, workspace);
    expect(first.code).toBe(0);
    const threadId = JSON.parse(first.stdout.split('\n')[0]).thread_id as string;

    model.enqueue(respond(assistantMessage('SUMMARY: echoed once.')));
    const compacted = await runCli(['compact', '--json', threadId], env, workspace);
    expect(compacted.code).toBe(0);
    const event = JSON.parse(compacted.stdout);
    expect(event).toMatchObject({ type: 'context.compacted', thread_id: threadId, reason: 'manual', mode: 'local' });
    expect(event.tokens_after).toBeLessThan(event.tokens_before);

    model.enqueue(respond(assistantMessage('second')));
    const resumed = await runCli(['resume', '--json', '--model', 'switched-model', threadId, 'go on'], env, workspace);
    expect(resumed.code).toBe(0);
    const last = model.requests[model.requests.length - 1];
    expect(last.body.model).toBe('switched-model');
    expect(JSON.stringify(last.input)).toContain('SUMMARY: echoed once.');
    expect(JSON.stringify(last.input)).toContain('<model_switch>');
    const done = JSON.parse(resumed.stdout.trim().split('\n').pop()!);
    expect(done.type).toBe('turn.completed');
    expect(done.thread_usage.input_tokens).toBeGreaterThan(done.usage.input_tokens);
  });

  test('resume refuses to change the provider mid-thread', async () => {
    const run = await runCli(['resume', '--base-url', 'http://127.0.0.1:1/v1', 'th-x', 'hi'], env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('cannot change mid-thread');
  });

  test('a missing API key is a clear error naming the variable', async () => {
    const before = model.requests.length;
    const run = await runCli(['exec', 'hi'], { ...env, OPENAI_API_KEY: undefined }, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('OPENAI_API_KEY is not set');
    expect(model.requests).toHaveLength(before);
  });

  test('a bad flag gets a message and a non-zero exit', async () => {
    const run = await runCli(['exec', '--reasoning-effort', 'extreme', 'hi'], env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('expected one of');
  });

  test.each([
    [['exec', '-C', '/does/not/exist', 'hi'], 'is not a directory'],
    [['exec', '--base-url', 'not-a-url', 'hi'], 'is not an http(s) URL'],
    [['resume', 'bad id', 'hi'], 'is not a valid thread id'],
  ])('%j is a usage error (exit 2) naming the problem', async (args, message) => {
    const before = model.requests.length;
    const run = await runCli(args, env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(message);
    expect(model.requests).toHaveLength(before);
  });

  test('resume of an unknown thread says so', async () => {
    const run = await runCli(['resume', 'th-does-not-exist', 'hi'], env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('thread th-does-not-exist not found');
  });

  test('a turn the provider rejects exits 1 with the provider message', async () => {
    model.enqueue({ kind: 'http-error', status: 400, body: { error: { message: 'bad model name', type: 'invalid_request_error', code: null } } });
    const run = await runCli(['exec', '--json', 'hi'], env, workspace);
    expect(run.code).toBe(1);
    const events = run.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(events[events.length - 1]).toEqual({ type: 'turn.failed', error: { message: expect.stringContaining('bad model name') } });
  });
});
