/**
 * exec_command / write_stdin through the whole loop (real dev server, in-process worker,
 * scripted Responses server, real processes): Codex's specs offered per model, an
 * interactive python3 driven across steps, a dev-server-style command that outlives its
 * step and is killed at the turn's end (and on interrupt), and approval under untrusted.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { answerApproval, interruptTurn, pendingApprovals } from '../../src/client/intervene';
import { followTurn, startThread } from '../../src/client/threads';
import type { SessionSettings } from '../../src/config/settings';
import { isToolOutput } from '../../src/items/schemas';
import { selectThreadTools } from '../../src/tools/thread-tools';
import type { TurnEvent } from '../../src/workflows/definitions';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, functionCall, respond, type ScriptStep } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const codexSpecs = JSON.parse(readFileSync(path.join(FIXTURES, 'codex-0.171', 'unified-exec-specs.json'), 'utf8')) as unknown[];

/** The session id the last tool output of a request announces. */
function sessionIn(request: RecordedRequest): number {
  const text = JSON.stringify(request.input[request.input.length - 1]);
  const match = /Process running with session ID (\d+)/.exec(text);
  if (!match) throw new Error(`no session id in ${text}`);
  return Number(match[1]);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

describe('exec_command and write_stdin in the loop', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => h.model.assertProtocol());

  const execThread = (overrides: Partial<SessionSettings> = {}): Partial<SessionSettings> => {
    const context = { model: 'gpt-5.1-codex', sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const, ...overrides };
    return { ...context, tools: selectThreadTools(context) };
  };
  /** Plays `steps` in order (each may read the request), then answers "done". */
  const script = (...steps: Array<(request: RecordedRequest) => ScriptStep>) => {
    let next = 0;
    h.model.setHandler((request) => (steps[next++] ?? (() => respond(assistantMessage('done'))))(request));
  };
  async function start(text: string, overrides: Partial<SessionSettings>) {
    const threadId = `exec-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(overrides), text, taskQueue: h.taskQueue });
    const events: TurnEvent[] = [];
    const done = followTurn(h.client, started.turnWorkflowId, (e) => void events.push(e), { pollMs: 50 });
    return { threadId, events, done };
  }
  const outputs = async (head: string | null) => (await transcriptItems(h, head)).filter(isToolOutput).map((o) => (typeof o.output === 'string' ? o.output : JSON.stringify(o.output)));

  test('a gpt-5.x thread is offered Codex’s exact exec_command and write_stdin instead of shell; other models keep shell', () => {
    const names = selectThreadTools({ model: 'gpt-5.1-codex', sandboxMode: 'read-only', approvalPolicy: 'untrusted' }).names;
    expect(names).toEqual(expect.arrayContaining(['exec_command', 'write_stdin']));
    expect(names).not.toContain('shell');
    expect(selectThreadTools({ model: 'llama3', sandboxMode: 'read-only', approvalPolicy: 'untrusted' }).names).toContain('shell');
    expect(selectThreadTools({ model: 'llama3', sandboxMode: 'read-only', approvalPolicy: 'untrusted', commandTool: 'exec_command' }).names).toContain('exec_command');
    expect(selectThreadTools({ model: 'gpt-5.1-codex', sandboxMode: 'read-only', approvalPolicy: 'untrusted', commandTool: 'shell' }).names).toContain('shell');
  });

  test('python3 -i started in one step answers print(6*7) with 42 in the next, and the requests carry Codex’s specs', async () => {
    script(
      () => respond(functionCall('exec_command', { cmd: 'python3 -i -q', tty: true, yield_time_ms: 1000 })),
      (request) => respond(functionCall('write_stdin', { session_id: sessionIn(request), chars: 'print(6*7)\n', yield_time_ms: 1000 })),
    );
    const first = h.model.requests.length;
    const { done } = await start('use python', execThread());
    const result = await done;
    expect(result.status).toBe('completed');
    const tools = h.model.requests[first].body.tools as Array<{ name: string }>;
    expect(tools.filter((t) => t.name === 'exec_command' || t.name === 'write_stdin')).toEqual(codexSpecs);
    const [started, answered] = await outputs(result.head);
    expect(started).toMatch(/Process running with session ID \d+/);
    expect(answered).toMatch(/\n42\r\n>>> $/);
  });

  test('a dev-server-style command keeps running past its step and is killed when the turn ends', async () => {
    script(() => respond(functionCall('exec_command', { cmd: 'echo $$ > server.pid; exec sleep 300', yield_time_ms: 500 })));
    const { done } = await start('start the server', execThread());
    const result = await done;
    expect(result.status).toBe('completed');
    const pid = Number((await readFile(path.join(h.workspace, 'server.pid'), 'utf8')).trim());
    expect((await outputs(result.head))[0]).toContain('Process running with session ID');
    await waitFor('the session to be killed', () => Promise.resolve(!alive(pid)));
    expect(alive(pid)).toBe(false);
  });

  test('an interrupt ends the sessions the turn started', async () => {
    script(
      () => respond(functionCall('exec_command', { cmd: 'echo $$ > bg.pid; exec sleep 300', yield_time_ms: 300 })),
      () => respond(functionCall('exec_command', { cmd: 'sleep 60', yield_time_ms: 30_000 })),
    );
    const { threadId, done } = await start('two commands', execThread());
    await waitFor('the first session', async () => (await readFile(path.join(h.workspace, 'bg.pid'), 'utf8').catch(() => '')).trim() !== '');
    const pid = Number((await readFile(path.join(h.workspace, 'bg.pid'), 'utf8')).trim());
    await waitFor('the second request', () => Promise.resolve(h.model.requests.some((r) => JSON.stringify(r.input).includes('bg.pid') && JSON.stringify(r.input).includes('session ID'))));
    await interruptTurn(h.client, threadId);
    expect((await done).status).toBe('interrupted');
    await waitFor('the session to be killed', () => Promise.resolve(!alive(pid)));
    expect(alive(pid)).toBe(false);
  });

  test('untrusted: a command that is not read-only waits for approval before it starts', async () => {
    script(() => respond(functionCall('exec_command', { cmd: 'echo approved > approved.txt' })));
    const { threadId, done } = await start('write', execThread({ approvalPolicy: 'untrusted' }));
    await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
    const [pending] = await pendingApprovals(h.client, threadId);
    expect(pending).toMatchObject({ name: 'exec_command', reason: 'the command is not known to be read-only' });
    await expect(readFile(path.join(h.workspace, 'approved.txt'), 'utf8')).rejects.toThrow();
    await answerApproval(h.client, threadId, 'approve');
    expect((await done).status).toBe('completed');
    expect(await readFile(path.join(h.workspace, 'approved.txt'), 'utf8')).toBe('approved\n');
  });
});
