/**
 * A step with one call runs the call and the next model request as one activity
 * (`runToolAndInfer`, src/activities/tool-and-request.ts): what the turn records, shows
 * and sends must be what two activities gave, and nothing the user does in between may
 * be lost.
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import * as path from 'node:path';
import { interruptTurn, sendInput } from '../../src/client/intervene';
import { followTurn, startThread } from '../../src/client/threads';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { turnProgressQuery, type TurnEvent } from '../../src/workflows/definitions';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, hang, rateLimited, respond, shellCall, type ScriptStep } from '../support/responses-builders';

/** Activity types the workflow scheduled, in order. */
async function scheduledActivities(h: Harness, workflowId: string): Promise<string[]> {
  const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).flatMap((e) => (e.activityTaskScheduledEventAttributes ? [e.activityTaskScheduledEventAttributes.activityType?.name ?? ''] : []));
}

/** A promise and its resolver. */
function gate<T = void>(): { promise: Promise<T>; open: (value: T) => void } {
  let open!: (value: T) => void;
  const promise = new Promise<T>((resolve) => (open = resolve));
  return { promise, open };
}

/** The text of every user message a request sent. */
function userTexts(request: RecordedRequest): string[] {
  return request.input.flatMap((item) => {
    if (item.type !== 'message' || item.role !== 'user' || !Array.isArray(item.content)) return [];
    return (item.content as { text?: string }[]).map((c) => c.text ?? '');
  });
}

