import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { applyPatch, type ApplyPatchOutcome } from '../../src/tools/apply-patch/apply';
import { applyPatchTool } from '../../src/tools/apply-patch';
import type { ToolContext } from '../../src/tools/types';

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

let root: string;
let workspace: string;

beforeEach(async () => {
  root = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-apply-patch-'));
  workspace = path.join(root, 'ws');
  await fs.mkdir(workspace);
});

afterEach(async () => {
  await fs.rm(root, { recursive: true, force: true });
});

async function write(rel: string, text: string | Buffer): Promise<void> {
  const abs = path.join(workspace, rel);
  await fs.mkdir(path.dirname(abs), { recursive: true });
  await fs.writeFile(abs, text);
}

const read = (rel: string): Promise<string> => fs.readFile(path.join(workspace, rel), 'utf8');
const exists = (rel: string): Promise<boolean> => fs.access(path.join(workspace, rel)).then(() => true, () => false);

/** Every file under `dir` with its content and mtime, to prove that nothing was written. */
async function snapshot(dir: string = root): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    const abs = path.join(entry.parentPath, entry.name);
    if (entry.isFile()) out[path.relative(dir, abs)] = `${await fs.readFile(abs, 'utf8')}@${(await fs.stat(abs)).mtimeMs}`;
  }
  return out;
}

/** Backdates every file so a rewrite with identical content still shows in {@link snapshot}. */
async function backdate(dir: string = workspace): Promise<void> {
  for (const entry of await fs.readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) await fs.utimes(path.join(entry.parentPath, entry.name), 1_000_000, 1_000_000);
  }
}

function errorOf(outcome: ApplyPatchOutcome): string {
  if (outcome.ok) throw new Error(`expected a failure, got ${JSON.stringify(outcome)}`);
  return outcome.error;
}

