/**
 * Host failover on one machine: one Temporal dev server, one PostgreSQL store, hosts A and
 * B as real `unroll worker` processes with their own Unroll homes. A thread pinned to A
 * loses A (SIGKILL during a running shell command, then A's workspace and home are
 * deleted); after the failover delay B confirms that A has no worker, adopts the thread
 * (restoring the latest checkpoint from the shared store), the interrupted command is reported to the model as interrupted, and the turn finishes
 * on B. Also: failoverAfter = 0 never moves, and a host busy with a long command is not
 * failed over.
 *
 * The liveness window of B is short here (2 s) so that A's death is confirmed in seconds:
 * B only ever judges A after A was killed. In production the window must exceed the
 * server's long-poll interval (an idle live worker polls only that often).
 */
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { HostMove } from '../../src/activities/failover';
import { hostMoveText } from '../../src/client/host-move';
import { renderThread } from '../../src/client/show-render';
import { buildThreadRun } from '../../src/history/build-run';
import type { HostMoveView } from '../../src/history/host-moves';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { followTurn, startThread } from '../../src/client/threads';
import type { SessionSettings } from '../../src/config/settings';
import { hostPin, hostTaskQueue } from '../../src/shared/hosts';
import type { TurnEvent, TurnResult } from '../../src/workflows/definitions';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import type { RecordedRequest } from '../support/responses-server';
import { waitFor } from '../support/worker-process';
import { activityRuns, hostOfIdentity } from './activity-runs';
import { spawnHostWorker, type HostWorker } from './host-worker';
import { toolOutputText } from '../../src/items/schemas';

jest.setTimeout(240_000);

/** How a command cut short by its worker's death is reported (src/activities/tools.ts). */
const INTERRUPTED = 'interrupted: the worker running this command stopped';

/** The failover delay of the threads that should move (seconds). */
const FAILOVER_AFTER = 3;

/**
 * The script of every thread: three shell steps, then a message. The second is long
 * enough for the test to kill its host while it runs; `sentinel` (outside the workspace)
 * says it started.
 */
const steps = (sentinel: string) => [
  "mkdir -p src && printf 'one\\n' > src/a.txt",
  `touch '${sentinel}' && sleep 8 && mkdir -p src && printf 'two\\n' > src/b.txt`,
  "mkdir -p src/deep && printf 'three\\n' > src/c.txt && printf 'nested\\n' > src/deep/d.txt",
];

