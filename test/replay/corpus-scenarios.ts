/**
 * The scenarios the replay corpus is recorded from (`npm run corpus:refresh`, see the
 * README's "Changing workflow code"). Each runs real threads on the dev server against
 * the scripted Responses server and names the thread to export. Together they cover the
 * workflow paths a code change can break: a plain answer, every tool, several turns, a
 * failed turn, retried requests, compaction, a turn that continues-as-new and a fork.
 * Add a scenario here when workflow code gains a new path, then refresh the corpus.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { forkThread } from '../../src/client/fork-thread';
import { compactThread, describeThread, followTurn, startThread, submitTurn } from '../../src/client/threads';
import type { SessionSettings } from '../../src/config/settings';
import { buildThreadRun } from '../../src/history/build-run';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { hostPin } from '../../src/shared/hosts';
import { createUnrollWorker } from '../../src/workers/worker';
import type { TurnResult } from '../../src/workflows/definitions';
import { testEnvironment, type Harness } from '../support/harness';
import {
  applyPatchCall,
  assistantMessage,
  badRequest,
  httpError,
  rateLimited,
  reasoning,
  respond,
  shellCall,
  updatePlanCall,
} from '../support/responses-builders';

/** One recorded scenario. */
export interface CorpusScenario {
  /** File name stem: `test/fixtures/corpus/<name>.unroll.gz`. */
  readonly name: string;
  readonly description: string;
  /** Runs the scenario; resolves with the id of the thread to record. */
  record(h: Harness): Promise<string>;
}

const smallContext = (overrides: Partial<SessionSettings['context']> = {}): Partial<SessionSettings> => ({
  context: { windowTokens: 100_000, autoCompactTokens: 2_000, compaction: 'local', recentUserMessageTokens: 1_000, stepsPerRun: null, ...overrides },
});

async function thread(h: Harness, threadId: string, text: string, overrides: Partial<SessionSettings> = {}): Promise<TurnResult> {
  const started = await startThread(h.client, { threadId, settings: h.settings(overrides), text, taskQueue: h.taskQueue });
  return followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
}

async function turn(h: Harness, threadId: string, text: string): Promise<TurnResult> {
  const started = await submitTurn(h.client, threadId, text);
  return followTurn(h.client, started.turnWorkflowId, () => undefined, { pollMs: 50 });
}

/**
 * Waits until the thread's session has taken in its last turn's result (no turn
 * running, nothing queued), so its history is complete up to now and stays unchanged.
 */