describe('applyPatch: operations', () => {
  it('adds a file, creating its parent directories', async () => {
    const outcome = await applyPatch(patch('*** Add File: docs/guide/new.md', '+# Guide', '+', '+text'), workspace);
    expect(outcome).toEqual({ ok: true, changes: [{ kind: 'A', path: 'docs/guide/new.md' }], alreadyApplied: false });
    expect(await read('docs/guide/new.md')).toBe('# Guide\n\ntext\n');
  });

  it('overwrites an existing file on Add File, as Codex does', async () => {
    await write('a.txt', 'old\n');
    expect(await applyPatch(patch('*** Add File: a.txt', '+new'), workspace)).toEqual({ ok: true, changes: [{ kind: 'A', path: 'a.txt' }], alreadyApplied: false });
    expect(await read('a.txt')).toBe('new\n');
  });

  it('deletes a file', async () => {
    await write('old.txt', 'bye\n');
    expect(await applyPatch(patch('*** Delete File: old.txt'), workspace)).toEqual({ ok: true, changes: [{ kind: 'D', path: 'old.txt' }], alreadyApplied: false });
    expect(await exists('old.txt')).toBe(false);
  });

  it('updates a file with several hunks, each found after the previous one', async () => {
    await write('list.txt', ['a', 'x', 'b', 'c', 'x', 'd'].join('\n') + '\n');
    const text = patch('*** Update File: list.txt', '@@', ' a', '-x', '+X1', '@@', ' c', '-x', '+X2', ' d');
    expect(await applyPatch(text, workspace)).toEqual({ ok: true, changes: [{ kind: 'M', path: 'list.txt' }], alreadyApplied: false });
    expect(await read('list.txt')).toBe(['a', 'X1', 'b', 'c', 'X2', 'd'].join('\n') + '\n');
  });

  it('seeks the @@ header line before looking for the hunk', async () => {
    await write('f.ts', ['function one() {', '  return 1;', '}', 'function two() {', '  return 1;', '}'].join('\n') + '\n');
    await applyPatch(patch('*** Update File: f.ts', '@@ function two() {', '-  return 1;', '+  return 2;'), workspace);
    expect(await read('f.ts')).toBe(['function one() {', '  return 1;', '}', 'function two() {', '  return 2;', '}'].join('\n') + '\n');
  });

  it('inserts the lines of a hunk without old lines right after its @@ header', async () => {
    await write('c.py', 'class A:\n    pass\n');
    await applyPatch(patch('*** Update File: c.py', '@@ class A:', '+    x = 1'), workspace);
    expect(await read('c.py')).toBe('class A:\n    x = 1\n    pass\n');
  });

  it('anchors an End of File hunk at the end of the file', async () => {
    await write('e.txt', 'end\nmiddle\nend\n');
    await applyPatch(patch('*** Update File: e.txt', '@@', '-end', '+END', '*** End of File'), workspace);
    expect(await read('e.txt')).toBe('end\nmiddle\nEND\n');
  });

  it('matches context that differs only in trailing whitespace', async () => {
    await write('t.txt', 'keep   \nold\t\n');
    await applyPatch(patch('*** Update File: t.txt', ' keep', '-old', '+new'), workspace);
    // As in Codex, the hunk's lines (context included) replace the matched ones.
    expect(await read('t.txt')).toBe('keep\nnew\n');
  });

  it('matches context that differs in surrounding whitespace when nothing closer matches', async () => {
    await write('s.py', 'def f():\n\treturn 1\n');
    await applyPatch(patch('*** Update File: s.py', ' def f():', '-    return 1', '+\treturn 2'), workspace);
    expect(await read('s.py')).toBe('def f():\n\treturn 2\n');
  });

  it('prefers an exact match over a whitespace-tolerant one that comes earlier', async () => {
    await write('p.txt', '  x\nx\n');
    await applyPatch(patch('*** Update File: p.txt', '-x', '+y'), workspace);
    expect(await read('p.txt')).toBe('  x\ny\n');
  });

  it('matches typographic punctuation against its ASCII form', async () => {
    await write('u.txt', 'say \u201Chi\u201D \u2014 ok\n');
    await applyPatch(patch('*** Update File: u.txt', '-say "hi" - ok', '+said'), workspace);
    expect(await read('u.txt')).toBe('said\n');
  });

  it('moves an updated file into new directories and removes the source', async () => {
    await write('src/app.ts', 'const a = 1;\n');
    const outcome = await applyPatch(patch('*** Update File: src/app.ts', '*** Move to: lib/core/main.ts', '@@', '-const a = 1;', '+const a = 2;'), workspace);
    expect(outcome).toEqual({ ok: true, changes: [{ kind: 'M', path: 'lib/core/main.ts', movedFrom: 'src/app.ts' }], alreadyApplied: false });
    expect(await read('lib/core/main.ts')).toBe('const a = 2;\n');
    expect(await exists('src/app.ts')).toBe(false);
  });

  it('keeps CRLF line endings and the file mode of an updated file', async () => {
    await write('run.sh', '#!/bin/sh\r\necho hi\r\n');
    await fs.chmod(path.join(workspace, 'run.sh'), 0o755);
    await applyPatch(patch('*** Update File: run.sh', ' #!/bin/sh', '-echo hi', '+echo bye'), workspace);
    expect(await read('run.sh')).toBe('#!/bin/sh\r\necho bye\r\n');
    expect((await fs.stat(path.join(workspace, 'run.sh'))).mode & 0o777).toBe(0o755);
  });

  it('applies several operations on the same file in order', async () => {
    const outcome = await applyPatch(patch('*** Add File: n.txt', '+one', '*** Update File: n.txt', ' one', '+two'), workspace);
    expect(outcome).toEqual({ ok: true, changes: [{ kind: 'A', path: 'n.txt' }, { kind: 'M', path: 'n.txt' }], alreadyApplied: false });
    expect(await read('n.txt')).toBe('one\ntwo\n');
  });

  it('applies a 1,000-line hunk to a 5,000-line file in well under a second', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i % 50}`);
    lines[4000] = 'unique anchor';
    await write('big.txt', lines.join('\n') + '\n');
    const hunk = lines.slice(4000, 5000).map((line, i) => (i % 2 === 0 ? ` ${line}` : `-${line}\n+${line} changed`));
    const started = performance.now();
    const outcome = await applyPatch(patch('*** Update File: big.txt', '@@', ...hunk), workspace);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(outcome.ok).toBe(true);
    expect((await read('big.txt')).split('\n')[4001]).toBe('line 1 changed');
  });
});

describe('applyPatch: all or nothing', () => {
  it('fails on a hunk that does not match, shows the expected lines and changes no file', async () => {
    await write('a.txt', 'alpha\n');
    await write('b.txt', 'beta\n');
    await write('c.txt', 'beta\n');
    const before = await snapshot();
    const outcome = await applyPatch(
      patch('*** Add File: new.txt', '+x', '*** Update File: a.txt', '-alpha', '+ALPHA', '*** Delete File: b.txt', '*** Update File: c.txt', '@@', ' beta', '-gamma', '+delta'),
      workspace,
    );
    expect(outcome).toEqual({
      ok: false,
      error:
        "apply_patch verification failed: could not find the expected lines of hunk 1 of 1 (patch line 9) in 'c.txt'. " +
        'No files were changed; re-read the file and retry with context lines copied exactly.\nExpected lines:\nbeta\ngamma',
    });
    expect(await snapshot()).toEqual(before);
  });

  it('fails when an @@ header line is not in the file', async () => {
    await write('a.txt', 'alpha\n');
    const error = errorOf(await applyPatch(patch('*** Update File: a.txt', '@@ def missing():', '-alpha', '+beta'), workspace));
    expect(error).toBe(
      "apply_patch verification failed: could not find the context line '@@ def missing():' of hunk 1 of 1 (patch line 3) in 'a.txt'. " +
        'No files were changed; re-read the file and retry with context lines copied exactly.',
    );
  });

  it('fails on an End of File hunk whose lines are not at the end', async () => {
    await write('e.txt', 'end\nmiddle\n');
    expect(errorOf(await applyPatch(patch('*** Update File: e.txt', '-end', '+END', '*** End of File'), workspace))).toContain("in 'e.txt' at the end of the file");
    expect(await read('e.txt')).toBe('end\nmiddle\n');
  });

  it('fails on a patch that does not parse, naming the line', async () => {
    expect(await applyPatch('*** Begin Patch\n*** Frobnicate: x\n*** End Patch', workspace)).toEqual({
      ok: false,
      error: "apply_patch verification failed: invalid patch: line 2: expected '*** Add File:', '*** Update File:' or '*** Delete File:', got '*** Frobnicate: x'",
    });
  });

  it('fails to delete a file that does not exist in a fresh patch', async () => {
    expect(await applyPatch(patch('*** Delete File: ghost.txt'), workspace)).toEqual({ ok: false, error: "apply_patch verification failed: file to delete does not exist: 'ghost.txt'" });
  });

  it('fails to update a file that does not exist', async () => {
    expect(errorOf(await applyPatch(patch('*** Update File: ghost.txt', '-a', '+b'), workspace))).toBe("apply_patch verification failed: file to update does not exist: 'ghost.txt'");
  });

  it('refuses to update a binary file', async () => {
    await write('img.bin', Buffer.from([0x61, 0x00, 0x0a]));
    expect(errorOf(await applyPatch(patch('*** Update File: img.bin', '-a', '+b'), workspace))).toBe(
      "apply_patch verification failed: refusing to update 'img.bin': it is a binary file (contains NUL bytes)",
    );
  });

  it('refuses a directory as a file', async () => {
    await fs.mkdir(path.join(workspace, 'dir'));
    expect(errorOf(await applyPatch(patch('*** Add File: dir', '+x'), workspace))).toBe("apply_patch verification failed: 'dir' is a directory, not a file");
  });
});

describe('applyPatch: workspace boundary', () => {
  it.each<[string, (outside: string) => string, string]>([
    ['a path that climbs out with ..', () => '../escape.txt', "path '../escape.txt' resolves outside the workspace"],
    ['a path that climbs out through a subdirectory', () => 'sub/../../escape.txt', "path 'sub/../../escape.txt' resolves outside the workspace"],
    ['an absolute path', (outside) => path.join(outside, 'abs.txt'), 'absolute paths are not allowed'],
    ['a path through a symlinked directory pointing outside', () => 'link/escape.txt', "path 'link/escape.txt' goes through a symlink that points outside the workspace"],
    ['a symlinked file pointing outside', () => 'filelink', "path 'filelink' goes through a symlink that points outside the workspace"],
  ])('rejects %s and writes nothing', async (_name, target, message) => {
    const outside = path.join(root, 'outside');
    await fs.mkdir(outside);
    await fs.writeFile(path.join(outside, 'secret.txt'), 'secret\n');
    await fs.symlink(outside, path.join(workspace, 'link'));
    await fs.symlink(path.join(outside, 'secret.txt'), path.join(workspace, 'filelink'));
    await write('inside.txt', 'in\n');
    const before = await snapshot();
    const outcome = await applyPatch(patch('*** Add File: inside-new.txt', '+x', `*** Add File: ${target(outside)}`, '+pwned'), workspace);
    expect(errorOf(outcome)).toContain(`apply_patch verification failed: ${message}`);
    expect(await snapshot()).toEqual(before);
  });

  it('rejects a Move to destination outside the workspace', async () => {
    await write('a.txt', 'a\n');
    const error = errorOf(await applyPatch(patch('*** Update File: a.txt', '*** Move to: ../a.txt', '-a', '+b'), workspace));
    expect(error).toBe("apply_patch verification failed: path '../a.txt' resolves outside the workspace");
    expect(await read('a.txt')).toBe('a\n');
  });

  it('allows a symlink that stays inside the workspace', async () => {
    await fs.mkdir(path.join(workspace, 'real'));
    await fs.symlink(path.join(workspace, 'real'), path.join(workspace, 'alias'));
    expect((await applyPatch(patch('*** Add File: alias/x.txt', '+x'), workspace)).ok).toBe(true);
    expect(await read('real/x.txt')).toBe('x\n');
  });
});

describe('applyPatch: retries', () => {
  const mixed = patch(
    '*** Add File: added.txt',
    '+hello',
    '*** Update File: src/a.ts',
    '@@ function a() {',
    '-  return 1;',
    '+  return 2;',
    '*** Update File: src/b.ts',
    '*** Move to: src/c.ts',
    '@@',
    '-export const b = 1;',
    '+export const c = 1;',
    '*** Delete File: gone.txt',
  );

  async function seedMixed(): Promise<void> {
    await write('src/a.ts', 'function a() {\n  return 1;\n}\n');
    await write('src/b.ts', 'export const b = 1;\n');
    await write('gone.txt', 'bye\n');
  }

  const mixedChanges = [
    { kind: 'A', path: 'added.txt' },
    { kind: 'M', path: 'src/a.ts' },
    { kind: 'M', path: 'src/c.ts', movedFrom: 'src/b.ts' },
    { kind: 'D', path: 'gone.txt' },
  ];

  it('reports a fully applied patch as already applied and writes nothing', async () => {
    await seedMixed();
    expect(await applyPatch(mixed, workspace)).toEqual({ ok: true, changes: mixedChanges, alreadyApplied: false });
    await backdate();
    const after = await snapshot();
    expect(await applyPatch(mixed, workspace)).toEqual({ ok: true, changes: mixedChanges, alreadyApplied: true });
    expect(await snapshot()).toEqual(after);
  });

  it('completes a partially applied patch without redoing the part that was done', async () => {
    await seedMixed();
    const firstTwo = patch('*** Add File: added.txt', '+hello', '*** Update File: src/a.ts', '@@ function a() {', '-  return 1;', '+  return 2;');
    await applyPatch(firstTwo, workspace);
    expect(await applyPatch(mixed, workspace)).toEqual({ ok: true, changes: mixedChanges, alreadyApplied: false });
    expect(await snapshot(workspace)).toEqual({
      'added.txt': expect.stringMatching(/^hello\n@/),
      'src/a.ts': expect.stringMatching(/^function a\(\) \{\n {2}return 2;\n\}\n@/),
      'src/c.ts': expect.stringMatching(/^export const c = 1;\n@/),
    });
  });

  it('recognises an insertion after context as already applied instead of inserting twice', async () => {
    await write('imports.ts', "import a from 'a';\nrun();\n");
    const text = patch('*** Update File: imports.ts', " import a from 'a';", "+import b from 'b';");
    expect((await applyPatch(text, workspace)).ok).toBe(true);
    expect(await applyPatch(text, workspace)).toEqual({ ok: true, changes: [{ kind: 'M', path: 'imports.ts' }], alreadyApplied: true });
    expect(await read('imports.ts')).toBe("import a from 'a';\nimport b from 'b';\nrun();\n");
  });

  it('recognises a whitespace-only change as already applied', async () => {
    await write('w.py', 'if x:\n  go()\n');
    const text = patch('*** Update File: w.py', ' if x:', '-  go()', '+    go()');
    await applyPatch(text, workspace);
    expect(await applyPatch(text, workspace)).toEqual({ ok: true, changes: [{ kind: 'M', path: 'w.py' }], alreadyApplied: true });
    expect(await read('w.py')).toBe('if x:\n    go()\n');
  });

  it('settles an ambiguous append by the operations around it when re-applied', async () => {
    await write('log.txt', 'first\n');
    await write('a.txt', 'a\n');
    const text = patch('*** Update File: log.txt', '@@', '+second', '*** Update File: a.txt', '-a', '+b');
    await applyPatch(text, workspace);
    expect(await applyPatch(text, workspace)).toEqual({ ok: true, changes: [{ kind: 'M', path: 'log.txt' }, { kind: 'M', path: 'a.txt' }], alreadyApplied: true });
    expect(await read('log.txt')).toBe('first\nsecond\n');
  });

  it('fails when neither the state before nor after the patch matches', async () => {
    await write('a.txt', 'something else\n');
    expect(errorOf(await applyPatch(patch('*** Update File: a.txt', '-old', '+new'), workspace))).toContain('Expected lines:\nold');
  });
});

describe('applyPatchTool', () => {
  const ctx = (): ToolContext => ({ cwd: workspace, signal: new AbortController().signal, heartbeat: () => undefined, callId: 'call_1' });

  it('reports success in the Codex format with the changes as metadata', async () => {
    await write('m.txt', 'm\n');
    await write('d.txt', 'd\n');
    const result = await applyPatchTool.run({ input: patch('*** Add File: a.txt', '+a', '*** Update File: m.txt', '-m', '+M', '*** Delete File: d.txt') }, ctx());
    expect(result).toEqual({
      output: 'Success. Updated the following files:\nA a.txt\nM m.txt\nD d.txt',
      success: true,
      metadata: { changes: [{ kind: 'A', path: 'a.txt' }, { kind: 'M', path: 'm.txt' }, { kind: 'D', path: 'd.txt' }], alreadyApplied: false },
    });
  });

  it('notes when the patch was already applied', async () => {
    const input = patch('*** Add File: a.txt', '+a');
    await applyPatchTool.run({ input }, ctx());
    expect(await applyPatchTool.run({ input }, ctx())).toEqual({
      output: 'Success. Updated the following files:\nA a.txt\n(patch already applied: the files already contained these changes, nothing was written)',
      success: true,
      metadata: { changes: [{ kind: 'A', path: 'a.txt' }], alreadyApplied: true },
    });
  });

  it('returns a failed result with the error, rather than throwing, for a bad patch', async () => {
    const error = "apply_patch verification failed: invalid patch: line 1: expected '*** Begin Patch', got 'diff --git a/x b/x'";
    expect(await applyPatchTool.run({ input: 'diff --git a/x b/x\n--- a/x' }, ctx())).toEqual({ output: error, success: false, metadata: { error } });
  });

  it('accepts a heredoc-wrapped patch', async () => {
    const result = await applyPatchTool.run({ input: `apply_patch <<'EOF'\n${patch('*** Add File: h.txt', '+h')}\nEOF\n` }, ctx());
    expect(result.success).toBe(true);
    expect(await read('h.txt')).toBe('h\n');
  });

  it('declares a zod schema that accepts { input } and rejects anything else', () => {
    expect(applyPatchTool.parameters.safeParse({ input: 'x' }).success).toBe(true);
    expect(applyPatchTool.parameters.safeParse({ patch: 'x' }).success).toBe(false);
    expect([applyPatchTool.name, applyPatchTool.parallelSafe]).toEqual(['apply_patch', false]);
  });
});

describe('apply_patch on an activity retry without a journal (outside the tool activity)', () => {
  test('a delete-only patch whose file is already gone is recognised as applied when retried', async () => {
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-patch-retry-'));
    await fs.writeFile(path.join(dir, 'old.txt'), 'bye\n');
    const patch = '*** Begin Patch\n*** Delete File: old.txt\n*** End Patch';
    expect(await applyPatch(patch, dir)).toEqual({ ok: true, changes: [{ kind: 'D', path: 'old.txt' }], alreadyApplied: false });
    expect(await applyPatch(patch, dir, { retry: true })).toEqual({ ok: true, changes: [{ kind: 'D', path: 'old.txt' }], alreadyApplied: true });
    expect((await applyPatch(patch, dir)).ok).toBe(false);
    await fs.rm(dir, { recursive: true, force: true });
  });
});
