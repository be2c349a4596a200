/**
 * The one contract every tool implements: a tool is one module (a {@link ToolModule})
 * that declares everything about itself, and ./registry.ts lists the modules. Nothing
 * else in Unroll is keyed on tool names: the inference activity asks the module for the
 * call's description (summary, approval facts, whether it may change files), the tool
 * activity for its side-effect class, the client for its `exec --json` item and human
 * line.
 *
 * What the workflow sees of a call is only the small {@link CallFacts} this description
 * produces (carried in ToolCallRef): tool modules import Node and never reach workflow
 * code.
 */
import type { z } from 'zod';
import type { DynamicToolRecord, SessionSettings } from '../config/settings';
import type { ApprovalClass } from '../shared/approval-policy';
import type { AnyExecItemKind, ToolDisplay } from './display';
import type { ToolContext, ToolResult } from './types';

/** What a tool's spec may depend on: the thread's model and configuration. */
export type ToolSpecContext = Pick<SessionSettings, 'model' | 'sandboxMode' | 'approvalPolicy'> & Partial<Pick<SessionSettings, 'webSearch'>> & {
  /** The config's choice of command tool (`[unroll] command_tool`); absent: by model (src/tools/unified-exec/choice.ts). */
  readonly commandTool?: 'exec_command' | 'shell';
};

/** A freeform tool's input grammar, as the Responses API takes it. */
export interface ToolGrammar {
  readonly type: 'grammar';
  readonly syntax: 'lark' | 'regex';
  readonly definition: string;
}

/** One entry of a Responses request's `tools`. */
export type ToolSpec = FunctionToolSpec | { readonly type: 'custom'; readonly name: string; readonly description: string; readonly format: ToolGrammar };

/** A group of function tools the model calls as `{namespace, name}` (Codex 0.171 offers each MCP server's tools so). */
export interface NamespaceToolSpec {
  readonly type: 'namespace';
  readonly name: string;
  readonly description: string;
  readonly tools: readonly FunctionToolSpec[];
}


/** A function tool's entry of `tools`. */
export interface FunctionToolSpec {
  readonly type: 'function';
  readonly name: string;
  readonly description: string;
  readonly parameters: Record<string, unknown>;
  readonly strict: false;
}

/** A hosted tool's entry (the provider runs it; see {@link HostedToolModule}). */
export type HostedToolSpec = { readonly type: 'web_search'; readonly external_web_access: boolean; readonly search_content_types?: readonly string[] };

/**
 * An entry of a thread's recorded `tools`: a registered tool Unroll runs, a hosted one, or
 * a namespace of tools found at thread start (an MCP server's).
 */
export type ThreadToolSpec = ToolSpec | HostedToolSpec | NamespaceToolSpec;

/** An entry of a request's `tools` (the thread's recorded ones). */
export type RequestToolSpec = ThreadToolSpec;

/**
 * Whether a retry of the tool activity after a crash may run the call again:
 * - `none`: no effect outside the transcript; a retry runs it again.
 * - `idempotent`: changes the world, but a retry recognises or finishes what an earlier
 *   attempt did (apply_patch's journal); a retry runs it again.
 * - `at-most-once`: never run twice; a retry that finds it started reports it to the
 *   model as interrupted (shell).
 */
export type SideEffects = 'none' | 'idempotent' | 'at-most-once';

/** Per-thread options that shape how calls run. */
export interface ToolRunOptions {
  /** Timeout for shell commands that give no `timeout_ms`. */
  readonly shellTimeoutMs: number;
  /** The thread's model, for outputs that depend on it (view_image's detail); absent in older calls. */
  readonly model?: string;
  /**
   * The thread's sandbox mode when the call is described: a command confined to a
   * read-only sandbox cannot change the workspace, so its step needs no checkpoint.
   */
  readonly sandboxMode?: SessionSettings['sandboxMode'];
}

/** What a tool says about one call (with valid arguments) before it runs. */
export interface CallDeclaration {
  /** One line for the Temporal UI and displays (clipped to 200 characters). */
  readonly summary: string;
  /** How long the call may legitimately run (default one minute), for the activity's timeout. */
  readonly timeoutMs?: number;
  /** How the approval policy treats the call (see src/shared/approval-policy.ts). */
  readonly approval: ApprovalClass;
  /** The command's argv, for command-like tools (their approval depends on it). */
  readonly argv?: string[];
  /** True when `argv` is on the known read-only list. */
  readonly knownSafe?: boolean;
  /** True when the model asks to run the call outside the sandbox. */
  readonly escalate?: boolean;
  readonly justification?: string;
  /** True for a patch: asked for under `untrusted` and approved for the session by tool name. */
  readonly mutatesFiles?: boolean;
  /** Whether the call may change files in the workspace (a checkpoint follows its step). */
  readonly changesFiles: boolean;
}

/** A tool; `A` is the type of its parsed arguments. */
export interface ToolModule<A = unknown> {
  /** The name the model calls it by. */
  readonly name: string;
  /**
   * The spec offered to the model for a thread with these settings. A freeform (custom)
   * spec gets the call's raw input as `{ input }`; the output item type follows the
   * call's (`function_call_output` or `custom_tool_call_output`).
   */
  spec(context: ToolSpecContext): ToolSpec;
  /** Whether a new thread with these settings is offered the tool (default: always). */
  offered?(context: ToolSpecContext): boolean;
  /** Its arguments: the JSON Schema of a function spec and the parse of every call. */
  readonly parameters: z.ZodType<A>;
  /** True when the tool neither changes the workspace nor depends on other calls. */
  readonly parallelSafe: boolean;
  readonly sideEffects: SideEffects;
  /** The call's summary and facts; pure, never throws. */
  describe(args: A, options: ToolRunOptions): CallDeclaration;
  /** Runs the call; see ./types.ts for the two kinds of failure. */
  run(args: A, ctx: ToolContext, options?: ToolRunOptions): Promise<ToolResult>;
  /** Its `exec --json` items and their human lines. */
  readonly display: ToolDisplay;
}

/** Declares a tool module (an identity function that checks the declaration's type). */
export function defineTool<A>(tool: ToolModule<A>): ToolModule<A> {
  return tool;
}

/**
 * A hosted tool (`web_search`): the provider runs it while it answers, so it has no local
 * `run`, no arguments and no approval: the model never calls it through the tool
 * activity, and a function call of its name is an unknown tool's. What it declares is
 * whether a thread is offered it, its spec, and how the items the provider returns for
 * it are shown (their `exec --json` item and human line; see ./web-search.ts).
 */
export interface HostedToolModule {
  /** The name it is recorded under in the thread's tool list. */
  readonly name: string;
  readonly hosted: true;
  /** Whether a new thread with these settings is offered the tool. */
  offered(context: ToolSpecContext): boolean;
  spec(context: ToolSpecContext): HostedToolSpec;
  /** How its items are shown to a person (the kinds of the items it produces). */
  readonly kinds: readonly AnyExecItemKind[];
}

export type { DynamicToolRecord } from '../config/settings';

/**
 * A kind of tool found at thread start rather than registered (the tools of MCP servers):
 * it builds the module of one tool from the record the thread keeps of it
 * (`SessionSettings.tools.dynamic`), and shows its calls. The registry lists the kinds.
 */
export interface DynamicToolKind {
  readonly source: DynamicToolRecord['source'];
  /** Whether a tool name is of this kind, for displays that see only the name. */
  matches(name: string): boolean;
  readonly display: ToolDisplay;
  module(name: string, record: DynamicToolRecord): ToolModule<unknown>;
}
