/**
 * The registry of tools: one registration line per tool module (see ./contract.ts for
 * what a module declares, and README "Adding a tool"). Dispatch turns every model mistake
 * (unknown tool, arguments that are not JSON or do not match the schema, arguments over
 * {@link MAX_TOOL_ARGUMENT_BYTES}) into a failed {@link ToolResult} for the model, never
 * an exception.
 */
import type { ToolCallItem } from '../items/schemas';
import type { CallFacts } from '../shared/approval-policy';
import { sha256Hex } from '../store/canonical-json';
import { applyPatchFunctionSpec, applyPatchTool } from './apply-patch';
import type { DynamicToolKind, DynamicToolRecord, HostedToolModule, ThreadToolSpec, ToolModule, ToolRunOptions, ToolSpec, ToolSpecContext } from './contract';
import type { ToolDisplay } from './display';
import { mcpToolKind } from './mcp-tool';
import { shellTool } from './shell';
import type { ToolContext, ToolResult } from './types';
import { execCommandTool, writeStdinTool } from './unified-exec';
import { updatePlanTool } from './update-plan';
import { viewImageTool } from './view-image';
import { webSearchTool } from './web-search';

export type { ToolRunOptions } from './contract';

/** Every tool, in the order a new thread is offered them. Adding a tool: one line here. */
export const TOOLS: readonly ToolModule<never>[] = [
  execCommandTool,
  writeStdinTool,
  shellTool,
  applyPatchTool,
  updatePlanTool,
  viewImageTool,
] as unknown as ToolModule<never>[];

const BY_NAME = new Map(TOOLS.map((t) => [t.name, t as unknown as ToolModule<unknown>]));

/** Hosted tools (the provider runs them), offered after the local ones. Never dispatched: a call of one is an unknown tool's. */
export const HOSTED_TOOLS: readonly HostedToolModule[] = [webSearchTool];

const HOSTED_BY_NAME = new Map(HOSTED_TOOLS.map((t) => [t.name, t]));

/**
 * The name a call is dispatched by: its `name`, or `<namespace>__<name>` for a call of a
 * namespaced tool (Codex's MCP tools: `{namespace: "mcp__fix", name: "echo"}` is
 * `mcp__fix__echo`, the name the thread's tool list records).
 */
export function callToolName(call: ToolCallItem): string {
  const namespace = (call as { namespace?: unknown }).namespace;
  return typeof namespace === 'string' && namespace !== '' ? `${namespace}__${call.name}` : call.name;
}

/** The kinds of tools a thread finds at its start (MCP servers'), recorded in `SessionSettings.tools.dynamic`. */
export const DYNAMIC_TOOL_KINDS: readonly DynamicToolKind[] = [mcpToolKind];

/** Records of a thread's dynamic tools, by model-facing name. */
export type DynamicTools = Readonly<Record<string, DynamicToolRecord>>;

/** How calls of the tool called `name` are shown: its module's display, or its dynamic kind's. */
export function toolDisplayFor(name: string): ToolDisplay | undefined {
  return BY_NAME.get(name)?.display ?? DYNAMIC_TOOL_KINDS.find((kind) => kind.matches(name))?.display;
}

/** The tool module called `name`, if there is one. */
export function toolByName(name: string): ToolModule<unknown> | undefined {
  return BY_NAME.get(name);
}

/** The tools of threads started before the tool list was recorded. */
export const LEGACY_TOOL_NAMES: readonly string[] = ['shell', 'apply_patch', 'update_plan'];

/**
 * The `tools` array those threads were (and still are) sent, byte for byte: apply_patch
 * in its JSON form whatever the model, so their prompt cache holds.
 */
export function legacyToolSpecs(context: ToolSpecContext): ToolSpec[] {
  return [shellTool.spec(context), applyPatchFunctionSpec(), updatePlanTool.spec(context)];
}

/** The names of the tools a new thread with these settings is offered, in order. */
export function offeredToolNames(context: ToolSpecContext): string[] {
  const local = TOOLS.filter((tool) => tool.offered?.(context) ?? true).map((tool) => tool.name);
  return [...local, ...HOSTED_TOOLS.filter((tool) => tool.offered(context)).map((tool) => tool.name)];
}