describe('host failover: a thread whose pinned host is lost moves to a live host and finishes there', () => {
  let h: Harness;
  let storeUrl: string;
  let sentinels: string;
  const dirs: string[] = [];
  const workers: HostWorker[] = [];

  const tmp = async (prefix: string) => {
    const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
    dirs.push(dir);
    return dir;
  };
  const startHost = async (hostId: string, home: string, hidden: string[] = []) => {
    const worker = await spawnHostWorker({
      hostId, home, taskQueue: h.taskQueue, address: h.address, store: storeUrl, hidden,
      env: { UNROLL_HOST_LIVENESS_WINDOW: '2' },
    });
    workers.push(worker);
    return worker;
  };
  const settingsOn = (host: string, cwd: string, failoverAfter: number): SessionSettings => {
    const pin = hostPin(h.taskQueue, host);
    return { ...h.settings({ cwd }), host: pin, toolTaskQueue: pin.taskQueue, failoverAfter };
  };

  /**
   * Runs the script: each shell step in turn; a step whose output says it was interrupted
   * is asked again (what a model does after a crash), then the final message.
   */
  function answer(request: RecordedRequest) {
    const outputs = request.input.filter((item) => item.type === 'function_call_output').map((item) => String((item as { output: unknown }).output));
    const done = outputs.filter((o) => !o.includes(INTERRUPTED)).length;
    const script = steps(sentinel(request.threadKey ?? 'unknown'));
    if (done < script.length) return respond(shellCall(['bash', '-c', script[done]]));
    return respond(assistantMessage('all files written'));
  }

  beforeAll(async () => {
    storeUrl = await freshDatabase(testPostgresUrl());
    h = await startHarness({ worker: false, storeSpec: storeUrl });
    sentinels = await tmp('unroll-failover-sentinels-');
    h.model.setHandler(answer);
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await h.close();
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  async function start(host: string, cwd: string, failoverAfter: number) {
    const threadId = `failover-${host}-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: settingsOn(host, cwd, failoverAfter), text: 'write the files', taskQueue: h.taskQueue });
    return { threadId, turnWorkflowId: started.turnWorkflowId };
  }
  const sentinel = (threadId: string) => path.join(sentinels, threadId);

  test('SIGKILL of host A during a shell command: B takes over after the failover delay, the command is reported as interrupted, the turn finishes on B and the client is told', async () => {
    const [rootA, homeA, rootB, homeB] = [await tmp('unroll-fo-A-root-'), await tmp('unroll-fo-A-home-'), await tmp('unroll-fo-B-root-'), await tmp('unroll-fo-B-home-')];
    const workspaceA = path.join(rootA, 'ws-lost');
    await mkdir(workspaceA);
    const hostA = await startHost('fo-A', homeA, [rootB]);
    const hostB = await startHost('fo-B', homeB);

    // The fault-free run of the same script, on B, for the final file tree.
    const reference = path.join(rootB, 'ws-reference');
    await mkdir(reference);
    const clean = await start('fo-B', reference, FAILOVER_AFTER);
    expect((await followTurn(h.client, clean.turnWorkflowId, () => undefined, { pollMs: 100 })).status).toBe('completed');

    const thread = await start('fo-A', workspaceA, FAILOVER_AFTER);
    const events: TurnEvent[] = [];
    const notices: string[] = [];
    const following = followTurn(h.client, thread.turnWorkflowId, (e) => void events.push(e), { pollMs: 100, onNotice: (m) => notices.push(m), describeEveryMs: 250 });
    await waitFor('the long command to start on A', () => existsSync(sentinel(thread.threadId)), 60_000);
    await hostA.kill();
    await rm(workspaceA, { recursive: true, force: true });
    await rm(homeA, { recursive: true, force: true });

    const result: TurnResult = await following;
    expect(result.status).toBe('completed');
    expect(result.relocation).toEqual({ host: hostPin(h.taskQueue, 'fo-B'), cwd: workspaceA });

    // The command that ran on A is reported as interrupted; the model ran it again on B.
    const outputs = (await transcriptItems(h, result.head)).flatMap((i) => (i.type === 'function_call_output' ? [toolOutputText(i.output)] : []));
    expect(outputs.filter((o) => o.includes(INTERRUPTED))).toHaveLength(1);
    const runs = await activityRuns(h.client, thread.turnWorkflowId);
    const tools = runs.filter((r) => r.type === 'runTool' || r.type === 'runToolAndInfer');
    expect(tools.map((r) => hostOfIdentity(r.identity))).toEqual(['fo-A', null, 'fo-B', 'fo-B', 'fo-B']);
    expect(tools[1].taskQueue).toBe(hostTaskQueue(h.taskQueue, 'fo-A'));
    expect(runs.filter((r) => r.type === 'checkHostLiveness' || r.type === 'adoptThread').map((r) => [r.type, hostOfIdentity(r.identity)])).toEqual([
      ['checkHostLiveness', 'fo-B'],
      ['adoptThread', 'fo-B'],
    ]);

    // The client was told: the wait (with when failover comes), then the move.
    expect(notices.some((n) => n.includes('waiting for a worker on host fo-A') && n.includes(`fails over to a live host after ${FAILOVER_AFTER} s of waiting (failoverAfter)`))).toBe(true);
    const moves = events.filter((e): e is Extract<TurnEvent, { kind: 'host.moved' }> => e.kind === 'host.moved').map((e) => e.move);
    expect(moves).toEqual([
      {
        from: 'fo-A', to: hostPin(h.taskQueue, 'fo-B'), previousCwd: workspaceA, cwd: workspaceA, relocatedBecause: null,
        restoredFrom: { id: expect.stringMatching(/^[0-9a-f]{64}$/), turn: 1, step: 1 }, notRestored: null,
      } satisfies HostMove,
    ]);
    expect(hostMoveText(moves[0])).toBe('host fo-A lost; thread moved to host fo-B, workspace restored from step 1.1');

    // B restored step 1.1 (src/a.txt) from the shared store and finished the script there.
    expect(await fileTree(workspaceA)).toEqual(await fileTree(reference));
    expect(hostB.child.exitCode).toBeNull();

    // `show` records the move at step 1.2, whose command was running on A.
    const run = await buildThreadRun(await fetchThreadHistories(h.client, thread.threadId), h.store);
    expect(run.turns[0].hostMoves).toEqual([
      {
        step: 2, from: 'fo-A', waitedFor: expect.stringContaining('sleep 8'), lostAfterMs: expect.any(Number), livenessChecks: 1,
        lastSeen: expect.any(String), status: 'moved', move: moves[0], adoptionMs: expect.any(Number), movedAt: expect.any(String), failure: null,
      } satisfies HostMoveView,
    ]);
    expect(run.turns[0].hostMoves[0].lostAfterMs).toBeGreaterThanOrEqual(FAILOVER_AFTER * 1000);
    const shown = renderThread(run, (_code, text) => text);
    const at = shown.findIndex((l) => l.includes('⇄ host fo-A lost'));
    expect(shown[at]).toMatch(new RegExp(`^ {7}⇄ host fo-A lost after [0-9.]+ s \\(.*sleep 8.* found no worker\\); moved to host fo-B in [0-9.]+ m?s, workspace restored from step 1\\.1 at ${escape(workspaceA)}$`));
    expect(shown.slice(0, at).reverse().find((l) => /^ {2}1\.\d /.test(l))).toMatch(/^ {2}1\.2 /);
    expect(run.sessionHostMoves).toEqual([]);
  });

  test('failoverAfter 0: a thread whose host is killed is never moved; it waits until the host is back', async () => {
    const [root, home] = [await tmp('unroll-fo-C-root-'), await tmp('unroll-fo-C-home-')];
    const workspace = path.join(root, 'ws-stay');
    await mkdir(workspace);
    const hostC = await startHost('fo-C', home);
    const thread = await start('fo-C', workspace, 0);
    await waitFor('the long command to start on C', () => existsSync(sentinel(thread.threadId)), 60_000);
    await hostC.kill();
    await waitFor('the retry of the command to be due on C', async () => (await pendingAttempt(thread.turnWorkflowId)) > 1, 30_000);
    // Four failover delays of the other threads: nothing moves, the retry waits on C's queue.
    await new Promise((resolve) => setTimeout(resolve, 4 * FAILOVER_AFTER * 1000));
    expect(await pendingAttempt(thread.turnWorkflowId)).toBeGreaterThan(1);
    expect((await activityRuns(h.client, thread.turnWorkflowId)).some((r) => r.type === 'checkHostLiveness' || r.type === 'adoptThread')).toBe(false);

    await startHost('fo-C', home);
    const result = await followTurn(h.client, thread.turnWorkflowId, () => undefined, { pollMs: 100 });
    expect(result.status).toBe('completed');
    expect(result.relocation).toBeUndefined();
    const tools = (await activityRuns(h.client, thread.turnWorkflowId)).filter((r) => r.type === 'runTool');
    expect(tools.every((r) => r.taskQueue === hostTaskQueue(h.taskQueue, 'fo-C') && hostOfIdentity(r.identity) === 'fo-C')).toBe(true);
  });

  test('a host busy with a command that runs longer than failoverAfter keeps its thread', async () => {
    const [root, home] = [await tmp('unroll-fo-D-root-'), await tmp('unroll-fo-D-home-')];
    const workspace = path.join(root, 'ws-busy');
    await mkdir(workspace);
    await startHost('fo-D', home);
    // The long step runs 8 s, more than two failover delays.
    const thread = await start('fo-D', workspace, FAILOVER_AFTER);
    const result = await followTurn(h.client, thread.turnWorkflowId, () => undefined, { pollMs: 100 });
    expect(result.status).toBe('completed');
    expect(result.relocation).toBeUndefined();
    const runs = await activityRuns(h.client, thread.turnWorkflowId);
    expect(runs.some((r) => r.type === 'checkHostLiveness' || r.type === 'adoptThread')).toBe(false);
    expect(await readFile(path.join(workspace, 'src', 'b.txt'), 'utf8')).toBe('two\n');
  });

  /** The attempt of the turn's pending tool call (0 when none is pending). */
  async function pendingAttempt(workflowId: string): Promise<number> {
    const { raw } = await h.client.workflow.getHandle(workflowId).describe();
    return (raw.pendingActivities ?? []).find((a) => a.activityType?.name === 'runTool' || a.activityType?.name === 'runToolAndInfer')?.attempt ?? 0;
  }
});

/** `text` as a literal in a regular expression. */
function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Every file under `dir` with its content, as sorted `[relative path, content]` pairs. */
async function fileTree(dir: string): Promise<[string, string][]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries.filter((e) => e.isFile()).map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
  return Promise.all(files.sort().map(async (file) => [file, await readFile(path.join(dir, file), 'utf8')] as [string, string]));
}
