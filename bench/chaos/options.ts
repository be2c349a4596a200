/** The knobs of a chaos run and their defaults (the full run of `npm run chaos`). */
import type { TargetedSet } from './targeted';

/** The knobs of a run; see {@link DEFAULT_CHAOS_OPTIONS}. */
export interface ChaosOptions {
  readonly seed: number;
  readonly sessions: number;
  readonly concurrency: number;
  readonly turns: number;
  readonly killsPerSession: number;
  readonly providerFaultsPerSession: number;
  readonly toolFaultsPerSession: number;
  readonly serverRestarts: number;
  /**
   * 1: every session has its own worker on the file store. 2: the fleet mode (./hosts.ts):
   * hosts A and B, one worker each, on a private PostgreSQL store, sessions pinned half to
   * each host; kills hit either host's worker, and PostgreSQL restarts mid-run.
   */
  readonly hosts?: 1 | 2;
  /** PostgreSQL restarts during the faulty phase (two-host mode only). */
  readonly dbRestarts?: number;
  /** The targeted scenarios after the random phase (see ./scenarios.ts): all, the short test's, or none. */
  readonly targeted: TargetedSet;
  /** A session that has not finished by then counts as not completed. */
  readonly sessionDeadlineMs: number;
  /** Keep the run's temp dir (workspaces, store, logs) for inspection. */
  readonly keepWorkDir: boolean;
  /** Progress lines (stderr in the CLI). */
  readonly log: (line: string) => void;
}

/** The full run of `npm run chaos`: 20 sessions, seed 1. */
export const DEFAULT_CHAOS_OPTIONS: Omit<ChaosOptions, 'log'> = {
  seed: 1,
  sessions: 20,
  concurrency: 4,
  turns: 3,
  killsPerSession: 3,
  providerFaultsPerSession: 3,
  toolFaultsPerSession: 2,
  serverRestarts: 2,
  hosts: 1,
  dbRestarts: 1,
  targeted: 'all',
  sessionDeadlineMs: 10 * 60_000,
  keepWorkDir: false,
};