/** The specs of the named tools for these settings (unknown names are skipped). */
export function toolSpecsFor(names: readonly string[], context: ToolSpecContext): ThreadToolSpec[] {
  return names.flatMap((name): ThreadToolSpec[] => {
    const tool = BY_NAME.get(name) ?? HOSTED_BY_NAME.get(name);
    return tool ? [tool.spec(context)] : [];
  });
}

/**
 * The most a tool call's arguments may hold: 1 MiB (UTF-8 bytes of the `arguments` JSON
 * or of a custom call's `input`). A larger call is answered with an error output and not
 * run: no tool needs that much in one call, and the call's facts travel through Temporal
 * history, whose payloads are limited to 2 MB.
 */
export const MAX_TOOL_ARGUMENT_BYTES = 1024 * 1024;

/** How much of a shell command's argv the call's facts carry before it is summarised by a hash. */
const MAX_FACTS_ARGV_CHARS = 4096;
const MAX_JUSTIFICATION_CHARS = 1000;
const MAX_TOOL_NAME_CHARS = 256;
const DEFAULT_TIMEOUT_MS = 60_000;

/** What the workflow needs to know about a call before running it. */
export interface CallDescription {
  readonly name: string;
  /** What the approval policy and the checkpoint decision need to know about the call. */
  readonly facts: CallFacts;
  readonly parallelSafe: boolean;
  /** One line for display and activity summaries, at most 200 characters. */
  readonly summary: string;
  /** How long the call may legitimately run, for the activity's timeout. */
  readonly timeoutMs: number;
}

/**
 * Describes a call from its item without running it; tolerant of bad arguments. What it
 * returns goes into Temporal history, so it stays small whatever the call holds: a call
 * over {@link MAX_TOOL_ARGUMENT_BYTES} is not even parsed, a long argv is replaced in the
 * facts by its start and a hash (which still tells commands apart for "approve for this
 * session"), a long tool name likewise, and the justification is clipped.
 *
 * A call of a tool the thread was not offered (`offered`, default every tool) or of no
 * tool at all is not known to be safe: it asks under `untrusted` and `on-request`, and
 * counts as changing files. A call whose arguments do not parse is not run at all
 * (dispatch answers it with the parse error), so it asks nothing and changes nothing.
 */
export function describeCall(call: ToolCallItem, options: ToolRunOptions, offered?: readonly string[], dynamic?: DynamicTools): CallDescription {
  const called = callToolName(call);
  const tool = offeredTool(called, offered, dynamic);
  const bytes = argumentBytes(call);
  const oversized = bytes > MAX_TOOL_ARGUMENT_BYTES;
  const name = boundedName(called);
  const base = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false };
  if (!tool) {
    return { name, parallelSafe: false, summary: clip(called, 200), timeoutMs: DEFAULT_TIMEOUT_MS, facts: { ...base, approval: 'ask', changesFiles: true } };
  }
  const parsed = oversized ? undefined : parseArguments(tool, call);
  if (!parsed?.ok) {
    const summary = oversized ? `${called}: arguments over the ${formatBytes(MAX_TOOL_ARGUMENT_BYTES)} limit (${formatBytes(bytes)})` : called;
    return { name, parallelSafe: tool.parallelSafe, summary: clip(summary, 200), timeoutMs: DEFAULT_TIMEOUT_MS, facts: { ...base, approval: 'safe', changesFiles: false } };
  }
  const declared = tool.describe(parsed.args, options);
  const facts: CallFacts = {
    argv: declared.argv ? boundedArgv(declared.argv) : null,
    knownSafe: declared.knownSafe ?? false,
    escalate: declared.escalate ?? false,
    justification: declared.justification !== undefined ? clip(declared.justification, MAX_JUSTIFICATION_CHARS) : null,
    mutatesFiles: declared.mutatesFiles ?? false,
    approval: declared.approval,
    changesFiles: declared.changesFiles,
  };
  return { name, parallelSafe: tool.parallelSafe, summary: clip(declared.summary, 200), timeoutMs: declared.timeoutMs ?? DEFAULT_TIMEOUT_MS, facts };
}

