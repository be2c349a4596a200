/**
 * The durable note of an exec session (a store marker): which worker process holds it.
 * write_stdin reads it for a session this process does not hold, to tell the model
 * whether the session was lost with its worker or never existed.
 */
import { sha256Hex } from '../../store/canonical-json';

/** What the marker of a session holds. */
export interface SessionNote {
  /** The incarnation of the worker process that started it (ExecSessions.incarnation). */
  readonly host: string;
  readonly turn: number;
}

/** The marker key of session `id` of a thread. */
export function sessionMarkerKey(threadId: string, id: number): string {
  return `exec-sessions/${sha256Hex(`${threadId}\u0000${id}`)}`;
}

/** The note in a marker's value, or undefined when it is not one. */
export function parseSessionNote(value: string | undefined): SessionNote | undefined {
  if (value === undefined) return undefined;
  try {
    const note = JSON.parse(value) as Partial<SessionNote>;
    return typeof note.host === 'string' && typeof note.turn === 'number' ? { host: note.host, turn: note.turn } : undefined;
  } catch {
    return undefined;
  }
}
