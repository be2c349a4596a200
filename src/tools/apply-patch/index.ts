/**
 * The `apply_patch` tool: the model edits files by sending a patch in the Codex patch
 * grammar (see ./parser.ts); ./apply.ts verifies and applies it all or nothing. A patch
 * that does not parse or apply is a failed result for the model, never an exception.
 */
import * as path from 'node:path';
import { z } from 'zod';
import type { SandboxPolicy } from '../../shared/sandbox-policy';
import { defineTool, type ToolSpec } from '../contract';
import { errorKind, fileChangeKind } from '../display';
import { customSpec, functionSpec } from '../specs';
import type { ToolContext, ToolResult } from '../types';
import { applyPatch, type FileChange } from './apply';
import { APPLY_PATCH_GRAMMAR, FREEFORM_APPLY_PATCH_DESCRIPTION, usesFreeformApplyPatch } from './freeform';

const DESCRIPTION = `Use the \`apply_patch\` tool to edit files. Pass the whole patch as \`input\`.
The patch format is a stripped-down, file-oriented diff, designed to be easy to parse and safe to apply:

*** Begin Patch
[ one or more file sections ]
*** End Patch

Each file section starts with one of three headers:
*** Add File: <path> - create a new file. Every following line is a + line (the initial contents).
*** Delete File: <path> - remove an existing file. Nothing follows.
*** Update File: <path> - patch an existing file in place (optionally with a rename).

To rename the file too, follow the Update File line immediately with:
*** Move to: <new path>

Then one or more hunks, each introduced by @@ (optionally followed by a line that occurs in the file, such as a class or function signature, to say where the hunk is). Within a hunk each line starts with:
' ' (a space) for a context line, '-' for a removed line, '+' for an added line.
Show 3 lines of context above and below each change, copied exactly. If that is not enough to identify the place uniquely, add an @@ line naming the class or function. Hunks of one file must appear in file order. End a hunk that must match at the very end of the file with:
*** End of File

Example:
*** Begin Patch
*** Add File: hello.txt
+Hello world
*** Update File: src/app.py
*** Move to: src/main.py
@@ def greet():
     name = get_name()
-    print("Hi")
+    print(f"Hello, {name}!")
     return name
*** Delete File: obsolete.txt
*** End Patch

Rules:
- Paths are relative to the workspace root; absolute paths and paths outside the workspace are refused.
- Prefix every new line with +, even when creating a file.
- The patch applies all or nothing: if one hunk does not match, no file is changed.`;

/** Arguments of `apply_patch`: the patch text. */
export const ApplyPatchArgs = z.object({
  input: z.string().describe('The entire patch, from "*** Begin Patch" to "*** End Patch".'),
});
/** Parsed arguments of `apply_patch`. */
export type ApplyPatchArgs = z.infer<typeof ApplyPatchArgs>;

/** The JSON function form of the tool (`{"input": patch}`), for models without the freeform one. */
export function applyPatchFunctionSpec(): ToolSpec {
  return functionSpec('apply_patch', DESCRIPTION, ApplyPatchArgs);
}

/**
 * The `apply_patch` tool. Not parallel-safe: it changes the workspace. `run`
 * applies `args.input` under `ctx.cwd` and returns Codex's summary (`Success. Updated the
 * following files:` then `A|M|D path` lines) with `metadata: { changes, alreadyApplied,
 * resumed? }`;
 * a patch that does not parse, leaves the workspace or does not match returns
 * `success: false` with the error text (starting `apply_patch verification failed:`) and
 * `metadata: { error }`; so does a write the disk refused (rolled back, nothing changed).
 * Only infrastructure failures throw.
 *
 * With `ctx.journal` (the tool activity gives one) the plan is journaled before any file
 * is touched, and a retry of the call finishes exactly what its interrupted attempt left
 * undone, answering as the first attempt would have (side effects `idempotent`); see
 * ./apply.ts.
 *
 * Under a sandbox (`ctx.sandbox`) the patch obeys the same rules as a command would:
 * read-only refuses every patch (`patch rejected: …`); workspace-write refuses paths under
 * the `.git` of the workspace and of each writable root. Paths outside the workspace are
 * refused in every mode.
 *
 * The models Codex gives the freeform tool (./freeform.ts) get it as a custom tool with
 * Codex's grammar (`custom_tool_call`, raw patch as input); the rest get the JSON
 * function form (`{"input": patch}`). Either call form is accepted whatever was offered.
 */
