/**
 * MCP calls and the approval policy (real dev server, in-process worker, the SDK stdio
 * fixture server): a server may do anything, so its tools ask under `untrusted` and
 * `on-request` like any tool not known to be safe, and run under `never`; a tool the
 * config marks safe (`approval_mode = "approve"`) runs without asking. A denied call never
 * reaches the server.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { answerApproval, pendingApprovals } from '../../src/client/intervene';
import { followTurn, startThread } from '../../src/client/threads';
import type { SessionSettings } from '../../src/config/settings';
import { processMcpPool } from '../../src/mcp/pool';
import type { TurnEvent } from '../../src/workflows/definitions';
import { startHarness, type Harness } from '../support/harness';
import { fixtureStdioServer, mcpCall, mcpThread } from '../support/mcp-servers';
import { assistantMessage, respond } from '../support/responses-builders';
import { waitFor } from '../support/worker-process';

jest.setTimeout(90_000);

describe('MCP approvals', () => {
  let h: Harness;
  let dir: string;
  beforeAll(async () => {
    h = await startHarness();
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-mcp-approval-'));
  });
  afterAll(async () => {
    await h.close();
    await processMcpPool.closeAll();
    await rm(dir, { recursive: true, force: true });
  });
  afterEach(() => h.model.assertProtocol());

  const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');

  async function start(policy: SessionSettings['approvalPolicy'], file: string, tools: Record<string, { approval_mode?: 'approve' | 'prompt' }> = {}) {
    h.model.enqueue(respond(mcpCall('fix', 'append', { file, line: 'ran' })), respond(assistantMessage('ok')));
    const context = { model: 'test-model', sandboxMode: 'workspace-write' as const, approvalPolicy: policy };
    const threadId = `mcp-${randomUUID()}`;
    const settings = h.settings(await mcpThread(h.store, [fixtureStdioServer('fix', { tools })], context));
    const started = await startThread(h.client, { threadId, settings, text: 'append', taskQueue: h.taskQueue });
    const events: TurnEvent[] = [];
    const done = followTurn(h.client, started.turnWorkflowId, (e) => void events.push(e), { pollMs: 50 });
    return { threadId, events, done };
  }

  test.each(['untrusted', 'on-request'] as const)('%s: an MCP call waits for approval and runs only once approved', async (policy) => {
    const file = path.join(dir, `${policy}.txt`);
    const { threadId, done } = await start(policy, file);
    await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
    const [pending] = await pendingApprovals(h.client, threadId);
    expect(pending).toMatchObject({ name: 'mcp__fix__append', summary: 'mcp: fix/append', reason: 'the tool mcp__fix__append is not known to be safe' });
    expect(await lines(file)).toEqual([]);
    await answerApproval(h.client, threadId, 'approve');
    expect((await done).status).toBe('completed');
    expect(await lines(file)).toEqual(['ran']);
  });

  test('untrusted: a denied MCP call never reaches the server', async () => {
    const file = path.join(dir, 'denied.txt');
    const { threadId, done } = await start('untrusted', file);
    await waitFor('the approval request', async () => (await pendingApprovals(h.client, threadId)).length === 1);
    await answerApproval(h.client, threadId, 'deny');
    expect((await done).status).toBe('completed');
    expect(await lines(file)).toEqual([]);
  });

  test('never: an MCP call runs without asking', async () => {
    const file = path.join(dir, 'never.txt');
    const { events, done } = await start('never', file);
    expect((await done).status).toBe('completed');
    expect(events.some((e) => e.kind === 'approval.requested')).toBe(false);
    expect(await lines(file)).toEqual(['ran']);
  });

  test('untrusted: a tool the config marks safe (approval_mode = "approve") runs without asking', async () => {
    const file = path.join(dir, 'approved-by-config.txt');
    const { events, done } = await start('untrusted', file, { append: { approval_mode: 'approve' } });
    expect((await done).status).toBe('completed');
    expect(events.some((e) => e.kind === 'approval.requested')).toBe(false);
    expect(await lines(file)).toEqual(['ran']);
  });
});
