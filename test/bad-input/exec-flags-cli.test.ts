/**
 * `unroll exec`, `exec resume` and `exec fork` given bad flags, bad files or nothing to
 * act on: each gets one message naming the problem and exit 2, and nothing reaches the
 * model. The compiled CLI (`npm run build` first) against the shared dev server.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import type { ScriptedResponsesServer } from '../support/responses-server';
import { runCli, startCliFixture, type CliFixture } from '../e2e/run-cli';

jest.setTimeout(120_000);

describe('exec misuse', () => {
  let fixture: CliFixture;
  let model: ScriptedResponsesServer;
  let workspace: string;
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    fixture = await startCliFixture('exec-misuse');
    ({ model, workspace, env } = fixture);
    await writeFile(path.join(workspace, 'array.json'), '[]');
  });
  afterAll(async () => {
    await fixture.close();
  });
  afterEach(() => model.assertProtocol());

  test.each<[string, string[], string]>([
    ['an unknown flag of exec', ['exec', '--no-such-flag', 'hi'], "unknown option '--no-such-flag'"],
    ['an unknown flag of exec resume', ['exec', 'resume', '--no-such-flag', 'th-x'], "unknown option '--no-such-flag'"],
    ['a sandbox mode Codex does not have', ['exec', '-s', 'everything', 'hi'], "argument 'everything' is invalid"],
    ['a --color value Codex does not have', ['exec', '--color', 'sometimes', 'hi'], "argument 'sometimes' is invalid"],
    ['the bypass with -s', ['exec', '--dangerously-bypass-approvals-and-sandbox', '-s', 'read-only', 'hi'], 'cannot be used with --sandbox'],
    ['the bypass with -a', ['exec', '--dangerously-bypass-approvals-and-sandbox', '-a', 'untrusted', 'hi'], 'cannot be used with --ask-for-approval'],
    ['--oss with --provider', ['exec', '--oss', '--provider', 'openai', 'hi'], '--oss cannot be used with --provider'],
    ['--oss with a local provider Codex does not know', ['exec', '--oss', '--local-provider', 'foo', 'hi'], "argument 'foo' is invalid. Allowed choices are lmstudio, ollama"],
    ['a missing --output-schema file', ['exec', '--output-schema', 'nope.json', 'hi'], '--output-schema: cannot read'],
    ['an --output-schema that is an array', ['exec', '--output-schema', 'array.json', 'hi'], 'must hold a JSON Schema object, not an array'],
    ['-o into a directory that does not exist', ['exec', '-o', 'no/such/dir/last.txt', 'hi'], 'its directory'],
    ['-i of a file that does not exist', ['exec', 'hi', '-i', 'a.png'], '-i/--image a.png: no such file'],
    ['exec resume with neither an id nor --last', ['exec', 'resume'], 'exec resume needs a thread id, or --last'],
    ['--all without --last', ['exec', 'resume', '--all', 'th-x', 'hi'], '--all goes with --last'],
    ['exec resume of a malformed id', ['exec', 'resume', 'bad id', 'hi'], 'is not a valid thread id'],
    ['exec fork of an unknown thread', ['exec', 'fork', 'th-does-not-exist', 'hi'], 'th-does-not-exist'],
  ])('%s is refused by name (exit 2) and reaches nothing', async (_case, args, message) => {
    const before = model.requests.length;
    const run = await runCli(args, env, workspace);
    expect(run.stderr).toContain(message);
    expect(run.code).toBe(2);
    expect(model.requests).toHaveLength(before);
  });
});