export const applyPatchTool = defineTool<ApplyPatchArgs>({
  name: 'apply_patch',
  spec: (context) =>
    usesFreeformApplyPatch(context.model)
      ? customSpec('apply_patch', FREEFORM_APPLY_PATCH_DESCRIPTION, APPLY_PATCH_GRAMMAR)
      : applyPatchFunctionSpec(),
  parameters: ApplyPatchArgs,
  parallelSafe: false,
  sideEffects: 'idempotent',
  describe(args) {
    const files = args.input.match(/^\*\*\* (Add|Update|Delete) File: .*$/gm) ?? [];
    return {
      summary: `apply_patch: ${files.map((l) => l.replace(/^\*\*\* (\w)\w+ File: /, '$1 ')).join(', ')}`,
      approval: 'policy',
      mutatesFiles: true,
      changesFiles: true,
    };
  },
  display: {
    kinds: [fileChangeKind, errorKind],
    started: (_call, id) => ({ id, type: 'file_change', changes: [], status: 'in_progress' }),
    async completed(call, id, newId) {
      if (Array.isArray(call.metadata.changes)) {
        const changes = (call.metadata.changes as Array<{ kind: string; path: string }>).map((c) => ({
          path: c.path,
          kind: c.kind === 'A' ? ('add' as const) : c.kind === 'D' ? ('delete' as const) : ('update' as const),
        }));
        return [{ id, type: 'file_change', changes, status: 'completed' }];
      }
      const message = await call.output();
      return [
        { id, type: 'file_change', changes: [], status: 'failed' },
        { id: newId(), type: 'error', message },
      ];
    },
  },
  async run(args: ApplyPatchArgs, ctx: ToolContext): Promise<ToolResult> {
    const sandbox = ctx.sandbox ?? null;
    if (sandbox?.mode === 'read-only') {
      const error = 'patch rejected: the sandbox is read-only (sandbox_mode read-only), so no file may be changed';
      return { output: error, success: false, metadata: { error } };
    }
    const outcome = await applyPatch(args.input, ctx.cwd, {
      readOnlyPaths: readOnlyPathsOf(sandbox),
      // With a journal a retry knows exactly what its earlier attempt did; without one
      // (outside the activity) fall back to guessing from the files.
      retry: ctx.journal === undefined && (ctx.attempt ?? 1) > 1,
      journal: ctx.journal,
      // A heartbeat per file keeps a long patch from being taken for a dead one and retried
      // while it still runs.
      onStep: (step) => {
        ctx.heartbeat();
        return ctx.stepHook?.(step) ?? Promise.resolve();
      },
    });
    if (!outcome.ok) return { output: outcome.error, success: false, metadata: { error: outcome.error } };
    return {
      output: successMessage(outcome.changes, outcome.alreadyApplied),
      success: true,
      // `resumed` (a retry finished the patch) is for counting in chaos runs; the model's
      // output is the same as a first run's.
      metadata: { changes: outcome.changes, alreadyApplied: outcome.alreadyApplied, ...(outcome.resumed ? { resumed: true } : {}) },
    };
  },
});

/** The `.git` of the workspace and of each writable root: read-only under workspace-write. */
function readOnlyPathsOf(sandbox: SandboxPolicy | null): string[] {
  if (sandbox === null) return [];
  return [sandbox.workspace, ...sandbox.writableRoots].map((root) => path.join(root, '.git'));
}

function successMessage(changes: readonly FileChange[], alreadyApplied: boolean): string {
  const lines = changes.map((change) => `${change.kind} ${change.path}`);
  // A retried call finds its own earlier work; say so rather than pretend it wrote again.
  const note = alreadyApplied ? ['(patch already applied: the files already contained these changes, nothing was written)'] : [];
  return ['Success. Updated the following files:', ...lines, ...note].join('\n');
}
