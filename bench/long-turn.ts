/**
 * Long-turn benchmark (issue: context management). One turn of 1,000 model calls
 * against the scripted Responses server, each a shell call whose output adds about
 * 2.6 KB, so the conversation reaches about 800 KB (≈200k tokens) before each
 * auto-compaction. Reports whether it completed, total history bytes over every
 * workflow run, history bytes per step (first and last 100 steps), the largest single
 * payload, the number of continue-as-new runs, compactions, and wall time per step.
 *
 *   npm run bench:long-turn            # 1,000 steps
 *   node dist/bench/long-turn.js 300   # fewer steps
 */
import { writeFile, mkdir } from 'node:fs/promises';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { followTurn, startThread } from '../src/client/threads';
import { SUMMARIZATION_PROMPT } from '../src/prompt/compaction';
import type { TurnEvent } from '../src/workflows/definitions';
import { assistantMessage, respond, shellCall } from '../test/support/responses-builders';
import { startBenchEnv } from './bench-env';
import { bytesPerStep, eventPayloadSizes, fetchRuns, mean } from './history-stats';

const STEPS = Number(process.argv[2] ?? 1000);
const AUTO_COMPACT_TOKENS = 200_000;

async function main(): Promise<void> {
  const env = await startBenchEnv();
  try {
    await writeFile(path.join(env.workspace, 'chunk.txt'), `${'lorem ipsum dolor sit amet '.repeat(90)}\n`);
    let calls = 0;
    env.model.setHandler((request) => {
      const last = JSON.stringify(request.input[request.input.length - 1] ?? '');
      if (last.includes(SUMMARIZATION_PROMPT.slice(0, 40))) return respond(assistantMessage(`SUMMARY after ${calls} calls: keep reading chunk.txt.`));
      calls += 1;
      return calls < STEPS ? respond(shellCall(['cat', 'chunk.txt'])) : respond(assistantMessage(`done after ${calls} calls`));
    });
    const threadId = `bench-long-${randomUUID()}`;
    const settings = env.settings({
      context: { windowTokens: 272_000, autoCompactTokens: AUTO_COMPACT_TOKENS, compaction: 'local', recentUserMessageTokens: 20_000, stepsPerRun: null },
    });
    const started = Date.now();
    const turn = await startThread(env.client, { threadId, settings, text: 'read chunk.txt over and over', taskQueue: env.taskQueue });
    const events: TurnEvent[] = [];
    let lastReport = Date.now();
    const result = await followTurn(env.client, turn.turnWorkflowId, (e) => {
      events.push(e);
      if (e.kind === 'step.completed' && Date.now() - lastReport > 10_000) {
        lastReport = Date.now();
        process.stderr.write(`step ${e.step}, context ≈ ${e.contextTokens} tokens\n`);
      }
    }, { pollMs: 500 });
    const wallMs = Date.now() - started;

    const runs = await fetchRuns(env.client, turn.turnWorkflowId);
    const perStep = bytesPerStep(runs);
    const sizes = runs.flatMap((r) => r.events.flatMap(eventPayloadSizes));
    const compactions = events.filter((e): e is Extract<TurnEvent, { kind: 'compaction' }> => e.kind === 'compaction');
    const peakContext = Math.max(...events.flatMap((e) => (e.kind === 'step.completed' ? [e.contextTokens] : [])), 0);
    const report = {
      steps: STEPS,
      completed: result.status === 'completed' && result.steps === STEPS,
      status: result.status,
      modelCalls: env.model.requests.length,
      workflowRuns: runs.length,
      continueAsNew: runs.length - 1,
      historyEvents: runs.reduce((n, r) => n + r.events.length, 0),
      historyBytesTotal: runs.reduce((n, r) => n + r.bytes, 0),
      historyBytesPerStepFirst100: Math.round(mean(perStep.slice(0, 100))),
      historyBytesPerStepLast100: Math.round(mean(perStep.slice(-100))),
      largestPayloadBytes: Math.max(...sizes),
      compactions: compactions.length,
      peakContextTokens: peakContext,
      largestRequestBytes: Math.max(...env.model.requests.map((r) => Buffer.byteLength(JSON.stringify(r.input)))),
      wallSeconds: Math.round(wallMs / 100) / 10,
      wallMsPerStep: Math.round((wallMs / STEPS) * 10) / 10,
      protocolViolations: env.model.violations.length,
    };
    const markdown = [
      `# Long-turn benchmark (${STEPS} model calls)`,
      '',
      `Command: \`npm run bench:long-turn\` (${new Date().toISOString().slice(0, 10)}, ${process.platform}, Node ${process.version})`,
      '',
      '| measure | value |',
      '|---|---|',
      ...Object.entries(report).map(([k, v]) => `| ${k} | ${String(v)} |`),
      '',
    ].join('\n');
    const out = path.resolve(__dirname, '..', '..', 'bench', 'results');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'long-turn.json'), `${JSON.stringify(report, null, 2)}\n`);
    await writeFile(path.join(out, 'long-turn.md'), markdown);
    process.stdout.write(`${markdown}\n`);
    const ok = report.completed && report.largestPayloadBytes <= 64 * 1024 && report.protocolViolations === 0;
    if (!ok) process.exitCode = 1;
  } finally {
    await env.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`long-turn benchmark failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
