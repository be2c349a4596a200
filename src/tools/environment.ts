/**
 * The environment tool processes get. A worker's environment holds the provider's API
 * key and often other credentials; a command the model runs (`echo $OPENAI_API_KEY`,
 * `env`) would otherwise copy them into its output, and from there into the next model
 * request and the transcript store. So tools never inherit the worker's environment as
 * it is: it is filtered by a {@link ShellEnvironmentPolicy}, the way Codex filters it
 * (`shell_environment_policy`), in this order:
 *
 * 1. `inherit`: start from every variable (`all`), only the {@link CORE_VARIABLES}
 *    (`core`), or nothing (`none`).
 * 2. Unless `ignoreDefaultExcludes`, drop every variable whose name matches `*KEY*`,
 *    `*SECRET*` or `*TOKEN*` (case-insensitive), and every variable named as a secret by
 *    the caller (the providers' API key variables, Unroll's encryption key variables).
 * 3. Drop the names matching any `exclude` pattern.
 * 4. Add the `set` variables (they win over inherited ones).
 * 5. With a non-empty `includeOnly`, keep only the names matching one of its patterns.
 *
 * Patterns are globs over the whole name: `*` matches any run of characters, `?` one
 * character, and matching ignores case. Pure: the base environment comes in as a value.
 */
import { z } from 'zod';

/** What `inherit: core` keeps: enough for a shell, the user's identity, temp dirs and locale. */
export const CORE_VARIABLES: readonly string[] = [
  'HOME', 'LOGNAME', 'PATH', 'SHELL', 'USER', 'USERNAME', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'LC_ALL', 'LC_CTYPE',
];

/** Names dropped unless `ignoreDefaultExcludes`: the usual spellings of credentials. */
export const DEFAULT_EXCLUDES: readonly string[] = ['*KEY*', '*SECRET*', '*TOKEN*'];

const EnvPattern = z
  .string()
  .min(1)
  .regex(/^[^=\0]+$/, 'a pattern cannot contain "=" or a NUL character');
const EnvName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'not a valid environment variable name');

/**
 * How a worker builds the environment of the processes tools start (config.json
 * `shellEnvironmentPolicy`); see the module comment for the order the steps apply in.
 * Every field is optional; the defaults inherit everything except the default excludes.
 */
export const ShellEnvironmentPolicy = z
  .object({
    inherit: z.enum(['all', 'core', 'none']).default('all'),
    ignoreDefaultExcludes: z.boolean().default(false),
    exclude: z.array(EnvPattern).default([]),
    includeOnly: z.array(EnvPattern).default([]),
    set: z.record(EnvName, z.string().regex(/^[^\0]*$/, 'a value cannot contain a NUL character')).default({}),
  })
  .strict();
/** A parsed {@link ShellEnvironmentPolicy}: every field present. */
export type ShellEnvironmentPolicy = z.infer<typeof ShellEnvironmentPolicy>;

/** The policy with every default: inherit all, drop the default excludes. */
export const DEFAULT_SHELL_ENVIRONMENT_POLICY: ShellEnvironmentPolicy = ShellEnvironmentPolicy.parse({});

/**
 * The environment for tool processes: `base` (the worker's own environment) filtered by
 * `policy`. `secretNames` are variables to drop by name with the default excludes (the
 * API key variables of every provider the worker knows, its encryption key variables),
 * for names that do not happen to contain KEY, SECRET or TOKEN. Variables without a value
 * are skipped. Pure; never throws.
 */
export function toolEnvironment(
  base: Readonly<Record<string, string | undefined>>,
  policy: ShellEnvironmentPolicy,
  secretNames: readonly string[] = [],
): Record<string, string> {
  const core = new Set(CORE_VARIABLES);
  const inherited = Object.entries(base).filter((entry): entry is [string, string] => {
    const [name, value] = entry;
    if (value === undefined) return false;
    return policy.inherit === 'all' || (policy.inherit === 'core' && core.has(name));
  });
  const secrets = new Set(secretNames);
  const defaultExcludes = globs(DEFAULT_EXCLUDES);
  const excludes = globs(policy.exclude);
  const kept = inherited.filter(([name]) => {
    if (!policy.ignoreDefaultExcludes && (secrets.has(name) || defaultExcludes.some((p) => p.test(name)))) return false;
    return !excludes.some((p) => p.test(name));
  });
  const env: Record<string, string> = Object.fromEntries(kept);
  Object.assign(env, policy.set);
  if (policy.includeOnly.length === 0) return env;
  const includes = globs(policy.includeOnly);
  return Object.fromEntries(Object.entries(env).filter(([name]) => includes.some((p) => p.test(name))));
}

/** Case-insensitive whole-name matchers for glob patterns (`*`, `?`). */
function globs(patterns: readonly string[]): RegExp[] {
  return patterns.map((pattern) => {
    const body = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    return new RegExp(`^${body}$`, 'is');
  });
}
