/**
 * Which layers make up the configuration, lowest first:
 *
 * 1. `<home>/config.toml` (or, in a home without one, the deprecated config.json);
 * 2. the profile, chosen by `-p NAME` (else `profile = "NAME"` in config.toml): the file
 *    `<home>/NAME.config.toml` (Codex 0.171's profiles) or the table `[profiles.NAME]`
 *    (earlier Codex versions); both at once, or neither, is an error;
 * 3. Unroll's environment variables (`UNROLL_MODEL`, `UNROLL_TEMPORAL_ADDRESS`, …);
 * 4. `-c key=value` values, in the order given.
 *
 * Command-line flags (`-m`, `--sandbox`, …) are applied over all of them by loadConfig.
 */
import * as path from 'node:path';
import { ConfigError } from './errors';
import { legacyJsonLayer, type BuiltinLookup } from './legacy-json';
import { configOverrideLayer, isTable, mergeLayers, tomlFileLayer, validateLayer, type ConfigLayer } from './toml-layers';
import { ConfigToml, ProfileToml } from './toml-schema';

/** How the command line chose the configuration files and values. */
export interface ConfigSelection {
  /** `-c key=value` values, in order. */
  readonly configValues?: readonly string[];
  /** `-p/--profile`. */
  readonly profile?: string;
  /** Leave `<home>/config.toml` (and config.json) out. */
  readonly ignoreUserConfig?: boolean;
}

/** A profile name: it names a file in the home, so no path separators. */
const PROFILE_NAME = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Environment variables that set config.toml keys, with the key each sets. */
const ENV_KEYS: ReadonlyArray<readonly [string, readonly string[], (v: string) => unknown]> = [
  ['UNROLL_MODEL', ['model'], (v) => v],
  ['UNROLL_PROVIDER', ['model_provider'], (v) => v],
  ['UNROLL_TEMPORAL_ADDRESS', ['unroll', 'temporal', 'address'], (v) => v],
  ['UNROLL_NAMESPACE', ['unroll', 'temporal', 'namespace'], (v) => v],
  ['UNROLL_TASK_QUEUE', ['unroll', 'temporal', 'task_queue'], (v) => v],
  ['UNROLL_TEMPORAL_CLI', ['unroll', 'temporal', 'cli_path'], (v) => v],
  ['UNROLL_AUTO_START_SERVER', ['unroll', 'temporal', 'auto_start_server'], (v) => v !== '0'],
  ['UNROLL_HOST_ID', ['unroll', 'host_id'], (v) => v],
  ['UNROLL_STORE', ['unroll', 'store'], (v) => v],
];

/** The configuration's layers for `home` (see the module comment), lowest first. */
export function configLayers(home: string, env: Record<string, string | undefined>, selection: ConfigSelection, builtin: BuiltinLookup): ConfigLayer[] {
  const overrides = (selection.configValues ?? []).map(configOverrideLayer);
  const tomlFile = path.join(home, 'config.toml');
  const file = selection.ignoreUserConfig ? undefined : (tomlFileLayer(tomlFile) ?? legacyJsonLayer(path.join(home, 'config.json'), builtin));
  // `-c profile=…` and `-c profiles.x.model=…` act on the file before the profile is chosen.
  const raw = mergeLayers([...(file ? [file] : []), ...overrides]).value;
  const profileName = selection.profile ?? raw.profile;
  const profile = profileName === undefined ? [] : [profileLayer(home, profileName, raw, selection.profile !== undefined ? '-p' : 'profile in config.toml', tomlFile)];
  const base: ConfigLayer[] = file ? [{ value: withoutProfiles(file.value), describe: file.describe }] : [];
  return [...base, ...profile, ...envLayers(env), ...overrides];
}

function withoutProfiles(value: ConfigToml): ConfigToml {
  const rest: Record<string, unknown> = { ...value };
  delete rest.profile;
  delete rest.profiles;
  return rest;
}

function profileLayer(home: string, name: string, raw: ConfigToml, chosenBy: string, tomlFile: string): ConfigLayer {
  if (!PROFILE_NAME.test(name)) throw new ConfigError(`the profile name "${name}" (${chosenBy}) is not valid: use letters, digits, "_", "-" and "."`);
  const profileFile = path.join(home, `${name}.config.toml`);
  const fromFile = tomlFileLayer(profileFile, ProfileToml);
  const table = raw.profiles?.[name];
  if (fromFile && table) {
    throw new ConfigError(`the profile "${name}" is defined twice: in ${profileFile} and as [profiles.${name}] in ${tomlFile}; keep one`);
  }
  if (fromFile) return { value: withoutProfiles(fromFile.value), describe: fromFile.describe };
  if (table && isTable(table)) return { value: withoutProfiles(table), describe: (keyPath) => `profiles.${name}.${keyPath.join('.')} in ${tomlFile}` };
  throw new ConfigError(`the profile "${name}" (${chosenBy}) is not defined: there is no ${profileFile} and no [profiles.${name}] in ${tomlFile}`);
}

function envLayers(env: Record<string, string | undefined>): ConfigLayer[] {
  return ENV_KEYS.filter(([name]) => env[name] !== undefined).map(([name, keyPath, convert]) => {
    const value = keyPath.reduceRight<unknown>((inner, key) => ({ [key]: inner }), convert(env[name] as string));
    return { value: validateLayer(ConfigToml, value, () => name), describe: () => name };
  });
}
