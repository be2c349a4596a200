/**
 * Session settings for runs against the scripted Responses server: shared by the test
 * harness, the benchmarks and the chaos suite, so that they all exercise the same
 * configuration and a new setting is added in one place.
 */
import { DEFAULT_TIMINGS, type ActivityTimings, type SessionSettings } from '../../src/config/settings';

/** Timings short enough for tests (a killed worker's activity is retried in seconds). */
export const TEST_TIMINGS: ActivityTimings = {
  ...DEFAULT_TIMINGS,
  inferenceHeartbeatMs: 2_000,
  streamIdleMs: 10_000,
  toolHeartbeatMs: 2_000,
  toolGraceMs: 5_000,
  retryInitialMs: 100,
  retryMaxMs: 1_000,
};

/** Settings of a thread in `cwd` whose model is the scripted server at `baseUrl`. */
export function scriptedSessionSettings(options: {
  cwd: string;
  baseUrl: string;
  taskQueue: string;
  model?: string;
  timings?: ActivityTimings;
}): SessionSettings {
  return {
    cwd: options.cwd,
    model: options.model ?? 'test-model',
    provider: { name: 'scripted', baseUrl: options.baseUrl, envKey: 'OPENAI_API_KEY' },
    reasoningEffort: null,
    reasoningSummary: 'auto',
    approvalPolicy: 'never',
    sandboxMode: 'danger-full-access',
    shellTimeoutMs: 10_000,
    toolTaskQueue: options.taskQueue,
    timings: options.timings ?? TEST_TIMINGS,
    context: { windowTokens: 272_000, autoCompactTokens: 244_800, compaction: 'local', recentUserMessageTokens: 20_000, stepsPerRun: null },
  };
}
