/**
 * `unroll config import-codex` and `unroll config migrate`: writing `<home>/config.toml`
 * from a Codex home (`$CODEX_HOME`, default `~/.codex`) or from the deprecated
 * config.json. The import takes the keys Unroll shares with Codex, Codex's profile files
 * (`<name>.config.toml`) and the global `AGENTS.md` / `AGENTS.override.md`, and reports
 * what it imported and what it skipped (keys only Codex uses, values Unroll does not
 * support). An existing config.toml (or instructions file) is never overwritten without
 * `force`; its `[unroll]` table is kept either way, as are config.json's settings.
 */
import { copyFileSync, existsSync, readdirSync, renameSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { stringify } from 'smol-toml';
import { BUILTIN_PROVIDERS } from './config';
import { ConfigError } from './errors';
import { legacyJsonLayer } from './legacy-json';
import { isTable, parseTomlText, readOptionalFile, tomlFileLayer, validateLayer } from './toml-layers';
import { ConfigToml, ProfileToml } from './toml-schema';
import { lineOfKey } from './toml-locate';
import { AGENTS_FILENAME, AGENTS_OVERRIDE_FILENAME } from '../prompt/agents-md';

/** What an import or a migration did, line by line, for the user. */
export interface ImportReport {
  readonly imported: string[];
  readonly skipped: string[];
  readonly written: string[];
}

/** The config.toml keys Unroll reads; a Codex config's other keys concern only Codex. */
const SHARED_KEYS = new Set([
  'model', 'model_provider', 'model_providers', 'approval_policy', 'sandbox_mode', 'sandbox_workspace_write', 'shell_environment_policy', 'mcp_servers',
  'project_doc_max_bytes', 'project_doc_fallback_filenames', 'model_reasoning_effort', 'model_reasoning_summary', 'model_context_window',
  'model_auto_compact_token_limit', 'profile', 'profiles',
]);

/** The shared keys of a Codex config (or profile), minus the values Unroll cannot run with. */
function sharedSettings(value: Record<string, unknown>, prefix: string, report: ImportReport): Record<string, unknown> {
  const kept: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(value)) {
    const name = `${prefix}${key}`;
    if (!SHARED_KEYS.has(key)) {
      report.skipped.push(`${name} (not used by Unroll)`);
      continue;
    }
    if (key === 'approval_policy' && v === 'on-failure') {
      report.skipped.push(`${name} = "on-failure" (not supported by Unroll: use untrusted, on-request or never)`);
      continue;
    }
    if (key === 'model_providers' && isTable(v)) {
      kept[key] = Object.fromEntries(
        Object.entries(v).filter(([id, p]) => {
          const chat = isTable(p) && p.wire_api === 'chat';
          report[chat ? 'skipped' : 'imported'].push(chat ? `${name}.${id} (wire_api = "chat": Unroll speaks only the Responses API)` : `${name}.${id}`);
          return !chat;
        }),
      );
      continue;
    }
    if (key === 'profiles' && isTable(v)) {
      kept[key] = Object.fromEntries(Object.entries(v).map(([p, table]) => [p, isTable(table) ? sharedSettings(table, `${name}.${p}.`, report) : table]));
      continue;
    }
    kept[key] = v;
  }
  // Providers and profiles were reported one by one above.
  for (const key of Object.keys(kept)) if (key !== 'model_providers' && key !== 'profiles') report.imported.push(`${prefix}${key}`);
  return kept;
}

/** Checks a value against the schema, naming `file` and the line of each bad key. */
function checked(file: string, text: string, value: unknown, schema: typeof ConfigToml | typeof ProfileToml): void {
  validateLayer(schema, value, (keyPath) => {
    const line = lineOfKey(text, keyPath.filter((k): k is string => typeof k === 'string'));
    return line === undefined ? file : `${file}:${line}`;
  });
}

/** The settings already in the Unroll home: config.toml, else config.json (translated). */
function existingSettings(home: string, force: boolean): Record<string, unknown> {
  const tomlFile = path.join(home, 'config.toml');
  const existing = tomlFileLayer(tomlFile);
  if (existing && !force) throw new ConfigError(`${tomlFile} already exists: give --force to replace its Codex settings (its [unroll] table is kept)`);
  if (existing) return { unroll: existing.value.unroll };
  const legacy = legacyJsonLayer(path.join(home, 'config.json'), (name) => BUILTIN_PROVIDERS[name]);
  return legacy ? (legacy.value) : {};
}

