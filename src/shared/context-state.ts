/** Pure data shared by workflows and activities. */

/** Hashes of the messages that carried the initial context, to know when it changed. */
export interface ContextState {
  readonly permissions: string | null;
  readonly agents: string | null;
  readonly environment: string | null;
  /** The model the thread last ran with, to announce a switch. */
  readonly model: string | null;
}

/** The empty context state of a new thread. */
export const NO_CONTEXT: ContextState = { permissions: null, agents: null, environment: null, model: null };

