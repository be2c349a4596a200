/**
 * A person in the loop: approvals under each policy (approve, deny, timeout, approve for
 * the session, refused escalation), interrupting a running command, and steering a
 * running turn with a new message.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ESCALATION_REFUSED } from '../../src/shared/approval-policy';
import { followTurn, startThread } from '../../src/client/threads';
import { answerApproval, interruptTurn, pendingApprovals, sendInput } from '../../src/client/intervene';
import type { SessionSettings } from '../../src/config/settings';
import { isToolOutput } from '../../src/items/schemas';
import type { TurnEvent } from '../../src/workflows/definitions';
import { ABORTED_BY_USER } from '../../src/workflows/turn';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, functionCall, respond, shellCall } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

describe('a person in the loop', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => h.model.assertProtocol());

  async function start(text: string, overrides: Partial<SessionSettings> = {}) {
    const threadId = `hitl-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(overrides), text, taskQueue: h.taskQueue });
    const events: TurnEvent[] = [];
    const done = followTurn(h.client, started.turnWorkflowId, (e) => void events.push(e), { pollMs: 50 });
    return { threadId, events, done };
  }

  const outputs = async (head: string | null) => (await transcriptItems(h, head)).filter(isToolOutput).map((o) => o.output);

  test('untrusted: a command that is not read-only waits for approval, then runs once approved', async () => {
    h.model.enqueue(respond(shellCall('echo approved >> approved.txt')), respond(assistantMessage('ok')));
    const { threadId, events, done } = await start('write a file', { approvalPolicy: 'untrusted' });
    await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
    const [pending] = await pendingApprovals(h.client, threadId);
    expect(pending).toMatchObject({ name: 'shell', reason: 'the command is not known to be read-only' });
    expect(existsSync(path.join(h.workspace, 'approved.txt'))).toBe(false);
    await answerApproval(h.client, threadId, 'approve');
    const result = await done;
    expect(result.status).toBe('completed');
    expect(await readFile(path.join(h.workspace, 'approved.txt'), 'utf8')).toBe('approved\n');
    expect(events.filter((e) => e.kind === 'approval.resolved')).toMatchObject([{ decision: 'approve' }]);
    // `unroll show` reads the answer back from the turn's history.
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[0].steps[0].toolCalls[0]).toMatchObject({ name: 'shell', approval: { decision: 'approve' }, status: 'completed' });
  });

  test('untrusted: a known read-only command runs without asking', async () => {
    h.model.enqueue(respond(shellCall(['ls', '-a'])), respond(assistantMessage('listed')));
    const { events, done } = await start('list', { approvalPolicy: 'untrusted' });
    expect((await done).status).toBe('completed');
    expect(events.some((e) => e.kind === 'approval.requested')).toBe(false);
  });

  test('a denial becomes the tool output and the model continues', async () => {
    h.model.enqueue(respond(shellCall('echo no >> denied.txt')), respond(assistantMessage('understood')));
    const { threadId, done } = await start('write', { approvalPolicy: 'untrusted' });
    await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
    await answerApproval(h.client, threadId, 'deny');
    const result = await done;
    expect(result.status).toBe('completed');
    expect(existsSync(path.join(h.workspace, 'denied.txt'))).toBe(false);
    expect(await outputs(result.head)).toEqual(['the user denied this command; it was not run']);
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[0].steps[0].toolCalls[0]).toMatchObject({ approval: { decision: 'deny' }, fallbackOutput: true });
    expect(JSON.stringify(h.model.requests[h.model.requests.length - 1].input)).toContain('the user denied this command');
  });

  test('an approval that times out counts as a denial', async () => {
    h.model.enqueue(respond(shellCall('echo late >> late.txt')), respond(assistantMessage('moving on')));
    const { done } = await start('write', { approvalPolicy: 'untrusted', approvalTimeoutMs: 300 });
    const result = await done;
    expect(result.status).toBe('completed');
    expect(existsSync(path.join(h.workspace, 'late.txt'))).toBe(false);
    expect(await outputs(result.head)).toEqual(['the approval request timed out after 300 ms; the command was not run']);
  });

  test('approve-for-session lets the same command run again without asking', async () => {
    h.model.enqueue(respond(shellCall('echo again >> again.txt')), respond(shellCall('echo again >> again.txt')), respond(assistantMessage('twice')));
    const { threadId, events, done } = await start('write twice', { approvalPolicy: 'untrusted' });
    await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
    await answerApproval(h.client, threadId, 'approve-for-session');
    expect((await done).status).toBe('completed');
    expect(await readFile(path.join(h.workspace, 'again.txt'), 'utf8')).toBe('again\nagain\n');
    expect(events.filter((e) => e.kind === 'approval.requested')).toHaveLength(1);
  });

  test('never: an escalation request is refused and the model is told', async () => {
    h.model.enqueue(
      respond(functionCall('shell', { command: ['bash', '-c', 'echo out >> escalated.txt'], with_escalated_permissions: true, justification: 'needs the network' })),
      respond(assistantMessage('ok, staying in the sandbox')),
    );
    const { done } = await start('escalate', { approvalPolicy: 'never' });
    const result = await done;
    expect(existsSync(path.join(h.workspace, 'escalated.txt'))).toBe(false);
    expect(await outputs(result.head)).toEqual([ESCALATION_REFUSED]);
  });

  test('an answer for a call that is not waiting is rejected by the validator', async () => {
    h.model.enqueue(respond(shellCall('sleep 2', { timeout_ms: 10_000 })), respond(assistantMessage('slept')));
    const { threadId, done } = await start('sleep');
    await waitFor('the turn to start', async () => (await h.client.workflow.getHandle(`${threadId}/turn-1`).describe().then(() => true, () => false)));
    await expect(answerApproval(h.client, threadId, 'approve', 'call_nope')).rejects.toThrow();
    expect((await done).status).toBe('completed');
  });

  test('an interrupt kills the running command, records the turn as interrupted, and the next turn works', async () => {
    h.model.enqueue(respond(shellCall('echo $$ > sleeper.pid; exec sleep 30', { timeout_ms: 60_000 })));
    const { threadId, events, done } = await start('sleep a long time');
    const pidFile = path.join(h.workspace, 'sleeper.pid');
    await waitFor('the command to start', () => existsSync(pidFile));
    const pid = Number((await readFile(pidFile, 'utf8')).trim());
    await interruptTurn(h.client, threadId);
    const result = await done;
    expect(result.status).toBe('interrupted');
    expect(processAlive(pid)).toBe(false);
    const items = await transcriptItems(h, result.head);
    expect(items.filter(isToolOutput).map((o) => o.output)).toEqual([ABORTED_BY_USER]);
    expect(JSON.stringify(items[items.length - 1])).toContain('<turn_aborted>');
    expect(events.some((e) => e.kind === 'turn.interrupted')).toBe(true);

    h.model.enqueue(respond(assistantMessage('fresh start')));
    const next = await h.runTurn(threadId, 'try something else');
    expect(next.result.status).toBe('completed');
  });

  test('a message sent during a turn reaches the model at its next request', async () => {
    h.model.enqueue(respond(shellCall('sleep 1.5', { timeout_ms: 10_000 })), respond(assistantMessage('adjusted')));
    const { threadId, done } = await start('work slowly');
    await waitFor('the command to run', () => h.model.requests.filter((r) => JSON.stringify(r.input).includes('work slowly')).length >= 1);
    const sent = await sendInput(h.client, threadId, 'also update the README');
    expect(sent.delivered).toBe('running-turn');
    const result = await done;
    expect(result.status).toBe('completed');
    const last = h.model.requests[h.model.requests.length - 1].input;
    const tail = JSON.stringify(last.slice(-2));
    expect(tail).toContain('function_call_output');
    expect(tail).toContain('also update the README');
  });
});

function processAlive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return !/^\d+ \(.*\) Z/.test(stat);
  } catch {
    return false;
  }
}
