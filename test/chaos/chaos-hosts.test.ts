/**
 * The two-host chaos mode in small, so CI guards it: two sessions of a fixed seed run
 * fault-free, then again on a fleet of two hosts (A and B, each an `unroll worker
 * --host-id` in its own mount namespace that hides the other host's workspaces) sharing
 * a private PostgreSQL store, one thread pinned to each host, while each host's worker is
 * SIGKILLed once and PostgreSQL restarts. Nothing may be lost or corrupted (the store is
 * walked in the database), and Temporal history must show every tool call and workspace
 * read run by the thread's own host, with both hosts serving inferences. Spawns
 * `bin/unroll worker`: run `npm run build` first (`npm test` does). Needs root (mount
 * namespaces, tmpfs) and PostgreSQL's server binaries, as the suite does anyway.
 */
import { runChaos } from '../../bench/chaos/run';

jest.setTimeout(240_000);

describe('chaos (two hosts, short)', () => {
  test('two threads pinned to hosts A and B survive a SIGKILL of each host worker and a PostgreSQL restart with nothing lost or corrupted and no tool run on the wrong host', async () => {
    const progress: string[] = [];
    const report = await runChaos({
      seed: 7,
      sessions: 2,
      concurrency: 2,
      turns: 2,
      killsPerSession: 1,
      providerFaultsPerSession: 2,
      toolFaultsPerSession: 1,
      serverRestarts: 0,
      hosts: 2,
      dbRestarts: 1,
      targeted: 'none',
      sessionDeadlineMs: 150_000,
      keepWorkDir: false,
      log: (line) => progress.push(line),
    });

    expect({ problems: report.problems, progress }).toEqual({ problems: [], progress: expect.any(Array) });
    expect(report.ok).toBe(true);
    expect([report.sessionsStarted, report.sessionsCompleted, report.sessionsFailed]).toEqual([2, 2, 0]);
    expect(report.sessions.map((s) => s.host)).toEqual(['A', 'B']);
    expect(report.workspacesIdentical).toBe(2);
    expect(report.toolCallsWithOneOutput).toBe(report.toolCalls);
    expect(report.unexplainedDuplicates).toBe(0);
    expect(report.store).toMatchObject({ lost: [], corrupted: [] });
    expect(report.store.objects).toBeGreaterThan(20);
    expect(report.store.chainsLoaded).toBe(report.store.headsChecked);
    // The faults really happened: a kill of each host's worker, a database restart.
    expect(report.hosts?.workerKillsByHost.A).toBeGreaterThanOrEqual(1);
    expect(report.hosts?.workerKillsByHost.B).toBeGreaterThanOrEqual(1);
    expect(report.faults['database-restart']).toBe(1);
    // Every workspace activity ran on its thread's host; both hosts served inferences.
    expect(report.hosts?.wrongHost).toEqual([]);
    expect(report.hosts?.workspaceActivities).toBeGreaterThan(report.toolCalls);
    expect(report.hosts?.inferencesByHost.A).toBeGreaterThan(0);
    expect(report.hosts?.inferencesByHost.B).toBeGreaterThan(0);
  });
});
