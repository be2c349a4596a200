/**
 * The layers of configuration, each parsed and validated on its own so that an error
 * names the layer and, for a file, the line: config.toml (or the legacy config.json), the
 * selected profile, environment variables and `-c key=value` values. {@link mergeLayers}
 * stacks them, later layers winning, and remembers which layer set each key.
 */
import { readFileSync } from 'node:fs';
import { parse as parseToml, TomlError } from 'smol-toml';
import type { z } from 'zod';
import { ConfigError } from './errors';
import { ConfigToml, ProfileToml } from './toml-schema';
import { lineOfKey, splitKey } from './toml-locate';

/** One source of settings: its validated value and how to name one of its keys in messages. */
export interface ConfigLayer {
  readonly value: ConfigToml;
  /** Names the setting at `keyPath` as this layer holds it, e.g. `unroll.store in /h/config.toml`. */
  readonly describe: (keyPath: readonly string[]) => string;
}

/** Plain objects (TOML tables), as opposed to arrays and scalars. */
export function isTable(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Date);
}

/** The text of `file`, or undefined when it does not exist; other read errors are ConfigErrors. */
export function readOptionalFile(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
}

/** Parses TOML text from `file`; a syntax error names the file, line and column. */
export function parseTomlText(file: string, text: string): Record<string, unknown> {
  try {
    return parseToml(text);
  } catch (err) {
    if (err instanceof TomlError) {
      const reason = err.message.split('\n')[0].replace(/^Invalid TOML document: /, '');
      throw new ConfigError(`${file}:${err.line}:${err.column}: invalid TOML: ${reason}`);
    }
    throw err;
  }
}

/**
 * Checks a parsed value against `schema`; problems are one ConfigError listing each bad
 * key as `<where>: <key>: <message>`, `where` computed by `locate` (a file's line).
 */
export function validateLayer<S extends z.ZodType>(schema: S, value: unknown, locate: (keyPath: readonly PropertyKey[]) => string): z.infer<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((issue) => {
    // An unknown key is found at its own line, not at its table's.
    const at = issue.code === 'unrecognized_keys' ? [...issue.path, issue.keys[0]] : issue.path;
    return `${locate(at)}: ${issue.path.map(String).join('.') || '(root)'}: ${issue.message}`;
  });
  throw new ConfigError(problems.join('; '));
}

function fileLocator(file: string, text: string, prefix: readonly string[] = []): (keyPath: readonly PropertyKey[]) => string {
  return (keyPath) => {
    const line = lineOfKey(text, [...prefix, ...keyPath.filter((k): k is string => typeof k === 'string')]);
    return line === undefined ? file : `${file}:${line}`;
  };
}

/** A TOML config file as a layer (undefined when the file does not exist). */
export function tomlFileLayer(file: string, schema: typeof ConfigToml | typeof ProfileToml = ConfigToml): (ConfigLayer & { readonly text: string }) | undefined {
  const text = readOptionalFile(file);
  if (text === undefined) return undefined;
  const value = validateLayer(schema, parseTomlText(file, text), fileLocator(file, text));
  return { value, text, describe: (keyPath) => `${keyPath.join('.')} in ${file}` };
}

/**
 * Parses one `-c key=value`, as Codex does: a dotted key, and a value parsed as TOML,
 * or taken as a literal string when it is not valid TOML (`-c model=o3`).
 */
export function configOverrideLayer(arg: string): ConfigLayer {
  const eq = arg.indexOf('=');
  if (eq <= 0) throw new ConfigError(`-c ${arg}: expected key=value (e.g. -c model="o3")`);
  const keyPath = splitKey(arg.slice(0, eq).trim());
  if (keyPath.length === 0 || keyPath.some((k) => k === '')) throw new ConfigError(`-c ${arg}: "${arg.slice(0, eq)}" is not a key`);
  const raw = arg.slice(eq + 1).trim();
  let value: unknown;
  try {
    value = (parseToml(`v = ${raw}`) as { v: unknown }).v;
  } catch {
    value = raw;
  }
  const patch = nest(keyPath, value);
  return { value: validateLayer(ConfigToml, patch, () => `-c ${arg}`), describe: () => `-c ${arg}` };
}

/** `{a: {b: value}}` from `['a', 'b']`. */
export function nest(keyPath: readonly string[], value: unknown): Record<string, unknown> {
  return keyPath.reduceRight<Record<string, unknown>>((inner, key) => ({ [key]: inner }), value as Record<string, unknown>);
}

/** The merged settings and, for each key, the layer that set it last. */
export interface MergedLayers {
  readonly value: ConfigToml;
  /** Names the layer that set `keyPath` (or undefined when no layer did). */
  describe(keyPath: readonly string[]): string | undefined;
}

/** Stacks `layers`, later ones winning: tables merge key by key, anything else replaces. */
export function mergeLayers(layers: readonly ConfigLayer[]): MergedLayers {
  const origins = new Map<string, ConfigLayer>();
  const merged: Record<string, unknown> = {};
  const mergeInto = (target: Record<string, unknown>, source: Record<string, unknown>, at: string[], layer: ConfigLayer) => {
    for (const [key, value] of Object.entries(source)) {
      const keyPath = [...at, key];
      origins.set(keyPath.join('\0'), layer);
      if (isTable(value)) {
        const existing = target[key];
        const into: Record<string, unknown> = isTable(existing) ? existing : {};
        target[key] = into;
        mergeInto(into, value, keyPath, layer);
      } else {
        target[key] = value;
      }
    }
  };
  for (const layer of layers) mergeInto(merged, layer.value, [], layer);
  return {
    value: merged,
    describe(keyPath) {
      const layer = origins.get(keyPath.join('\0'));
      return layer?.describe(keyPath);
    },
  };
}