/** Writes `value` as `file` (TOML), dropping nulls TOML cannot hold. */
function writeToml(file: string, value: Record<string, unknown>, report: ImportReport): void {
  const plain = JSON.parse(JSON.stringify(value, (key, v: unknown) => {
    if (v === null) {
      report.skipped.push(`${key} = null (no TOML form: remove it, or set it on the command line)`);
      return undefined;
    }
    return v;
  })) as Record<string, unknown>;
  writeFileSync(file, `# Unroll configuration (Codex's config.toml format; see README "Configuration")\n${stringify(plain)}`);
  report.written.push(file);
}

/** Imports the Codex home `codexHome` into the Unroll home `home` (see the module comment). */
export function importCodexHome(codexHome: string, home: string, options: { force?: boolean } = {}): ImportReport {
  const report: ImportReport = { imported: [], skipped: [], written: [] };
  const codexConfig = path.join(codexHome, 'config.toml');
  const text = readOptionalFile(codexConfig);
  const hasAgents = [AGENTS_OVERRIDE_FILENAME, AGENTS_FILENAME].some((name) => existsSync(path.join(codexHome, name)));
  if (text === undefined && !hasAgents) throw new ConfigError(`nothing to import: ${codexHome} has no config.toml and no AGENTS.md (set CODEX_HOME or give --codex-home)`);
  if (text !== undefined) {
    const parsed = parseTomlText(codexConfig, text);
    const settings = sharedSettings(parsed, '', report);
    checked(codexConfig, text, settings, ConfigToml);
    const base = existingSettings(home, options.force ?? false);
    writeToml(path.join(home, 'config.toml'), { ...settings, ...(base.unroll ? { unroll: base.unroll } : {}), ...withoutCodexKeys(base, settings) }, report);
    importProfileFiles(codexHome, home, options.force ?? false, report);
  }
  for (const name of [AGENTS_OVERRIDE_FILENAME, AGENTS_FILENAME]) copyInstructions(path.join(codexHome, name), path.join(home, name), options.force ?? false, report);
  return report;
}

/** The settings of `base` that the import does not set (config.json's, when migrating from it). */
function withoutCodexKeys(base: Record<string, unknown>, imported: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(base).filter(([key]) => key !== 'unroll' && !(key in imported)));
}

function importProfileFiles(codexHome: string, home: string, force: boolean, report: ImportReport): void {
  for (const entry of readdirSync(codexHome)) {
    if (!entry.endsWith('.config.toml')) continue;
    const source = path.join(codexHome, entry);
    const target = path.join(home, entry);
    if (existsSync(target) && !force) {
      report.skipped.push(`${source} (${target} exists; --force replaces it)`);
      continue;
    }
    const text = readOptionalFile(source) ?? '';
    const settings = sharedSettings(parseTomlText(source, text), `${entry}: `, report);
    checked(source, text, settings, ProfileToml);
    writeToml(target, settings, report);
  }
}

function copyInstructions(source: string, target: string, force: boolean, report: ImportReport): void {
  if (!existsSync(source)) return;
  const same = readOptionalFile(target) === readOptionalFile(source);
  if (existsSync(target) && !same && !force) {
    report.skipped.push(`${source} (${target} exists and differs; --force replaces it)`);
    return;
  }
  copyFileSync(source, target);
  report.written.push(target);
}

/**
 * Converts `<home>/config.json` to `<home>/config.toml` and renames config.json to
 * config.json.migrated (so nothing reads it any more). Refuses when config.toml exists.
 */
export function migrateLegacyConfig(home: string): ImportReport {
  const report: ImportReport = { imported: [], skipped: [], written: [] };
  const json = path.join(home, 'config.json');
  const toml = path.join(home, 'config.toml');
  if (existsSync(toml)) throw new ConfigError(`${toml} already exists: nothing to migrate (delete ${json} if it is no longer needed)`);
  const legacy = legacyJsonLayer(json, (name) => BUILTIN_PROVIDERS[name]);
  if (!legacy) throw new ConfigError(`there is no ${json} to migrate`);
  report.imported.push(...Object.keys(legacy.value));
  writeToml(toml, legacy.value, report);
  renameSync(json, `${json}.migrated`);
  report.written.push(`${json}.migrated (the old file, no longer read)`);
  return report;
}