/**
 * Runs one call. Unknown tools (or tools the thread was not offered) and invalid
 * arguments produce a failed result that tells the model what went wrong; only
 * infrastructure errors thrown by a tool propagate.
 */
export async function executeToolCall(call: ToolCallItem, ctx: ToolContext, options: ToolRunOptions, offered?: readonly string[], dynamic?: DynamicTools): Promise<ToolResult> {
  const called = callToolName(call);
  const tool = offeredTool(called, offered, dynamic);
  if (!tool) {
    const available = (offered ?? [...BY_NAME.keys()]).filter((n) => !HOSTED_BY_NAME.has(n));
    return failure(`unknown tool "${called}". Available tools: ${available.join(', ')}`);
  }
  const bytes = argumentBytes(call);
  if (bytes > MAX_TOOL_ARGUMENT_BYTES) {
    return failure(
      `arguments of ${formatBytes(bytes)} exceed the ${formatBytes(MAX_TOOL_ARGUMENT_BYTES)} limit for one ${tool.name} call ` +
        `(${bytes} > ${MAX_TOOL_ARGUMENT_BYTES} bytes); the call was not run. Split the work into smaller calls: ` +
        'write a large file in several parts, or generate it with a command.',
    );
  }
  const parsed = parseArguments(tool, call);
  if (!parsed.ok) return failure(parsed.error);
  return tool.run(parsed.args, ctx, options);
}

/**
 * The module of a tool the thread was offered: a registered one, or one the thread found
 * at its start (`dynamic`, built by its kind from the record).
 */
export function offeredTool(name: string, offered: readonly string[] | undefined, dynamic?: DynamicTools): ToolModule<unknown> | undefined {
  if (offered && !offered.includes(name)) return undefined;
  const registered = BY_NAME.get(name);
  if (registered) return registered;
  const record = dynamic && Object.hasOwn(dynamic, name) ? dynamic[name] : undefined;
  return record ? DYNAMIC_TOOL_KINDS.find((kind) => kind.source === record.source)?.module(name, record) : undefined;
}

/** Size of what the model sent as the call's arguments, in UTF-8 bytes. Linear; never throws. */
function argumentBytes(call: ToolCallItem): number {
  return Buffer.byteLength(call.type === 'custom_tool_call' ? call.input : call.arguments, 'utf8');
}

/** `1 MiB`, `21.3 MiB`, `512 KiB`: sizes as the limit message shows them. */
function formatBytes(bytes: number): string {
  const units: Array<[number, string]> = [[1024 * 1024, 'MiB'], [1024, 'KiB']];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

/** A tool name as the model sent it when it is of a sane length (no tool's is longer); else its start and hash. */
function boundedName(name: string): string {
  if (name.length <= MAX_TOOL_NAME_CHARS) return name;
  return `${name.slice(0, 64)}… (${name.length} characters, sha256 ${sha256Hex(name)})`;
}

/** The argv itself when small; otherwise its program, its size and its hash. */
function boundedArgv(argv: string[]): string[] {
  const json = JSON.stringify(argv);
  if (json.length <= MAX_FACTS_ARGV_CHARS) return argv;
  return [clip(argv[0] ?? '', 200), `(${argv.length} arguments, ${json.length} characters in all, sha256 ${sha256Hex(json)})`];
}

type Parsed = { ok: true; args: unknown } | { ok: false; error: string };

function parseArguments(tool: ToolModule<unknown>, call: ToolCallItem): Parsed {
  let raw: unknown;
  if (call.type === 'custom_tool_call') {
    raw = { input: call.input };
  } else {
    try {
      raw = call.arguments.trim() === '' ? {} : JSON.parse(call.arguments);
    } catch (err) {
      return { ok: false, error: `failed to parse arguments of ${tool.name} as JSON: ${(err as Error).message}` };
    }
  }
  const result = tool.parameters.safeParse(raw);
  if (!result.success) {
    const issues = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    return { ok: false, error: `invalid arguments for ${tool.name}: ${issues}` };
  }
  return { ok: true, args: result.data };
}

function failure(message: string): ToolResult {
  return { output: message, success: false, metadata: { error: message } };
}

function clip(text: string, max: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}
