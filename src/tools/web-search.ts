/**
 * The hosted `web_search` tool, as Codex 0.171 offers it: the provider searches while it
 * answers, and returns what it did as `web_search_call` output items. Unroll runs nothing
 * for it (a {@link HostedToolModule}): the spec goes into the request's `tools`, and the
 * items are kept in the transcript, sent back on later requests (with their ids, as Codex
 * sends them: src/activities/model-client.ts) and shown as Codex's `web_search` items.
 *
 * Configuration, as Codex reads it (config.toml or a profile): `web_search = "cached"`
 * (the default: results from the provider's index, `external_web_access: false`),
 * `"live"` (the open web) or `"disabled"`; the older `[features] web_search_cached` and
 * `web_search_request` (live) are read when `web_search` is not set. As in Codex, a
 * thread under `danger-full-access` searches live unless search is disabled. The local
 * providers (ollama, lmstudio) have no hosted search: off for them unless the config
 * turns it on (src/config/config.ts).
 *
 * The spec is part of the thread's recorded tool list (./thread-tools.ts): it is fixed at
 * thread start, so a later sandbox change does not change a thread's requests.
 */
import type { WebSearchMode } from '../config/settings';
import type { WebSearchCallItem } from '../items/schemas';
import type { HostedToolModule, HostedToolSpec, ToolSpecContext } from './contract';
import type { ExecItemKind, WebSearchAction, WebSearchItem } from './display';

/** The models Codex 0.171 lets search images too (`search_content_types`), and their dated snapshots. */
const IMAGE_SEARCH_MODELS: readonly string[] = ['gpt-5.5'];

function searchesImages(model: string): boolean {
  return IMAGE_SEARCH_MODELS.some((slug) => model === slug || model.startsWith(`${slug}-`));
}

/** The mode a thread's requests use: the configured one, live under danger-full-access (as Codex). */
export function effectiveWebSearchMode(context: ToolSpecContext): WebSearchMode {
  const mode = context.webSearch ?? 'disabled';
  return mode !== 'disabled' && context.sandboxMode === 'danger-full-access' ? 'live' : mode;
}

/** `web_search: <detail>` for a person. */
export const webSearchKind: ExecItemKind<WebSearchItem> = {
  type: 'web_search',
  humanCompleted: (item, paint) => [`${paint('36', 'web search')} ${item.query || `(${item.action.type})`}`],
};

export const webSearchTool: HostedToolModule = {
  name: 'web_search',
  hosted: true,
  offered: (context) => effectiveWebSearchMode(context) !== 'disabled',
  spec(context): HostedToolSpec {
    return {
      type: 'web_search',
      external_web_access: effectiveWebSearchMode(context) === 'live',
      ...(searchesImages(context.model) ? { search_content_types: ['text', 'image'] } : {}),
    };
  },
  kinds: [webSearchKind],
};

const str = (value: unknown): string | undefined => (typeof value === 'string' ? value : undefined);

/** The action of a `web_search_call` in Codex's shape; one Codex does not know is `other`. */
export function webSearchAction(item: WebSearchCallItem): WebSearchAction {
  const action = (item.action ?? { type: 'other' }) as Record<string, unknown>;
  const defined = <T extends object>(value: T): T => Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
  switch (action.type) {
    case 'search': {
      const queries = Array.isArray(action.queries) ? action.queries.filter((q): q is string => typeof q === 'string') : undefined;
      return defined({ type: 'search' as const, query: str(action.query), queries });
    }
    case 'open_page':
      return defined({ type: 'open_page' as const, url: str(action.url) });
    case 'find_in_page':
      return defined({ type: 'find_in_page' as const, url: str(action.url), pattern: str(action.pattern) });
    default:
      return { type: 'other' };
  }
}

/** Codex's one-line detail of an action: the query, the page, or `'pattern' in page`. */
export function webSearchDetail(action: WebSearchAction): string {
  switch (action.type) {
    case 'search': {
      if (action.query) return action.query;
      const queries = (action.queries ?? []).filter((q) => q !== '');
      return queries.length > 1 ? `${queries[0]} ...` : (queries[0] ?? '');
    }
    case 'open_page':
      return action.url ?? '';
    case 'find_in_page':
      if (action.pattern !== undefined) return action.url !== undefined ? `'${action.pattern}' in ${action.url}` : `'${action.pattern}'`;
      return action.url ?? '';
    default:
      return '';
  }
}

/**
 * The `exec --json` items of a `web_search_call`, as Codex 0.171 emits them: started with
 * an empty query and an `other` action, completed with the action and its detail. Codex
 * writes the item's id twice (`item_N`, then the call's own id); a JSON reader keeps the
 * last, so the items carry the call's id (`fallbackId` when it has none).
 */
export function webSearchItems(item: WebSearchCallItem, fallbackId: string): { started: WebSearchItem; completed: WebSearchItem } {
  const id = item.id ?? fallbackId;
  const action = webSearchAction(item);
  return {
    started: { id, type: 'web_search', query: '', action: { type: 'other' } },
    completed: { id, type: 'web_search', query: webSearchDetail(action), action },
  };
}
