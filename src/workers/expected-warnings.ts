/**
 * A logger that drops the SDK warnings Unroll's own worker layout causes on purpose: a
 * host's queue is served by an activity-only worker (see ./worker.ts), for which the SDK
 * warns at start-up that it polls no workflow tasks. Everything else goes through.
 */
import type { LogLevel, LogMetadata, Logger } from '@temporalio/common';

/** Messages that describe the intended set-up, not a problem. */
const EXPECTED_WARNINGS = new Set(['No workflows registered, not polling for workflow tasks']);

/** Wraps `inner`, dropping {@link EXPECTED_WARNINGS}. */
export function withoutExpectedWarnings(inner: Logger): Logger {
  const log = (level: LogLevel, message: string, meta?: LogMetadata) => {
    if (level === 'WARN' && EXPECTED_WARNINGS.has(message)) return;
    inner.log(level, message, meta);
  };
  return {
    log,
    trace: (message, meta) => log('TRACE', message, meta),
    debug: (message, meta) => log('DEBUG', message, meta),
    info: (message, meta) => log('INFO', message, meta),
    warn: (message, meta) => log('WARN', message, meta),
    error: (message, meta) => log('ERROR', message, meta),
  };
}
