/** The list of targeted scenarios a run plays (see ./targeted.ts), by set. */
import { storeDamageScenario, storeFullDiskScenario, workspaceFullDiskScenario } from './disk-faults';
import { hostLossScenario } from './host-loss';
import { patchKillScenario } from './patch-kill';
import { KILL_POINTS, PATCH_SHAPES } from './patch-shapes';
import type { Scenario, TargetedSet } from './targeted';

/**
 * The scenarios of `set`: `all` kills a worker at three points of each patch shape and
 * plays every store and disk fault and a host loss; `short` (the suite's chaos test)
 * plays one of each costly kind: the append shape killed between its files, a corrupted
 * object, a full disk under the store, a host loss.
 */
export function targetedScenarios(set: TargetedSet): Scenario[] {
  if (set === 'none') return [];
  if (set === 'short') return [patchKillScenario(PATCH_SHAPES[0], 'first committed'), storeDamageScenario('corrupt'), storeFullDiskScenario(), hostLossScenario()];
  return [
    ...PATCH_SHAPES.flatMap((shape) => KILL_POINTS.map((point) => patchKillScenario(shape, point))),
    storeDamageScenario('corrupt'),
    storeDamageScenario('missing'),
    storeFullDiskScenario(),
    workspaceFullDiskScenario('overflowing patch'),
    workspaceFullDiskScenario('disk already full'),
    hostLossScenario(),
  ];
}
