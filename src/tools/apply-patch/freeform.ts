/**
 * apply_patch as a freeform (custom) tool, as Codex 0.171 offers it: the model writes the
 * patch itself as the call's input (a `custom_tool_call`), constrained by a Lark grammar,
 * instead of a JSON string. The grammar and description are Codex's, byte for byte (from
 * the request `codex exec` 0.171 sends); the models are those its bundled model table
 * marks `apply_patch_tool_type: "freeform"`.
 */
import type { ToolGrammar } from '../contract';

/** The description Codex gives the freeform tool. */
export const FREEFORM_APPLY_PATCH_DESCRIPTION = 'The `apply_patch` tool can be used to edit files. This is a FREEFORM tool, so do not wrap the patch in JSON.';

/** Codex's Lark grammar of a patch. */
export const APPLY_PATCH_GRAMMAR: ToolGrammar = {
  type: 'grammar',
  syntax: 'lark',
  definition: [
    'start: begin_patch hunk+ end_patch',
    'begin_patch: "*** Begin Patch" LF',
    'end_patch: "*** End Patch" LF?',
    '',
    'hunk: add_hunk | delete_hunk | update_hunk',
    'add_hunk: "*** Add File: " filename LF add_line+',
    'delete_hunk: "*** Delete File: " filename LF',
    'update_hunk: "*** Update File: " filename LF change_move? change?',
    '',
    'filename: /(.+)/',
    'add_line: "+" /(.*)/ LF -> line',
    '',
    'change_move: "*** Move to: " filename LF',
    'change: (change_context | change_line)+ eof_line?',
    'change_context: ("@@" | "@@ " /(.+)/) LF',
    'change_line: ("+" | "-" | " ") /(.*)/ LF',
    'eof_line: "*** End of File" LF',
    '',
    '%import common.LF',
    '',
  ].join('\n'),
};

/** The models Codex 0.171's model table gives the freeform apply_patch. */
export const FREEFORM_APPLY_PATCH_MODELS: readonly string[] = [
  'gpt-5.5',
  'gpt-5.6-sol',
  'gpt-5.6-terra',
  'gpt-5.6-luna',
  'gpt-6-astra',
  'gpt-6-sol',
  'gpt-6-luna',
  'gpt-6.1-sol',
  'gpt-6.1-terra',
  'gpt-6.2-astra',
  'gpt-6.2-sol',
  'gpt-daybreak-blue-latest',
  'gpt-daybreak-red-latest',
  'codex-auto-review',
];

/** True for a model of that table, or a dated snapshot of one (`gpt-5.5-2026-01-15`). */
export function usesFreeformApplyPatch(model: string): boolean {
  return FREEFORM_APPLY_PATCH_MODELS.some((slug) => model === slug || model.startsWith(`${slug}-`));
}
