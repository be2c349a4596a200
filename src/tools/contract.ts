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
import type { SessionSettings } from '../config/settings';
import type { ApprovalClass } from '../shared/approval-policy';
import type { ToolDisplay } from './display';
import type { ToolContext, ToolResult } from './types';

/** What a tool's spec may depend on: the thread's model and configuration. */
export type ToolSpecContext = Pick<SessionSettings, 'model' | 'sandboxMode' | 'approvalPolicy'> & {
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
export type ToolSpec =
  | { readonly type: 'function'; readonly name: string; readonly description: string; readonly parameters: Record<string, unknown>; readonly strict: false }
  | { readonly type: 'custom'; readonly name: string; readonly description: string; readonly format: ToolGrammar };

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
