/**
 * Threads carry search attributes (workspace, model, host, latest turn status, last
 * activity) that the Web UI's workflow list filters on, and their queries, signals and
 * updates carry descriptions. Real dev server (registered by test/support/global-setup.ts
 * as by the dev server the CLI starts), scripted model.
 */
import Long from 'long';
import { randomUUID } from 'node:crypto';
import { Connection } from '@temporalio/client';
import { HANDLER_DESCRIPTIONS } from '../../src/workflows/definitions';
import { searchAttributesRegistered } from '../../src/temporal/search-attributes';
import { CWD_ATTRIBUTE, LAST_ACTIVITY_ATTRIBUTE, MODEL_ATTRIBUTE, TURN_STATUS_ATTRIBUTE } from '../../src/shared/search-attributes';
import { sessionWorkflowId } from '../../src/shared/ids';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, badRequest, respond } from '../support/responses-builders';

jest.setTimeout(120_000);

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
});

afterAll(async () => {
  await h?.close();
});

/** The thread ids the workflow list returns for `query` among `threadIds` (visibility is eventually consistent: polled). */
async function listed(query: string, threadId: string): Promise<string[]> {
  const full = `WorkflowId = '${sessionWorkflowId(threadId)}' AND ${query}`;
  for (let attempt = 0; attempt < 100; attempt++) {
    const ids: string[] = [];
    for await (const workflow of h.client.workflow.list({ query: full })) ids.push(workflow.workflowId);
    if (ids.length > 0) return ids;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  return [];
}

describe('search attributes', () => {
  it('are registered on the server the tests run on, and the client records that at thread start', async () => {
    expect(await searchAttributesRegistered(h.client.connection, 'default')).toBe(true);
    h.model.enqueue(respond(assistantMessage('done')));
    const { threadId } = await h.runThread('say done');
    const view = await h.client.workflow.getHandle(sessionWorkflowId(threadId)).query<{ settings: { searchAttributes?: boolean } }>('session');
    expect(view.settings.searchAttributes).toBe(true);
  });

  it('let the workflow list find a thread by workspace, model and completed turn status', async () => {
    h.model.enqueue(respond(assistantMessage('all good')));
    const { threadId, result } = await h.runThread('a task that completes');
    expect(result.status).toBe('completed');
    const settings = h.settings();
    expect(await listed(`UnrollTurnStatus = 'completed' AND UnrollCwd = '${settings.cwd}' AND UnrollModel = '${settings.model}'`, threadId)).toEqual([sessionWorkflowId(threadId)]);
    const described = await h.client.workflow.getHandle(sessionWorkflowId(threadId)).describe();
    expect(described.typedSearchAttributes.get(CWD_ATTRIBUTE)).toBe(settings.cwd);
    expect(described.typedSearchAttributes.get(MODEL_ATTRIBUTE)).toBe(settings.model);
    expect(described.typedSearchAttributes.get(TURN_STATUS_ATTRIBUTE)).toBe('completed');
    expect(described.typedSearchAttributes.get(LAST_ACTIVITY_ATTRIBUTE)).toBeInstanceOf(Date);
  });

  it("make a thread whose turn failed findable with UnrollTurnStatus = 'failed'", async () => {
    h.model.enqueue(badRequest('Invalid value for tools[0].parameters'));
    const { threadId, result } = await h.runThread('a task the provider rejects');
    expect(result.status).toBe('failed');
    expect(await listed("UnrollTurnStatus = 'failed'", threadId)).toEqual([sessionWorkflowId(threadId)]);
  });

  it('are not set on a thread whose client found them unregistered, which runs normally', async () => {
    h.model.enqueue(respond(assistantMessage('fine without')));
    const { threadId, result } = await h.runThread('run without attributes', { searchAttributes: false });
    expect(result.status).toBe('completed');
    const described = await h.client.workflow.getHandle(sessionWorkflowId(threadId)).describe();
    expect(described.typedSearchAttributes.get(TURN_STATUS_ATTRIBUTE)).toBeUndefined();
  });

  it('count as unregistered in a namespace that lacks them', async () => {
    const namespace = `unroll-no-attrs-${randomUUID()}`;
    const connection = await Connection.connect({ address: h.address });
    try {
      await connection.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: { seconds: Long.fromNumber(86_400) } });
      expect(await searchAttributesRegistered(connection, namespace)).toBe(false);
    } finally {
      await connection.close();
    }
  });
});

describe('handler descriptions', () => {
  it('are given for the session and turn queries, signals and updates', async () => {
    h.model.enqueue(respond(assistantMessage('described')));
    const { threadId } = await h.runThread('describe yourself');
    const metadata = await h.client.workflow.getHandle(sessionWorkflowId(threadId)).query<{
      definition: { queryDefinitions: Array<{ name: string; description?: string }>; updateDefinitions: Array<{ name: string; description?: string }> };
    }>('__temporal_workflow_metadata');
    const described = (defs: Array<{ name: string; description?: string }>) => Object.fromEntries(defs.map((d) => [d.name, d.description]));
    expect(described(metadata.definition.queryDefinitions)).toMatchObject({ session: HANDLER_DESCRIPTIONS.session });
    expect(described(metadata.definition.updateDefinitions)).toMatchObject({
      submitInput: HANDLER_DESCRIPTIONS.submitInput,
      sendInput: HANDLER_DESCRIPTIONS.sendInput,
      compact: HANDLER_DESCRIPTIONS.compact,
      rewind: HANDLER_DESCRIPTIONS.rewind,
    });
  });
});
