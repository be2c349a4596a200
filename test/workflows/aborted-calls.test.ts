/**
 * Calls left without an output by a turn that died (here: terminated by an operator in
 * the middle of a command) get a synthetic "aborted" output at the start of the next
 * turn, so the provider never sees an unanswered call, and nothing the dead turn
 * recorded is lost.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { ABORTED_BY_EARLIER_TURN } from '../../src/activities/turn-setup';
import { describeThread, startThread } from '../../src/client/threads';
import { isToolOutput } from '../../src/items/schemas';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

describe('calls left open by a dead turn', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });

  test('a terminated turn keeps its recorded steps and the next turn answers its open call with an aborted output', async () => {
    const call = shellCall('echo started > started.txt; sleep 30', { timeout_ms: 60_000 });
    h.model.enqueue(respond(call), respond(assistantMessage('after the abort')));
    const threadId = `aborted-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings(), text: 'first task', taskQueue: h.taskQueue });
    await waitFor('the command to start', async () => (await readFile(path.join(h.workspace, 'started.txt'), 'utf8').catch(() => '')) !== '');
    await h.client.workflow.getHandle(started.turnWorkflowId).terminate('operator stopped the turn');
    await waitFor('the session to record the dead turn', async () => (await describeThread(h.client, threadId)).lastTurn?.turn === 1);

    const view = await describeThread(h.client, threadId);
    expect(view.lastTurn?.status).toBe('failed');
    expect(view.lastTurn?.error?.type).toBe('TurnWorkflowFailed');

    const { result, events } = await h.runTurn(threadId, 'second task');
    expect(result.status).toBe('completed');
    expect(events[0]).toMatchObject({ kind: 'turn.started', abortedCalls: [call.call_id] });
    const items = await transcriptItems(h, result.head);
    const texts = JSON.stringify(items);
    expect(texts).toContain('first task');
    expect(items.filter(isToolOutput)).toEqual([{ type: 'function_call_output', call_id: call.call_id, output: ABORTED_BY_EARLIER_TURN }]);
    h.model.assertProtocol();
  });
});
