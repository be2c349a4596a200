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
 * Unroll's dev server settings. Every entry was measured with `npm run bench:dev-server`
 * (bench/results/dev-server-limits.md); none changes what a workflow does, only how soon
 * the server hands on work.
 */
export const DEV_SERVER_DYNAMIC_CONFIG: readonly DynamicConfigSetting[] = [
  {
    key: 'history.transferProcessorMaxPollRPS',
    value: 10_000,
    why:
      'The transfer queue (which turns "a workflow task is due" into a matching task) is read at most 20 times a second per shard by default, ' +
      'and a dev server has one shard: every workflow task waited 30-32 ms to be read (task_latency_load of TransferActiveTaskWorkflowTask), ' +
      'two per agent step. Raised: 1.2 ms, and the floor (two empty activities per step) went from 101 to 33 ms/step.',
  },
  {
    key: 'matching.numTaskqueueReadPartitions',
    value: 1,
    why:
      'A task queue has 4 partitions by default; with one worker, tasks and polls that land on a partition with nobody on the other side ' +
      'are forwarded to the root partition, through a forwarder limited to 10 a second (matching.forwarderMaxRatePerSecond). ' +
      'A burst of 20 new sessions forwarded 34-54 of them; with one partition, none (no time difference measurable on a loaded 2-core machine).',
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
      'writing an activity transfer task and dispatching it through matching. Already the default of the Temporal CLI 1.x dev server ' +
      '(0 activity transfer tasks either way); set so that an older `temporal` on PATH and a cluster (default off) behave the same.',
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
