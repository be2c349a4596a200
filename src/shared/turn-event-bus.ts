/**
 * Progress events of the turns this process's worker runs, handed on as they happen to
 * followers in the same process (`followTurn`: `exec` run by the resident worker, or
 * with `--in-process-worker`). The turn workflow gives each event to a sink
 * (`TurnProgressSinks` in src/workflows/definitions.ts); the worker publishes it here.
 * A follower still polls the progress query, rarely, for what a push cannot bring: the
 * events of a turn whose workflow runs on another worker, or a gap. Free of Temporal
 * imports, so a thin client loads nothing with it.
 */
import type { TurnEvent } from '../workflows/definitions';

type Listener = (event: TurnEvent) => void;

/** Listeners by turn workflow id. */
export class TurnEventBus {
  private readonly listeners = new Map<string, Set<Listener>>();

  /** Calls `listener` with each event of the turn published from now on; returns the unsubscribe. */
  subscribe(turnWorkflowId: string, listener: Listener): () => void {
    let set = this.listeners.get(turnWorkflowId);
    if (!set) {
      set = new Set();
      this.listeners.set(turnWorkflowId, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(turnWorkflowId) === set) this.listeners.delete(turnWorkflowId);
    };
  }

  /** Hands `event` of the turn to its listeners (none: nothing happens). A failing listener does not stop the others. */
  publish(turnWorkflowId: string, event: TurnEvent): void {
    const set = this.listeners.get(turnWorkflowId);
    if (!set) return;
    for (const listener of [...set]) {
      try {
        listener(event);
      } catch {
        // A follower's own failure is its business; the worker goes on.
      }
    }
  }
}

/** This process's bus. */
export const localTurnEvents = new TurnEventBus();