describe('a call and the next request in one activity', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => {
    h.model.assertProtocol();
    h.model.setHandler(() => {
      throw new Error('no handler for this test');
    });
  });

  test('each one-call step is one activity, and show still lists every request and call with its output', async () => {
    h.model.enqueue(respond(shellCall('echo first')), respond(shellCall('echo second')), respond(assistantMessage('both ran')));
    const { threadId, result } = await h.runThread('run two commands', { sandboxMode: 'read-only' });

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('both ran');
    const turnId = `${threadId}/turn-1`;
    const types = (await scheduledActivities(h, turnId)).filter((t) => t === 'runInference' || t === 'runTool' || t === 'runToolAndInfer');
    expect(types).toEqual(['runInference', 'runToolAndInfer', 'runToolAndInfer']);
    // The requests are those two activities would have sent: each extends the last with the call's output.
    expect(h.model.requests).toHaveLength(3);
    const outputs = h.model.requests[2].input.filter((i) => i.type === 'function_call_output').map((i) => String(i.output));
    expect(outputs).toEqual([expect.stringContaining('first'), expect.stringContaining('second')]);

    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    const steps = run.turns[0].steps;
    expect(steps.map((s) => s.id)).toEqual(['1.1', '1.2', '1.3']);
    expect(steps.map((s) => s.toolCalls.map((c) => [c.status, c.output?.includes(c.summary.includes('first') ? 'first' : 'second')]))).toEqual([
      [['completed', true]],
      [['completed', true]],
      [],
    ]);
    expect(steps[2].messages).toEqual(['both ran']);
    expect(steps[1].request.append).toEqual([steps[0].toolCalls[0].outputHash]);
  }, 60_000);

  test('a steering message sent while the chained request runs goes to the model: the response is asked for again', async () => {
    const held = gate<ScriptStep>();
    const arrived = gate();
    const base = h.model.requests.length;
    h.model.enqueue(respond(shellCall('echo steered')));
    h.model.setHandler((request) => {
      if (request.index === base + 1) {
        arrived.open();
        return held.promise;
      }
      return respond(assistantMessage(userTexts(request).some((t) => t.includes('also say hello')) ? 'saw the steer' : 'no steer'));
    });
    const threadId = `t-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings({ sandboxMode: 'read-only' }), text: 'run a command', taskQueue: h.taskQueue });
    const following = followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
    await arrived.promise;
    expect((await sendInput(h.client, threadId, 'also say hello')).delivered).toBe('running-turn');
    // The turn must have the message before the held request answers.
    const turn = h.client.workflow.getHandle(started.turnWorkflowId);
    held.open(respond(assistantMessage('answer before the steer')));
    const result = await following;

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('saw the steer');
    expect(h.model.requests).toHaveLength(base + 3);
    expect(userTexts(h.model.requests[base + 2])).toContain('also say hello');
    // The unused response is not in the transcript; its tokens are counted.
    const items = await transcriptItems(h, result.head);
    expect(JSON.stringify(items)).not.toContain('answer before the steer');
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    const step2 = run.turns[0].steps[1];
    expect(step2.messages).toEqual(['saw the steer']);
    expect(step2.rejected.map((r) => r.failure)).toEqual([expect.stringContaining('response not used')]);
    expect((await turn.query(turnProgressQuery, { after: 0 })).events.map((e) => e.kind)).toContain('input.injected');
  }, 60_000);

  test('a call that runs longer than a second leaves the request to the turn: a steering message sent meanwhile goes with it, and no response is wasted', async () => {
    const base = h.model.requests.length;
    const started = path.join(h.workspace, `long-${randomUUID()}`);
    h.model.enqueue(respond(shellCall(`touch ${started}; sleep 1.5`)));
    h.model.setHandler((request) => respond(assistantMessage(userTexts(request).some((t) => t.includes('also say hello')) ? 'saw the steer' : 'no steer')));
    const threadId = `t-${randomUUID()}`;
    const turn = await startThread(h.client, { threadId, settings: h.settings(), text: 'run a long command', taskQueue: h.taskQueue });
    const following = followTurn(h.client, turn.turnWorkflowId, () => undefined, { pollMs: 50 });
    while (!existsSync(started)) await new Promise((resolve) => setTimeout(resolve, 20));
    expect((await sendInput(h.client, threadId, 'also say hello')).delivered).toBe('running-turn');
    const result = await following;

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('saw the steer');
    // The call ran in the chained activity; the request after it was the turn's own, with the message.
    expect(await scheduledActivities(h, turn.turnWorkflowId)).toEqual(expect.arrayContaining(['runToolAndInfer', 'runInference']));
    expect(h.model.requests).toHaveLength(base + 2);
    expect(userTexts(h.model.requests[base + 1])).toContain('also say hello');
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.turns[0].steps[1].rejected).toEqual([]);
    await rm(started, { force: true });
  }, 60_000);

  test('a request still running after the call finished: the call is shown completed before the response arrives', async () => {
    const held = gate<ScriptStep>();
    const base = h.model.requests.length;
    h.model.enqueue(respond(shellCall('echo shown-early')));
    h.model.setHandler((request) => (request.index === base + 1 ? held.promise : respond(assistantMessage('late'))));
    const threadId = `t-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings({ sandboxMode: 'read-only' }), text: 'run a command', taskQueue: h.taskQueue });
    const completed = gate<TurnEvent>();
    const following = followTurn(h.client, started.turnWorkflowId, (e) => void (e.kind === 'tool.completed' && completed.open(e)), { pollMs: 50 });

    const event = await completed.promise;
    // The response has not been given yet: only the announcement can have brought it.
    expect(h.model.requests).toHaveLength(base + 2);
    expect(event).toMatchObject({ kind: 'tool.completed', step: 1, success: true });
    held.open(respond(assistantMessage('after the call')));
    const result = await following;
    expect(result.status).toBe('completed');
    const events = (await h.client.workflow.getHandle(started.turnWorkflowId).query(turnProgressQuery, { after: 0 })).events;
    expect(events.filter((e) => e.kind === 'tool.completed')).toHaveLength(1);
  }, 60_000);

  test('an interrupt during the chained request keeps the call output: the transcript has what the command printed', async () => {
    const arrived = gate();
    const base = h.model.requests.length;
    h.model.enqueue(respond(shellCall('echo kept-output')));
    h.model.setHandler((request) => {
      if (request.index === base + 1) arrived.open();
      return hang();
    });
    const threadId = `t-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings({ sandboxMode: 'read-only' }), text: 'run a command', taskQueue: h.taskQueue });
    const following = followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
    await arrived.promise;
    await interruptTurn(h.client, threadId, 'stop now');
    const result = await following;

    expect(result.status).toBe('interrupted');
    const outputs = (await transcriptItems(h, result.head)).filter((i) => i.type === 'function_call_output');
    expect(outputs).toHaveLength(1);
    expect(JSON.stringify(outputs[0])).toContain('kept-output');
    expect(JSON.stringify(outputs[0])).not.toContain('aborted by user');
  }, 60_000);
  test('a 429 on the chained request: the turn asks again no sooner than Retry-After, with the same call output', async () => {
    const base = h.model.requests.length;
    h.model.enqueue(respond(shellCall('echo limited')), rateLimited(2), respond(assistantMessage('after the wait')));
    const { result } = await h.runThread('run a command', { sandboxMode: 'read-only' });

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('after the wait');
    const [limited, again] = h.model.requests.slice(base + 1);
    expect(again.receivedAt.getTime() - limited.receivedAt.getTime()).toBeGreaterThanOrEqual(2_000);
    expect(again.input).toEqual(limited.input);
  }, 60_000);
});
