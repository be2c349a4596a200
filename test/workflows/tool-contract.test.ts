/**
 * The tool contract through the whole loop (real dev server, in-process worker, scripted
 * Responses server): the freeform apply_patch round trip for the models Codex gives it
 * to, and the thread's tool list fixed at its start and recorded.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { legacyToolSpecs } from '../../src/tools/registry';
import { selectThreadTools } from '../../src/tools/thread-tools';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, customToolCall, respond } from '../support/responses-builders';

const FIXTURES = path.join(__dirname, '..', 'fixtures');
const codexFreeformSpec = JSON.parse(readFileSync(path.join(FIXTURES, 'codex-0.171', 'apply-patch-freeform-spec.json'), 'utf8')) as Record<string, unknown>;
const legacySpecs = JSON.parse(readFileSync(path.join(FIXTURES, 'legacy-tool-specs.json'), 'utf8')) as unknown[];

describe('tools in the loop', () => {
  let h: Harness;
  let firstRequest: number;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    firstRequest = h.model.requests.length;
  });
  afterEach(() => {
    h.model.assertProtocol();
  });
  const request = (i: number): RecordedRequest => h.model.requests[firstRequest + i];
  const toolsOf = (i: number) => request(i).body.tools as Array<Record<string, unknown>>;

  test('a freeform apply_patch call edits the workspace and its custom_tool_call_output goes back to the model', async () => {
    const context = { model: 'gpt-5.5', sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const };
    const call = customToolCall('apply_patch', '*** Begin Patch\n*** Add File: hello.txt\n+Hello, freeform\n*** End Patch\n');
    h.model.enqueue(respond(call), respond(assistantMessage('patched')));
    const { result } = await h.runThread('add hello.txt', { ...context, tools: selectThreadTools(context) });

    expect(result.status).toBe('completed');
    expect(toolsOf(0).find((t) => t.name === 'apply_patch')).toEqual(codexFreeformSpec);
    expect(await readFile(path.join(h.workspace, 'hello.txt'), 'utf8')).toBe('Hello, freeform\n');
    const outputs = request(1).input.filter((item) => item.type === 'custom_tool_call_output');
    expect(outputs).toEqual([expect.objectContaining({ type: 'custom_tool_call_output', call_id: call.call_id, output: 'Success. Updated the following files:\nA hello.txt' })]);
    expect(request(1).input.some((item) => item.type === 'function_call_output')).toBe(false);
    const items = await transcriptItems(h, result.head);
    expect(items.filter((i) => i.type === 'custom_tool_call_output')).toEqual([{ type: 'custom_tool_call_output', call_id: call.call_id, output: 'Success. Updated the following files:\nA hello.txt' }]);
  });

  test('a thread without a recorded tool list (started before it existed) is sent the specs it always was', async () => {
    h.model.enqueue(respond(assistantMessage('hi')));
    const { result } = await h.runThread('hello', { model: 'gpt-5.5' });
    expect(result.status).toBe('completed');
    expect(toolsOf(0)).toEqual(legacySpecs);
  });

  test('every request of a thread offers the tools recorded at its start, not what newer code would build', async () => {
    // What an older Unroll recorded for the thread: other descriptions than this code's.
    const recorded = legacyToolSpecs({ model: 'm', sandboxMode: 'danger-full-access', approvalPolicy: 'never' }).map((spec) => ({ ...spec, description: `${spec.description} (as recorded)` }));
    const specs = await h.store.putValue(recorded);
    h.model.enqueue(respond(assistantMessage('one')), respond(assistantMessage('two')));
    const { threadId, result } = await h.runThread('first', { tools: { names: ['shell', 'apply_patch', 'update_plan'], specs } });
    expect(result.status).toBe('completed');
    const second = await h.runTurn(threadId, 'second');
    expect(second.result.status).toBe('completed');
    expect(toolsOf(0)).toEqual(recorded);
    expect(toolsOf(1)).toEqual(recorded);
  });

  test('the first request of a new thread stores its tool list, so later requests read it back from the store', async () => {
    const context = { model: 'test-model', sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const };
    const tools = selectThreadTools(context);
    h.model.enqueue(respond(assistantMessage('one')));
    const { result } = await h.runThread('first', { ...context, tools });
    expect(result.status).toBe('completed');
    expect(await h.store.getValue(tools.specs)).toEqual(toolsOf(0));
    expect(toolsOf(0).map((t) => t.name)).toEqual(tools.names);
  });
});
