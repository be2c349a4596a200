/**
 * Where an Unroll step's time goes: one turn of `update_plan` steps on the dev server
 * (with Unroll's dynamic config) and the in-process worker, with the SDK's metrics
 * (Prometheus from the worker's Runtime) and the server's (`--metrics-port`) read around
 * it. Prints, per step: activity execution on the worker, workflow task execution on
 * the worker, the worker's RPCs, and the server's transfer-queue and matching time.
 *
 *   npm run build && node dist/bench/step-breakdown.js [steps]     # default 40; writes bench/results/step-breakdown.md
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { DefaultLogger, Runtime } from '@temporalio/worker';
import { startThread } from '../src/client/threads';
import { assistantMessage, respond, updatePlanCall } from '../test/support/responses-builders';
import { unusedLoopbackPort } from '../test/support/ports';
import { startBenchEnv } from './bench-env';
import { histogramMeanMs, metricsDelta, scrapeMetrics, type MetricSamples } from './server-metrics';

/** The SDK records its histograms in milliseconds, the server in seconds. */
function sdkMeanMs(delta: MetricSamples, name: string, labels: Record<string, string>): { count: number; meanMs: number } {
  const { count, meanMs } = histogramMeanMs(delta, name, labels);
  return { count, meanMs: meanMs / 1000 };
}

async function main(steps: number): Promise<void> {
  const sdkPort = await unusedLoopbackPort();
  const serverPort = await unusedLoopbackPort();
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}` } } } });
  const env = await startBenchEnv({ serverArgs: ['--metrics-port', String(serverPort)], runtimeInstalled: true });
  try {
    const served = new Map<string, number>();
    env.model.setHandler((request) => {
      const key = request.threadKey ?? '';
      const n = (served.get(key) ?? 0) + 1;
      served.set(key, n);
      return n < steps ? respond(updatePlanCall([{ step: 'measure', status: 'in_progress' }])) : respond(assistantMessage('done'));
    });
    const turn = async (): Promise<number> => {
      const started = await startThread(env.client, { threadId: `breakdown-${randomUUID()}`, settings: env.settings(), text: 'plan', taskQueue: env.taskQueue });
      const t0 = performance.now();
      await env.client.workflow.getHandle(started.turnWorkflowId).result();
      return (performance.now() - t0) / steps;
    };
    await turn(); // warm-up
    const sdkUrl = `http://127.0.0.1:${sdkPort}/metrics`;
    const serverUrl = `http://127.0.0.1:${serverPort}/metrics`;
    const [sdkBefore, serverBefore] = [await scrapeMetrics(sdkUrl), await scrapeMetrics(serverUrl)];
    const msPerStep = await turn();
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const sdk = metricsDelta(sdkBefore, await scrapeMetrics(sdkUrl));
    const server = metricsDelta(serverBefore, await scrapeMetrics(serverUrl));
    const rows: [string, { count: number; meanMs: number }][] = [
      ['runInference execution (worker)', sdkMeanMs(sdk, 'temporal_activity_execution_latency', { activity_type: 'runInference' })],
      ['runTool execution (worker)', sdkMeanMs(sdk, 'temporal_activity_execution_latency', { activity_type: 'runTool' })],
      ['TurnWorkflow task execution (worker)', sdkMeanMs(sdk, 'temporal_workflow_task_execution_latency', { workflow_type: 'TurnWorkflow' })],
      ['RespondWorkflowTaskCompleted (worker RPC)', sdkMeanMs(sdk, 'temporal_request_latency', { operation: 'RespondWorkflowTaskCompleted' })],
      ['RespondActivityTaskCompleted (worker RPC)', sdkMeanMs(sdk, 'temporal_request_latency', { operation: 'RespondActivityTaskCompleted' })],
      ['workflow task: due → read by the transfer queue (server)', histogramMeanMs(server, 'task_latency_load', { task_type: 'TransferActiveTaskWorkflowTask' })],
      ['workflow task: transfer processing incl. matching (server)', histogramMeanMs(server, 'task_latency_processing', { task_type: 'TransferActiveTaskWorkflowTask' })],
    ];
    const lines = [
      `# Step breakdown (${steps}-step update_plan turn)`,
      '',
      `Command: \`npm run build && node dist/bench/step-breakdown.js ${steps}\` · ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      '',
      `Wall time: ${msPerStep.toFixed(1)} ms/step. ${os.availableParallelism()} CPUs, load average ${os.loadavg().map((l) => l.toFixed(2)).join(' / ')} at the end.`,
      '',
      '| what | mean | count | per step |',
      '|---|---|---|---|',
      ...rows.map(([what, m]) => `| ${what} | ${m.meanMs.toFixed(2)} ms | ${m.count} | ${((m.meanMs * m.count) / steps).toFixed(1)} ms |`),
      '',
    ];
    const out = path.resolve(__dirname, '..', '..', 'bench', 'results');
    await mkdir(out, { recursive: true });
    await writeFile(path.join(out, 'step-breakdown.md'), lines.join('\n'));
    process.stdout.write(lines.join('\n'));
  } finally {
    await env.close();
  }
}

main(Number(process.argv[2] ?? 40)).catch((err: unknown) => {
  process.stderr.write(`step breakdown failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
