/**
 * The id of the compiled build a process runs: a hash of the path, size and modification
 * time of every file of the compiled sources (dist/src) and of the workflow bundle. A
 * rebuild changes it, so a resident worker started before `npm run build` is replaced
 * rather than reused (see ./resident-worker.ts). File metadata, not contents: reading
 * them costs a few milliseconds on every command, hashing 4 MB would cost more.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** The compiled tree (`dist/`) this code belongs to, or the repository's when run from source (tests). */
export function distRoot(): string {
  const up = path.resolve(__dirname, '..', '..');
  return path.basename(up) === 'dist' ? up : path.join(up, 'dist');
}

/** The compiled CLI that `unroll worker --resident` is spawned from. */
export function compiledCliPath(): string {
  return path.join(distRoot(), 'src', 'client', 'cli.js');
}

/** The build id of the tree at `root` (default {@link distRoot}); 'unbuilt' when it has no compiled CLI. */
export function buildId(root = distRoot()): string {
  if (!existsSync(path.join(root, 'src', 'client', 'cli.js'))) return 'unbuilt';
  const hash = createHash('sha256');
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(full);
      // Source maps change only with their .js file: skipping them halves the stat calls.
      else if (entry.isFile() && !entry.name.endsWith('.map')) addFile(hash, root, full);
    }
  };
  visit(path.join(root, 'src'));
  const bundle = path.join(root, 'workflow-bundle.js');
  if (existsSync(bundle)) addFile(hash, root, bundle);
  return hash.digest('hex').slice(0, 16);
}

function addFile(hash: ReturnType<typeof createHash>, root: string, file: string): void {
  const info = statSync(file);
  hash.update(`${path.relative(root, file)}\0${info.size}\0${Math.trunc(info.mtimeMs)}\n`);
}
