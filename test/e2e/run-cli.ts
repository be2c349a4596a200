/**
 * Runs the compiled CLI (`bin/unroll`, so `npm run build` first) in a child process and
 * collects its exit code and output, for the end-to-end tests of the debugging commands.
 */
import { execFile } from 'node:child_process';
import * as path from 'node:path';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'unroll');

/** What a CLI run printed and how it exited. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `unroll <args>` with exactly `env` (nothing inherited) in `cwd`. */
export function runCli(args: string[], env: Record<string, string | undefined>, cwd: string, timeoutMs = 120_000): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env, cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** An environment with no reachable Temporal server and no permission to start one. */
export function offlineEnv(home: string): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: home,
    UNROLL_HOME: home,
    UNROLL_TEMPORAL_ADDRESS: '127.0.0.1:9',
    UNROLL_AUTO_START_SERVER: '0',
    NO_COLOR: '1',
  };
}
