/**
 * Host failover between turns: `unroll compact` reads the thread's workspace context
 * (AGENTS.md, environment) on the pinned host. When that host is lost, the compaction
 * fails over like a turn's workspace activities (src/workflows/workspace.ts): after
 * `failoverAfter` a live worker adopts the thread, restores its latest checkpoint, the
 * compaction reads the restored AGENTS.md there, the CLI prints the move, `show` records
 * it between turns, and the next turn runs on the new host. Real worker processes of hosts
 * A and B, one Temporal dev server, one PostgreSQL store, the compiled CLI.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { renderThread } from '../../src/client/show-render';
import { describeThread, followTurn, startThread, submitTurn } from '../../src/client/threads';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { messageText, type MessageItem } from '../../src/items/schemas';
import { hostPin, hostTaskQueue } from '../../src/shared/hosts';
import { runCli } from '../e2e/run-cli';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import type { RecordedRequest } from '../support/responses-server';
import { activityRuns, hostOfIdentity } from './activity-runs';
import { spawnHostWorker, type HostWorker } from './host-worker';

jest.setTimeout(180_000);

const FAILOVER_AFTER = 3;

describe('a manual compaction of a thread whose pinned host is lost', () => {
  let h: Harness;
  let storeUrl: string;
  const dirs: string[] = [];
  const workers: HostWorker[] = [];
  const tmp = async (prefix: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };

  /** One shell step, then a message; a summary for the compaction. */
  function answer(request: RecordedRequest) {
    if (request.body.tool_choice === 'none') return respond(assistantMessage('summary: wrote a.txt'));
    const outputs = request.input.filter((item) => item.type === 'function_call_output').length;
    if (outputs === 0 && JSON.stringify(request.input).includes('write a.txt')) return respond(shellCall(['bash', '-c', "printf 'one\\n' > a.txt"]));
    return respond(assistantMessage('done'));
  }

  beforeAll(async () => {
    storeUrl = await freshDatabase(testPostgresUrl());
    h = await startHarness({ worker: false, storeSpec: storeUrl });
    h.model.setHandler(answer);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await h.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  test('fails over to a live host after failoverAfter: the checkpoint is restored there, the CLI and show tell the move, and the next turn runs on the new host', async () => {
    const [rootA, homeA, homeB, homeCli] = [await tmp('unroll-fc-A-root-'), await tmp('unroll-fc-A-home-'), await tmp('unroll-fc-B-home-'), await tmp('unroll-fc-cli-')];
    const workspace = path.join(rootA, 'ws');
    await mkdir(workspace);
    await writeFile(path.join(workspace, 'AGENTS.md'), 'Rules of the lost workspace.\n');
    const spawnHost = async (hostId: string, home: string) => {
      const worker = await spawnHostWorker({ hostId, home, taskQueue: h.taskQueue, address: h.address, store: storeUrl, hidden: [], env: { UNROLL_HOST_LIVENESS_WINDOW: '2' } });
      workers.push(worker);
      return worker;
    };
    const hostA = await spawnHost('fc-A', homeA);
    await spawnHost('fc-B', homeB);

    const threadId = `failover-compact-${randomUUID()}`;
    const pin = hostPin(h.taskQueue, 'fc-A');
    const started = await startThread(h.client, {
      threadId, settings: { ...h.settings({ cwd: workspace }), host: pin, toolTaskQueue: pin.taskQueue, failoverAfter: FAILOVER_AFTER }, text: 'write a.txt', taskQueue: h.taskQueue,
    });
    expect((await followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 100 })).status).toBe('completed');

    await hostA.kill();
    await rm(workspace, { recursive: true, force: true });
    await rm(homeA, { recursive: true, force: true });

    const env = {
      PATH: process.env.PATH, HOME: homeCli, UNROLL_HOME: homeCli, UNROLL_TEMPORAL_ADDRESS: h.address, UNROLL_AUTO_START_SERVER: '0',
      UNROLL_TASK_QUEUE: h.taskQueue, UNROLL_STORE: storeUrl, OPENAI_API_KEY: 'test-key', NO_COLOR: '1',
    };
    const compacted = await runCli(['compact', threadId, '--no-worker', '--json'], env, homeCli);
    expect(compacted).toMatchObject({ code: 0 });
    const [movedEvent, compactedEvent] = compacted.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(movedEvent).toMatchObject({
      type: 'thread.moved', thread_id: threadId, from_host: 'fc-A', to_host: 'fc-B', cwd: workspace, previous_cwd: workspace,
      restored_from: { checkpoint_id: expect.stringMatching(/^[0-9a-f]{64}$/), step: null }, not_restored: null,
    });
    expect(compactedEvent).toMatchObject({ type: 'context.compacted', reason: 'manual' });
    expect(compacted.stderr).toMatch(/host fc-A lost; thread moved to host fc-B, workspace restored from checkpoint [0-9a-f]{12} \(the latest of an earlier turn\)/);

    // B restored the workspace before reading its context: the compacted transcript has the restored AGENTS.md.
    expect(await readFile(path.join(workspace, 'a.txt'), 'utf8')).toBe('one\n');
    const texts = (await transcriptItems(h, compactedEvent.head as string)).filter((i): i is MessageItem => i.type === 'message').map(messageText);
    expect(texts.some((t) => t.includes('Rules of the lost workspace.'))).toBe(true);
    expect((await describeThread(h.client, threadId)).settings.host).toEqual(hostPin(h.taskQueue, 'fc-B'));

    // show lists the move between turns.
    const run = await buildThreadRun(await fetchThreadHistories(h.client, threadId), h.store);
    expect(run.sessionHostMoves).toEqual([
      expect.objectContaining({ step: 0, from: 'fc-A', waitedFor: 'compaction (manual): workspace context on host fc-A', livenessChecks: 1, status: 'moved', move: expect.objectContaining({ to: hostPin(h.taskQueue, 'fc-B') }) }),
    ]);
    const shown = renderThread(run, (_code, text) => text);
    expect(shown.slice(shown.indexOf('between turns:'))).toContainEqual(expect.stringMatching(/^ {2}⇄ host fc-A lost after [0-9.]+ s \(compaction \(manual\): workspace context on host fc-A found no worker\); moved to host fc-B in /));

    // The next turn starts on B at once: its workspace activities go to B's queue.
    const next = await submitTurn(h.client, threadId, 'and again');
    expect((await followTurn(h.client, next.turnWorkflowId, () => undefined, { pollMs: 100 })).status).toBe('completed');
    const begin = (await activityRuns(h.client, next.turnWorkflowId)).find((r) => r.type === 'beginTurn');
    expect(begin && { queue: begin.taskQueue, host: hostOfIdentity(begin.identity) }).toEqual({ queue: hostTaskQueue(h.taskQueue, 'fc-B'), host: 'fc-B' });
  });
});
