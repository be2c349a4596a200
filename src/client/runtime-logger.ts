/**
 * The Temporal SDK runtime's logger, installed once per process by the commands that run
 * a worker or replay histories in this process. Kept out of ./runtime.ts so that the thin
 * client commands (`exec` with the resident worker) never load `@temporalio/worker`.
 */
import { DefaultLogger, makeTelemetryFilterString, Runtime, type LogLevel, type Logger } from '@temporalio/worker';
import { withoutExpectedWarnings } from '../workers/expected-warnings';

let runtimeLogLevel: LogLevel | undefined;

/**
 * Installs the SDK runtime's logger once per process. With `nativeLevel`, the SDK core's
 * own log lines (printed to the console at WARN otherwise) are filtered at that level
 * too (`unroll replay` expects the core's non-determinism warnings and reports them itself).
 * With `sink`, SDK lines go there instead of the console (and the core's are forwarded to it).
 */
export function installRuntimeLogger(level: LogLevel, nativeLevel?: LogLevel, sink?: Logger): void {
  if (runtimeLogLevel) return;
  runtimeLogLevel = level;
  const metrics = metricsAddress();
  Runtime.install({
    // The host queue's activity-only worker makes the SDK warn that it polls no workflows: expected.
    logger: withoutExpectedWarnings(sink ?? new DefaultLogger(level)),
    // The commands handle their own signals (Ctrl-C interrupts a turn in `exec`; `worker`
    // shuts down gracefully), so the SDK must not shut the worker down behind their back.
    shutdownSignals: [],
    // A given sink (the log file of src/client/sdk-log.ts) receives the core's lines too.
    telemetryOptions: {
      ...(nativeLevel ? { logging: { filter: makeTelemetryFilterString({ core: nativeLevel, other: nativeLevel }), ...(sink ? { forward: {} } : {}) } } : {}),
      // The SDK's own metrics (task latencies, RPCs, slots) for Prometheus, when asked for.
      ...(metrics ? { metrics: { prometheus: { bindAddress: metrics } } } : {}),
    },
  });
}

/**
 * `UNROLL_METRICS_ADDRESS` (host:port): where the workers of this process serve the
 * Temporal SDK's metrics for Prometheus (`/metrics`); unset, none are served.
 */
export function metricsAddress(): string | undefined {
  const value = process.env.UNROLL_METRICS_ADDRESS?.trim();
  if (!value) return undefined;
  if (!/^[^\s:]+:\d{1,5}$/.test(value)) throw new Error(`UNROLL_METRICS_ADDRESS must be host:port (e.g. 127.0.0.1:9464), got ${JSON.stringify(value)}`);
  return value;
}
