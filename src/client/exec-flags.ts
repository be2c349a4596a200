/**
 * The flags of the commands that run turns (`exec`, `exec resume`, `exec fork`,
 * `resume`), declared once. `exec` takes Codex 0.171's `codex exec` flags with Codex's
 * meaning (`-m`, `-s/--sandbox`, `--dangerously-bypass-approvals-and-sandbox`, `-C/--cd`,
 * `--add-dir`, `--skip-git-repo-check`, `-o/--output-last-message`, `--output-schema`,
 * `-i/--image`, `--oss`, `--local-provider`, `--ephemeral`, `--ignore-user-config`,
 * `--color`, `--json`); Unroll's own flags (`--provider`, `--base-url`, `-a`, …) are
 * additions a Codex script never meets.
 */
import * as path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import type { ConfigOverrides } from '../config/config';
import { ApprovalPolicy, ReasoningEffort, SandboxMode } from '../config/settings';

/** Flags every turn-running command shares. */
export interface ModelFlags {
  model?: string;
  provider?: string;
  baseUrl?: string;
  apiKeyEnv?: string;
  reasoningEffort?: ReasoningEffort | 'default';
  temporalAddress?: string;
  json?: boolean;
  sandbox?: SandboxMode;
  network?: boolean;
  askForApproval?: ApprovalPolicy;
  failoverAfter?: string;
  worker?: boolean;
  /** `--in-process-worker`. */
  inProcessWorker?: boolean;
}

/** `--color` as Codex spells it. */
export type ColorChoice = 'always' | 'never' | 'auto';

/** The flags of `exec` and its `resume`/`fork` subcommands. */
export interface ExecFlags extends ModelFlags {
  cd?: string;
  image?: string[];
  dangerouslyBypassApprovalsAndSandbox?: boolean;
  addDir?: string[];
  skipGitRepoCheck?: boolean;
  outputLastMessage?: string;
  outputSchema?: string;
  oss?: boolean;
  localProvider?: string;
  ephemeral?: boolean;
  ignoreUserConfig?: boolean;
  color?: ColorChoice;
  /** `exec resume --last` and `--all`. */
  last?: boolean;
  all?: boolean;
  /** The root's `-v/--verbose`. */
  verbose?: boolean;
}

function parseEffort(value: string): ReasoningEffort | 'default' {
  if (value === 'default') return value;
  const parsed = ReasoningEffort.safeParse(value);
  if (!parsed.success) throw new InvalidArgumentError(`expected one of ${ReasoningEffort.options.join(', ')}`);
  return parsed.data;
}

