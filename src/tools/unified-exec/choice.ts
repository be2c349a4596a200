/**
 * Which command tool a thread gets: Codex 0.171's unified exec (`exec_command` +
 * `write_stdin`) or `shell`.
 *
 * Codex 0.171 offers exec_command/write_stdin to every model it was run with (captured
 * requests for gpt-5.1-codex, gpt-5, gpt-5.5, gpt-4.1, o3 and an unknown name). Unroll
 * follows it for OpenAI's model names and keeps `shell` for other (local, third-party)
 * models, which are more often trained on or prompted for the older tool.
 * `[unroll] command_tool = "exec_command" | "shell"` overrides the choice.
 */

/** The command tools a thread may be given. */
export type CommandTool = 'exec_command' | 'shell';

/** OpenAI model names (gpt-4.1 and later, o-series, codex models), for which Codex's unified exec is the default. */
const OPENAI_MODEL = /^(gpt-4\.1|gpt-[5-9]|o[1-9](-|$)|codex)/i;

/** Whether a thread of `model` gets exec_command/write_stdin (else shell); `override` is the config's choice. */
export function usesUnifiedExec(model: string, override?: CommandTool): boolean {
  if (override !== undefined) return override === 'exec_command';
  return OPENAI_MODEL.test(model);
}
