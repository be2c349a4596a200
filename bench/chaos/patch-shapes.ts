/**
 * The apply_patch shapes the targeted crash scenarios kill a worker in: each hunk shape
 * that a retry could apply twice if it guessed from the files (an append looks the same
 * before and after a second application to a heuristic), each in a multi-file patch that
 * ends with a large Add File, so the patch is long enough to be killed in the middle.
 */

/** One patch and the files it applies to. */
export interface PatchShape {
  /** Short name, used in scenario names and the report. */
  readonly name: string;
  readonly description: string;
  /** Workspace-relative path → content, before the patch. */
  readonly files: Readonly<Record<string, string>>;
  readonly patch: string;
}

/** Where in a patch the worker is killed: the tool's step hook names (see src/tools/apply-patch/commit.ts). */
export const KILL_POINTS = ['first staged', 'first committed', 'last committed'] as const;
/** One kill point. */
export type KillPointName = (typeof KILL_POINTS)[number];

const patch = (...body: string[]): string => ['*** Begin Patch', ...body, '*** End Patch'].join('\n');

/** The large Add File that closes every shape's patch (about 200 KB). */
function bigFile(tag: string): string[] {
  return [`*** Add File: data/${tag}-big.txt`, ...Array.from({ length: 3000 }, (_, i) => `+${tag} row ${i} ${'y'.repeat(56)}`)];
}

/** Every shape, in report order. */
export const PATCH_SHAPES: readonly PatchShape[] = [
  {
    name: 'append',
    description: 'header-less append (`@@` then only `+` lines)',
    files: { 'log.txt': 'first\n' },
    patch: patch('*** Update File: log.txt', '@@', '+second', '+third', ...bigFile('append')),
  },
  {
    name: 'insert-at-eof',
    description: 'insertion at end of file (`*** End of File`)',
    files: { 'list.txt': 'a\nb\n' },
    patch: patch('*** Update File: list.txt', '@@', ' b', '+c', '*** End of File', ...bigFile('eof')),
  },
  {
    name: 'pure-deletion',
    description: 'pure deletion hunk (a repeat would remove the next `x`)',
    files: { 'd.txt': 'x\nx\ny\n' },
    patch: patch('*** Update File: d.txt', '@@', '-x', ...bigFile('deletion')),
  },
  {
    name: 'move',
    description: 'Move to (into a new directory) with an append',
    files: { 'src/old.txt': 'export one\n' },
    patch: patch('*** Update File: src/old.txt', '*** Move to: lib/deep/new.txt', '@@', '+// moved', ...bigFile('move')),
  },
  {
    name: 'add-file',
    description: 'Add File (a small new file before the large one)',
    files: { 'keep.txt': 'keep\n' },
    patch: patch('*** Add File: notes/new.txt', '+hello', '+world', ...bigFile('add')),
  },
  {
    name: 'delete-file',
    description: 'Delete File',
    files: { 'gone.txt': 'bye\n', 'keep.txt': 'keep\n' },
    patch: patch('*** Delete File: gone.txt', ...bigFile('delete')),
  },
];

/** The step to stop at for `point`, from the steps an uninterrupted application reports. */
export function killStep(steps: readonly string[], point: KillPointName): string | undefined {
  const staged = steps.filter((s) => s.startsWith('apply_patch:staged:'));
  const committed = steps.filter((s) => s.startsWith('apply_patch:committed:'));
  if (point === 'first staged') return staged[0];
  return point === 'first committed' ? committed[0] : committed[committed.length - 1];
}
