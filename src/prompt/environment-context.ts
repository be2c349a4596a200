/** The facts about the machine the model is told at the start of a thread. */
export interface EnvironmentFacts {
  readonly cwd: string;
  readonly shell: string;
  readonly currentDate: string;
  readonly timezone: string;
  readonly approvalPolicy: string;
  readonly sandboxMode: string;
  readonly networkAccess: 'enabled' | 'restricted';
}

/**
 * Renders the `<environment_context>` block Codex sends as a user message. The text is
 * deterministic for given facts, so an unchanged environment produces an identical
 * message and the next turn does not need to repeat it.
 */
export function environmentContextText(facts: EnvironmentFacts): string {
  const field = (name: string, value: string) => `  <${name}>${escapeXml(value)}</${name}>`;
  return [
    '<environment_context>',
    field('cwd', facts.cwd),
    field('approval_policy', facts.approvalPolicy),
    field('sandbox_mode', facts.sandboxMode),
    field('network_access', facts.networkAccess),
    field('shell', facts.shell),
    field('current_date', facts.currentDate),
    field('timezone', facts.timezone),
    '</environment_context>',
  ].join('\n');
}

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
