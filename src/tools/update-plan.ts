import { z } from 'zod';
import type { ToolContext, ToolResult } from './types';

/** One step of the agent's plan. */
export const PlanStep = z.object({
  step: z.string().min(1).describe('A short description of the step.'),
  status: z.enum(['pending', 'in_progress', 'completed']).describe('One of pending, in_progress, completed.'),
});
export type PlanStep = z.infer<typeof PlanStep>;

/** Arguments of `update_plan`: the whole plan, replacing the previous one. */
export const UpdatePlanArgs = z
  .object({
    explanation: z.string().optional().describe('Optional: why the plan changed.'),
    plan: z.array(PlanStep).min(1).describe('The list of steps, in order.'),
  })
  .refine((args) => args.plan.filter((s) => s.status === 'in_progress').length <= 1, {
    message: 'at most one step can be in_progress at a time',
    path: ['plan'],
  });
export type UpdatePlanArgs = z.infer<typeof UpdatePlanArgs>;

const MAX_STEPS_SHOWN = 50;
const MAX_TEXT = 500;

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/**
 * The `update_plan` tool: the model records its plan; Unroll shows it to the user as a
 * to-do list. It has no side effects, so it is safe to run in parallel and to retry.
 */
export const updatePlanTool = {
  name: 'update_plan' as const,
  description:
    'Updates the task plan. Provide an optional explanation and a list of plan items, each with a step and status. At most one step can be in_progress at a time.',
  parameters: UpdatePlanArgs,
  parallelSafe: true,
  run(args: UpdatePlanArgs, _ctx: ToolContext): Promise<ToolResult> {
    return Promise.resolve({
      output: 'Plan updated',
      success: true,
      // Metadata travels in Temporal history: keep it small whatever the model sent.
      metadata: {
        plan: args.plan.slice(0, MAX_STEPS_SHOWN).map((s) => ({ step: clip(s.step, MAX_TEXT), status: s.status })),
        ...(args.explanation ? { explanation: clip(args.explanation, MAX_TEXT) } : {}),
      },
    });
  },
};
