import { updatePlanTool } from '../../src/tools/update-plan';
import type { ToolContext } from '../../src/tools/types';

const ctx: ToolContext = { cwd: '/tmp', signal: new AbortController().signal, heartbeat: () => undefined, callId: 'call_1' };

describe('update_plan', () => {
  test('keeps the plan it reports small, however long the model wrote it', async () => {
    const plan = Array.from({ length: 80 }, (_, i) => ({ step: `step ${i} ${'x'.repeat(2_000)}`, status: 'pending' as const }));
    const result = await updatePlanTool.run({ explanation: 'y'.repeat(200_000), plan }, ctx);
    const metadata = result.metadata as { plan: Array<{ step: string }>; explanation: string };
    expect(metadata.plan).toHaveLength(50);
    expect(metadata.plan[0].step).toHaveLength(500);
    expect(metadata.explanation).toHaveLength(500);
    expect(JSON.stringify(metadata).length).toBeLessThan(30_000);
  });

  test('reports a short plan exactly', async () => {
    const result = await updatePlanTool.run({ explanation: 'why', plan: [{ step: 'a', status: 'completed' }, { step: 'b', status: 'in_progress' }] }, ctx);
    expect(result).toEqual({
      output: 'Plan updated',
      success: true,
      metadata: { explanation: 'why', plan: [{ step: 'a', status: 'completed' }, { step: 'b', status: 'in_progress' }] },
    });
  });
});
