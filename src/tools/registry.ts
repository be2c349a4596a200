/**
 * The tools the model can call, behind one interface: each handler has a name, a
 * model-facing description, a zod schema for its arguments (converted to JSON Schema for
 * the request and used again to parse the call), whether it may run in parallel with
 * other calls, and `run`. Dispatch turns every model mistake (unknown tool, arguments
 * that are not JSON or do not match the schema, arguments over
 * {@link MAX_TOOL_ARGUMENT_BYTES}) into a failed {@link ToolResult} for the model, never
 * an exception.
 */
import { z } from 'zod';
import type { ToolCallItem } from '../items/schemas';
import type { CallFacts } from '../shared/approval-policy';
import { sha256Hex } from '../store/canonical-json';
import { isKnownSafeCommand } from './safe-commands';
import { applyPatchTool } from './apply-patch';
import { clampShellTimeout, displayCommand, shellTool } from './shell';
import type { ToolContext, ToolResult } from './types';
import { updatePlanTool } from './update-plan';

/** A tool handler; `A` is the type of its parsed arguments. */
export interface ToolHandler<A = unknown> {
  readonly name: string;
  readonly description: string;
  readonly parameters: z.ZodType<A>;
  /** True when the tool neither changes the workspace nor depends on other calls. */
  readonly parallelSafe: boolean;
  run(args: A, ctx: ToolContext): Promise<ToolResult>;
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

/** Per-thread options that shape how calls run. */
export interface ToolRunOptions {
  /** Timeout for shell commands that give no `timeout_ms`. */
  readonly shellTimeoutMs: number;
}

const TOOLS: readonly ToolHandler<never>[] = [shellTool, applyPatchTool, updatePlanTool] as unknown as ToolHandler<never>[];
const BY_NAME = new Map(TOOLS.map((t) => [t.name, t as ToolHandler<unknown>]));

/** The `tools` array of a Responses request. Deterministic, so the prompt cache holds. */
export function toolSpecs(): Array<{ type: 'function'; name: string; description: string; parameters: Record<string, unknown>; strict: false }> {
  return TOOLS.map((tool) => ({
    type: 'function' as const,
    name: tool.name,
    description: tool.description,
    parameters: jsonSchemaOf(tool.parameters),
    strict: false as const,
  }));
}

function jsonSchemaOf(schema: z.ZodType): Record<string, unknown> {
  const json = z.toJSONSchema(schema, { unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** What the workflow needs to know about a call before running it. */
export interface CallDescription {
  readonly name: string;
  /** What the approval policy needs to decide on the call. */
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
 */
export function describeCall(call: ToolCallItem, options: ToolRunOptions): CallDescription {
  const tool = BY_NAME.get(call.name);
  const oversized = argumentBytes(call) > MAX_TOOL_ARGUMENT_BYTES;
  const parsed = tool && !oversized ? parseArguments(tool, call) : undefined;
  const args = parsed?.ok ? (parsed.args as Record<string, unknown>) : undefined;
  let summary = oversized ? `${call.name}: arguments over the ${formatBytes(MAX_TOOL_ARGUMENT_BYTES)} limit (${formatBytes(argumentBytes(call))})` : call.name;
  let timeoutMs = 60_000;
  let facts: CallFacts = { argv: null, knownSafe: false, escalate: false, justification: null, mutatesFiles: false };
  if (call.name === 'shell' && args) {
    const command = args.command as string[] | string;
    const argv = Array.isArray(command) ? command : ['bash', '-c', command];
    summary = `shell: ${displayCommand(command)}`;
    timeoutMs = clampShellTimeout((args.timeout_ms as number | undefined) ?? options.shellTimeoutMs);
    facts = {
      argv: boundedArgv(argv),
      knownSafe: isKnownSafeCommand(argv),
      escalate: args.with_escalated_permissions === true,
      justification: typeof args.justification === 'string' ? clip(args.justification, MAX_JUSTIFICATION_CHARS) : null,
      mutatesFiles: false,
    };
  } else if (call.name === 'apply_patch' && args) {
    const files = String(args.input).match(/^\*\*\* (Add|Update|Delete) File: .*$/gm) ?? [];
    summary = `apply_patch: ${files.map((l) => l.replace(/^\*\*\* (\w)\w+ File: /, '$1 ')).join(', ')}`;
    facts = { ...facts, mutatesFiles: true };
  }
  return { name: boundedName(call.name), parallelSafe: tool?.parallelSafe ?? false, summary: clip(summary, 200), timeoutMs, facts };
}

/**
 * Runs one call. Unknown tools and invalid arguments produce a failed result that tells
 * the model what went wrong; only infrastructure errors thrown by a handler propagate.
 */
export async function executeToolCall(call: ToolCallItem, ctx: ToolContext, options: ToolRunOptions): Promise<ToolResult> {
  const tool = BY_NAME.get(call.name);
  if (!tool) {
    return failure(`unknown tool "${call.name}". Available tools: ${[...BY_NAME.keys()].join(', ')}`);
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
  let args = parsed.args;
  if (tool.name === 'shell' && (args as { timeout_ms?: number }).timeout_ms === undefined) {
    args = { ...(args as object), timeout_ms: options.shellTimeoutMs };
  }
  return tool.run(args, ctx);
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

function parseArguments(tool: ToolHandler<unknown>, call: ToolCallItem): Parsed {
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
