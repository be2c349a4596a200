/**
 * A worker killed (SIGKILL, a real `unroll worker` process) during an MCP call: the call
 * is at most once unless the config marks the tool idempotent. The retry on the new
 * worker reports it to the model as interrupted instead of calling the server again; an
 * idempotent tool is called again.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { INTERRUPTED_OUTPUT } from '../../src/activities/tools';
import { followTurn, startThread } from '../../src/client/threads';
import { isToolOutput } from '../../src/items/schemas';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { fixtureStdioServer, mcpCall, mcpThread, WALL_TIME } from '../support/mcp-servers';
import { assistantMessage, respond } from '../support/responses-builders';
import { spawnWorker, waitFor, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(120_000);

describe('MCP calls across a worker crash', () => {
  let h: Harness;
  let dir: string;
  const workers: WorkerProcess[] = [];
  const startWorker = async () => {
    const w = await spawnWorker({ home: h.home, taskQueue: h.taskQueue, address: h.address });
    workers.push(w);
    return w;
  };
  beforeEach(async () => {
    h = await startHarness({ worker: false });
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-mcp-crash-'));
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  const lines = async (file: string) => (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '');

  async function crashDuringCall(tools: Record<string, { idempotent?: boolean }>) {
    const file = path.join(dir, 'calls.txt');
    const call = mcpCall('fix', 'append', { file, line: 'ran', delay_ms: 4000 });
    h.model.enqueue(respond(call), respond(assistantMessage('noted')));
    const context = { model: 'test-model', sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const };
    const settings = h.settings(await mcpThread(h.store, [fixtureStdioServer('fix', { tools })], context));
    const first = await startWorker();
    const started = await startThread(h.client, { threadId: `mcp-crash-${randomUUID()}`, settings, text: 'append', taskQueue: h.taskQueue });
    await waitFor('the MCP call to reach the server', async () => (await lines(file)).length === 1);
    await first.kill();
    await startWorker();
    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined);
    expect(result.status).toBe('completed');
    const output = (await transcriptItems(h, result.head)).find((i) => isToolOutput(i) && i.call_id === call.call_id) as { output: unknown };
    h.model.assertProtocol();
    return { calls: await lines(file), output: output.output };
  }

  test('an MCP call in flight when its worker dies is reported as interrupted, not run again', async () => {
    const { calls, output } = await crashDuringCall({});
    expect(calls).toEqual(['ran']);
    expect(output).toBe(INTERRUPTED_OUTPUT);
  });

  test('a tool the config marks idempotent is called again after the crash', async () => {
    const { calls, output } = await crashDuringCall({ append: { idempotent: true } });
    expect(calls).toEqual(['ran', 'ran']);
    expect(output).toEqual([{ type: 'input_text', text: expect.stringMatching(WALL_TIME) as unknown }, { type: 'input_text', text: 'appended ran' }]);
  });
});
