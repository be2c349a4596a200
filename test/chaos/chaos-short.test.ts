/**
 * The chaos suite in small, so CI guards it: two sessions of a fixed seed run fault-free
 * and then again while a worker is SIGKILLed, the Temporal dev server restarts, the
 * provider misbehaves and a command misbehaves. Every session must complete with the same
 * workspace as the fault-free run, every tool call must have exactly one output, the
 * store must be whole, and any command that ran twice must have been re-issued by the
 * model after an "interrupted" output. Then the cheap form of the targeted scenarios: a
 * worker SIGKILLed between the files of a header-less append and a large Add File, a
 * store object of a running turn overwritten, the tmpfs under the store filled while the
 * model answers, and the loss of a thread's pinned host mid-command (its worker
 * SIGKILLed, its workspace and home deleted: another host takes the thread over and
 * finishes with the fault-free workspace) (the full set runs in `npm run chaos`). Spawns `bin/unroll worker` and the
 * pausing worker: run `npm run build` first (`npm test` does). Mounts a tmpfs: needs root,
 * as the suite does anyway.
 */
import { renderMarkdown } from '../../bench/chaos/report';
import { runChaos } from '../../bench/chaos/run';

jest.setTimeout(240_000);

describe('chaos (short)', () => {
  test('two sessions survive a worker SIGKILL, a server restart, provider and tool faults with nothing lost or repeated, and no targeted fault applies a patch twice or half or leaves a turn stuck, and a lost host’s thread moves and finishes', async () => {
    const progress: string[] = [];
    const report = await runChaos({
      seed: 7,
      sessions: 2,
      concurrency: 2,
      turns: 2,
      killsPerSession: 1,
      providerFaultsPerSession: 3,
      toolFaultsPerSession: 1,
      serverRestarts: 1,
      targeted: 'short',
      sessionDeadlineMs: 150_000,
      keepWorkDir: false,
      log: (line) => progress.push(line),
    });

    expect({ problems: report.problems, progress }).toEqual({ problems: [], progress: expect.any(Array) });
    expect(report.ok).toBe(true);
    expect([report.sessionsStarted, report.sessionsCompleted, report.sessionsFailed]).toEqual([2, 2, 0]);
    expect(report.workspacesIdentical).toBe(2);
    expect(report.toolCalls).toBeGreaterThan(10);
    expect(report.toolCallsWithOneOutput).toBe(report.toolCalls);
    expect(report.unexplainedDuplicates).toBe(0);
    expect(report.store).toMatchObject({ lost: [], corrupted: [] });
    expect(report.store.chainsLoaded).toBe(report.store.headsChecked);
    expect(report.protocolViolations).toEqual([]);
    // The faults really happened: the plan for seed 7 has them, and the run counted them.
    expect(report.faults['worker-sigkill']).toBeGreaterThanOrEqual(1);
    expect(report.faults['server-restart']).toBe(1);
    const providerFaults = Object.entries(report.faults).filter(([kind]) => kind.startsWith('provider:')).reduce((n, [, c]) => n + c, 0);
    expect(providerFaults).toBe(6);
    const toolFaults = Object.values(report.toolFaultsHandled);
    expect(toolFaults.reduce((n, t) => n + t.ran, 0)).toBeGreaterThanOrEqual(2);
    expect(toolFaults.every((t) => t.handledAsExpected === t.ran)).toBe(true);
    // The targeted faults: a kill mid-patch, a corrupted object, a full store.
    expect(report.targeted.scenarios.map((s) => [s.name, s.passed])).toEqual([
      ['patch-kill append @ first committed', true],
      ['store-corrupt transcript node of the running step', true],
      ['store-full-disk while the model answers', true],
      ['host-loss of the pinned host mid-command (worker SIGKILLed, workspace and home deleted)', true],
    ]);
    expect(report.targeted.scenarios[0].patch).toMatchObject({ atKill: 'partial', verdict: 'once', leftovers: [], outputs: 1, successOutputs: 1, resumed: true });
    expect([report.targeted.doubleApplications, report.targeted.partialPatches, report.turnsStuckWithoutMessage]).toEqual([0, 0, 0]);
    expect(report.targeted.patchKillsWithOneSuccess).toBe(1);
    expect(report.targeted.scenarios[1].turn).toMatchObject({ end: 'failed', errorType: 'StoreObjectUnreadable', message: expect.stringMatching(/^transcript node [0-9a-f]{64} of thread \S+ is corrupt/) });
    expect(report.targeted.scenarios[2].turn?.end).toBe('completed');
    expect(report.targeted.scenarios[2].note).toMatch(/store write failed: no space left on device; retrying/);
    // The host loss: one move, restored from the last checkpoint, one step repeated, the fault-free files.
    expect(report.targeted.scenarios[3].turn?.end).toBe('completed');
    expect(report.targeted.scenarios[3].hostLoss).toMatchObject({ moves: 1, restoredFrom: 'step 1.2', stepsRepeated: 1, workspaceIdentical: true, livenessChecks: 1 });
    expect([report.targeted.hostLosses, report.targeted.hostLossesSurvived]).toEqual([1, 1]);
    expect(renderMarkdown(report)).toContain('| host losses survived (moved once, final workspace identical to the fault-free run) | 1 of 1 (figures below) |');
  });
});
