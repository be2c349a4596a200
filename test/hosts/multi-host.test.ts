/**
 * Many hosts, one fleet: two real worker processes (hosts A and B) on one Temporal dev
 * server and one PostgreSQL transcript store, each in its own mount namespace where the other
 * host's workspace root is hidden under an empty tmpfs. A thread is pinned to the host
 * it started on: its tools and workspace reads run there (a tool run on the other host
 * would find no workspace), while inference and compaction go to the shared queue and
 * either host serves them. Asserted from Temporal history: each activity's task queue
 * and the identity of the worker that ran it.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { compactThread, followTurn, startThread } from '../../src/client/threads';
import type { SessionSettings } from '../../src/config/settings';
import { messageText, toolOutputText, type MessageItem } from '../../src/items/schemas';
import { hostPin, hostTaskQueue } from '../../src/shared/hosts';
import { sessionWorkflowId, turnWorkflowId } from '../../src/shared/ids';
import type { TurnResult } from '../../src/workflows/definitions';
import { runCli } from '../e2e/run-cli';
import { startHarness, transcriptItems, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import type { RecordedRequest } from '../support/responses-server';
import { freshDatabase } from '../support/postgres';
import { testPostgresUrl } from '../support/postgres-env';
import { waitFor } from '../support/worker-process';
import { activityRuns, hostOfIdentity, type ActivityRun } from './activity-runs';
import { spawnHostWorker, type HostWorker } from './host-worker';

jest.setTimeout(180_000);

const HOSTS = ['A', 'B'] as const;
type HostId = (typeof HOSTS)[number];
const other = (host: HostId): HostId => (host === 'A' ? 'B' : 'A');

/** Activities that touch the workspace: they must run on the pinned host. */
const WORKSPACE = new Set(['beginTurn', 'readWorkspaceContext', 'runTool', 'runToolAndInfer', 'checkpointWorkspace']);

