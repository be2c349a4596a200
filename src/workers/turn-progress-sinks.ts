/**
 * The worker side of the turn workflow's progress sink (`TurnProgressSinks`): each event
 * a turn emits is published on this process's bus (src/shared/turn-event-bus.ts) for
 * the followers in this process. Every worker that runs Unroll's workflows registers it,
 * the replayer too (a workflow's call to an unregistered sink is logged as an error).
 */
import type { InjectedSinks } from '@temporalio/worker';
import { localTurnEvents } from '../shared/turn-event-bus';
import type { TurnProgressSinks } from '../workflows/definitions';

export function turnProgressSinks(): InjectedSinks<TurnProgressSinks> {
  return {
    turnProgress: {
      event: {
        fn: (info, event) => localTurnEvents.publish(info.workflowId, event),
        // A replayed event was published when it happened (or belongs to a closed turn).
        callDuringReplay: false,
      },
    },
  };
}
