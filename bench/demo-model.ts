/**
 * A stand-in model for trying Unroll without an API key: a local Responses API server
 * that plays the same short coding session for every thread (plan, look around, write
 * a file, check it, answer). The README's example output comes from it.
 *
 *   npm run demo-model            # prints the base URL, serves until Ctrl-C
 *   UNROLL_BASE_URL=http://127.0.0.1:18080/v1 OPENAI_API_KEY=demo ./bin/unroll exec "take notes"
 */
import { ScriptedResponsesServer } from '../test/support/responses-server';
import {
  applyPatchCall,
  assistantMessage,
  functionCall,
  reasoning,
  respond,
  shellCall,
  updatePlanCall,
  type ScriptStep,
} from '../test/support/responses-builders';

/** A command call in the tool the thread offers: `exec_command` (OpenAI model names, as Codex) or `shell`. */
function commandCall(command: string, execCommand: boolean) {
  return execCommand ? functionCall('exec_command', { cmd: command }) : shellCall(command);
}

function session(prompt: string, execCommand: boolean): ScriptStep[] {
  const note = prompt.replace(/\s+/g, ' ').slice(0, 120);
  return [
    respond([
      reasoning('Planning: inspect the workspace, then record the task in NOTES.md.', 'demo-encrypted-reasoning'),
      updatePlanCall([
        { step: 'Inspect the workspace', status: 'in_progress' },
        { step: 'Write NOTES.md', status: 'pending' },
        { step: 'Verify the file', status: 'pending' },
      ]),
    ]),
    respond(commandCall('ls -A', execCommand)),
    respond(applyPatchCall(`*** Begin Patch\n*** Add File: NOTES.md\n+# Notes\n+\n+Task: ${note}\n*** End Patch`)),
    respond(commandCall('wc -l NOTES.md && head -n 3 NOTES.md', execCommand)),
    respond(updatePlanCall([
      { step: 'Inspect the workspace', status: 'completed' },
      { step: 'Write NOTES.md', status: 'completed' },
      { step: 'Verify the file', status: 'completed' },
    ])),
    respond(assistantMessage('I recorded the task in NOTES.md (3 lines) and checked its contents.')),
  ];
}

async function main(): Promise<void> {
  const port = Number(process.env.DEMO_MODEL_PORT ?? 18080);
  const server = await ScriptedResponsesServer.start({ port });
  const progress = new Map<string, number>();
  server.setHandler((request) => {
    const key = request.threadKey ?? 'default';
    const offered = (request.body.tools as Array<{ name?: string }> | undefined) ?? [];
    const steps = session(firstUserText(request.input), offered.some((tool) => tool.name === 'exec_command'));
    const index = progress.get(key) ?? 0;
    progress.set(key, index + 1);
    return steps[index % steps.length];
  });
  process.stdout.write(`demo model listening: UNROLL_BASE_URL=${server.url}\n`);
  const stop = () => void server.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

function firstUserText(input: readonly unknown[]): string {
  const texts = input.flatMap((item) => {
    const i = item as { type?: string; role?: string; content?: Array<{ text?: string }> };
    if (i.type !== 'message' || i.role !== 'user') return [];
    return (i.content ?? []).map((c) => c.text ?? '');
  });
  return texts.filter((t) => !t.startsWith('<environment_context>') && !t.startsWith('# AGENTS.md')).pop() ?? 'demo';
}

main().catch((err: unknown) => {
  process.stderr.write(`demo model failed: ${String(err)}\n`);
  process.exit(1);
});
