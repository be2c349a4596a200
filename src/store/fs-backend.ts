import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { OBJECT_HASH } from './canonical-json';
import type { StoreBackend } from './backend';
import { StoreReadError, StoreWriteError, systemErrorOf } from './errors';

/**
 * A {@link StoreBackend} on the local filesystem: `objects/ab/cdef…` for objects and
 * `markers/<key>` for markers. Every write goes to a temporary file in the same
 * directory, is fsynced, then renamed into place, so a reader never sees a partial
 * object even if the process is killed mid-write. A write that fails (a full disk, an
 * I/O error, a read-only mount) removes its temporary file and throws a
 * {@link StoreWriteError}; a read that fails for a reason other than absence throws a
 * {@link StoreReadError}. Both name the errno, so the caller can retry and say why.
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
    const file = this.objectPath(hash);
    try {
      await fs.access(file);
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      throw asStoreError(err, 'read', file);
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
    throw asStoreError(err, 'read', file);
  }
}

/**
 * Temp file + fsync + rename: the file appears whole or not at all. On any failure the
 * temporary is removed (a full disk typically fails the write after `open` created an
 * empty file, which would otherwise stay behind on every retry).
 */
export async function writeAtomic(target: string, data: Buffer): Promise<void> {
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.tmp-${process.pid}-${randomBytes(6).toString('hex')}`);
  try {
    // The directory is there for all but the first object of its prefix: creating it
    // only when the open says it is missing saves a round trip on every write.
    const handle = await fs.open(tmp, 'w').catch(async (err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
      await ensureDir(dir);
      return fs.open(tmp, 'w');
    });
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.rename(tmp, target);
  } catch (err) {
    // Removing a file frees space, so this works on a full disk too; if it fails as
    // well, the write's own error is the one worth reporting.
    await fs.rm(tmp, { force: true }).catch(() => undefined);
    throw asStoreError(err, 'write', target);
  }
}

/**
 * `mkdir -p`, reporting the real cause: Node's recursive mkdir answers ENOENT where the
 * kernel said EROFS (a read-only store would read as "no such file or directory").
 */
async function ensureDir(dir: string): Promise<void> {
  try {
    await fs.mkdir(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || path.dirname(dir) === dir) throw err;
    await ensureDir(path.dirname(dir));
    await fs.mkdir(dir).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

/** A system error as a named store error; anything else (a bug) unchanged. */
function asStoreError(err: unknown, operation: 'read' | 'write', file: string): unknown {
  const system = systemErrorOf(err);
  if (!system) return err;
  const ErrorClass = operation === 'write' ? StoreWriteError : StoreReadError;
  return new ErrorClass(system.code, system.description, file, { cause: err });
}
