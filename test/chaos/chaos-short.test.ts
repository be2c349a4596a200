/**
 * The chaos suite in small, so CI guards it: two sessions of a fixed seed run fault-free
 * and then again while a worker is SIGKILLed, the Temporal dev server restarts, the
 * provider misbehaves and a command misbehaves. Every session must complete with the same
 * workspace as the fault-free run, every tool call must have exactly one output, the
 * store must be whole, and any command that ran twice must have been re-issued by the
 * model after an "interrupted" output. Spawns `bin/unroll worker`: run `npm run build`
 * first (`npm test` does).
 */
import { runChaos } from '../../bench/chaos/run';

jest.setTimeout(240_000);

describe('chaos (short)', () => {
  test('two sessions survive a worker SIGKILL, a server restart, provider and tool faults with nothing lost or repeated', async () => {
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
  });
});
