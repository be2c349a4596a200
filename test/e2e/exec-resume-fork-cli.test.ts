/**
 * `unroll exec resume --last [prompt]`, `unroll exec resume <id> [prompt]` and `unroll exec
 * fork <id> [prompt]` as in Codex 0.171; `--ephemeral`; and a quiet terminal: a retried
 * model request is one line on stderr, the SDK's own log lines go to the home's log file
 * (its path printed once), and `-v` shows them. The compiled CLI (`npm run build` first)
 * against the shared dev server and a scripted Responses server.
 */
import { execFile } from 'node:child_process';
import { mkdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';
import type { ScriptedResponsesServer } from '../support/responses-server';
import { assistantMessage, httpError, rateLimited, respond } from '../support/responses-builders';
import { runCli, startCliFixture, type CliFixture } from './run-cli';

jest.setTimeout(180_000);

const threadOf = (stdout: string): string => (JSON.parse(stdout.split('\n')[0]) as { thread_id: string }).thread_id;

describe('exec resume and exec fork', () => {
  let fixture: CliFixture;
  let model: ScriptedResponsesServer;
  let workspace: string;
  let env: Record<string, string | undefined>;
  /** Another git repository: a thread started there is newer but not of the workspace. */
  let elsewhere: string;

  beforeAll(async () => {
    fixture = await startCliFixture('exec-resume');
    ({ model, workspace, env } = fixture);
    elsewhere = path.join(path.dirname(workspace), 'elsewhere');
    await mkdir(elsewhere);
    await promisify(execFile)('git', ['init', '-q', elsewhere]);
  });
  afterAll(async () => {
    await fixture.close();
  });
  afterEach(() => model.assertProtocol());

  const lastRequest = () => model.requests[model.requests.length - 1];

  test('exec resume --last continues the newest thread of this directory, not a newer one elsewhere', async () => {
    model.enqueue(respond(assistantMessage('here first')), respond(assistantMessage('elsewhere first')), respond(assistantMessage('here again')));
    const here = await runCli(['exec', '--json', 'start here'], env, workspace);
    expect(here.code).toBe(0);
    const other = await runCli(['exec', '--json', 'start elsewhere'], env, elsewhere);
    expect(other.code).toBe(0);

    const resumed = await runCli(['exec', 'resume', '--last', '--json', 'continue here'], env, workspace);
    expect(resumed.code).toBe(0);
    expect(threadOf(resumed.stdout)).toBe(threadOf(here.stdout));
    expect(lastRequest().body.prompt_cache_key).toBe(threadOf(here.stdout));
    const text = JSON.stringify(lastRequest().input);
    expect(text).toContain('start here');
    expect(text).toContain('here first');
    expect(text).toContain('continue here');
    expect(text).not.toContain('start elsewhere');
  });

  test('exec resume --last --all takes the newest thread of any directory', async () => {
    model.enqueue(respond(assistantMessage('newest')), respond(assistantMessage('continued')));
    const newest = await runCli(['exec', '--json', 'the newest thread'], env, elsewhere);
    const resumed = await runCli(['exec', 'resume', '--last', '--all', '--json', 'go on'], env, workspace);
    expect(resumed.code).toBe(0);
    expect(threadOf(resumed.stdout)).toBe(threadOf(newest.stdout));
  });

  test('exec resume <id> <prompt> runs the next turn of that thread, and -o gets its answer', async () => {
    model.enqueue(respond(assistantMessage('first answer')), respond(assistantMessage('second answer')));
    const first = await runCli(['exec', '--json', 'first question'], env, workspace);
    const threadId = threadOf(first.stdout);
    const out = path.join(path.dirname(workspace), 'resume-last.txt');
    const second = await runCli(['exec', 'resume', threadId, 'second question', '-o', out], env, workspace);
    expect(second.code).toBe(0);
    expect(second.stdout).toBe('second answer\n');
    expect(await readFile(out, 'utf8')).toBe('second answer');
    const text = JSON.stringify(lastRequest().input);
    // The prompt is the follow-up: not a new thread whose prompt is "resume <id>".
    expect(text).toContain('first question');
    expect(text).toContain('"text":"second question"');
    expect(text).not.toContain(`resume ${threadId}`);
  });

  test('exec resume of an unknown thread says so (exit 2)', async () => {
    const run = await runCli(['exec', 'resume', 'th-does-not-exist', 'hi'], env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('thread th-does-not-exist not found');
  });

  test('exec fork <id> <prompt> starts a new thread with the whole transcript, and the parent is unchanged', async () => {
    model.enqueue(respond(assistantMessage('parent answer')), respond(assistantMessage('fork answer')));
    const parent = await runCli(['exec', '--json', 'parent question'], env, workspace);
    const parentId = threadOf(parent.stdout);
    const requestsBefore = model.requests.length;
    const fork = await runCli(['exec', 'fork', parentId, '--json', 'fork question'], env, workspace);
    expect(fork.code).toBe(0);
    const forkId = threadOf(fork.stdout);
    expect(forkId).not.toBe(parentId);
    expect(model.requests).toHaveLength(requestsBefore + 1);
    expect(lastRequest().body.prompt_cache_key).toBe(forkId);
    const text = JSON.stringify(lastRequest().input);
    expect(text).toContain('parent question');
    expect(text).toContain('parent answer');
    expect(text).toContain('fork question');

    const shown = await runCli(['show', '--json', parentId], env, workspace);
    expect(JSON.stringify(JSON.parse(shown.stdout))).not.toContain('fork question');
  });

  test('an --ephemeral thread ends with its turn: it cannot be resumed and --last passes it over', async () => {
    model.enqueue(respond(assistantMessage('kept')), respond(assistantMessage('ephemeral')), respond(assistantMessage('resumed the kept one')));
    const kept = await runCli(['exec', '--json', 'a thread to keep'], env, workspace);
    const ephemeral = await runCli(['exec', '--json', '--ephemeral', 'a throwaway'], env, workspace);
    expect(ephemeral.code).toBe(0);
    const refused = await runCli(['exec', 'resume', threadOf(ephemeral.stdout), 'more'], env, workspace);
    expect(refused.code).not.toBe(0);
    const resumed = await runCli(['exec', 'resume', '--last', '--json', 'more'], env, workspace);
    expect(resumed.code).toBe(0);
    expect(threadOf(resumed.stdout)).toBe(threadOf(kept.stdout));
  });

  test('a retried model request is one line on stderr; the SDK log goes to the home\'s log file, named once', async () => {
    model.enqueue(rateLimited(1), httpError(503, undefined, { 'retry-after': '1' }), respond(assistantMessage('answered after retries')));
    // The SDK runs in this process only with an in-process worker (the resident one logs to
    // its own worker.log): stop the resident worker the earlier tests started, so it takes no task.
    await runCli(['worker', 'stop'], env, workspace);
    const run = await runCli(['exec', '--in-process-worker', 'ask through the retries'], env, workspace);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('answered after retries\n');
    const lines = run.stderr.split('\n');
    expect(lines.filter((line) => line.startsWith('retrying:'))).toHaveLength(2);
    const logFile = path.join(fixture.home, 'logs', 'unroll.log');
    expect(lines.filter((line) => line.includes(logFile))).toEqual([`unroll: SDK warnings and errors are logged to ${logFile}`]);
    expect(run.stderr).not.toContain('Activity failed');
    expect(run.stderr).not.toContain('[WARN]');
    // Everything but the header, the prompt, the retries, the log's path and the summary: nothing.
    expect(lines.length).toBeLessThan(12);
    const log = await readFile(logFile, 'utf8');
    expect(log).toMatch(/\[WARN\] Activity failed/);
    // One entry per line, even with a stack trace in it.
    expect(log.split('\n').filter((line) => line.includes('Activity failed')).length).toBeGreaterThanOrEqual(2);
  });

  test('-v also prints the SDK log lines on stderr', async () => {
    model.enqueue(rateLimited(1), respond(assistantMessage('verbose answer')));
    await runCli(['worker', 'stop'], env, workspace);
    const run = await runCli(['-v', 'exec', '--in-process-worker', 'ask verbosely'], env, workspace);
    expect(run.code).toBe(0);
    expect(run.stderr).toMatch(/\[WARN\] Activity failed/);
    expect(run.stderr).toMatch(/\[INFO\] /);
  });
});
