/**
 * `unroll exec` with Codex 0.171's `codex exec` flags, meaning what they mean in Codex
 * (checked side by side against the real Codex CLI on a scripted model): the read-only
 * default, -s, the bypass, -C, --add-dir, the git repository check, -o, --output-schema,
 * stdin, --oss/--local-provider, --ignore-user-config, --color, -m, -V. The compiled CLI
 * (`npm run build` first) against the shared dev server and a scripted Responses server;
 * sandboxed commands run in real bubblewrap.
 */
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type { RecordedRequest, ScriptedResponsesServer } from '../support/responses-server';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { runCli, startCliFixture, type CliFixture } from './run-cli';

jest.setTimeout(120_000);

interface JsonEvent {
  readonly type: string;
  readonly thread_id?: string;
  readonly item?: { readonly type: string; readonly exit_code?: number | null; readonly aggregated_output?: string; readonly text?: string };
}

const events = (stdout: string): JsonEvent[] => stdout.trim().split('\n').map((line) => JSON.parse(line) as JsonEvent);
const inputText = (request: RecordedRequest): string => JSON.stringify(request.input);
/** The `<permissions instructions>` line that names a setting, from the first request of a thread. */
const permissionLine = (request: RecordedRequest, key: string): string | undefined =>
  inputText(request).split('\\n').find((line) => line.startsWith(`${key}: `));

