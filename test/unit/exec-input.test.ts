/**
 * How `unroll exec` builds its prompt and checks its place, as `codex exec` 0.171 does
 * (checked against the real Codex CLI): stdin for a missing or `-` prompt, piped stdin
 * after a prompt as a `<stdin>` block, the git repository walk; and the configuration
 * its Codex flags produce (`--oss`, `--local-provider`, `--add-dir`, the read-only default).
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { loadConfig } from '../../src/config/config';
import { ExecFlagsError, execOverrides } from '../../src/client/exec-flags';
import { ExecUsageError, execPrompt, gitRepoRoot } from '../../src/client/exec-input';

const stdin = (text: string, isTTY = false) => ({ read: () => Promise.resolve(text), isTTY });

describe('execPrompt', () => {
  test.each([
    { words: ['fix', 'it'], piped: '', tty: false, prompt: 'fix it' },
    { words: ['fix it'], piped: 'log line\n', tty: false, prompt: 'fix it\n\n<stdin>\nlog line\n</stdin>' },
    { words: ['fix it'], piped: 'no newline', tty: false, prompt: 'fix it\n\n<stdin>\nno newline\n</stdin>' },
    { words: ['fix it'], piped: 'never read', tty: true, prompt: 'fix it' },
    { words: [], piped: 'from stdin', tty: false, prompt: 'from stdin' },
    { words: ['-'], piped: 'dash', tty: true, prompt: 'dash' },
  ])('$words with stdin $piped (tty $tty) is $prompt', async ({ words, piped, tty, prompt }) => {
    expect(await execPrompt(words, stdin(piped, tty))).toBe(prompt);
  });

  test.each([
    { words: [], piped: '', tty: false, message: 'no prompt provided via stdin' },
    { words: [], piped: '', tty: true, message: 'no prompt: give it as an argument, pipe it on stdin, or use "-" to read it from stdin' },
    { words: ['  '], piped: '', tty: false, message: 'the prompt is empty' },
  ])('$words with stdin "$piped" (tty $tty) is refused: $message', async ({ words, piped, tty, message }) => {
    await expect(execPrompt(words, stdin(piped, tty))).rejects.toThrow(new ExecUsageError(message));
  });
});

describe('gitRepoRoot', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-git-root-'));
    await mkdir(path.join(dir, 'repo', '.git'), { recursive: true });
    await mkdir(path.join(dir, 'repo', 'a', 'b'), { recursive: true });
    await mkdir(path.join(dir, 'plain'), { recursive: true });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  test('finds the repository from a directory deep inside it, and none outside', () => {
    expect(gitRepoRoot(path.join(dir, 'repo', 'a', 'b'))).toBe(path.join(dir, 'repo'));
    expect(gitRepoRoot(path.join(dir, 'plain'))).toBeNull();
  });
});

describe('exec overrides', () => {
  const home = path.join(os.tmpdir(), 'unroll-exec-overrides-no-home');
  const env = { UNROLL_HOME: home };

  test('without flags or config the sandbox is read-only and approval never', () => {
    expect(loadConfig(env, execOverrides({}, '/w')).session).toMatchObject({ sandboxMode: 'read-only', approvalPolicy: 'never' });
  });

  test('the bypass is danger-full-access with approval never', () => {
    expect(loadConfig(env, execOverrides({ dangerouslyBypassApprovalsAndSandbox: true }, '/w')).session).toMatchObject({ sandboxMode: 'danger-full-access', approvalPolicy: 'never' });
  });

  test('--add-dir adds absolute writable roots, relative ones from the current directory', () => {
    expect(loadConfig(env, execOverrides({ addDir: ['/abs', 'rel'] }, '/w')).session.writableRoots).toEqual(['/abs', '/w/rel']);
  });

  test('--oss uses --local-provider, else oss_provider; --oss alone, and --oss with --provider, are refused', () => {
    expect(loadConfig(env, execOverrides({ oss: true, localProvider: 'lmstudio' }, '/w')).session.provider).toEqual({ name: 'lmstudio', baseUrl: 'http://localhost:1234/v1', envKey: null });
    expect(loadConfig(env, { ...execOverrides({ oss: true }, '/w'), configValues: ['oss_provider="ollama"'] }).session.provider.name).toBe('ollama');
    expect(() => loadConfig(env, execOverrides({ oss: true }, '/w'))).toThrow('--oss: no default OSS provider configured');
    expect(() => execOverrides({ oss: true, provider: 'openai' }, '/w')).toThrow(ExecFlagsError);
  });

  test('the bypass with -s or -a is refused as contradictory', () => {
    expect(() => execOverrides({ dangerouslyBypassApprovalsAndSandbox: true, sandbox: 'read-only' }, '/w')).toThrow(ExecFlagsError);
    expect(() => execOverrides({ dangerouslyBypassApprovalsAndSandbox: true, askForApproval: 'untrusted' }, '/w')).toThrow(ExecFlagsError);
  });
});
