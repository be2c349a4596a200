/**
 * Bad configuration given to the compiled CLI (no server needed: the configuration is
 * checked before anything is contacted): a bad value in config.toml, a TOML syntax
 * error, a bad `-c` value and an unknown profile, each named with where it is, exit 2.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { runCli } from '../e2e/run-cli';

describe('bad configuration on the command line', () => {
  let home: string;
  beforeAll(async () => {
    home = await mkdtemp(path.join(os.tmpdir(), 'unroll-config-bad-'));
    await mkdir(path.join(home, 'ws'));
  });
  afterAll(async () => {
    await rm(home, { recursive: true, force: true });
  });

  const offline = () => ({ PATH: process.env.PATH, HOME: home, UNROLL_HOME: home, UNROLL_TEMPORAL_ADDRESS: '127.0.0.1:9', UNROLL_AUTO_START_SERVER: '0', OPENAI_API_KEY: 'k', NO_COLOR: '1' });

  test.each([
    { name: 'a bad value in config.toml names the file and line', toml: 'model = "m"\n\n[sandbox_workspace_write]\nnetwork_access = "yes"\n', args: [] as string[], message: (h: string) => `unroll: ${h}/config.toml:4: sandbox_workspace_write.network_access: Invalid input: expected boolean, received string\n` },
    { name: 'a TOML syntax error names the file, line and column', toml: 'model = "m"\nmodel_provider = [\n', args: [], message: (h: string) => `unroll: ${h}/config.toml:3:1: invalid TOML: invalid value\n` },
    { name: 'a bad -c value names the flag', toml: '', args: ['-c', 'sandbox_mode=yolo'], message: () => '-c sandbox_mode=yolo: sandbox_mode: Invalid option: expected one of "read-only"|"workspace-write"|"danger-full-access"' },
    { name: 'an unknown profile names what was looked for', toml: '', args: ['-p', 'nope'], message: (h: string) => `unroll: the profile "nope" (-p) is not defined: there is no ${h}/nope.config.toml and no [profiles.nope] in ${h}/config.toml\n` },
  ])('$name', async ({ toml, args, message }) => {
    await writeFile(path.join(home, 'config.toml'), toml);
    for (const command of [['exec', ...args, 'hi'], ['threads', ...args]]) {
      const run = await runCli(command, offline(), path.join(home, 'ws'));
      expect(run.code).toBe(2);
      expect(run.stderr).toContain(message(home));
    }
  });
});