/** `--reasoning-effort`, shared with `fork`. */
export function reasoningEffortOption(description: string): Option {
  return new Option('--reasoning-effort <effort>', description).argParser(parseEffort);
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** Declares the model and runtime flags every turn-running command takes. */
export function withModelFlags(cmd: Command): Command {
  return cmd
    .option('-m, --model <model>', 'model name (default: config or gpt-5.1-codex)')
    .option('--provider <name>', 'model provider: openai, ollama, lmstudio or one of [model_providers] in config.toml')
    .option('--base-url <url>', 'base URL of a Responses-compatible API (e.g. http://localhost:11434/v1)')
    .option('--api-key-env <VAR>', 'environment variable that holds the API key (default: the provider\'s, OPENAI_API_KEY for openai)')
    .addOption(reasoningEffortOption('reasoning effort (none|minimal|low|medium|high|xhigh; "none" sends no reasoning settings)'))
    .option('--temporal-address <host:port>', 'Temporal frontend (default 127.0.0.1:7233, or UNROLL_TEMPORAL_ADDRESS)')
    .addOption(new Option('-s, --sandbox <mode>', 'sandbox for model-generated commands (needs bubblewrap on Linux; default: config, else read-only)').choices(SandboxMode.options))
    .option('--network', 'let sandboxed tool processes use the network')
    .addOption(new Option('-a, --ask-for-approval <policy>', 'when to ask before running a tool call (default: config, else never)').choices(ApprovalPolicy.options))
    .option('--failover-after <seconds>', 'move a new thread to a live host when its host has had no worker this long (0: never; default: UNROLL_FAILOVER_AFTER, config or 120)')
    .option('--json', 'print events to stdout as JSONL (as codex exec --json)')
    .option('--no-worker', 'use no worker of this home: one started elsewhere (`unroll worker`) serves the task queue')
    .option('--in-process-worker', 'run the worker in this process (it ends with the command) instead of the resident one');
}

/**
 * Declares Codex's `exec` flags on `cmd` (`exec` itself, or with `subcommand` its
 * `resume`/`fork`, which take the subset Codex gives them).
 */
export function withExecFlags(cmd: Command, subcommand?: 'resume' | 'fork'): Command {
  withModelFlags(cmd)
    .option('-i, --image <FILE...>', 'image(s) to attach to the prompt (repeatable, or comma-separated; as in Codex, it takes every following word: put the prompt before it or after --)')
    .option('--dangerously-bypass-approvals-and-sandbox', 'skip all confirmation prompts and run commands without a sandbox (danger-full-access, approval never). EXTREMELY DANGEROUS: only for environments that are sandboxed otherwise')
    .option('--skip-git-repo-check', 'allow running outside a git repository')
    .option('--ephemeral', 'end the thread with this turn: it cannot be resumed, and no workspace checkpoints are written (its record stays for show/replay)')
    .option('--ignore-user-config', 'do not load <UNROLL_HOME>/config.toml')
    .option('--output-schema <FILE>', 'JSON Schema file the final answer must match (sent as the strict json_schema text format)')
    .option('-o, --output-last-message <FILE>', 'write the last agent message to FILE');
  if (subcommand === 'resume') {
    cmd.option('--last', 'resume the most recent thread of this directory (with --all: of any directory)').option('--all', 'with --last: look in every directory');
  }
  if (subcommand === undefined) {
    cmd
      .option('-C, --cd <DIR>', 'the workspace: the directory the agent works in (default: the current directory)')
      .option('--add-dir <DIR>', 'another directory writable alongside the workspace (repeatable)', collect)
      .option('--oss', 'use a local open-source provider (--local-provider, else oss_provider in config.toml)')
      .addOption(new Option('--local-provider <PROVIDER>', 'with --oss: the local provider').choices(['lmstudio', 'ollama']))
      .addOption(new Option('--color <COLOR>', 'colour in the output').choices(['always', 'never', 'auto']).default('auto'));
  }
  return cmd;
}

/** The configuration values the model flags set (flags win over every other layer). */
export function overridesFrom(flags: ModelFlags): ConfigOverrides {
  return {
    ...(flags.model ? { model: flags.model } : {}),
    ...(flags.provider ? { provider: flags.provider } : {}),
    ...(flags.baseUrl ? { baseUrl: flags.baseUrl } : {}),
    ...(flags.apiKeyEnv ? { envKey: flags.apiKeyEnv } : {}),
    ...(flags.reasoningEffort && flags.reasoningEffort !== 'default' ? { reasoningEffort: flags.reasoningEffort === 'none' ? null : flags.reasoningEffort } : {}),
    ...(flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}),
    ...(flags.sandbox ? { sandboxMode: flags.sandbox } : {}),
    ...(flags.network ? { networkAccess: true } : {}),
    ...(flags.askForApproval ? { approvalPolicy: flags.askForApproval } : {}),
    ...(flags.failoverAfter !== undefined ? { failoverAfter: flags.failoverAfter } : {}),
  };
}

/** A flag combination that makes no sense (exit 2). */
export class ExecFlagsError extends Error {
  override readonly name = 'ExecFlagsError';
}

/**
 * The overrides of `exec`: the model flags, then Codex's: the bypass (danger-full-access
 * and approval never, refused together with an explicit `-s` or `-a`), `--add-dir` (as
 * absolute writable roots), `--oss`/`--local-provider`, `--ignore-user-config`.
 */
export function execOverrides(flags: ExecFlags, cwd: string): ConfigOverrides {
  if (flags.dangerouslyBypassApprovalsAndSandbox && (flags.sandbox || flags.askForApproval)) {
    throw new ExecFlagsError(`--dangerously-bypass-approvals-and-sandbox cannot be used with ${flags.sandbox ? '--sandbox' : '--ask-for-approval'}: it already means no sandbox and no approvals`);
  }
  if (flags.oss && flags.provider) throw new ExecFlagsError('--oss cannot be used with --provider: choose the local provider with --local-provider');
  return {
    ...overridesFrom(flags),
    ...(flags.dangerouslyBypassApprovalsAndSandbox ? { sandboxMode: 'danger-full-access' as const, approvalPolicy: 'never' as const } : {}),
    ...(flags.addDir && flags.addDir.length > 0 ? { addDirs: flags.addDir.map((dir) => path.resolve(cwd, dir)) } : {}),
    ...(flags.oss ? { oss: true } : {}),
    ...(flags.localProvider !== undefined ? { localProvider: flags.localProvider } : {}),
    ...(flags.ignoreUserConfig ? { ignoreUserConfig: true } : {}),
  };
}
