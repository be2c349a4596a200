/**
 * The CLI used wrongly: unknown commands and flags, missing or empty prompts, an
 * unreadable or invalid config.json, a malformed or unreachable Temporal address, thread
 * ids that are malformed, a resume with nothing to resume. Each gets one clear line on
 * stderr and a non-zero exit, nothing is sent to the model, and nothing is left running.
 * Runs the compiled CLI (`npm run build` first; `npm test` does).
 */
import { execFile } from 'node:child_process';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ScriptedResponsesServer } from '../support/responses-server';
import { startCliFixture, type CliFixture } from '../e2e/run-cli';
import { assistantMessage, respond } from '../support/responses-builders';
import { unusedLoopbackPort } from '../support/ports';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'unroll');

interface RunResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function runCli(args: string[], env: Record<string, string | undefined>, cwd: string): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env, cwd, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
    // exec reads a piped stdin to its end (as codex exec does): give it an empty one.
    child.stdin?.end();
  });
}

describe('CLI misuse', () => {
  let model: ScriptedResponsesServer;
  let home: string;
  let workspace: string;
  let env: Record<string, string | undefined>;
  let requestsBefore: number;

  let fixture: CliFixture;

  beforeAll(async () => {
    fixture = await startCliFixture('misuse');
    ({ model, home, workspace, env } = fixture);
  });
  afterAll(async () => {
    await fixture.close();
  });
  beforeEach(() => {
    requestsBefore = model.requests.length;
  });
  afterEach(async () => {
    await rm(path.join(home, 'config.json'), { recursive: true, force: true });
    model.assertProtocol();
  });
  const nothingSent = () => expect(model.requests.length).toBe(requestsBefore);

  test.each<[string, string[], RegExp]>([
    ['an unknown command', ['frobnicate'], /unknown command 'frobnicate'/],
    ['an unknown flag', ['exec', '--frobnicate', 'hi'], /unknown option '--frobnicate'/],
    ['exec without a prompt (and an empty stdin)', ['exec'], /^unroll: no prompt provided via stdin/m],
    ['exec with an empty prompt', ['exec', '   '], /^unroll: the prompt is empty/m],
    ['a flag without its value', ['exec', 'hi', '--model'], /option '-m, --model <model>' argument missing/],
  ])('%s is a usage error (exit 2) and reaches nothing', async (_case, args, message) => {
    const run = await runCli(args, env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(message);
    expect(run.stdout).toBe('');
    nothingSent();
  });

  test('an unknown provider without a base URL is a usage error that lists the known ones', async () => {
    const run = await runCli(['exec', '--provider', 'nosuch', 'hi'], { ...env, UNROLL_BASE_URL: undefined }, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toBe('unroll: unknown provider "nosuch": known providers are openai, ollama, lmstudio; or give --base-url\n');
    nothingSent();
  });

  test.each<[string, () => Promise<void>, RegExp]>([
    ['a directory in place of config.json', () => mkdir(path.join(home, 'config.json')), /cannot read .*config\.json: EISDIR/],
    ['a config.json that is not JSON', () => writeFile(path.join(home, 'config.json'), '{ "model": "gpt-5", '), /config\.json is not valid JSON: /],
    ['a config.json with a value of the wrong type', () => writeFile(path.join(home, 'config.json'), '{"temporal": {"autoStartServer": "yes"}}'), /config\.json is invalid: temporal\.autoStartServer: /],
  ])('%s stops every command with a message naming the file', async (_case, breakConfig, message) => {
    await breakConfig();
    for (const args of [['exec', 'hi'], ['resume', 'th-x', 'hi'], ['worker']]) {
      const run = await runCli(args, env, workspace);
      expect({ args, code: run.code }).toEqual({ args, code: 2 });
      expect(run.stderr).toMatch(message);
    }
    nothingSent();
  });

  test('an unreachable server with auto-start off is named in the error, for exec and resume alike', async () => {
    const address = `127.0.0.1:${await unusedLoopbackPort()}`;
    const offline = { ...env, UNROLL_TEMPORAL_ADDRESS: address, UNROLL_AUTO_START_SERVER: '0' };
    for (const args of [['exec', 'hi'], ['resume', 'th-x', 'hi']]) {
      const run = await runCli(args, offline, workspace);
      expect(run.code).not.toBe(0);
      expect(run.stderr).toBe(`unroll: cannot reach Temporal at ${address}: nothing answers and auto-start is off (UNROLL_AUTO_START_SERVER=0)\n`);
    }
    nothingSent();
  });

  test('a remote address that does not answer is not replaced by a local dev server', async () => {
    const run = await runCli(['exec', '--temporal-address', '192.0.2.1:7233', 'hi'], env, workspace);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('cannot reach Temporal at 192.0.2.1:7233: nothing answers there (Unroll only starts a dev server on a loopback address)');
    nothingSent();
  });

  test('a malformed Temporal address is reported as such', async () => {
    const run = await runCli(['exec', '--temporal-address', 'localhost', 'hi'], env, workspace);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('Temporal address "localhost" is not of the form host:port (e.g. 127.0.0.1:7233)');
    nothingSent();
  });

  test('resume with a malformed thread id names the id and the allowed characters', async () => {
    const run = await runCli(['resume', 'no spaces/allowed', 'hi'], env, workspace);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('"no spaces/allowed" is not a valid thread id');
    nothingSent();
  });

  test('resume without a prompt on a thread whose turn has ended says there is nothing to follow', async () => {
    model.enqueue(respond(assistantMessage('first answer')));
    const first = await runCli(['exec', 'start a thread'], env, workspace);
    expect(first.code).toBe(0);
    const threadId = /thread: (th-[\w-]+)/.exec(first.stderr)?.[1];
    expect(threadId).toBeDefined();

    requestsBefore = model.requests.length;
    const run = await runCli(['resume', threadId!], env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`unroll: thread ${threadId} has no running turn; give a prompt to start the next one`);
    nothingSent();
  });
});
