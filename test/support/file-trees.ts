/**
 * Reading a directory as a comparable value: every file, symlink and empty directory by
 * relative path, with its content (sha256), link target or mode. Two directories hold the
 * same files exactly when their trees are deep-equal.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs/promises';
import * as path from 'node:path';

/** One entry of a {@link fileTree}. */
export type TreeEntry = { kind: 'file'; sha256: string; executable: boolean } | { kind: 'link'; target: string };

/** The files and links under `dir`, by relative path, skipping the directories named in `skip`. */
export async function fileTree(dir: string, skip: readonly string[] = []): Promise<Record<string, TreeEntry>> {
  const out: Record<string, TreeEntry> = {};
  async function walk(rel: string): Promise<void> {
    for (const entry of await fs.readdir(path.join(dir, rel), { withFileTypes: true })) {
      const child = rel === '' ? entry.name : `${rel}/${entry.name}`;
      if (skip.includes(child)) continue;
      const full = path.join(dir, child);
      if (entry.isSymbolicLink()) out[child] = { kind: 'link', target: await fs.readlink(full) };
      else if (entry.isDirectory()) await walk(child);
      else if (entry.isFile()) {
        const st = await fs.stat(full);
        out[child] = { kind: 'file', sha256: createHash('sha256').update(await fs.readFile(full)).digest('hex'), executable: (st.mode & 0o100) !== 0 };
      }
    }
  }
  await walk('');
  return out;
}

/** Writes `files` (relative path → content) under `dir`, creating directories. */
export async function writeFiles(dir: string, files: Record<string, string | Buffer>): Promise<void> {
  for (const [rel, content] of Object.entries(files)) {
    await fs.mkdir(path.dirname(path.join(dir, rel)), { recursive: true });
    await fs.writeFile(path.join(dir, rel), content);
  }
}
