/**
 * Telling apart, among the errors the `pg` driver throws, those that mean "the database
 * is not reachable right now" (transient: the store reports StoreUnavailableError and the
 * operation is retried) from everything else, and saying each in a few words.
 */

// SQLSTATE codes of a server that is going away, coming back or full.
const TRANSIENT_SQLSTATES = new Set([
  '57P01', // admin_shutdown: pg_ctl stop -m fast, a failover
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now: starting up or shutting down
  '53300', // too_many_connections
]);

const TRANSIENT_NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EHOSTDOWN', 'ENETDOWN', 'EAI_AGAIN', 'ENOTFOUND']);

const TRANSIENT_MESSAGES = [/connection terminated/i, /timeout exceeded when trying to connect/i, /connection error and is not queryable/i, /not queryable/i, /the database system is (starting up|shutting down|in recovery mode)/i];

interface DriverError {
  code?: string;
  message?: string;
  hostname?: string;
  errors?: unknown[];
}

/** True when `err` means the database is (for now) unreachable; see the module comment. */
export function isTransientDatabaseError(err: unknown): boolean {
  const e = err as DriverError | undefined;
  if (!e || typeof e !== 'object') return false;
  if (typeof e.code === 'string' && (TRANSIENT_NETWORK_CODES.has(e.code) || TRANSIENT_SQLSTATES.has(e.code) || e.code.startsWith('08'))) return true;
  if (Array.isArray(e.errors) && e.errors.length > 0 && e.errors.every(isTransientDatabaseError)) return true;
  return TRANSIENT_MESSAGES.some((re) => re.test(e.message ?? ''));
}

/** A short reason for a driver error: "connection refused", "database "x" does not exist", … */
export function describeDatabaseError(err: unknown): string {
  const e = (err ?? {}) as DriverError;
  switch (e.code) {
    case 'ECONNREFUSED':
      return 'connection refused (is PostgreSQL running and listening on that host and port?)';
    case 'ECONNRESET':
      return 'connection reset by the server';
    case 'ETIMEDOUT':
      return 'connection timed out';
    case 'ENOTFOUND':
      return `host ${e.hostname ? `"${e.hostname}" ` : ''}not found`;
    case 'EAI_AGAIN':
      return `host ${e.hostname ? `"${e.hostname}" ` : ''}could not be resolved (temporary DNS failure)`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return 'host unreachable';
    case '57P01':
      return 'the server is shutting down (administrator command)';
    case '57P03':
      return 'the server is starting up or shutting down';
    default:
      break;
  }
  if (e.message) return e.message;
  if (Array.isArray(e.errors) && e.errors.length > 0) return describeDatabaseError(e.errors[0]);
  return String(err);
}
