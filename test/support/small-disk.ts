/**
 * Real filesystem faults for tests: a small tmpfs mounted over a directory (tests run as
 * root, as CI does), filled to the last byte, or remounted read-only. Writes under it
 * then fail with the kernel's own ENOSPC / EROFS, not a simulation.
 */
import { execFile } from 'node:child_process';
import { mkdir, open, rm } from 'node:fs/promises';
import * as path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** Mounts a tmpfs of `size` (e.g. `1m`) over `dir`, creating `dir` if needed. */
export async function mountSmallDisk(dir: string, size: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await run('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
}

/** Unmounts what {@link mountSmallDisk} mounted (lazily, so a straggling reader cannot block it). */
export async function unmountSmallDisk(dir: string): Promise<void> {
  await run('umount', ['-l', dir]);
}

/** Remounts the disk at `dir` read-only or read-write. */
export async function remountSmallDisk(dir: string, mode: 'ro' | 'rw'): Promise<void> {
  await run('mount', ['-o', `remount,${mode}`, dir]);
}

/**
 * Fills the filesystem at `dir` with one file until the kernel answers ENOSPC; returns
 * the file, whose removal frees the space again.
 */
export async function fillDisk(dir: string): Promise<string> {
  const filler = path.join(dir, 'filler');
  const handle = await open(filler, 'w');
  const chunk = Buffer.alloc(4096, 0x2e);
  try {
    for (;;) await handle.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await handle.close();
  }
  return filler;
}

/** Removes the filler of {@link fillDisk}. */
export async function freeDisk(filler: string): Promise<void> {
  await rm(filler, { force: true });
}
