/**
 * Where a debugging command finds a thread. The argument is, in this order:
 * 1. a bundle file (`unroll export` wrote it): read it, no server and no local store;
 * 2. the id of an imported thread (`<home>/imports/<id>.unroll.gz`, written by
 *    `unroll import`): its histories from there, its objects from the configured store;
 * 3. a thread id on the Temporal server: its histories from the server, its objects
 *    from the configured store (UNROLL_STORE: shared by a fleet, so any machine with
 *    access to Temporal and the store can read any thread).
 * Histories hold payloads as the server stores them; with encryption on they are
 * decoded here with the configured key (`histories`), and kept as stored for export
 * (`storedHistories`).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { decodeThreadHistories } from '../codec/history-codec';
import { bundleHistories, bundleStore, readBundle, type ThreadBundle } from '../history/bundle';
import { fetchThreadHistories, type ThreadHistories } from '../history/thread-histories';
import { THREAD_ID } from '../shared/ids';
import type { SessionSettings } from '../config/settings';
import { runRecord } from '../history/history-events';
import type { TranscriptStore } from '../store';
import type { DebugContext } from './debug-command';
import { DebugUsageError } from './debug-command';
import { assertThreadInStore } from './thread-store';
import { InvalidThreadIdError } from './threads';

/** A thread's record, wherever it came from. */
export interface ThreadSource {
  readonly kind: 'bundle' | 'imported' | 'server';
  /** The bundle file, or the server address. */
  readonly location: string;
  /** The histories with every payload decoded: what show, replay, diff and fork read. */
  readonly histories: ThreadHistories;
  /** The histories as stored (encrypted payloads stay encrypted): what export writes. */
  readonly storedHistories: ThreadHistories;
  readonly store: TranscriptStore;
  /** The bundle, for bundle and imported sources. */
  readonly bundle: ThreadBundle | null;
}

/** Folder of imported bundles under the Unroll home. */
export function importsDir(home: string): string {
  return path.join(home, 'imports');
}

/** Where `unroll import` keeps the bundle of `threadId`. */
export function importedBundlePath(home: string, threadId: string): string {
  return path.join(importsDir(home), `${threadId}.unroll.gz`);
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await fs.stat(file)).isFile();
  } catch {
    return false;
  }
}

/** Resolves a command's `<thread | bundle>` argument; see the module comment. */
export async function resolveThread(ctx: DebugContext, target: string): Promise<ThreadSource> {
  const readable = async (stored: ThreadHistories) => ({ storedHistories: stored, histories: await decodeThreadHistories(stored, ctx.payloadCodecs()) });
  const file = path.resolve(ctx.io.cwd, target);
  if (await isFile(file)) {
    const bundle = await readBundle(file);
    return { kind: 'bundle', location: file, ...(await readable(bundleHistories(bundle, file))), store: bundleStore(bundle), bundle };
  }
  if (!THREAD_ID.test(target)) {
    if (/[/\\]|\.gz$|\.json$/.test(target)) throw new DebugUsageError(`no such bundle file: ${file}`);
    throw new InvalidThreadIdError(target);
  }
  const imported = importedBundlePath(ctx.config.home, target);
  if (await isFile(imported)) {
    const bundle = await readBundle(imported);
    return { kind: 'imported', location: imported, ...(await readable(bundleHistories(bundle, imported))), store: (await ctx.openedStore()).opened.store, bundle };
  }
  const runtime = await ctx.runtime();
  const stored = await fetchThreadHistories(runtime.client, target);
  const histories = await readable(stored);
  // A thread of another store would show as missing objects: say which store it needs.
  const settings = recordedSettings(histories.histories);
  if (settings) assertThreadInStore(target, settings, runtime.opened, runtime.storeId);
  return { kind: 'server', location: ctx.config.temporal.address, ...histories, store: runtime.store, bundle: null };
}

/** The settings the thread's first session run started with, when its history has them. */
function recordedSettings(histories: ThreadHistories): Pick<SessionSettings, 'storeId' | 'storeDescription'> | undefined {
  const first = histories.workflows.find((w) => w.workflowType === 'SessionWorkflow');
  if (!first) return undefined;
  try {
    return (runRecord(first.history).input as { settings?: SessionSettings } | undefined)?.settings;
  } catch {
    // An unreadable session history is for the debugger to report, not this check.
    return undefined;
  }
}
