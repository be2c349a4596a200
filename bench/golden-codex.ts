/**
 * Regenerates the golden files of the `exec --json` side-by-side suite from the real
 * Codex CLI (`npm run golden:codex`): for each script of bench/golden/scenarios.ts, it
 * starts the scripted Responses server, runs `codex exec --json` against it in a fresh
 * CODEX_HOME and workspace, normalises the stream (bench/golden/compare.ts) and writes
 * it to test/golden/exec-json/<script>.jsonl.
 *
 * Codex is found at CODEX_BIN, else /tmp/codex-ref/node_modules/.bin/codex (install
 * with `npm install --prefix /tmp/codex-ref @openai/codex@0.171.0`). Its model is
 * `gpt-5.5` (known to 0.171, so no "model metadata not found" item), with update_plan on.
 * Arguments: script names to regenerate only those.
 */
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, realpath, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ScriptedResponsesServer } from '../test/support/responses-server';
import { normaliseStream, parseStream } from './golden/compare';
import { SCENARIOS, scenarioHandler, type Scenario } from './golden/scenarios';

/** Where the golden files live, relative to the repository root. */
export const GOLDEN_DIR = path.join('test', 'golden', 'exec-json');

const CODEX = process.env.CODEX_BIN ?? '/tmp/codex-ref/node_modules/.bin/codex';
const REPO = path.resolve(__dirname, '..', '..');

/** Config of the reference run: Codex's own format, a provider on the scripted server. */
function codexConfig(baseUrl: string): string {
  return [
    'model = "gpt-5.5"',
    'model_provider = "scripted"',
    '',
    '[tools.update_plan]',
    'enabled = true',
    '',
    '[model_providers.scripted]',
    'name = "scripted"',
    `base_url = "${baseUrl}"`,
    'env_key = "SCRIPTED_API_KEY"',
    'wire_api = "responses"',
    '',
  ].join('\n');
}

async function runCodex(scenario: Scenario): Promise<string> {
  const server = await ScriptedResponsesServer.start();
  server.setHandler(scenarioHandler(scenario));
  const home = await mkdtemp(path.join(os.tmpdir(), 'golden-codex-home-'));
  const workspace = await realpath(await mkdtemp(path.join(os.tmpdir(), 'golden-codex-ws-')));
  try {
    await writeFile(path.join(home, 'config.toml'), codexConfig(server.url));
    const args = ['exec', '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox', '-C', workspace, scenario.prompt];
    const env = { PATH: process.env.PATH ?? '', HOME: home, CODEX_HOME: home, SCRIPTED_API_KEY: 'scripted-key', SHELL: '/bin/bash' };
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve, reject) => {
      const child = spawn(CODEX, args, { env, cwd: workspace, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stderr.on('data', (c: Buffer) => (err += c.toString()));
      child.once('error', reject);
      child.once('close', (status) => resolve({ code: status ?? 1, stdout: out, stderr: err }));
    });
    if (code !== 0) throw new Error(`codex exited ${code} on script ${scenario.name}:\n${stderr}`);
    if (server.violations.length > 0) console.warn(`${scenario.name}: Codex broke the protocol: ${server.violations.join('; ')}`);
    const events = normaliseStream(parseStream(stdout), [workspace]);
    return `${events.map((e) => JSON.stringify(e)).join('\n')}\n`;
  } finally {
    await server.close();
    await rm(home, { recursive: true, force: true });
    await rm(workspace, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const only = process.argv.slice(2);
  const dir = path.join(REPO, GOLDEN_DIR);
  await mkdir(dir, { recursive: true });
  for (const scenario of SCENARIOS.filter((s) => only.length === 0 || only.includes(s.name))) {
    const stream = await runCodex(scenario);
    await writeFile(path.join(dir, `${scenario.name}.jsonl`), stream);
    console.log(`${scenario.name}: ${stream.split('\n').length - 1} events`);
  }
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
});
