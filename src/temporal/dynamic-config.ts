/**
 * The dynamic config every Temporal dev server Unroll starts runs with (the CLI's
 * detached and foreground servers, the test suite's, the benchmarks'), defined once.
 *
 * A dev server is one process with one history shard, and some of Temporal's defaults
 * are sized for a cluster of many shards and hosts: per-shard rate limits and
 * task-queue partitioning that cost nothing there cost tens of milliseconds per
 * workflow task here. Each value below names the limit it removes and the measurement
 * that found it (Temporal's own metrics, read from `--metrics-port`); the figures are in
 * bench/results/dev-server-limits.md (`npm run bench:dev-server`) and in the README's
 * performance section, which also says what a cluster operator should set.
 */

/** One dynamic config value, with the reason it is set. */
export interface DynamicConfigSetting {
  /** Temporal's dynamic config key, e.g. `history.transferProcessorMaxPollRPS`. */
  readonly key: string;
  /** The value; passed to the server as JSON. */
  readonly value: number | boolean | string;
  /** The limit it removes and the metric that showed it. */
  readonly why: string;
}

/**
 * Unroll's dev server settings. Every entry was measured on this repository's
 * benchmarks; none changes what a workflow does, only how soon the server hands on work.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: readonly DynamicConfigSetting[] = [
  {
    key: 'history.transferProcessorMaxPollRPS',
    value: 10_000,
    why:
      'The transfer queue (which turns "a workflow task is due" into a matching task) is read at most 20 times a second per shard by default; ' +
      'a dev server has one shard, so once a burst has used the budget every workflow task waits for the next read (task_latency_load of ' +
      'TransferActiveTaskWorkflowTask: 12 ms on average, 30-40 ms after a burst, vs. 1.5 ms raised). Two workflow tasks per agent step make it the largest cost of a step.',
  },
  {
    key: 'history.timerProcessorMaxPollRPS',
    value: 10_000,
    why: 'The same per-shard read limit (20/s) for the timer queue: timeouts, retries of failed activities and workflow timers fire late under load.',
  },
  {
    key: 'history.visibilityProcessorMaxPollRPS',
    value: 10_000,
    why: 'The same per-shard read limit (20/s) for the visibility queue: after a burst of sessions, `unroll threads` (a visibility query) lags behind.',
  },
  {
    key: 'matching.numTaskqueueReadPartitions',
    value: 1,
    why:
      'A task queue has 4 partitions by default; with one worker, a task written to a partition nobody polls is forwarded to the root partition ' +
      '(matching.forwarderMaxRatePerSecond: 10/s, one at a time), and a poll waiting on another partition sees it late (the `forwarded` metric counts them).',
  },
  {
    key: 'matching.numTaskqueueWritePartitions',
    value: 1,
    why: 'Goes with numTaskqueueReadPartitions: writes and reads must use the same partitions.',
  },
  {
    key: 'system.enableActivityEagerExecution',
    value: true,
    why:
      'Lets a worker that completes a workflow task run the activity it scheduled at once (in the same round trip) instead of the server ' +
      'writing an activity transfer task and dispatching it through matching.',
  },
];

/** `--dynamic-config-value KEY=VALUE` arguments of `temporal server start-dev` for these settings. */
export function dynamicConfigArgs(settings: readonly DynamicConfigSetting[] = DEV_SERVER_DYNAMIC_CONFIG): string[] {
  return settings.flatMap((s) => ['--dynamic-config-value', `${s.key}=${JSON.stringify(s.value)}`]);
}

/**
 * The same settings as a Temporal server dynamic config file (YAML; JSON is valid
 * YAML): for a server started from a config file, e.g. a cluster
 * (`dynamicConfigClient.filepath`).
 */
export function dynamicConfigFile(settings: readonly DynamicConfigSetting[] = DEV_SERVER_DYNAMIC_CONFIG): string {
  return settings.map((s) => `${s.key}:\n  - value: ${JSON.stringify(s.value)}\n`).join('');
}
