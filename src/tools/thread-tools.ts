/**
 * A thread's tool list, fixed when the thread starts and recorded, so that every request
 * of the thread offers the same tools (the provider's prompt cache holds) and a replay
 * or a worker on newer code sees the tools the thread was started with.
 *
 * The record is `SessionSettings.tools`: the tools' names and the hash of the exact spec
 * array sent (a content-addressed store object, canonical JSON). The client picks them
 * from the registry at thread start (a pure computation: no store write); the first
 * request stores the specs under that hash, and every later request reads them back from
 * the store, whatever the worker's code would produce by then. Threads from before the
 * record keep the three tools they always had (./registry.ts `legacyToolSpecs`).
 */
import type { DynamicToolRecord, SessionSettings } from '../config/settings';
import { canonicalJson, sha256Hex } from '../store/canonical-json';
import { ObjectNotFoundError } from '../store/errors';
import type { TranscriptStore } from '../store/transcript-store';
import type { RequestToolSpec, ThreadToolSpec, ToolSpecContext } from './contract';
import { LEGACY_TOOL_NAMES, legacyToolSpecs, offeredToolNames, toolSpecsFor } from './registry';

/** What a thread records about its tools (the value of `SessionSettings.tools`). */
export interface ThreadTools {
  readonly names: string[];
  /** Hash of the canonical JSON of the spec array. */
  readonly specs: string;
  /** The tools found at thread start (MCP servers'), by name; see `SessionSettings.tools`. */
  readonly dynamic?: Readonly<Record<string, DynamicToolRecord>>;
}

/** The records of the thread's tools found at its start (none for threads without MCP servers). */
export function threadDynamicTools(settings: Pick<SessionSettings, 'tools'>): Readonly<Record<string, DynamicToolRecord>> | undefined {
  return settings.tools?.dynamic;
}

/** The tools a new thread with these settings gets, ready to record in its settings. */
export function selectThreadTools(context: ToolSpecContext): ThreadTools {
  const names = offeredToolNames(context);
  return { names, specs: specsHash(toolSpecsFor(names, context)) };
}

/** Settings for a new thread: the given ones with their tool list picked (kept when already there). */
export function withThreadTools<S extends ToolSpecContext & { tools?: ThreadTools }>(settings: S): S {
  return settings.tools ? settings : { ...settings, tools: selectThreadTools(settings) };
}

/** The names of the tools a thread may call. */
export function threadToolNames(settings: Pick<SessionSettings, 'tools'>): readonly string[] {
  return settings.tools?.names ?? LEGACY_TOOL_NAMES;
}

/** The thread's tools as this worker's code would build them (no store read; for display and compaction). */
export function currentToolSpecs(settings: SessionSettings): ThreadToolSpec[] {
  return settings.tools ? toolSpecsFor(settings.tools.names, settings) : legacyToolSpecs(settings);
}

/**
 * The thread's recorded spec object is not in the store, and this worker's code makes a
 * different one (the thread was started by another version of Unroll and its first
 * request never ran here). A missing store object: the inference activity reports it as
 * one (src/activities/store-errors.ts), retried a few times, then final.
 */
export class ThreadToolsUnavailableError extends ObjectNotFoundError {
  constructor(hash: string, readonly computed: string) {
    super(hash, `tool list (this worker's tools for the thread hash to ${computed}: another version of Unroll started it)`);
  }
}

const CACHE_LIMIT = 32;

/** Loads (and on first use stores) each thread's recorded specs; caches them by hash (they are immutable). */
export class ThreadToolSpecs {
  private readonly cache = new Map<string, RequestToolSpec[]>();

  constructor(private readonly store: TranscriptStore) {}

  /** The `tools` of the thread's requests; throws {@link ThreadToolsUnavailableError} (see there). */
  async forThread(settings: SessionSettings): Promise<RequestToolSpec[]> {
    if (!settings.tools) return legacyToolSpecs(settings);
    const hash = settings.tools.specs;
    const cached = this.cache.get(hash);
    if (cached) return cached;
    const specs = await this.load(hash, settings);
    if (this.cache.size >= CACHE_LIMIT) this.cache.delete(this.cache.keys().next().value as string);
    this.cache.set(hash, specs);
    return specs;
  }

  private async load(hash: string, settings: SessionSettings): Promise<RequestToolSpec[]> {
    try {
      return (await this.store.getValue(hash, 'store object')) as RequestToolSpec[];
    } catch (err) {
      if (!(err instanceof ObjectNotFoundError)) throw err;
    }
    const specs = currentToolSpecs(settings);
    const computed = specsHash(specs);
    if (computed !== hash) throw new ThreadToolsUnavailableError(hash, computed);
    await this.store.putValue(specs);
    return specs;
  }
}

/** The hash under which a spec array is recorded (canonical JSON). */
export function specsHash(specs: readonly RequestToolSpec[]): string {
  return sha256Hex(canonicalJson(specs));
}
