/**
 * Where the Temporal SDK's own log lines go for the commands that run and follow a turn
 * (`exec`, `exec resume`, `exec fork`, `resume`, `compact`): to a log file in the Unroll
 * home, never to the terminal, whose stderr is for the turn's progress. A retried step
 * makes the SDK log an `Activity failed` warning with the whole failure and its stack (about
 * 55 lines per attempt); the follow loop already tells each retry in one line (src/client/
 * turn-waits.ts), so the dump belongs in the file. The file's path is printed once, the
 * first time something at WARN or above is written to it, so the user knows where to look.
 * With `-v/--verbose` every line also goes to stderr, and the file gets DEBUG lines too.
 */
import { appendFileSync, mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { inspect } from 'node:util';
import { DefaultLogger, type LogEntry, type LogLevel } from '@temporalio/worker';
import { installRuntimeLogger } from './runtime-logger';

/** The SDK log file in an Unroll home. */
export function sdkLogFile(home: string): string {
  return path.join(home, 'logs', 'unroll.log');
}

/** What {@link installSdkLog} needs. */
export interface SdkLogOptions {
  /** The Unroll home; the file is {@link sdkLogFile}. */
  readonly home: string;
  /** `-v`: also print every line on `err`, and log at DEBUG. */
  readonly verbose: boolean;
  readonly err: NodeJS.WritableStream;
}

const SEVERITY: Record<LogLevel, number> = { TRACE: 0, DEBUG: 1, INFO: 2, WARN: 3, ERROR: 4 };

/** One entry as one line: time, level, message and its metadata (errors with their stacks, on one line). */
export function formatEntry(entry: LogEntry): string {
  const time = new Date(Number(entry.timestampNanos / 1_000_000n)).toISOString();
  const meta = entry.meta && Object.keys(entry.meta).length > 0 ? ` ${inspect(entry.meta, { depth: 6, breakLength: Infinity, compact: true })}` : '';
  return `${time} [${entry.level}] ${entry.message}${meta}`.replace(/\n/g, '\\n');
}

/**
 * Installs the process's SDK logger writing to the home's log file (see the module
 * comment); once per process, like {@link installRuntimeLogger}. Writing is synchronous
 * and best effort: a log file that cannot be written is reported once and then left alone,
 * since it must never fail a turn.
 */
export function installSdkLog(options: SdkLogOptions): void {
  const file = sdkLogFile(options.home);
  const level: LogLevel = options.verbose ? 'DEBUG' : 'INFO';
  let announced = false;
  let broken = false;
  const write = (entry: LogEntry) => {
    const line = formatEntry(entry);
    if (options.verbose) options.err.write(`${line}\n`);
    if (broken) return;
    try {
      mkdirSync(path.dirname(file), { recursive: true });
      appendFileSync(file, `${line}\n`);
    } catch (err) {
      broken = true;
      options.err.write(`unroll: cannot write the SDK log ${file}: ${err instanceof Error ? err.message : String(err)}\n`);
      return;
    }
    if (!announced && !options.verbose && SEVERITY[entry.level] >= SEVERITY.WARN) {
      announced = true;
      options.err.write(`unroll: SDK warnings and errors are logged to ${file}\n`);
    }
  };
  installRuntimeLogger(level, options.verbose ? 'INFO' : 'WARN', new DefaultLogger(level, write));
}
