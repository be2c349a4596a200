import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

import { AGENTS_MD_BUDGET_BYTES, agentsMessageText, discoverAgentsDocs } from '../../src/prompt/agents-md';
import { environmentContextText, type EnvironmentFacts } from '../../src/prompt/environment-context';
import { permissionsMessageText } from '../../src/prompt/permissions';

let root: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'unroll-prompt-'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** Writes `files` (relative path → content) under `root`, creating directories. */
async function layout(files: Record<string, string>): Promise<void> {
  for (const [rel, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
    await writeFile(path.join(root, rel), text);
  }
}

/**
 * Documents with their path relative to `root` and their text run-length encoded
 * (`'aaab'` → `'a×3 b'`), so that budget tests compare exact texts of 32 KiB but a
 * failure prints a few lines.
 */
function compact(docs: ReadonlyArray<{ path: string; text: string }>): Array<{ path: string; text: string }> {
  return docs.map((d) => ({ path: path.relative(root, d.path), text: runLengths(d.text) }));
}

function runLengths(text: string): string {
  const runs: Array<[string, number]> = [];
  for (const ch of text) {
    const last = runs[runs.length - 1];
    if (last && last[0] === ch) last[1] += 1;
    else runs.push([ch, 1]);
  }
  return runs.map(([ch, n]) => (n === 1 ? ch : `${ch}×${n}`)).join(' ');
}

describe('discoverAgentsDocs', () => {
  it('finds AGENTS.md at the repository root and in a nested cwd, root first', async () => {
    await mkdir(path.join(root, '.git'));
    await layout({ 'AGENTS.md': 'root rules\n', 'pkg/app/AGENTS.md': 'app rules\n', 'pkg/app/src/.keep': '' });
    expect(await discoverAgentsDocs(path.join(root, 'pkg', 'app', 'src'))).toEqual([
      { path: path.join(root, 'AGENTS.md'), text: 'root rules\n' },
      { path: path.join(root, 'pkg', 'app', 'AGENTS.md'), text: 'app rules\n' },
    ]);
  });

  it('reads only the AGENTS.md of cwd when there is no .git above it', async () => {
    await layout({ 'AGENTS.md': 'outer rules', 'inner/AGENTS.md': 'inner rules' });
    expect(await discoverAgentsDocs(path.join(root, 'inner'))).toEqual([{ path: path.join(root, 'inner', 'AGENTS.md'), text: 'inner rules' }]);
  });

  it('finds nothing when no directory has an AGENTS.md', async () => {
    await mkdir(path.join(root, '.git'));
    await layout({ 'a/b/.keep': '' });
    expect(await discoverAgentsDocs(path.join(root, 'a', 'b'))).toEqual([]);
  });

  it.each([
    { name: 'empty', text: '' },
    { name: 'whitespace-only', text: ' \n\n\t\n' },
  ])('ignores an $name AGENTS.md', async ({ text }) => {
    await mkdir(path.join(root, '.git'));
    await layout({ 'AGENTS.md': text, 'sub/AGENTS.md': 'sub rules' });
    expect(await discoverAgentsDocs(path.join(root, 'sub'))).toEqual([{ path: path.join(root, 'sub', 'AGENTS.md'), text: 'sub rules' }]);
  });

  it('uses a 32 KiB budget by default', () => {
    expect(AGENTS_MD_BUDGET_BYTES).toBe(32 * 1024);
  });

  it('cuts the file that crosses the 32 KiB budget and drops the later ones', async () => {
    await mkdir(path.join(root, '.git'));
    await layout({ 'AGENTS.md': 'a'.repeat(20 * 1024), 'x/AGENTS.md': 'b'.repeat(20 * 1024), 'x/y/AGENTS.md': 'never read' });
    expect(compact(await discoverAgentsDocs(path.join(root, 'x', 'y')))).toEqual([
      { path: 'AGENTS.md', text: `a×${20 * 1024}` },
      { path: path.join('x', 'AGENTS.md'), text: `b×${12 * 1024}` },
    ]);
  });

  it('drops a later file when the earlier ones fill the budget exactly', async () => {
    await mkdir(path.join(root, '.git'));
    await layout({ 'AGENTS.md': 'a'.repeat(AGENTS_MD_BUDGET_BYTES), 'x/AGENTS.md': 'dropped' });
    expect(compact(await discoverAgentsDocs(path.join(root, 'x')))).toEqual([{ path: 'AGENTS.md', text: `a×${AGENTS_MD_BUDGET_BYTES}` }]);
  });

  it.each([
    { name: 'a 2-byte', char: 'é' },
    { name: 'a 3-byte', char: '€' },
    { name: 'a 4-byte', char: '😀' },
  ])('cuts before $name character that straddles the budget instead of splitting it', async ({ char }) => {
    await layout({ 'AGENTS.md': `${'a'.repeat(AGENTS_MD_BUDGET_BYTES - 1)}${char}tail` });
    expect(compact(await discoverAgentsDocs(root))).toEqual([{ path: 'AGENTS.md', text: `a×${AGENTS_MD_BUDGET_BYTES - 1}` }]);
  });

  it('keeps a multibyte character that ends exactly at the budget', async () => {
    await layout({ 'AGENTS.md': `${'a'.repeat(AGENTS_MD_BUDGET_BYTES - 3)}€tail` });
    expect(compact(await discoverAgentsDocs(root))).toEqual([{ path: 'AGENTS.md', text: `a×${AGENTS_MD_BUDGET_BYTES - 3} €` }]);
  });

  it('drops the files after one cut at the budget even when the cut backs off a multibyte character', async () => {
    await mkdir(path.join(root, '.git'));
    await layout({ 'AGENTS.md': `${'a'.repeat(AGENTS_MD_BUDGET_BYTES - 1)}€`, 'x/AGENTS.md': 'should be dropped' });
    expect(compact(await discoverAgentsDocs(path.join(root, 'x')))).toEqual([{ path: 'AGENTS.md', text: `a×${AGENTS_MD_BUDGET_BYTES - 1}` }]);
  });

  it('applies a smaller budget across files', async () => {
    await mkdir(path.join(root, '.git'));
    await layout({ 'AGENTS.md': 'abcdef', 'x/AGENTS.md': 'ghijkl', 'x/y/AGENTS.md': 'mnop' });
    expect(await discoverAgentsDocs(path.join(root, 'x', 'y'), 10)).toEqual([
      { path: path.join(root, 'AGENTS.md'), text: 'abcdef' },
      { path: path.join(root, 'x', 'AGENTS.md'), text: 'ghij' },
    ]);
  });
});

describe('agentsMessageText', () => {
  it.each([
    {
      name: 'one document',
      docs: [{ path: '/r/AGENTS.md', text: 'use tabs\n\n' }],
      // Codex 0.171 keeps each project doc as written (a real run's request shows the blank lines).
      expected: '# AGENTS.md instructions for /r\n\n<INSTRUCTIONS>\nuse tabs\n\n\n</INSTRUCTIONS>',
    },
    {
      name: 'several documents joined by blank lines, in order',
      docs: [
        { path: '/r/AGENTS.md', text: 'root\n' },
        { path: '/r/x/AGENTS.md', text: 'nested' },
      ],
      expected: '# AGENTS.md instructions for /r\n\n<INSTRUCTIONS>\nroot\n\n\nnested\n</INSTRUCTIONS>',
    },
  ])('renders $name', ({ docs, expected }) => {
    expect(agentsMessageText('/r', docs)).toBe(expected);
  });
});

describe('environmentContextText', () => {
  const facts: EnvironmentFacts = {
    cwd: '/home/me/project',
    shell: 'bash',
    currentDate: '2025-01-31',
    timezone: 'Europe/Paris',
    approvalPolicy: 'never',
    sandboxMode: 'danger-full-access',
    networkAccess: 'enabled',
  };

  it('renders the facts in a fixed order', () => {
    expect(environmentContextText(facts)).toBe(
      [
        '<environment_context>',
        '  <cwd>/home/me/project</cwd>',
        '  <approval_policy>never</approval_policy>',
        '  <sandbox_mode>danger-full-access</sandbox_mode>',
        '  <network_access>enabled</network_access>',
        '  <shell>bash</shell>',
        '  <current_date>2025-01-31</current_date>',
        '  <timezone>Europe/Paris</timezone>',
        '</environment_context>',
      ].join('\n'),
    );
  });

  it('escapes XML special characters in values', () => {
    const text = environmentContextText({ ...facts, cwd: '/tmp/a&b/<c>', shell: '</shell><x>' });
    expect(text.split('\n').slice(1, 6)).toEqual([
      '  <cwd>/tmp/a&amp;b/&lt;c&gt;</cwd>',
      '  <approval_policy>never</approval_policy>',
      '  <sandbox_mode>danger-full-access</sandbox_mode>',
      '  <network_access>enabled</network_access>',
      '  <shell>&lt;/shell&gt;&lt;x&gt;</shell>',
    ]);
  });

  it('gives the same text for the same facts', () => {
    expect(environmentContextText({ ...facts })).toBe(environmentContextText(facts));
  });
});

describe('permissionsMessageText', () => {
  const sandboxModes = ['read-only', 'workspace-write', 'danger-full-access'] as const;
  const approvalPolicies = ['untrusted', 'on-request', 'never'] as const;
  const combinations = sandboxModes.flatMap((sandboxMode) => approvalPolicies.map((approvalPolicy) => ({ sandboxMode, approvalPolicy })));

  it.each(combinations)('states sandbox mode $sandboxMode and approval policy $approvalPolicy', ({ sandboxMode, approvalPolicy }) => {
    const lines = permissionsMessageText({ sandboxMode, approvalPolicy, cwd: '/w' }).split('\n');
    expect(lines).toHaveLength(5);
    expect(lines[0]).toBe('<permissions instructions>');
    expect(lines[1]).toMatch(new RegExp(`^sandbox_mode: ${sandboxMode}\\. \\S`));
    expect(lines[2]).toMatch(new RegExp(`^approval_policy: ${approvalPolicy}\\. \\S`));
    expect(lines[3]).toBe(`writable_roots: ${sandboxMode === 'read-only' ? '(none)' : '/w'}`);
    expect(lines[4]).toBe('</permissions instructions>');
  });

  it('renders the workspace-write, on-request message in full', () => {
    expect(permissionsMessageText({ sandboxMode: 'workspace-write', approvalPolicy: 'on-request', cwd: '/w' })).toBe(
      [
        '<permissions instructions>',
        'sandbox_mode: workspace-write. Commands may write only inside the workspace (/w) and temporary directories; .git is read-only; network access is off.',
        'approval_policy: on-request. Commands run sandboxed; ask for escalation (with a justification) only when a command truly needs it.',
        'writable_roots: /w',
        '</permissions instructions>',
      ].join('\n'),
    );
  });

  it.each([
    {
      sandboxMode: 'workspace-write' as const,
      networkAccess: true,
      line: 'sandbox_mode: workspace-write. Commands may write only inside the workspace (/w) and temporary directories; .git is read-only; network access is on.',
    },
    {
      sandboxMode: 'read-only' as const,
      networkAccess: false,
      line: 'sandbox_mode: read-only. The sandbox is read-only: commands may read files but any write will fail (except to a private /tmp that is discarded when the command ends); network access is off.',
    },
    {
      sandboxMode: 'read-only' as const,
      networkAccess: true,
      line: 'sandbox_mode: read-only. The sandbox is read-only: commands may read files but any write will fail (except to a private /tmp that is discarded when the command ends); network access is on.',
    },
  ])('states network access $networkAccess for $sandboxMode', ({ sandboxMode, networkAccess, line }) => {
    expect(permissionsMessageText({ sandboxMode, approvalPolicy: 'never', cwd: '/w', networkAccess }).split('\n')[1]).toBe(line);
  });

  it('explains each sandbox mode and approval policy differently', () => {
    const texts = combinations.map((c) => permissionsMessageText({ ...c, cwd: '/w' }));
    expect(new Set(texts).size).toBe(combinations.length);
  });
});
