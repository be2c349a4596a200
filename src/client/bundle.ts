/**
 * `unroll export <thread> -o <file>` and `unroll import <file>`: moving a thread's
 * complete record (histories + transcript objects) between machines as one gzip'd
 * bundle. An imported thread's histories are kept under `<home>/imports/` and its objects
 * go into the configured store (UNROLL_STORE), so `show`, `replay`, `diff` and `fork` find it by id without a server.
 *
 * With encryption on: the bundle's histories are as the server stores them (encrypted);
 * its objects are plaintext canonical JSON (their names are their hashes, checked on
 * read), so a bundle must be handled like the transcript it holds. On import the objects
 * go into the store encrypted at rest, and the copy kept under `imports/` keeps only the
 * histories.
 */
import { stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { PayloadCodec } from '@temporalio/common';
import { decodeThreadHistories } from '../codec/history-codec';
import { createBundle, importObjects, readBundle, writeBundle, bundleStore, type ThreadBundle } from '../history/bundle';
import { ObjectNotFoundError } from '../store/errors';
import { buildThreadRun } from '../history/build-run';
import { bundleHistories } from '../history/bundle';
import { DebugContext, DebugUsageError, guarded, withContext, type DebugIo } from './debug-command';
import { importedBundlePath, resolveThread } from './thread-source';

/** Options of `unroll export`. */
export interface ExportFlags {
  readonly output?: string;
  readonly temporalAddress?: string;
}

/** Turn heads whose transcript the bundle cannot load (objects the store lacked); `codecs` decode encrypted histories. */
export async function incompleteHeads(bundle: ThreadBundle, codecs: readonly PayloadCodec[] = []): Promise<string[]> {
  const store = bundleStore(bundle);
  const run = await buildThreadRun(await decodeThreadHistories(bundleHistories(bundle), codecs), store);
  const broken: string[] = [];
  for (const turn of run.turns) {
    try {
      await store.loadTranscript(turn.endHead);
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
      broken.push(`turn ${turn.turn}: ${err.message}`);
    }
  }
  return broken;
}

/** Runs `unroll export`. */
export function exportCommand(target: string, flags: ExportFlags, io: DebugIo): Promise<number> {
  return guarded(io, () =>
    withContext(DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}), async (ctx) => {
      if (!flags.output) throw new DebugUsageError('export needs -o <file> (e.g. -o run.unroll.gz)');
      const file = path.resolve(io.cwd, flags.output);
      const source = await resolveThread(ctx, target);
      // An imported thread's objects are in the local store (its kept copy may have none).
      const bundle = source.kind === 'bundle' && source.bundle ? source.bundle : await createBundle(source.storedHistories, source.store.backend, { readable: source.histories });
      for (const problem of await incompleteHeads(bundle, ctx.payloadCodecs())) io.err.write(`unroll: warning: the bundle is incomplete (the store lacks objects): ${problem}\n`);
      await writeBundle(file, bundle);
      const blobs = Object.keys(bundle.blobs ?? {}).length;
      io.err.write(`exported ${bundle.threadId}: ${bundle.workflows.length} workflow run(s), ${Object.keys(bundle.objects).length + blobs} store object(s)${blobs > 0 ? ` (${blobs} checkpoint bundle(s))` : ''} → ${file}\n`);
      return 0;
    }),
  );
}

/** Throws a usage error naming `file` when it does not exist or is not a file. */
async function requireFile(file: string): Promise<void> {
  let stats;
  try {
    stats = await stat(file);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DebugUsageError(code === 'ENOENT' ? `no such file: ${file}` : `cannot read ${file}: ${(err as Error).message}`);
  }
  if (!stats.isFile()) throw new DebugUsageError(`${file} is not a file (import takes a bundle written by \`unroll export\`)`);
}

/** Runs `unroll import`. */
export function importCommand(fileArg: string, io: DebugIo): Promise<number> {
  return guarded(io, async () => {
    const ctx = DebugContext.open(io);
    const file = path.resolve(io.cwd, fileArg);
    await requireFile(file);
    const bundle = await readBundle(file);
    const keys = ctx.keys();
    return withContext(ctx, async () => {
      // The objects go to the configured store (shared by a fleet when UNROLL_STORE says so).
      const { opened } = await ctx.openedStore();
      const count = await importObjects(bundle, opened.store.backend);
      // With a key, the transcript lives only in the (encrypted) store, not in plaintext under imports/.
      // Checkpoint bundles are in the store now; the kept copy needs only the histories (and, without a key, the texts).
      const { blobs: _blobs, ...kept } = bundle;
      await writeBundle(importedBundlePath(ctx.config.home, bundle.threadId), keys ? { ...kept, objects: {} } : kept);
      io.err.write(`imported ${bundle.threadId}: ${bundle.workflows.length} workflow run(s), ${count} store object(s) into ${opened.description}; its histories under ${ctx.config.home}\n`);
      io.err.write(`inspect it with: unroll show ${bundle.threadId}\n`);
      return 0;
    });
  });
}
