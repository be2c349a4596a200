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
import { assistantMessage, functionCall, respond, shellCall, updatePlanCall } from '../test/support/responses-builders';
import { unusedLoopbackPort } from '../test/support/ports';
import { startBenchEnv } from './bench-env';
import { withThreadTools } from '../src/tools/thread-tools';
import type { SandboxMode } from '../src/config/settings';
import { runFloor, startFloorWorker } from './floor/floor-worker';
import { histogramMeanMs, metricsDelta, scrapeMetrics, type MetricSamples } from './server-metrics';

/** The SDK records its histograms in milliseconds, the server in seconds. */
function sdkMeanMs(delta: MetricSamples, name: string, labels: Record<string, string>): { count: number; meanMs: number } {
  const { count, meanMs } = histogramMeanMs(delta, name, labels);
  return { count, meanMs: meanMs / 1000 };
}

/** Every value of `label` on histogram `name`, with its count and mean (divide the recorded unit by `scale` to get ms … seconds ×1000 already). */
function byLabel(delta: MetricSamples, name: string, label: string, scale: number): [string, { count: number; meanMs: number }][] {
  const values = new Set<string>();
  const re = new RegExp(`${label}="([^"]*)"`);
  for (const key of delta.keys()) {
    if (!key.startsWith(`${name}_count{`)) continue;
    const m = re.exec(key);
    if (m) values.add(m[1]);
  }
  return [...values].sort().map((v) => {
    const { count, meanMs } = histogramMeanMs(delta, name, { [label]: v });
    return [v, { count, meanMs: meanMs / scale }] as [string, { count: number; meanMs: number }];
  }).filter(([, m]) => m.count > 0);
}

async function main(steps: number, kind: 'update_plan' | 'shell' | 'exec', sandboxMode: SandboxMode): Promise<void> {
  const sdkPort = await unusedLoopbackPort();
  const serverPort = await unusedLoopbackPort();
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { metrics: { prometheus: { bindAddress: `127.0.0.1:${sdkPort}` } } } });
  const env = await startBenchEnv({ serverArgs: ['--metrics-port', String(serverPort)], runtimeInstalled: true });
  try {
    await writeFile(path.join(env.workspace, 'chunk.txt'), `${'lorem ipsum dolor sit amet '.repeat(90)}\n`);
    const served = new Map<string, number>();
    env.model.setHandler((request) => {
      const key = request.threadKey ?? '';
      const n = (served.get(key) ?? 0) + 1;
      served.set(key, n);
      if (n >= steps) return respond(assistantMessage('done'));
      if (kind === 'exec') return respond(functionCall('exec_command', { cmd: 'cat chunk.txt' }));
      return respond(kind === 'shell' ? shellCall(['cat', 'chunk.txt']) : updatePlanCall([{ step: 'measure', status: 'in_progress' }]));
    });
    const turn = async (): Promise<number> => {
      const started = await startThread(env.client, { threadId: `breakdown-${randomUUID()}`, settings: withThreadTools(env.settings({ sandboxMode, ...(kind === 'exec' ? { model: 'gpt-5.1-codex' } : {}) })), text: 'plan', taskQueue: env.taskQueue });
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
    const floor = await startFloorWorker(env.nativeConnection);
    await runFloor(env.client, floor, steps); // warm-up
    const [sdkFloor0, serverFloor0] = [await scrapeMetrics(sdkUrl), await scrapeMetrics(serverUrl)];
    const floorMsPerStep = (await runFloor(env.client, floor, steps)) / steps;
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const sdkFloor = metricsDelta(sdkFloor0, await scrapeMetrics(sdkUrl));
    const serverFloor = metricsDelta(serverFloor0, await scrapeMetrics(serverUrl));
    await floor.stop();
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
      `## Calls per step (Unroll; the floor workflow, ${floorMsPerStep.toFixed(1)} ms/step, below it)`,
      '',
      '| who | operation | per step | mean |',
      '|---|---|---|---|',
      ...byLabel(sdk, 'temporal_activity_execution_latency', 'activity_type', 1000).map(([op, m]) => `| worker activity | ${op} | ${(m.count / steps).toFixed(2)} | ${m.meanMs.toFixed(2)} ms |`),
      ...byLabel(sdk, 'temporal_request_latency', 'operation', 1000).map(([op, m]) => `| worker RPC | ${op} | ${(m.count / steps).toFixed(2)} | ${m.meanMs.toFixed(2)} ms |`),
      ...byLabel(server, 'persistence_latency', 'operation', 1).map(([op, m]) => `| server persistence | ${op} | ${(m.count / steps).toFixed(2)} | ${m.meanMs.toFixed(2)} ms |`),
      `| floor: worker | FloorWorkflow task execution | ${(sdkMeanMs(sdkFloor, 'temporal_workflow_task_execution_latency', { workflow_type: 'FloorWorkflow' }).count / steps).toFixed(2)} | ${sdkMeanMs(sdkFloor, 'temporal_workflow_task_execution_latency', { workflow_type: 'FloorWorkflow' }).meanMs.toFixed(2)} ms |`,
      ...byLabel(sdkFloor, 'temporal_request_latency', 'operation', 1000).map(([op, m]) => `| floor: worker RPC | ${op} | ${(m.count / steps).toFixed(2)} | ${m.meanMs.toFixed(2)} ms |`),
      ...byLabel(serverFloor, 'persistence_latency', 'operation', 1).map(([op, m]) => `| floor: server persistence | ${op} | ${(m.count / steps).toFixed(2)} | ${m.meanMs.toFixed(2)} ms |`),
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

main(Number(process.argv[2] ?? 40), (process.argv[3] ?? 'update_plan') as 'update_plan' | 'shell' | 'exec', (process.argv[4] ?? 'danger-full-access') as SandboxMode).catch((err: unknown) => {
  process.stderr.write(`step breakdown failed: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
