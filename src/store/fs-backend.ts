import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OBJECT_HASH } from './canonical-json';
import type { StoreBackend } from './backend';

/**
 * A {@link StoreBackend} on the local filesystem: `objects/ab/cdef…` for objects and
 * `markers/<key>` for markers. Every write goes to a temporary file in the same
 * directory, is fsynced, then renamed into place, so a reader never sees a partial
 * object even if the process is killed mid-write.
 */
export class FsStoreBackend implements StoreBackend {
  constructor(readonly root: string) {}

  private objectPath(hash: string): string {
    if (!OBJECT_HASH.test(hash)) throw new TypeError(`not an object hash: ${JSON.stringify(hash)}`);
    return path.join(this.root, 'objects', hash.slice(0, 2), hash.slice(2));
  }

  private markerPath(key: string): string {
    if (!/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.split('/').some((part) => part === '.' || part === '..')) {
      throw new TypeError(`not a marker key: ${JSON.stringify(key)}`);
    }
    return path.join(this.root, 'markers', key);
  }

  async get(hash: string): Promise<Buffer | undefined> {
    return readIfExists(this.objectPath(hash));
  }

  async has(hash: string): Promise<boolean> {
    try {
      await fs.access(this.objectPath(hash));
      return true;
    } catch {
      return false;
    }
  }

  async put(hash: string, data: Buffer): Promise<void> {
    const target = this.objectPath(hash);
    if (await this.has(hash)) return;
    await writeAtomic(target, data);
  }

  async putMarker(key: string, value: string): Promise<void> {
    await writeAtomic(this.markerPath(key), Buffer.from(value));
  }

  async getMarker(key: string): Promise<string | undefined> {
    return (await readIfExists(this.markerPath(key)))?.toString('utf8');
  }
}

async function readIfExists(file: string): Promise<Buffer | undefined> {
  try {
    return await fs.readFile(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
}

/** Temp file + fsync + rename: the file appears whole or not at all. */
async function writeAtomic(target: string, data: Buffer): Promise<void> {
  const dir = path.dirname(target);
  await fs.mkdir(dir, { recursive: true });
  const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  const handle = await fs.open(tmp, 'w');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await fs.rename(tmp, target);
}
