/**
 * Exec sessions are host state: a worker killed with SIGKILL takes its sessions (and
 * their processes) with it, and the model's next write_stdin is told so at once, never
 * left waiting. The worker is a real child process (`unroll worker`, the compiled code).
 */
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { followTurn, startThread } from '../../src/client/threads';
import { isToolOutput } from '../../src/items/schemas';
import { selectThreadTools } from '../../src/tools/thread-tools';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import type { RecordedRequest } from '../support/responses-server';
import { assistantMessage, functionCall, hang, respond, type ScriptStep } from '../support/responses-builders';
import { spawnWorker, waitFor, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(120_000);

/** True while `pid` runs (a zombie waiting to be reaped counts as gone). */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

describe('an exec session lost with its worker', () => {
  let h: Harness;
  const workers: WorkerProcess[] = [];
  const startWorker = async () => {
    const w = await spawnWorker({ home: h.home, taskQueue: h.taskQueue, address: h.address });
    workers.push(w);
    return w;
  };
  beforeEach(async () => {
    h = await startHarness({ worker: false });
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.kill()));
    await h.close();
  });

  test('is reported on the next write_stdin as gone with its worker, and its process is gone too', async () => {
    let sessionId = 0;
    const steps: Array<(request: RecordedRequest) => ScriptStep> = [
      () => respond(functionCall('exec_command', { cmd: 'echo $$ > dev.pid; exec sleep 300', yield_time_ms: 300 })),
      (request) => {
        sessionId = Number(/Process running with session ID (\d+)/.exec(JSON.stringify(request.input))?.[1]);
        return hang();
      },
      () => respond(functionCall('write_stdin', { session_id: sessionId, chars: '' })),
    ];
    let next = 0;
    h.model.setHandler((request) => (steps[next++] ?? (() => respond(assistantMessage('restarting it'))))(request));
    const first = await startWorker();
    const context = { model: 'gpt-5.1-codex', sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const };
    const threadId = `exec-crash-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: h.settings({ ...context, tools: selectThreadTools(context) }), text: 'run the dev server', taskQueue: h.taskQueue });
    await waitFor('the model request after the session started', () => h.model.requests.length >= 2);
    const pid = Number((await readFile(path.join(h.workspace, 'dev.pid'), 'utf8')).trim());
    expect(running(pid)).toBe(true);
    await first.kill();
    await waitFor('the session’s process to die with its worker', () => !running(pid));
    await startWorker();

    const result = await followTurn(h.client, started.turnWorkflowId, () => undefined);
    expect(result.status).toBe('completed');
    const outputs = (await transcriptItems(h, result.head)).filter(isToolOutput).map((o) => o.output);
    expect(outputs[1]).toBe(
      `write_stdin failed: session ${sessionId} is gone: the worker that ran it stopped, and the command with it. Start it again with exec_command if you still need it.`,
    );
    h.model.assertProtocol();
  });
});