describe('exec with Codex flags', () => {
  let fixture: CliFixture;
  let model: ScriptedResponsesServer;
  let workspace: string;
  let env: Record<string, string | undefined>;
  let scratch: string;

  beforeAll(async () => {
    fixture = await startCliFixture('exec-flags');
    ({ model, workspace, env } = fixture);
    scratch = await mkdtemp(path.join(os.tmpdir(), 'unroll-exec-flags-scratch-'));
  });
  afterAll(async () => {
    await fixture.close();
    await rm(scratch, { recursive: true, force: true });
  });
  afterEach(() => model.assertProtocol());

  const lastRequest = () => model.requests[model.requests.length - 1];

  test('by default the sandbox is read-only and approval is never: a write fails and the model is told so', async () => {
    model.enqueue(respond(shellCall(['bash', '-c', 'echo x > made-by-default.txt'])), respond(assistantMessage('could not write')));
    const run = await runCli(['exec', '--json', 'write a file'], env, workspace);
    expect(run.code).toBe(0);
    const done = events(run.stdout).find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    expect(done?.item?.exit_code).not.toBe(0);
    expect(existsSync(path.join(workspace, 'made-by-default.txt'))).toBe(false);
    const first = model.requests[model.requests.length - 2];
    expect(permissionLine(first, 'sandbox_mode')).toMatch(/^sandbox_mode: read-only\./);
    expect(permissionLine(first, 'approval_policy')).toMatch(/^approval_policy: never\./);
  });

  test('-s workspace-write lets the command write in the workspace', async () => {
    model.enqueue(respond(shellCall(['bash', '-c', 'echo x > made-by-write.txt'])), respond(assistantMessage('wrote it')));
    const run = await runCli(['exec', '-s', 'workspace-write', 'write a file'], env, workspace);
    expect(run.code).toBe(0);
    expect(await readFile(path.join(workspace, 'made-by-write.txt'), 'utf8')).toBe('x\n');
  });

  test('--dangerously-bypass-approvals-and-sandbox runs without a sandbox and without approvals, even outside a git repository', async () => {
    model.enqueue(respond(assistantMessage('unsandboxed')));
    const run = await runCli(['exec', '--dangerously-bypass-approvals-and-sandbox', 'hello'], env, scratch);
    expect(run.code).toBe(0);
    expect(permissionLine(lastRequest(), 'sandbox_mode')).toMatch(/^sandbox_mode: danger-full-access\./);
    expect(permissionLine(lastRequest(), 'approval_policy')).toMatch(/^approval_policy: never\./);
  });

  test('--dangerously-bypass-approvals-and-sandbox with -s is refused as contradictory (exit 2)', async () => {
    const before = model.requests.length;
    const run = await runCli(['exec', '--dangerously-bypass-approvals-and-sandbox', '-s', 'read-only', 'hello'], env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('--dangerously-bypass-approvals-and-sandbox cannot be used with --sandbox');
    expect(model.requests).toHaveLength(before);
  });

  test('outside a git repository exec refuses with Codex\'s message and exit 1, and --skip-git-repo-check runs it', async () => {
    const before = model.requests.length;
    const refused = await runCli(['exec', 'hello'], env, scratch);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe('Not inside a trusted directory and --skip-git-repo-check was not specified.\n');
    expect(model.requests).toHaveLength(before);

    model.enqueue(respond(assistantMessage('ran anyway')));
    const allowed = await runCli(['exec', '--skip-git-repo-check', 'hello'], env, scratch);
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toBe('ran anyway\n');
  });

  test('-C runs in another directory, and the git check looks there', async () => {
    const refused = await runCli(['exec', '-C', scratch, 'hello'], env, workspace);
    expect(refused.code).toBe(1);
    model.enqueue(respond(shellCall('pwd')), respond(assistantMessage('there')));
    const run = await runCli(['exec', '--json', '-C', workspace, 'where am I'], env, scratch);
    expect(run.code).toBe(0);
    const done = events(run.stdout).find((e) => e.type === 'item.completed' && e.item?.type === 'command_execution');
    expect(done?.item?.aggregated_output).toBe(`${workspace}\n`);
  });

  test('--add-dir makes another directory writable under workspace-write', async () => {
    const extra = path.join(scratch, 'extra');
    await mkdir(extra, { recursive: true });
    model.enqueue(respond(shellCall(['bash', '-c', `echo y > ${extra}/added.txt`])), respond(assistantMessage('wrote outside')));
    const run = await runCli(['exec', '-s', 'workspace-write', '--add-dir', extra, 'write there'], env, workspace);
    expect(run.code).toBe(0);
    expect(await readFile(path.join(extra, 'added.txt'), 'utf8')).toBe('y\n');
    expect(permissionLine(model.requests[model.requests.length - 2], 'writable_roots')).toBe(`writable_roots: ${workspace}, ${extra}`);
  });

  test('-o writes the last agent message to a file, and --output-schema is sent as the strict json_schema text format', async () => {
    const schema = { type: 'object', properties: { answer: { type: 'string' }, confidence: { type: 'number' } }, required: ['answer', 'confidence'], additionalProperties: false };
    const schemaFile = path.join(scratch, 'schema.json');
    await writeFile(schemaFile, JSON.stringify(schema));
    const outFile = path.join(scratch, 'last.txt');
    model.enqueue(respond(assistantMessage('{"answer":"42","confidence":1}')));
    const run = await runCli(['exec', '--json', '--output-schema', schemaFile, '-o', outFile, 'answer in JSON'], env, workspace);
    expect(run.code).toBe(0);
    expect(await readFile(outFile, 'utf8')).toBe('{"answer":"42","confidence":1}');
    // Codex 0.171 sends exactly this, the schema's key order kept.
    expect(lastRequest().body.text).toEqual({ format: { type: 'json_schema', name: 'codex_output_schema', strict: true, schema } });
    expect(JSON.stringify((lastRequest().body.text as { format: { schema: unknown } }).format.schema)).toBe(JSON.stringify(schema));
    const threadId = events(run.stdout)[0].thread_id!;

    // The schema is per turn, as in Codex: the next turn answers in free text again.
    model.enqueue(respond(assistantMessage('free text')));
    const next = await runCli(['exec', 'resume', threadId, 'and now in prose'], env, workspace);
    expect(next.code).toBe(0);
    expect(lastRequest().body.text).toBeUndefined();
  });

  test('an --output-schema file that is not a JSON object is refused naming the file (exit 2)', async () => {
    const bad = path.join(scratch, 'bad-schema.json');
    await writeFile(bad, '[1, 2');
    const run = await runCli(['exec', '--output-schema', bad, 'hi'], env, workspace);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`--output-schema: ${bad} is not valid JSON`);
  });

  test('the prompt comes from stdin when absent or "-", and piped stdin after a prompt is appended as a <stdin> block', async () => {
    model.enqueue(respond(assistantMessage('one')), respond(assistantMessage('two')), respond(assistantMessage('three')));
    expect((await runCli(['exec'], env, workspace, 60_000, 'prompt from stdin')).code).toBe(0);
    expect(inputText(model.requests[model.requests.length - 1])).toContain('"text":"prompt from stdin"');
    expect((await runCli(['exec', '-'], env, workspace, 60_000, 'dash prompt')).code).toBe(0);
    expect(inputText(model.requests[model.requests.length - 1])).toContain('"text":"dash prompt"');
    expect((await runCli(['exec', 'summarise this'], env, workspace, 60_000, 'piped text\n')).code).toBe(0);
    expect(inputText(model.requests[model.requests.length - 1])).toContain(JSON.stringify('summarise this\n\n<stdin>\npiped text\n</stdin>'));
  });

  test('-m chooses the model; --oss with --local-provider uses that local provider, and --oss alone is refused as in Codex', async () => {
    model.enqueue(respond(assistantMessage('local')));
    const run = await runCli(['exec', '-m', 'gpt-oss:20b', '--oss', '--local-provider', 'ollama', 'hi'], env, workspace);
    expect(run.code).toBe(0);
    expect(lastRequest().body.model).toBe('gpt-oss:20b');
    expect(run.stderr).toContain('model: gpt-oss:20b (ollama)');
    const refused = await runCli(['exec', '--oss', 'hi'], env, workspace);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('no default OSS provider configured. Use --local-provider=<provider> or set oss_provider to one of: lmstudio, ollama in config.toml');
  });

  test('--ignore-user-config leaves config.toml out', async () => {
    await writeFile(path.join(fixture.home, 'config.toml'), 'sandbox_mode = "workspace-write"\n');
    try {
      model.enqueue(respond(assistantMessage('configured')), respond(assistantMessage('ignored')));
      expect((await runCli(['exec', 'hi'], env, workspace)).code).toBe(0);
      expect(permissionLine(lastRequest(), 'sandbox_mode')).toMatch(/^sandbox_mode: workspace-write\./);
      expect((await runCli(['exec', '--ignore-user-config', 'hi'], env, workspace)).code).toBe(0);
      expect(permissionLine(lastRequest(), 'sandbox_mode')).toMatch(/^sandbox_mode: read-only\./);
    } finally {
      await rm(path.join(fixture.home, 'config.toml'), { force: true });
    }
  });

  test('--color always paints the progress lines and --color never does not', async () => {
    model.enqueue(respond(assistantMessage('painted')), respond(assistantMessage('plain')));
    const painted = await runCli(['exec', '--color', 'always', 'hi'], env, workspace);
    expect(painted.stderr).toContain('\u001b[');
    const plain = await runCli(['exec', '--color', 'never', 'hi'], { ...env, NO_COLOR: undefined }, workspace);
    expect(plain.stderr).not.toContain('\u001b[');
  });

  test('-V prints the version, on exec as at the top level', async () => {
    const { version } = JSON.parse(await readFile(path.resolve(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
    for (const args of [['exec', '-V'], ['--version']]) {
      const run = await runCli(args, env, workspace);
      expect(run).toEqual({ code: 0, stdout: `unroll ${version}\n`, stderr: '' });
    }
  });
});
