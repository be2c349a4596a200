/**
 * The engine's floor: a workflow that does what an agent step does in Temporal terms
 * (two activities in sequence, a small input and result each) with nothing of Unroll in
 * it. Benchmarks compare Unroll's per-step overhead against this.
 */
import { proxyActivities } from '@temporalio/workflow';

interface FloorActivities {
  noopInference(input: { step: number; head: string }): Promise<{ head: string; calls: number }>;
  noopTool(input: { step: number; head: string }): Promise<{ output: string }>;
}

const { noopInference, noopTool } = proxyActivities<FloorActivities>({ startToCloseTimeout: 60_000 });

/**
 * Runs `steps` inference+tool pairs and returns the number of activities run. With
 * `activitiesPerStep` 1, a step is one activity (what Unroll's chained steps pay:
 * `runToolAndInfer`).
 */
export async function FloorWorkflow(steps: number, activitiesPerStep: 1 | 2 = 2): Promise<number> {
  let head = 'root';
  for (let step = 1; step <= steps; step++) {
    const response = await noopInference({ step, head });
    head = response.head;
    if (activitiesPerStep === 2 && response.calls > 0) await noopTool({ step, head });
  }
  return steps * activitiesPerStep;
}
