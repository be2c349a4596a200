/**
 * The thin `exec`: with the home's resident worker running, `unroll exec` hands its command
 * line to the worker over `<home>/worker.sock` and only relays its terminal, so the client
 * process loads no Temporal SDK. Through the compiled CLI (`npm run build` first), real
 * processes: what the user sees is the ordinary exec's (events, piped prompts, exit codes,
 * usage errors, Ctrl-C), a command whose configuration is not the worker's runs in its own
 * process (nothing printed twice, the stdin it read handed on), and a worker that dies
 * during the command is reported, never a hang.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import * as path from 'node:path';
import { isAlive, readWorkerRecord, stopResidentWorker } from '../../src/client/resident-worker';
import { isResidentExecCandidate } from '../../src/client/resident-exec-client';
import { assistantMessage, hang, respond } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';
import { runCli, spawnCli, startCliFixture, type CliFixture } from './run-cli';

jest.setTimeout(240_000);

describe('exec handed to the resident worker', () => {
  let fixture: CliFixture;
  let scratch: string;
  /** A preload that lists, at exit, every module the process loaded. */
  let hook: string;

  beforeAll(async () => {
    fixture = await startCliFixture('thin-exec');
    scratch = await mkdtemp(path.join(os.tmpdir(), 'unroll-thin-exec-'));
    hook = path.join(scratch, 'loaded-modules.js');
    await writeFile(hook, "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOADED_MODULES_FILE, Object.keys(require.cache).join('\\n')));\n");
    // The first exec starts the worker (the ordinary path).
    fixture.model.enqueue(respond(assistantMessage('warm')));
    const first = await runCli(['exec', '--json', 'start the worker'], fixture.env, fixture.workspace);
    expect(first.code).toBe(0);
  });
  afterEach(() => {
    fixture.model.assertProtocol();
  });
  afterAll(async () => {
    await fixture.close();
    await rm(scratch, { recursive: true, force: true });
  });

  /** The text of the last request's last user message. */
  function lastUserText(): string {
    const input = fixture.model.requests.at(-1)?.body.input as Array<{ role?: string; content?: Array<{ text?: string }> }>;
    const user = input.filter((item) => item.role === 'user').at(-1);
    return (user?.content ?? []).map((part) => part.text ?? '').join('');
  }

  test('the client loads no Temporal SDK, and prints the events an ordinary exec prints', async () => {
    const listed = path.join(scratch, 'client-modules.txt');
    fixture.model.enqueue(respond(assistantMessage('hello from the worker')));
    const run = await runCli(['exec', '--json', 'say hello'], { ...fixture.env, NODE_OPTIONS: `--require ${hook}`, LOADED_MODULES_FILE: listed }, fixture.workspace);
    expect(run.code).toBe(0);
    const events = run.stdout.trim().split('\n').map((line) => JSON.parse(line) as { type: string; item?: { type: string; text?: string } });
    expect(events.map((e) => e.type)).toEqual(['thread.started', 'turn.started', 'item.completed', 'turn.completed']);
    expect(events[2].item).toEqual(expect.objectContaining({ type: 'agent_message', text: 'hello from the worker' }));
    const modules = (await readFile(listed, 'utf8')).split('\n');
    expect(modules.filter((m) => m.includes(`${path.sep}@temporalio${path.sep}`) || m.includes(`${path.sep}@grpc${path.sep}`))).toEqual([]);
    expect(modules.some((m) => m.endsWith(path.join('client', 'resident-exec-client.js')))).toBe(true);
  });

  test('a prompt piped on stdin, and stdin piped after a prompt, reach the model', async () => {
    fixture.model.enqueue(respond(assistantMessage('one')));
    const dash = await runCli(['exec', '--json', '-'], fixture.env, fixture.workspace, 120_000, 'the prompt from stdin\n');
    expect(dash.code).toBe(0);
    expect(lastUserText()).toBe('the prompt from stdin\n');
    fixture.model.enqueue(respond(assistantMessage('two')));
    const appended = await runCli(['exec', '--json', 'summarise this'], fixture.env, fixture.workspace, 120_000, 'piped data');
    expect(appended.code).toBe(0);
    expect(lastUserText()).toBe('summarise this\n\n<stdin>\npiped data\n</stdin>');
  });

  test('usage errors give the ordinary message and exit code', async () => {
    const run = await runCli(['exec', '--output-schema', 'missing.json', 'go'], fixture.env, fixture.workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--output-schema: cannot read');
    expect(run.stderr).toContain('missing.json');
  });

  test('a command whose configuration is not the worker\'s runs in its own process, prints once, and keeps the stdin it read', async () => {
    const before = await readWorkerRecord(fixture.home);
    fixture.model.enqueue(respond(assistantMessage('from a replaced worker')));
    const env = { ...fixture.env, UNROLL_HOST_ID: 'another-host' };
    const run = await runCli(['exec', '--json', '-'], env, fixture.workspace, 120_000, 'read once\n');
    expect(run.code).toBe(0);
    expect(run.stdout.split('\n').filter((line) => line.includes('"thread.started"'))).toHaveLength(1);
    expect(lastUserText()).toBe('read once\n');
    // The ordinary path replaced the worker with one of this configuration.
    const after = await readWorkerRecord(fixture.home);
    expect(after?.pid).not.toBe(before?.pid);
    // Back to the fixture's configuration for the next tests.
    await stopResidentWorker(fixture.home);
    fixture.model.enqueue(respond(assistantMessage('warm again')));
    expect((await runCli(['exec', '--json', 'start the worker'], fixture.env, fixture.workspace)).code).toBe(0);
  });

  test('Ctrl-C at the client interrupts the turn in the worker; the client exits 130', async () => {
    fixture.model.enqueue(hang());
    const before = fixture.model.requests.length;
    const cli = spawnCli(['exec', 'wait for the model'], fixture.env, fixture.workspace);
    await fixture.model.waitForRequests(before + 1, 60_000);
    cli.child.kill('SIGINT');
    const done = await cli.done;
    expect(cli.stderr()).toContain('interrupting the turn…');
    expect(done.code).toBe(130);
  });

  test('a worker that dies during the command is reported, and the client exits 1', async () => {
    fixture.model.enqueue(hang());
    const before = fixture.model.requests.length;
    const cli = spawnCli(['exec', 'wait for the model'], fixture.env, fixture.workspace);
    await fixture.model.waitForRequests(before + 1, 60_000);
    const record = await readWorkerRecord(fixture.home);
    process.kill(record?.pid ?? 0, 'SIGKILL');
    await waitFor('the worker to exit', () => !isAlive(record?.pid ?? 0), 10_000);
    const done = await cli.done;
    expect(done.code).toBe(1);
    expect(cli.stderr()).toContain('the resident worker stopped during this command');
  });
});

describe('which command lines the resident worker may run', () => {
  test.each([
    [['exec', 'hi'], true],
    [['-c', 'model="o3"', 'exec', '--json', 'hi'], true],
    [['exec', 'resume', '--last', 'hi'], true],
    [['exec', 'fork', 'th-1', 'hi'], true],
    [['exec', '--in-process-worker', 'hi'], false],
    [['exec', '--no-worker', 'hi'], false],
    [['-v', 'exec', 'hi'], false],
    [['exec', '--help'], false],
    [['resume', 'th-1', 'hi'], false],
    [['show', 'exec'], false],
    [['-p', 'exec', 'threads'], false],
  ])('%j → %s', (argv, expected) => {
    expect(isResidentExecCandidate(argv)).toBe(expected);
  });
});
