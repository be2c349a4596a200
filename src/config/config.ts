/**
 * Loading Unroll's configuration: built-in defaults, then `<home>/config.json`, then
 * environment variables, then command-line flags (the caller passes them as overrides).
 * Everything is validated with zod; a bad file or value is a {@link ConfigError} that
 * names where the bad value came from. Nothing else in Unroll reads `process.env`: the
 * result of this module flows in as values.
 */
import { readFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { z } from 'zod';
import { hostIdProblem, hostPin } from '../shared/hosts';
import { DEFAULT_TASK_QUEUE } from '../shared/ids';
import { DEFAULT_SHELL_ENVIRONMENT_POLICY, ShellEnvironmentPolicy } from '../tools/environment';
import { autoCompactLimit, contextWindowFor } from './model-limits';
import {
  ApprovalPolicy,
  DEFAULT_TIMINGS,
  MAX_SHELL_TIMEOUT_MS,
  ReasoningEffort,
  ReasoningSummary,
  SandboxMode,
  type ProviderSettings,
  type SessionSettings,
} from './settings';

/** A configuration problem, with where it came from. */
export class ConfigError extends Error {
  // Typed as string so that subclasses (e.g. EncryptionKeyError) can name themselves.
  override readonly name: string = 'ConfigError';
}

/** Providers known out of the box; config.json may add more or override these. */
export const BUILTIN_PROVIDERS: Record<string, Omit<ProviderSettings, 'name'> & { remoteCompaction?: boolean }> = {
  openai: { baseUrl: 'https://api.openai.com/v1', envKey: 'OPENAI_API_KEY', remoteCompaction: true },
  ollama: { baseUrl: 'http://localhost:11434/v1', envKey: null },
  lmstudio: { baseUrl: 'http://localhost:1234/v1', envKey: null },
};

const ProviderEntry = z.object({ baseUrl: z.string().url(), envKey: z.string().nullable().optional(), remoteCompaction: z.boolean().optional() }).strict();

/** The shape of `<home>/config.json`; every field optional. */
export const ConfigFile = z
  .object({
    model: z.string().min(1),
    provider: z.string().min(1),
    baseUrl: z.string().url(),
    envKey: z.string().min(1),
    reasoningEffort: ReasoningEffort.nullable(),
    reasoningSummary: ReasoningSummary,
    approvalPolicy: ApprovalPolicy,
    sandboxMode: SandboxMode,
    networkAccess: z.boolean(),
    shellTimeoutMs: z.number().int().positive().max(MAX_SHELL_TIMEOUT_MS),
    /** The environment of tool processes, filtered from the worker's (see src/tools/environment.ts). */
    shellEnvironmentPolicy: ShellEnvironmentPolicy,
    contextWindow: z.number().int().positive(),
    autoCompactTokenLimit: z.number().int().positive(),
    compaction: z.enum(['remote', 'local']),
    providers: z.record(z.string(), ProviderEntry),
    temporal: z
      .object({
        address: z.string().min(1),
        namespace: z.string().min(1),
        taskQueue: z.string().min(1),
        cliPath: z.string().min(1),
        autoStartServer: z.boolean(),
      })
      .partial()
      .strict(),
    /** Payload and store encryption (see src/codec): a key file, relative to the Unroll home. */
    encryption: z.object({ keyFile: z.string().min(1) }).strict(),
    /** The transcript store: `file:<dir>` or `postgres://…` (see src/store/store-spec.ts); `UNROLL_STORE` wins. */
    store: z.string(),
    /** How long the resident worker may sit idle before it stops (ms; `UNROLL_WORKER_IDLE_MS` wins). */
    workerIdleTimeoutMs: z.number().int().positive(),
  })
  .partial()
  .strict();
export type ConfigFile = z.infer<typeof ConfigFile>;

/** Values given on the command line; they win over everything else. */
export type ConfigOverrides = Partial<Pick<ConfigFile, 'model' | 'provider' | 'baseUrl' | 'envKey' | 'reasoningEffort' | 'approvalPolicy' | 'sandboxMode' | 'networkAccess'>> & {
  readonly temporalAddress?: string;
  readonly taskQueue?: string;
  /** `--host-id` of `unroll worker`. */
  readonly hostId?: string;
};

/** The resolved configuration of one process. */
export interface UnrollConfig {
  /** Unroll's own directory (`~/.unroll` unless UNROLL_HOME says otherwise). */
  readonly home: string;
  readonly temporal: {
    readonly address: string;
    readonly namespace: string;
    readonly taskQueue: string;
    readonly cliPath: string | undefined;
    readonly autoStartServer: boolean;
    readonly dbFile: string;
    readonly logFile: string;
  };
  /**
   * This process's host id (`--host-id`, `UNROLL_HOST_ID`, else the hostname): its worker
   * polls the host's own task queue, and the threads it starts are pinned to it.
   */
  readonly hostId: string;
  /** Settings for new threads (pinned to {@link hostId}), except the working directory. */
  readonly session: Omit<SessionSettings, 'cwd'>;
  /** Where the encryption keys come from; absent when encryption is off (see src/codec/keys.ts). */
  readonly encryption?: EncryptionSource;
  /** How a worker of this process builds the environment of tool processes. */
  readonly toolEnvironment: ToolEnvironmentConfig;
  /** Which transcript store to open (see src/store/open-store.ts). */
  readonly store: StoreSource;
  /** The resident worker (src/client/resident-worker.ts): how long it may sit idle before it stops. */
  readonly residentWorker: { readonly idleTimeoutMs: number };
}

/** Default idle time after which a resident worker stops: 10 minutes. */
export const DEFAULT_WORKER_IDLE_TIMEOUT_MS = 10 * 60_000;

/**
 * The configured transcript store: `spec` as written (undefined: the default file store
 * under the home; parsed by `openStore`) and `source`, the setting it came from
 * (`UNROLL_STORE` or the config file's `store`), which errors name.
 */
export interface StoreSource {
  readonly spec: string | undefined;
  readonly source: string;
}

/**
 * The inputs of `toolEnvironment` (src/tools/environment.ts) besides the worker's own
 * environment: the configured policy, and the variables that hold secrets Unroll itself
 * uses (every known provider's API key variable, the encryption key variables), which
 * the default excludes drop by name.
 */
export interface ToolEnvironmentConfig {
  readonly policy: ShellEnvironmentPolicy;
  readonly secretNames: readonly string[];
}

/** Unroll's own secret-bearing variables, beyond the providers' API key variables. */
export const UNROLL_SECRET_VARIABLES: readonly string[] = ['OPENAI_API_KEY', 'UNROLL_ENCRYPTION_KEY', 'UNROLL_ENCRYPTION_KEY_FILE'];

/**
 * Where the AES-256-GCM keys come from: the text of `UNROLL_ENCRYPTION_KEY` (one or more
 * key specs), or a key file (`UNROLL_ENCRYPTION_KEY_FILE`, else config.json
 * `encryption.keyFile`). `origin` names the setting, for error messages. The keys
 * themselves are read and checked by `loadKeyRing` (src/codec/keys.ts).
 */
export type EncryptionSource =
  | { readonly kind: 'inline'; readonly text: string; readonly origin: string }
  | { readonly kind: 'file'; readonly path: string; readonly origin: string };

/** Defaults for a new thread's model settings. */
export const DEFAULT_MODEL = 'gpt-5.1-codex';

/**
 * Resolves the configuration. `env` is the process environment (passed in, not read
 * here); `overrides` are command-line flags. Throws {@link ConfigError}.
 */
export function loadConfig(env: Record<string, string | undefined>, overrides: ConfigOverrides = {}): UnrollConfig {
  const home = path.resolve(env.UNROLL_HOME ?? path.join(os.homedir(), '.unroll'));
  const file = readConfigFile(path.join(home, 'config.json'));
  const providers = { ...BUILTIN_PROVIDERS, ...file.providers };
  const providerName = overrides.provider ?? env.UNROLL_PROVIDER ?? file.provider ?? 'openai';
  const known = providers[providerName];
  const baseUrl = overrides.baseUrl ?? env.UNROLL_BASE_URL ?? file.baseUrl ?? known?.baseUrl;
  if (!baseUrl) {
    throw new ConfigError(`unknown provider "${providerName}": known providers are ${Object.keys(providers).join(', ')}; or give --base-url`);
  }
  if (!/^https?:\/\/[^\s/]+/.test(baseUrl) || !URL.canParse(baseUrl)) {
    throw new ConfigError(`the base URL "${baseUrl}" is not an http(s) URL (from --base-url, UNROLL_BASE_URL or config.json)`);
  }
  const envKey = overrides.envKey ?? file.envKey ?? (known ? (known.envKey ?? null) : 'OPENAI_API_KEY');
  const reasoningEffort = overrides.reasoningEffort !== undefined ? overrides.reasoningEffort : file.reasoningEffort !== undefined ? file.reasoningEffort : 'medium';
  const model = overrides.model ?? env.UNROLL_MODEL ?? file.model ?? DEFAULT_MODEL;
  const windowTokens = file.contextWindow ?? contextWindowFor(model);
  // Remote compaction needs the provider's /responses/compact: OpenAI's own API has it.
  const remote = file.compaction ? file.compaction === 'remote' : Boolean(known?.remoteCompaction) && !overrides.baseUrl && !env.UNROLL_BASE_URL && !file.baseUrl;
  const taskQueue = overrides.taskQueue ?? env.UNROLL_TASK_QUEUE ?? file.temporal?.taskQueue ?? DEFAULT_TASK_QUEUE;
  const hostId = resolveHostId(overrides.hostId, env.UNROLL_HOST_ID);
  const pin = hostPin(taskQueue, hostId);
  return {
    home,
    hostId,
    temporal: {
      address: overrides.temporalAddress ?? env.UNROLL_TEMPORAL_ADDRESS ?? file.temporal?.address ?? '127.0.0.1:7233',
      namespace: env.UNROLL_NAMESPACE ?? file.temporal?.namespace ?? 'default',
      taskQueue,
      cliPath: env.UNROLL_TEMPORAL_CLI ?? file.temporal?.cliPath,
      autoStartServer: env.UNROLL_AUTO_START_SERVER !== undefined ? env.UNROLL_AUTO_START_SERVER !== '0' : (file.temporal?.autoStartServer ?? true),
      dbFile: path.join(home, 'temporal.db'),
      logFile: path.join(home, 'temporal-server.log'),
    },
    session: {
      model,
      provider: { name: providerName, baseUrl, envKey },
      reasoningEffort,
      reasoningSummary: file.reasoningSummary ?? 'auto',
      approvalPolicy: overrides.approvalPolicy ?? file.approvalPolicy ?? 'never',
      sandboxMode: overrides.sandboxMode ?? file.sandboxMode ?? 'danger-full-access',
      networkAccess: overrides.networkAccess ?? file.networkAccess ?? false,
      shellTimeoutMs: file.shellTimeoutMs ?? 10_000,
      toolTaskQueue: pin.taskQueue,
      host: pin,
      timings: DEFAULT_TIMINGS,
      context: {
        windowTokens,
        autoCompactTokens: autoCompactLimit(windowTokens, file.autoCompactTokenLimit),
        compaction: remote ? 'remote' : 'local',
        recentUserMessageTokens: 20_000,
        stepsPerRun: null,
      },
    },
    store: storeSource(env, file, home),
    residentWorker: { idleTimeoutMs: workerIdleTimeout(env.UNROLL_WORKER_IDLE_MS, file.workerIdleTimeoutMs) },
    ...encryptionSource(env, file, home),
    toolEnvironment: {
      policy: file.shellEnvironmentPolicy ?? DEFAULT_SHELL_ENVIRONMENT_POLICY,
      secretNames: secretVariableNames([envKey, ...Object.values(providers).map((p) => p.envKey)]),
    },
  };
}

/** The provider key variables plus Unroll's own, once each, in a stable order. */
function secretVariableNames(providerKeys: ReadonlyArray<string | null | undefined>): string[] {
  const names = providerKeys.filter((name): name is string => typeof name === 'string' && name !== '');
  return [...new Set([...UNROLL_SECRET_VARIABLES, ...names])];
}

/** The configured store: `UNROLL_STORE` wins over config.json's `store`. */
function storeSource(env: Record<string, string | undefined>, file: ConfigFile, home: string): StoreSource {
  if (env.UNROLL_STORE !== undefined) return { spec: env.UNROLL_STORE, source: 'UNROLL_STORE' };
  if (file.store !== undefined) return { spec: file.store, source: `store in ${path.join(home, 'config.json')}` };
  return { spec: undefined, source: 'UNROLL_STORE' };
}

function workerIdleTimeout(fromEnv: string | undefined, fromFile: number | undefined): number {
  if (fromEnv === undefined) return fromFile ?? DEFAULT_WORKER_IDLE_TIMEOUT_MS;
  const ms = Number(fromEnv);
  if (!Number.isInteger(ms) || ms <= 0) throw new ConfigError(`UNROLL_WORKER_IDLE_MS must be a positive whole number of milliseconds, not "${fromEnv}"`);
  return ms;
}

/** The host id from `--host-id`, else `UNROLL_HOST_ID`, else the hostname; validated. */
function resolveHostId(flag: string | undefined, env: string | undefined): string {
  const [id, origin] = flag !== undefined ? [flag, '--host-id'] : env !== undefined ? [env, 'UNROLL_HOST_ID'] : [os.hostname(), 'the hostname (set UNROLL_HOST_ID or --host-id)'];
  const problem = hostIdProblem(id);
  if (problem) throw new ConfigError(`${problem} (from ${origin})`);
  return id;
}

/** The configured key source: env vars win over config.json; both env vars at once is an error. */
function encryptionSource(env: Record<string, string | undefined>, file: ConfigFile, home: string): { encryption?: EncryptionSource } {
  const inline = env.UNROLL_ENCRYPTION_KEY;
  const keyFile = env.UNROLL_ENCRYPTION_KEY_FILE;
  if (inline && keyFile) throw new ConfigError('both UNROLL_ENCRYPTION_KEY and UNROLL_ENCRYPTION_KEY_FILE are set: give the keys one way only');
  if (inline) return { encryption: { kind: 'inline', text: inline, origin: 'UNROLL_ENCRYPTION_KEY' } };
  if (keyFile) return { encryption: { kind: 'file', path: path.resolve(keyFile), origin: 'UNROLL_ENCRYPTION_KEY_FILE' } };
  if (file.encryption) return { encryption: { kind: 'file', path: path.resolve(home, file.encryption.keyFile), origin: `encryption.keyFile in ${path.join(home, 'config.json')}` } };
  return {};
}

function readConfigFile(file: string): ConfigFile {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return {};
    throw new ConfigError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = ConfigFile.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new ConfigError(`${file} is invalid: ${issues}`);
  }
  return parsed.data;
}

/**
 * Checks that the API key a thread needs is present, before any workflow starts, so
 * the user gets the error at once and with the variable's name.
 */
export function missingApiKey(provider: ProviderSettings, env: Record<string, string | undefined>): string | null {
  if (!provider.envKey || env[provider.envKey]) return null;
  return `${provider.envKey} is not set: the ${provider.name} provider (${provider.baseUrl}) needs an API key. Export ${provider.envKey}=... or choose another provider with --provider / --base-url.`;
}
