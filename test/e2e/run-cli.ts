/**
 * Runs the compiled CLI (`bin/unroll`, so `npm run build` first) in a child process and
 * collects its exit code and output, for the end-to-end tests; and the fixture they share.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { stopResidentWorker } from '../../src/client/resident-worker';
import { promisify } from 'node:util';
import { testEnvironment } from '../support/harness';
import { ScriptedResponsesServer } from '../support/responses-server';

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'unroll');

/** What a CLI run printed and how it exited. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `unroll <args>` with exactly `env` (nothing inherited) in `cwd`; `input` is written to its stdin. */
export function runCli(args: string[], env: Record<string, string | undefined>, cwd: string, timeoutMs = 120_000, input?: string): Promise<CliRun> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [CLI, ...args], { env, cwd, timeout: timeoutMs, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    child.stdin?.end(input ?? '');
  });
}

/** A CLI process running in the background. */
export interface BackgroundCli {
  readonly child: ChildProcess;
  /** Resolves when it exits. */
  readonly done: Promise<CliRun>;
  stdout(): string;
  stderr(): string;
}

/** Starts `unroll <args>` in the background with exactly `env` in `cwd`. */
export function spawnCli(args: string[], env: Record<string, string | undefined>, cwd: string): BackgroundCli {
  const child = spawn(process.execPath, [CLI, ...args], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const done = new Promise<CliRun>((resolve) => child.once('close', (code, signal) => resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr })));
  return { child, done, stdout: () => stdout, stderr: () => stderr };
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

/** What a CLI test needs: a scripted model, an Unroll home, a workspace and the env pointing at them. */
export interface CliFixture {
  readonly model: ScriptedResponsesServer;
  readonly home: string;
  readonly workspace: string;
  /** Exactly the environment the CLI runs with: the shared dev server, its own task queue. */
  readonly env: Record<string, string | undefined>;
  close(): Promise<void>;
}

/** Starts a scripted model and temp dirs for CLI tests named `name`. */
export async function startCliFixture(name: string): Promise<CliFixture> {
  const model = await ScriptedResponsesServer.start();
  const home = await mkdtemp(path.join(os.tmpdir(), `unroll-${name}-home-`));
  // `exec` runs only inside a git repository (as Codex's): the workspace is a directory of one.
  const repo = await mkdtemp(path.join(os.tmpdir(), `unroll-${name}-repo-`));
  await promisify(execFile)('git', ['init', '-q', repo]);
  const workspace = path.join(repo, 'ws');
  await mkdir(workspace);
  const env = {
    PATH: process.env.PATH,
    HOME: home,
    UNROLL_HOME: home,
    UNROLL_TEMPORAL_ADDRESS: testEnvironment().address,
    UNROLL_TASK_QUEUE: `${name}-${randomUUID()}`,
    UNROLL_BASE_URL: model.url,
    UNROLL_MODEL: 'test-model',
    OPENAI_API_KEY: 'test-key',
    NO_COLOR: '1',
  };
  return {
    model,
    home,
    workspace,
    env,
    async close() {
      // exec starts the home's resident worker: it must not outlive the test.
      await stopResidentWorker(home);
      await model.close();
      await rm(home, { recursive: true, force: true });
      await rm(repo, { recursive: true, force: true });
    },
  };
}
