/**
 * The sandbox through the whole loop: a thread in workspace-write mode whose model tries
 * to write outside the workspace. The write must fail inside bubblewrap, the model must
 * see the failure as the call's output, and the turn must go on to complete.
 */
import { existsSync, mkdtempSync, readFileSync, realpathSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { startHarness, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

function outputFor(request: RecordedRequest, callId: string): string {
  const matches = request.input.filter((item) => item.type === 'function_call_output' && item.call_id === callId);
  expect(matches).toHaveLength(1);
  return String(matches[0].output);
}

describe('a workspace-write thread', () => {
  let h: Harness;
  let outside: string;

  beforeAll(async () => {
    h = await startHarness();
  });
  afterAll(async () => {
    await h.close();
  });
  beforeEach(() => {
    // Not under the temp dir: that one is writable in workspace-write by design.
    outside = realpathSync(mkdtempSync(path.join(os.tmpdir() === '/var/tmp' ? os.homedir() : '/var/tmp', 'unroll-sandbox-wf-')));
  });
  afterEach(() => {
    rmSync(outside, { recursive: true, force: true });
    h.model.assertProtocol();
  });

  test('a write outside the workspace fails in the sandbox, the model sees why, and the turn completes', async () => {
    const target = path.join(outside, 'escaped.txt');
    const escape = shellCall(`echo escaped > ${target}`);
    const inside = shellCall('echo inside > inside.txt');
    const first = h.model.requests.length;
    h.model.enqueue(respond([escape, inside]), respond(assistantMessage('the sandbox stopped me')));
    const { result } = await h.runThread('write a file outside the workspace', { sandboxMode: 'workspace-write' });

    expect(result.status).toBe('completed');
    expect(result.lastMessage?.excerpt).toBe('the sandbox stopped me');
    const followUp = h.model.requests[first + 1];
    expect(outputFor(followUp, escape.call_id)).toMatch(
      new RegExp(`^Exit code: 1\\nWall time: \\d+\\.\\d seconds\\nOutput:\\nbash: line 1: ${target}: Read-only file system\\n$`),
    );
    expect(outputFor(followUp, inside.call_id)).toMatch(/^Exit code: 0\n/);
    expect(existsSync(target)).toBe(false);
    expect(readFileSync(path.join(h.workspace, 'inside.txt'), 'utf8')).toBe('inside\n');
    expect(JSON.stringify(h.model.requests[first].input)).toContain('sandbox_mode: workspace-write. Commands may write only inside the workspace');
  });
});
