import { z } from 'zod';
import { defineTool } from './contract';
import { todoListKind } from './display';
import { functionSpec } from './specs';
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

const DESCRIPTION =
  'Updates the task plan. Provide an optional explanation and a list of plan items, each with a step and status. At most one step can be in_progress at a time.';

/**
 * The `update_plan` tool: the model records its plan; Unroll shows it to the user as a
 * to-do list. It has no side effects, so it is safe to run in parallel and to retry, and
 * it needs no approval.
 */
export const updatePlanTool = defineTool<UpdatePlanArgs>({
  name: 'update_plan',
  spec: () => functionSpec('update_plan', DESCRIPTION, UpdatePlanArgs),
  parameters: UpdatePlanArgs,
  parallelSafe: true,
  sideEffects: 'none',
  describe: () => ({ summary: 'update_plan', approval: 'safe', changesFiles: false }),
  display: {
    kinds: [todoListKind],
    started: () => null,
    async completed(call, id) {
      const plan = call.metadata.plan;
      if (Array.isArray(plan)) {
        return [{ id, type: 'todo_list', items: (plan as Array<{ step: string; status: string }>).map((s) => ({ text: s.step, completed: s.status === 'completed' })) }];
      }
      return [{ id, type: 'error', message: await call.output() }];
    },
  },
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
});