export async function settled(h: Harness, threadId: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const view = await describeThread(h.client, threadId);
    if (view.runningTurn === null && view.queuedInputs === 0) return;
    if (Date.now() > deadline) throw new Error(`thread ${threadId} still has turn ${view.runningTurn} running after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function expectStatus(result: TurnResult, status: TurnResult['status'], scenario: string): void {
  if (result.status !== status) throw new Error(`corpus scenario ${scenario}: the turn ended ${result.status}, expected ${status}: ${JSON.stringify(result.error)}`);
}

/** Every scenario of the corpus, in recording order. */
export const CORPUS_SCENARIOS: readonly CorpusScenario[] = [
  {
    name: 'no-tools',
    description: 'one turn answered with a plain message',
    async record(h) {
      h.model.enqueue(respond(assistantMessage('Hello! Nothing to do.')));
      expectStatus(await thread(h, 'corpus-no-tools', 'say hello'), 'completed', 'no-tools');
      return 'corpus-no-tools';
    },
  },
  {
    name: 'tools',
    description: 'reasoning, update_plan, shell, apply_patch (a parallel-safe call and mutating ones)',
    async record(h) {
      h.model.enqueue(
        respond([reasoning('Plan first.', 'enc-corpus'), updatePlanCall([{ step: 'write hello.txt', status: 'in_progress' }])]),
        respond([shellCall(['ls', '-A']), shellCall('echo checked')]),
        respond(applyPatchCall('*** Begin Patch\n*** Add File: hello.txt\n+hello\n*** End Patch')),
        respond(assistantMessage('Wrote hello.txt.')),
      );
      expectStatus(await thread(h, 'corpus-tools', 'write hello.txt'), 'completed', 'tools');
      return 'corpus-tools';
    },
  },
  {
    name: 'multi-turn',
    description: 'two turns, each with a shell call',
    async record(h) {
      h.model.enqueue(respond(shellCall('echo one')), respond(assistantMessage('first done')));
      expectStatus(await thread(h, 'corpus-multi-turn', 'first task'), 'completed', 'multi-turn');
      h.model.enqueue(respond(shellCall('echo two')), respond(assistantMessage('second done')));
      expectStatus(await turn(h, 'corpus-multi-turn', 'second task'), 'completed', 'multi-turn');
      return 'corpus-multi-turn';
    },
  },
  {
    name: 'failed-turn',
    description: 'a turn the provider rejects after a tool step, then a turn that completes',
    async record(h) {
      h.model.enqueue(respond(shellCall('echo before-the-failure')), badRequest('this request is rejected'));
      expectStatus(await thread(h, 'corpus-failed-turn', 'run then fail'), 'failed', 'failed-turn');
      h.model.enqueue(respond(assistantMessage('picking up')));
      expectStatus(await turn(h, 'corpus-failed-turn', 'continue'), 'completed', 'failed-turn');
      return 'corpus-failed-turn';
    },
  },
  {
    name: 'retry',
    description: 'requests retried after a 500 and a 429 with Retry-After, with a tool step between',
    async record(h) {
      h.model.enqueue(httpError(500), respond(shellCall('echo retried')), rateLimited(1), respond(assistantMessage('made it')));
      expectStatus(await thread(h, 'corpus-retry', 'survive errors'), 'completed', 'retry');
      return 'corpus-retry';
    },
  },
  {
    name: 'compaction',
    description: 'an automatic local compaction inside a turn',
    async record(h) {
      await writeFile(path.join(h.workspace, 'big.txt'), 'y'.repeat(9_000) + '\n');
      h.model.enqueue(respond(shellCall(['cat', 'big.txt'])), respond(assistantMessage('SUMMARY: big.txt is all y.')), respond(assistantMessage('It is all y.')));
      expectStatus(await thread(h, 'corpus-compaction', 'what is in big.txt?', smallContext()), 'completed', 'compaction');
      return 'corpus-compaction';
    },
  },
  {
    name: 'turn-continue-as-new',
    description: 'a five-step turn that continues-as-new every two steps',
    async record(h) {
      h.model.enqueue(...[1, 2, 3, 4].map((n) => respond(shellCall(['echo', `step ${n}`]))), respond(assistantMessage('five steps')));
      expectStatus(await thread(h, 'corpus-turn-continue-as-new', 'count', smallContext({ autoCompactTokens: 90_000, stepsPerRun: 2 })), 'completed', 'turn-continue-as-new');
      return 'corpus-turn-continue-as-new';
    },
  },
  {
    name: 'fork',
    description: 'a fork with an edited tool output (the session starts from a recorded head and carries its origin)',
    async record(h) {
      const shell = shellCall('echo original');
      h.model.enqueue(respond(shell), respond(assistantMessage('it said original')));
      expectStatus(await thread(h, 'corpus-fork-parent', 'run echo'), 'completed', 'fork');
      const run = await buildThreadRun(await fetchThreadHistories(h.client, 'corpus-fork-parent'), h.store);
      h.model.enqueue(respond(assistantMessage('it said edited')));
      const fork = await forkThread(h.client, h.store, run, {
        at: '1.1',
        taskQueue: h.taskQueue,
        threadId: 'corpus-fork',
        message: 'what did it say?',
        editOutput: { callId: shell.call_id, text: 'edited' },
      });
      expectStatus(await followTurn(h.client, fork.turnWorkflowId, () => undefined, { pollMs: 50 }), 'completed', 'fork');
      return 'corpus-fork';
    },
  },
  {
    name: 'pinned',
    description: 'a thread pinned to a host: turn start and tools on the host queue, an auto and a manual compaction reading the workspace there',
    async record(h) {
      const pin = hostPin(h.taskQueue, 'corpus-host');
      // The host's own queue, served for the recording by a second in-process worker.
      const hostWorker = await createUnrollWorker({
        connection: h.connection, namespace: 'default', taskQueue: pin.taskQueue, workflowBundlePath: testEnvironment().bundlePath,
        deps: { store: h.store, apiKey: () => 'test-key', host: { shell: 'bash', timezone: 'UTC', now: () => new Date('2026-11-21T12:00:00Z') }, toolEnvironment: {} },
      });
      const running = hostWorker.run();
      try {
        await writeFile(path.join(h.workspace, 'big.txt'), 'y'.repeat(9_000) + '\n');
        await writeFile(path.join(h.workspace, 'AGENTS.md'), 'Say where you ran.\n');
        h.model.enqueue(respond(shellCall(['cat', 'big.txt'])), respond(assistantMessage('SUMMARY: big.txt is all y.')), respond(assistantMessage('It is all y.')));
        expectStatus(await thread(h, 'corpus-pinned', 'what is in big.txt?', { ...smallContext(), host: pin, toolTaskQueue: pin.taskQueue }), 'completed', 'pinned');
        await settled(h, 'corpus-pinned');
        h.model.enqueue(respond(assistantMessage('SUMMARY: read big.txt.')));
        await compactThread(h.client, 'corpus-pinned');
      } finally {
        hostWorker.shutdown();
        await running;
      }
      return 'corpus-pinned';
    },
  },
  {
    name: 'chained',
    description: 'calls run with the next request in one activity (runToolAndInfer): a read-only call, a chained request answered with a 429, a write and its checkpoint with a read-only call beside it',
    async record(h) {
      h.model.enqueue(
        respond(shellCall(['ls', '-A'])),
        rateLimited(1),
        respond(shellCall('echo written > chained.txt')),
        respond(shellCall(['cat', 'chained.txt'])),
        respond(assistantMessage('It says written.')),
      );
      expectStatus(await thread(h, 'corpus-chained', 'write and read chained.txt'), 'completed', 'chained');
      return 'corpus-chained';
    },
  },
  {
    name: 'writes-chained',
    description: 'a call that may write runs with the next request in one activity, its checkpoint after it, a read-only call beside that checkpoint, and a second write that waits for it',
    async record(h) {
      h.model.enqueue(
        respond(shellCall('echo one > one.txt')),
        respond(shellCall(['cat', 'one.txt'])),
        respond(shellCall('echo two >> one.txt')),
        respond(assistantMessage('Both lines are written.')),
      );
      expectStatus(await thread(h, 'corpus-writes-chained', 'write one.txt twice'), 'completed', 'writes-chained');
      return 'corpus-writes-chained';
    },
  },
];
