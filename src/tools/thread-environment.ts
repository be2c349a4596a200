/**
 * The environment a thread's tools run with, recorded with the thread. The client that
 * starts a thread with a worker of its own home (the resident one, or in-process)
 * filters its own environment with the shell environment policy (`toolEnvironment` in
 * ./environment.ts, so provider keys and other secrets are dropped there), stores the
 * result in the transcript store under its hash and puts the hash in the thread's
 * settings (`SessionSettings.toolEnvironment`). Every tool call of the thread then runs
 * with exactly that environment, whichever process started the resident worker and
 * across worker restarts. Threads without a record (started with `--no-worker`, for a
 * worker on another machine; older ones; ones whose record is not in this store) get
 * the worker's own filtered environment, as before.
 */
import { createHash } from 'node:crypto';
import type { TranscriptStore } from '../store/transcript-store';

/** The store marker that holds the environment with hash `hash`. */
export function threadEnvironmentKey(hash: string): string {
  return `tool-environment/${hash}`;
}

/** Canonical text of an environment: names sorted, so equal environments share one record. */
function canonical(env: Readonly<Record<string, string>>): string {
  return JSON.stringify(Object.fromEntries(Object.keys(env).sort().map((name) => [name, env[name]])));
}

/** Stores `env` (already filtered) and returns its hash, for `SessionSettings.toolEnvironment`. */
export async function recordThreadEnvironment(store: TranscriptStore, env: Readonly<Record<string, string>>): Promise<string> {
  const text = canonical(env);
  const hash = createHash('sha256').update(text).digest('hex');
  const key = threadEnvironmentKey(hash);
  if ((await store.getMarker(key)) === undefined) await store.putMarker(key, text);
  return hash;
}

/** The environment recorded under `hash`; undefined when this store does not have it. */
export async function loadThreadEnvironment(store: TranscriptStore, hash: string): Promise<Record<string, string> | undefined> {
  const text = await store.getMarker(threadEnvironmentKey(hash));
  if (text === undefined) return undefined;
  const parsed = JSON.parse(text) as unknown;
  if (typeof parsed !== 'object' || parsed === null || Object.values(parsed).some((v) => typeof v !== 'string')) {
    throw new TypeError(`the recorded tool environment ${hash} is not a map of strings`);
  }
  return parsed as Record<string, string>;
}