describe('threads pinned to the host they started on, in a two-host fleet', () => {
  let h: Harness;
  let storeUrl: string;
  const roots = {} as Record<HostId, string>;
  const homes = {} as Record<HostId, string>;
  const workers = new Map<HostId, HostWorker>();
  /** Threads whose first model request waits until the test releases it. */
  const gates = new Map<string, Promise<void>>();

  const workspaceOf = (host: HostId) => path.join(roots[host], 'ws');
  const startWorker = async (host: HostId) => {
    const worker = await spawnHostWorker({
      hostId: host, home: homes[host], taskQueue: h.taskQueue, address: h.address,
      store: storeUrl, hidden: [roots[other(host)]],
    });
    workers.set(host, worker);
    return worker;
  };
  const settingsOn = (host: HostId): SessionSettings => {
    const pin = hostPin(h.taskQueue, host);
    return { ...h.settings({ cwd: workspaceOf(host) }), host: pin, toolTaskQueue: pin.taskQueue };
  };
  const startOn = async (host: HostId, text: string) => {
    const threadId = `hosts-${host}-${randomUUID()}`;
    const started = await startThread(h.client, { threadId, settings: settingsOn(host), text, taskQueue: h.taskQueue });
    return { threadId, host, turnWorkflowId: started.turnWorkflowId };
  };

  /** Two tool calls per turn (each reads where.txt), then a final message; summaries for compactions. */
  async function answer(request: RecordedRequest) {
    if (request.body.tool_choice === 'none') return respond(assistantMessage('summary: read where.txt twice'));
    const outputs = request.input.filter((item) => item.type === 'function_call_output').length;
    if (outputs === 0) await gates.get(request.threadKey ?? '');
    if (outputs < 2) return respond(shellCall('cat where.txt'));
    return respond(assistantMessage('done'));
  }

  beforeAll(async () => {
    // The fleet's one store: a database of its own on the suite's PostgreSQL.
    storeUrl = await freshDatabase(testPostgresUrl());
    h = await startHarness({ worker: false, storeSpec: storeUrl });
    for (const host of HOSTS) {
      roots[host] = await mkdtemp(path.join(os.tmpdir(), `unroll-host-${host}-root-`));
      homes[host] = await mkdtemp(path.join(os.tmpdir(), `unroll-host-${host}-home-`));
      await mkdir(workspaceOf(host));
      await writeFile(path.join(workspaceOf(host), 'where.txt'), `the workspace of host ${host}\n`);
      await writeFile(path.join(workspaceOf(host), 'AGENTS.md'), `Rules of host ${host}.\n`);
    }
    h.model.setHandler(answer);
  });
  afterAll(async () => {
    await Promise.all([...workers.values()].map((w) => w.kill()));
    await h.close();
    for (const host of HOSTS) {
      await rm(roots[host], { recursive: true, force: true });
      await rm(homes[host], { recursive: true, force: true });
    }
  });
  beforeEach(async () => {
    for (const host of HOSTS) if (!workers.has(host) || workers.get(host)!.child.exitCode !== null || workers.get(host)!.child.signalCode !== null) await startWorker(host);
  });

  /** The tool outputs of a finished turn, from the shared store. */
  async function toolOutputs(result: TurnResult): Promise<string[]> {
    return (await transcriptItems(h, result.head)).flatMap((item) => (item.type === 'function_call_output' ? [toolOutputText(item.output)] : []));
  }

  /** Every workspace activity on the pinned host's queue and run there; the rest on the shared queue. */
  function expectPinned(runs: readonly ActivityRun[], host: HostId): void {
    for (const run of runs) {
      if (WORKSPACE.has(run.type)) {
        expect({ type: run.type, taskQueue: run.taskQueue, host: hostOfIdentity(run.identity) }).toEqual({ type: run.type, taskQueue: hostTaskQueue(h.taskQueue, host), host });
      } else {
        expect({ type: run.type, taskQueue: run.taskQueue }).toEqual({ type: run.type, taskQueue: h.taskQueue });
      }
    }
  }

  test('threads started on A run every tool call and workspace read on A, threads started on B on B; the first request and compaction on the shared queue', async () => {
    const threads = await Promise.all([startOn('A', 'look around'), startOn('B', 'look around'), startOn('A', 'look again'), startOn('B', 'look again')]);
    for (const thread of threads) {
      const result = await followTurn(h.client, thread.turnWorkflowId, () => undefined, { pollMs: 100 });
      expect(result.status).toBe('completed');
      // A tool on the other host would have found no workspace (its root is an empty tmpfs there).
      expect(await toolOutputs(result)).toEqual([expect.stringContaining(`the workspace of host ${thread.host}`), expect.stringContaining(`the workspace of host ${thread.host}`)]);
      const runs = await activityRuns(h.client, thread.turnWorkflowId);
      // Each later request runs with the call before it, on the host (runToolAndInfer).
      expect(runs.map((r) => r.type)).toEqual(['beginTurn', 'checkpointWorkspace', 'runInference', 'runToolAndInfer', 'runToolAndInfer']);
      expectPinned(runs, thread.host);
      expect(runs.filter((r) => r.type === 'runInference').every((r) => HOSTS.includes(hostOfIdentity(r.identity) as HostId))).toBe(true);
    }
    // A compaction reads the pinned host's AGENTS.md there; the model call runs on the shared queue.
    for (const thread of threads.slice(0, 2)) {
      const summary = await compactThread(h.client, thread.threadId);
      const texts = (await transcriptItems(h, summary.head)).filter((i): i is MessageItem => i.type === 'message').map(messageText);
      expect(texts.some((t) => t.includes(`Rules of host ${thread.host}.`))).toBe(true);
      const runs = (await activityRuns(h.client, sessionWorkflowId(thread.threadId))).filter((r) => r.type !== 'storeMessage');
      expect(runs.map((r) => r.type)).toEqual(['readWorkspaceContext', 'compactTranscript']);
      expectPinned(runs, thread.host);
    }
  });

  test('exec on host A pins its thread to A: its tools run on A, and show and threads name the host', async () => {
    const env = {
      PATH: process.env.PATH, HOME: homes.A, UNROLL_HOME: homes.A, UNROLL_HOST_ID: 'A', UNROLL_TEMPORAL_ADDRESS: h.address, UNROLL_AUTO_START_SERVER: '0',
      UNROLL_TASK_QUEUE: h.taskQueue, UNROLL_STORE: storeUrl, UNROLL_BASE_URL: h.model.url, UNROLL_MODEL: 'test-model', OPENAI_API_KEY: 'test-key', NO_COLOR: '1',
    };
    // The pinning is under test, not the sandbox: the bypass keeps the tools unsandboxed (and skips the git check).
    const run = await runCli(['exec', '--no-worker', '--json', '--dangerously-bypass-approvals-and-sandbox', 'look around'], env, workspaceOf('A'));
    expect(run.code).toBe(0);
    const threadId = (JSON.parse(run.stdout.split('\n')[0]) as { thread_id: string }).thread_id;
    const runs = await activityRuns(h.client, turnWorkflowId(threadId, 1));
    expect(runs.filter((r) => r.type === 'runTool' || r.type === 'runToolAndInfer')).toHaveLength(2);
    expectPinned(runs, 'A');

    const show = await runCli(['show', threadId], env, workspaceOf('A'));
    expect(show.stdout).toContain(`cwd ${workspaceOf('A')} · host A`);
    const listed = await runCli(['threads', '--json', '--limit', '1000'], env, workspaceOf('A'));
    expect((JSON.parse(listed.stdout) as { threadId: string; host: string | null }[]).find((t) => t.threadId === threadId)).toMatchObject({ host: 'A' });
  });

  test.each(HOSTS.map((host) => [host, other(host)] as const))(
    'a thread pinned to %s waits for its stopped host while %s serves its inference, the client names the host, and the thread completes once the host is back',
    async (host, serving) => {
      let release!: () => void;
      const thread = await (async () => {
        const threadId = `hosts-${host}-${randomUUID()}`;
        gates.set(threadId, new Promise<void>((resolve) => (release = resolve)));
        const started = await startThread(h.client, { threadId, settings: settingsOn(host), text: 'wait for me', taskQueue: h.taskQueue });
        return { threadId, turnWorkflowId: started.turnWorkflowId };
      })();
      const byThread = () => h.model.requests.filter((r) => r.threadKey === thread.threadId);
      // The first request (on the shared queue) is held; stop the host meanwhile.
      await waitFor('the first model request', () => byThread().length >= 1);
      await workers.get(host)!.kill();
      release();

      const notices: string[] = [];
      const following = followTurn(h.client, thread.turnWorkflowId, () => undefined, { pollMs: 100, onNotice: (m) => notices.push(m), describeEveryMs: 250 });
      const waiting = new RegExp(`^waiting for a worker on host ${host} \\(task queue "${hostTaskQueue(h.taskQueue, host).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"\\): a tool call, then inference #2 has waited \\d+ s and no worker has taken it; `);
      await waitFor(`a notice naming host ${host}`, () => notices.some((n) => waiting.test(n)), 60_000).catch((err: Error) => {
        throw new Error(`${err.message}; notices: ${JSON.stringify(notices)}`);
      });
      // The tool call (with the request after it) sits unstarted on the host's queue; the other host did not take it.
      const pending = (await activityRuns(h.client, thread.turnWorkflowId)).filter((r) => r.type === 'runToolAndInfer');
      expect(pending).toEqual([{ type: 'runToolAndInfer', taskQueue: hostTaskQueue(h.taskQueue, host), identity: null }]);

      await startWorker(host);
      const result = await following;
      expect(result.status).toBe('completed');
      expect(await toolOutputs(result)).toEqual([expect.stringContaining(`the workspace of host ${host}`), expect.stringContaining(`the workspace of host ${host}`)]);
      const runs = await activityRuns(h.client, thread.turnWorkflowId);
      expectPinned(runs, host);
      // The request answered after the stop could only be served by the other host.
      expect(hostOfIdentity(runs.filter((r) => r.type === 'runInference')[0].identity)).toBe(serving);
    },
  );
});
