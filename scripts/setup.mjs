#!/usr/bin/env node
// One command from a fresh clone to a runnable checkout, safe to run again at any time:
//   1. `npm ci` when node_modules is missing or older than package-lock.json,
//   2. build (tsc, then the workflow bundle),
//   3. make sure a working Temporal CLI exists (UNROLL_TEMPORAL_CLI, PATH, or an install
//      under .tools/) using the code just built,
//   4. check for bubblewrap (`bwrap`), which the read-only and workspace-write sandboxes
//      need on Linux: installed with apt-get when missing and running as root, otherwise
//      explained. Never fails setup: danger-full-access (the default) works without it.
// Plain Node with no dependencies: it runs before node_modules exists. Works from any cwd.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function say(message) {
  console.log(`[setup] ${message}`);
}

function fail(message) {
  console.error(`[setup] FAILED: ${message}`);
  process.exit(1);
}

/** Runs a command in the repo with inherited stdio; returns why it failed, or null. */
function tryRun(command, args, env = process.env) {
  say(`$ ${[command, ...args].join(' ')}`);
  const result = spawnSync(command, args, { cwd: repo, env, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.error) return `could not run ${command}: ${result.error.message}`;
  if (result.status !== 0) return `\`${[command, ...args].join(' ')}\` exited with ${result.status ?? result.signal}`;
  return null;
}

/** Like tryRun, but exits the script when the command fails. */
function run(command, args) {
  const problem = tryRun(command, args);
  if (problem !== null) fail(problem);
}

/** Why dependencies must be (re)installed, or null when node_modules is current. */
function installReason() {
  const lock = path.join(repo, 'package-lock.json');
  const installed = path.join(repo, 'node_modules', '.package-lock.json');
  if (!existsSync(path.join(repo, 'node_modules'))) return 'node_modules is missing';
  if (!existsSync(installed)) return 'node_modules/.package-lock.json is missing';
  if (statSync(lock).mtimeMs > statSync(installed).mtimeMs) return 'package-lock.json is newer than node_modules';
  return null;
}

function installDependencies() {
  const reason = installReason();
  if (reason === null) return say('dependencies are up to date (node_modules matches package-lock.json)');
  say(`installing dependencies: ${reason}`);
  if (tryRun(npm, ['ci', '--no-audit', '--no-fund']) === null) return;
  // npm ci refuses a lock file that is out of step with package.json (e.g. one that lacks
  // other platforms' optional packages; test/unit/package-lock.test.ts guards against
  // that). Fall back to installing the locked versions without touching the committed
  // lock: `npm install --no-save` (npm 11 leaves package-lock.json as it is), and should
  // an npm version write it anyway, the committed contents are put back, so a fresh
  // clone's `git status` stays clean.
  say('npm ci failed; retrying with `npm install --no-save`, which installs the locked versions and leaves package-lock.json alone');
  const lockPath = path.join(repo, 'package-lock.json');
  const lockBefore = readFileSync(lockPath, 'utf8');
  const problem = tryRun(npm, ['install', '--no-save', '--no-audit', '--no-fund']);
  if (readFileSync(lockPath, 'utf8') !== lockBefore) {
    writeFileSync(lockPath, lockBefore);
    say('npm rewrote package-lock.json; the committed version was restored (run `npm install` yourself to update the lock on purpose)');
  }
  if (problem !== null) fail(`${problem}. package-lock.json and package.json may be out of step: run \`npm install\` and commit the updated lock`);
}

function build() {
  // tsc, then the workflow bundle (see the build script in package.json).
  run(npm, ['run', 'build']);
}

async function ensureTemporalCli() {
  const modulePath = path.join(repo, 'dist', 'src', 'temporal', 'temporal-cli.js');
  if (!existsSync(modulePath)) fail(`${modulePath} is missing after the build`);
  const { findTemporalCli } = createRequire(import.meta.url)(modulePath);
  const explicitPath = process.env.UNROLL_TEMPORAL_CLI || undefined;
  say(explicitPath ? `checking UNROLL_TEMPORAL_CLI=${explicitPath}` : 'looking for the Temporal CLI');
  try {
    const cli = await findTemporalCli({ explicitPath, toolsDir: path.join(repo, '.tools'), install: true, log: say });
    say(`Temporal CLI ready: ${cli}`);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }
}

/** A bwrap that can actually build a sandbox here: its version, or why not (null: not found). */
function probeBubblewrap() {
  const version = spawnSync('bwrap', ['--version'], { encoding: 'utf8' });
  if (version.error) return null;
  // The same namespaces the shell tool asks for: a container without them has bwrap but no sandbox.
  const probe = spawnSync('bwrap', ['--ro-bind', '/', '/', '--dev', '/dev', '--proc', '/proc', '--unshare-pid', '--unshare-net', '--die-with-parent', 'true'], { encoding: 'utf8' });
  if (probe.status === 0) return { ok: true, version: version.stdout.trim() };
  return { ok: false, version: version.stdout.trim(), reason: (probe.stderr || `exit ${probe.status ?? probe.signal}`).trim() };
}

function ensureBubblewrap() {
  if (process.platform !== 'linux') {
    return say('bubblewrap: not on Linux, so the read-only and workspace-write sandbox modes are unavailable (danger-full-access works)');
  }
  let found = probeBubblewrap();
  if (found === null) {
    const hint = 'it is only needed for the read-only and workspace-write sandbox modes';
    if (process.getuid?.() !== 0) return say(`bubblewrap (bwrap) is not installed; ${hint}. Install it with: sudo apt-get install bubblewrap`);
    say(`bubblewrap (bwrap) is not installed (${hint}); installing it with apt-get`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const problem = tryRun('apt-get', ['update'], env) ?? tryRun('apt-get', ['install', '-y', 'bubblewrap'], env);
    if (problem !== null) return say(`warning: could not install bubblewrap (${problem}); sandboxed modes will fail until \`apt-get install bubblewrap\` succeeds`);
    found = probeBubblewrap();
    if (found === null) return say('warning: bubblewrap was installed but `bwrap` is not on PATH; sandboxed modes will fail');
  }
  if (found.ok) return say(`bubblewrap ready: ${found.version}`);
  say(`warning: ${found.version} is installed but cannot create a sandbox here (${found.reason}); sandboxed modes will fail on this host`);
}

installDependencies();
build();
await ensureTemporalCli();
ensureBubblewrap();
say('done');
