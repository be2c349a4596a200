/**
 * Which command tool a new thread gets: Codex 0.171's exec_command + write_stdin for
 * OpenAI model names (what Codex offers), shell for other models, and
 * `[unroll] command_tool` in config.toml overriding either way.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { selectThreadTools } from '../../src/tools/thread-tools';
import { usesUnifiedExec } from '../../src/tools/unified-exec';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-command-tool-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

test.each([
  ['gpt-5.1-codex', true],
  ['gpt-5', true],
  ['gpt-5.5', true],
  ['gpt-4.1', true],
  ['o3', true],
  ['o4-mini', true],
  ['codex-mini-latest', true],
  ['llama3', false],
  ['qwen2.5-coder', false],
  ['gpt-4o', false],
])('model %s gets unified exec: %s', (model, expected) => {
  expect(usesUnifiedExec(model)).toBe(expected);
});

test('[unroll] command_tool = "shell" gives a gpt-5.x thread shell, and "exec_command" gives a local model unified exec', async () => {
  await writeFile(path.join(home, 'config.toml'), 'model = "gpt-5.1-codex"\n[unroll]\ncommand_tool = "shell"\n');
  const shellConfig = loadConfig({ UNROLL_HOME: home }, {});
  expect(shellConfig.session.commandTool).toBe('shell');
  expect(selectThreadTools(shellConfig.session).names).toEqual(expect.arrayContaining(['shell']));
  expect(selectThreadTools(shellConfig.session).names).not.toContain('exec_command');

  await writeFile(path.join(home, 'config.toml'), 'model = "llama3"\n[unroll]\ncommand_tool = "exec_command"\n');
  const execConfig = loadConfig({ UNROLL_HOME: home }, {});
  expect(selectThreadTools(execConfig.session).names).toEqual(expect.arrayContaining(['exec_command', 'write_stdin']));
  expect(selectThreadTools(execConfig.session).names).not.toContain('shell');
});

test('an unknown command_tool is a config error that names the key', async () => {
  await writeFile(path.join(home, 'config.toml'), '[unroll]\ncommand_tool = "pty"\n');
  let error: unknown;
  try {
    loadConfig({ UNROLL_HOME: home }, {});
  } catch (err) {
    error = err;
  }
  expect(error).toBeInstanceOf(ConfigError);
  expect((error as Error).message).toContain('command_tool');
});
