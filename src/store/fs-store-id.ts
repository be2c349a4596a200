/**
 * The file store's id: a UUID in `<root>/store-id`, created on first request. Two
 * processes that race to create it agree on one (the file is linked into place only if
 * absent, so the first one wins and the other reads it).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { StoreIdCorruptError } from './errors';

/** What a store id looks like (both backends make UUIDs). */
export const STORE_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The id of the file store at `root`, creating `root` and the id when absent. */
export async function readOrCreateFsStoreId(root: string): Promise<string> {
  const file = path.join(root, 'store-id');
  const existing = await readId(file);
  if (existing !== undefined) return existing;
  await makeDirectories(root);
  const tmp = path.join(root, `.store-id-${process.pid}-${randomBytes(6).toString('hex')}`);
  const handle = await fs.open(tmp, 'wx');
  try {
    await handle.writeFile(`${randomUUID()}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await fs.link(tmp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  } finally {
    await fs.rm(tmp, { force: true });
  }
  const id = await readId(file);
  if (id === undefined) throw new StoreIdCorruptError(file, '');
  return id;
}

/**
 * `mkdir -p`, one level at a time: Node's own recursive mkdir spins forever where mkdir
 * fails with ENOENT although the parent exists (under /proc, for one), and this runs at
 * start-up to turn such a directory into a clear error.
 */
async function makeDirectories(dir: string): Promise<void> {
  const parent = path.dirname(dir);
  try {
    await fs.mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || parent === dir || (await exists(parent))) throw err;
    await makeDirectories(parent);
    await fs.mkdir(dir).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

async function exists(file: string): Promise<boolean> {
  return fs.stat(file).then(
    () => true,
    () => false,
  );
}

async function readId(file: string): Promise<string | undefined> {
  let text: string;
  try {
    text = await fs.readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const id = text.trim();
  if (!STORE_ID.test(id)) throw new StoreIdCorruptError(file, text);
  return id;
}
