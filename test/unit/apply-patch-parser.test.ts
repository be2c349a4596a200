import { parsePatch, PatchParseError, type ParsedPatch } from '../../src/tools/apply-patch/parser';

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

describe('parsePatch', () => {
  it('parses an Add File into its contents, one newline-terminated line per + line', () => {
    expect(parsePatch(patch('*** Add File: docs/new.md', '+# Title', '+', '+body'))).toEqual<ParsedPatch>({
      operations: [{ kind: 'add', path: 'docs/new.md', contents: '# Title\n\nbody\n' }],
    });
  });

  it('parses an Add File without lines as an empty file', () => {
    expect(parsePatch(patch('*** Add File: empty.txt'))).toEqual({ operations: [{ kind: 'add', path: 'empty.txt', contents: '' }] });
  });

  it('parses a Delete File', () => {
    expect(parsePatch(patch('*** Delete File: old.txt'))).toEqual({ operations: [{ kind: 'delete', path: 'old.txt' }] });
  });

  it('parses an Update File with a move, headers, several hunks and an End of File marker', () => {
    const text = patch(
      '*** Update File: src/app.ts',
      '*** Move to: src/main.ts',
      '@@ function greet() {',
      ' const a = 1;',
      '-const b = 2;',
      '+const b = 3;',
      '@@',
      ' tail();',
      '+done();',
      '*** End of File',
    );
    expect(parsePatch(text)).toEqual<ParsedPatch>({
      operations: [
        {
          kind: 'update',
          path: 'src/app.ts',
          moveTo: 'src/main.ts',
          hunks: [
            { context: 'function greet() {', oldLines: ['const a = 1;', 'const b = 2;'], newLines: ['const a = 1;', 'const b = 3;'], isEndOfFile: false, line: 4 },
            { context: null, oldLines: ['tail();'], newLines: ['tail();', 'done();'], isEndOfFile: true, line: 8 },
          ],
        },
      ],
    });
  });

  it('accepts a first hunk without an @@ line and reads an empty line as empty context', () => {
    const text = patch('*** Update File: a.py', ' import os', '', '-x = 1', '+x = 2');
    expect(parsePatch(text).operations).toEqual([
      { kind: 'update', path: 'a.py', moveTo: null, hunks: [{ context: null, oldLines: ['import os', '', 'x = 1'], newLines: ['import os', '', 'x = 2'], isEndOfFile: false, line: 3 }] },
    ]);
  });

  it('parses several operations in patch order', () => {
    const text = patch('*** Add File: a.txt', '+a', '*** Delete File: b.txt', '*** Update File: c.txt', '@@', '-c', '+C');
    expect(parsePatch(text).operations.map((op) => [op.kind, op.path])).toEqual([
      ['add', 'a.txt'],
      ['delete', 'b.txt'],
      ['update', 'c.txt'],
    ]);
  });

  it('accepts a bare rename (Move to without hunks)', () => {
    expect(parsePatch(patch('*** Update File: a.txt', '*** Move to: b.txt')).operations).toEqual([{ kind: 'update', path: 'a.txt', moveTo: 'b.txt', hunks: [] }]);
  });

  it('tolerates blank lines around the patch, padded markers and CRLF line endings', () => {
    const text = '\n\n  *** Begin Patch  \r\n*** Add File:   a.txt  \r\n+one\r\n*** End Patch \r\n\n';
    expect(parsePatch(text)).toEqual({ operations: [{ kind: 'add', path: 'a.txt', contents: 'one\n' }] });
  });

  it.each([
    ["<<'EOF'", 'EOF'],
    ['<<"PATCH"', 'PATCH'],
    ['<<EOF', 'EOF'],
    ["apply_patch <<'EOF'", 'EOF'],
  ])('unwraps a heredoc opened with %s', (opener, closer) => {
    const text = [opener, patch('*** Delete File: gone.txt'), closer, ''].join('\n');
    expect(parsePatch(text)).toEqual({ operations: [{ kind: 'delete', path: 'gone.txt' }] });
  });

  it.each<[string, string, string]>([
    ['empty input', '', "line 1: expected '*** Begin Patch', got an empty patch"],
    ['a missing begin marker', 'hello\n*** End Patch', "line 1: expected '*** Begin Patch', got 'hello'"],
    ['a begin marker after blank lines', '\n\nnope\n*** End Patch', "line 3: expected '*** Begin Patch', got 'nope'"],
    ['a missing end marker', '*** Begin Patch\n*** Delete File: a\nmore', "line 3: expected '*** End Patch' as the last line, got 'more'"],
    ['only a begin marker', '*** Begin Patch', "line 2: expected '*** End Patch' as the last line, got the end of the input"],
    ['a heredoc with a mismatched closer', "<<'EOF'\n*** Begin Patch\n*** Delete File: a\n*** End Patch\nEND", "line 1: expected '*** Begin Patch', got '<<'EOF''"],
    ['no operations', patch(), "line 2: expected '*** Add File:', '*** Update File:' or '*** Delete File:' before '*** End Patch'"],
    ['an unknown operation', patch('*** Delete File: a', '*** Rename File: b'), "line 3: expected '*** Add File:', '*** Update File:' or '*** Delete File:', got '*** Rename File: b'"],
    ['an Add File line without +', patch('*** Add File: a', '+one', 'two'), "line 4: expected a '+' line or '*** Add File:', '*** Update File:' or '*** Delete File:', got 'two'"],
    ['a header without a path', patch('*** Delete File:   '), "line 2: '*** Delete File:' must be followed by a path"],
    ['an Update File without hunks', patch('*** Update File: a.txt'), "line 2: '*** Update File: a.txt' has no hunks: expected '@@' followed by hunk lines"],
    ['an @@ without lines', patch('*** Update File: a', '@@ one', '@@ two', '-x'), "line 3: hunk has no lines: expected lines starting with ' ', '+' or '-' after '@@ one'"],
    ['an End of File without lines', patch('*** Update File: a', '@@', '*** End of File'), "line 3: hunk has no lines: expected lines starting with ' ', '+' or '-' after '@@'"],
    [
      'a hunk line without a prefix',
      patch('*** Update File: a', '@@', ' ok', 'oops'),
      "line 5: expected a hunk line starting with ' ', '+' or '-', '@@', or '*** Add File:', '*** Update File:' or '*** Delete File:', got 'oops'",
    ],
  ])('rejects %s with the line number and what was expected', (_name, text, message) => {
    let caught: unknown;
    try {
      parsePatch(text);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(PatchParseError);
    expect((caught as PatchParseError).message).toBe(message);
    expect((caught as PatchParseError).line).toBe(Number(/^line (\d+)/.exec(message)![1]));
  });
});
