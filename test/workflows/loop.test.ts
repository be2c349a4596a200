import { readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isToolCall, isToolOutput } from '../../src/items/schemas';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

describe('the agent loop', () => {
  let h: Harness;
  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  afterEach(() => {
    h.model.assertProtocol();
  });

  test('a turn with no tool calls ends with the assistant message', async () => {
    h.model.enqueue(respond(assistantMessage('Hello there.')));
    const { result } = await h.runThread('say hello');
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(1);
    expect(result.lastMessage?.excerpt).toBe('Hello there.');
    const items = await transcriptItems(h, result.head);
    expect(items.map((i) => i.type)).toEqual(['message', 'message', 'message', 'message']);
    const request = h.model.requests[0].body;
    expect(request.store).toBe(false);
    expect(request.stream).toBe(true);
    expect(request.parallel_tool_calls).toBe(true);
  });

  test('a turn with sequential tool calls runs each and feeds the outputs back', async () => {
    await writeFile(path.join(h.workspace, 'a.txt'), 'alpha\n');
    h.model.enqueue(
      respond(shellCall(['cat', 'a.txt'])),
      respond(shellCall('echo beta > b.txt')),
      respond(assistantMessage('done')),
    );
    const { result } = await h.runThread('read and write');
    expect(result.status).toBe('completed');
    expect(result.steps).toBe(3);
    expect(await readFile(path.join(h.workspace, 'b.txt'), 'utf8')).toBe('beta\n');
    const items = await transcriptItems(h, result.head);
    const outputs = items.filter(isToolOutput);
    expect(outputs).toHaveLength(2);
    expect(outputs[0].output).toContain('alpha');
    expect(items.filter(isToolCall)).toHaveLength(2);
  });
});
