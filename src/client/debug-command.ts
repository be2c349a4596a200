/**
 * What the debugging commands (threads, show, replay, fork, diff, export, import)
 * share: their I/O, the errors that are the user's to fix (exit 2), colour, and a lazily
 * opened connection to Temporal, so commands that read a bundle never need a server.
 */
import { IllegalStateError, type PayloadCodec } from '@temporalio/common';
import type { LogLevel } from '@temporalio/worker';
import { payloadCodecsFor } from '../codec/data-converter';
import { keyRingFor, type KeyRing } from '../codec/keys';
import { ConfigError, loadConfig, type ConfigOverrides, type ConfigSelection, type UnrollConfig } from '../config/config';
import { BundleError } from '../history/bundle';
import { ToolOutputNotFoundError } from '../history/fork-point';
import { StepRefError } from '../history/step-ref';
import { NoCheckpointError } from '../history/workspace-at';
import { NotASessionError, ThreadHistoryNotFoundError } from '../history/thread-histories';
import type { OpenedStore } from '../store';
import { StoreConfigError } from '../store/errors';
import { ForeignServerError, NamespaceNotFoundError, NotATemporalFrontendError } from '../temporal/errors';
import { PromptTooLargeError } from './prompt-limit';
import { RequestRefusedError } from './request-errors';
import { ThreadStoreMismatchError } from './thread-store';
import { openConfiguredStore, openRuntime, type UnrollRuntime } from './runtime';
import { installRuntimeLogger } from './runtime-logger';
import { InvalidThreadIdError, ThreadNotFoundError } from './threads';

/** The process's streams and environment, as the CLI passes them. */
export interface DebugIo {
  readonly env: Record<string, string | undefined>;
  readonly out: NodeJS.WritableStream & { isTTY?: boolean };
  readonly err: NodeJS.WritableStream & { isTTY?: boolean };
  readonly cwd: string;
  /** The shared `-c key=value` / `-p` options of the invocation (see src/client/cli.ts). */
  readonly configSelection?: ConfigSelection;
}

/** A bad argument or option of a debugging command (exit 2). */
export class DebugUsageError extends Error {
  override readonly name = 'DebugUsageError';
}

const USAGE_ERRORS = [
  DebugUsageError, StepRefError, NoCheckpointError, ToolOutputNotFoundError, BundleError, ThreadHistoryNotFoundError, NotASessionError, InvalidThreadIdError, ThreadNotFoundError, ConfigError,
  PromptTooLargeError, RequestRefusedError, NotATemporalFrontendError, StoreConfigError, ThreadStoreMismatchError, NamespaceNotFoundError, ForeignServerError,
];

/**
 * Runs a command body; problems the user can fix are printed as `unroll: <message>`
 * and give exit code 2. Anything else propagates (the CLI prints it, exit 1).
 */
export async function guarded(io: DebugIo, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (USAGE_ERRORS.some((type) => err instanceof type)) {
      io.err.write(`unroll: ${(err as Error).message}\n`);
      return 2;
    }
    throw err;
  }
}

/** Parses a positive integer option; throws {@link DebugUsageError}. */
export function positiveInt(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value) || Number(value) < 1) throw new DebugUsageError(`${option} expects a positive whole number, got "${value}"`);
  return Number(value);
}

/**
 * Installs the SDK runtime's logger at `level` (core logs included) unless the process
 * already has a runtime (e.g. the commands run inside a test process or another tool).
 */
export function quietSdk(level: LogLevel): void {
  try {
    installRuntimeLogger(level, level);
  } catch (err) {
    if (!(err instanceof IllegalStateError)) throw err;
  }
}

/** ANSI colour when enabled, plain text otherwise. */
export type Paint = (code: string, text: string) => string;

/** A painter for a stream: colour only on a TTY and without NO_COLOR. */
export function painterFor(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Paint {
  const color = Boolean(stream.isTTY) && !env.NO_COLOR;
  return (code, text) => (color ? `\u001b[${code}m${text}\u001b[0m` : text);
}

/**
 * Configuration plus a Temporal connection opened on first use, closed by
 * {@link DebugContext.close}. Only commands that run agents (with a worker: fork,
 * rewind) start the dev server the way `exec` does; read-only ones (threads, show, …)
 * fail with a clear error instead of starting a server that would outlive them.
 */
export class DebugContext {
  private runtimePromise: Promise<UnrollRuntime> | undefined;
  private storePromise: Promise<{ opened: OpenedStore; storeId: string }> | undefined;
  private keyRing: KeyRing | null | undefined;

  constructor(
    readonly config: UnrollConfig,
    readonly io: DebugIo,
    private readonly withWorker = false,
  ) {}

  /** Loads the configuration for a command (flags as overrides). */
  static open(io: DebugIo, overrides: ConfigOverrides = {}, options: { withWorker?: boolean } = {}): DebugContext {
    return new DebugContext(loadConfig(io.env, { ...io.configSelection, ...overrides }), io, options.withWorker ?? false);
  }

  /** The configured encryption keys (read on first use), or null when encryption is off. */
  keys(): KeyRing | null {
    if (this.keyRing === undefined) this.keyRing = keyRingFor(this.config);
    return this.keyRing;
  }

  /** The codecs that decode this configuration's payloads (none when encryption is off). */
  payloadCodecs(): PayloadCodec[] {
    return payloadCodecsFor(this.keys());
  }

  /**
   * The configured transcript store (UNROLL_STORE or config.json `store`), opened and
   * checked on first use; commands that need no server (an imported thread) use it alone.
   */
  openedStore(): Promise<{ opened: OpenedStore; storeId: string }> {
    this.storePromise ??= openConfiguredStore(this.config, this.keys());
    return this.storePromise;
  }

  /** The connected runtime, on the configured store; the first call connects. */
  runtime(): Promise<UnrollRuntime> {
    if (!this.runtimePromise) {
      quietSdk('WARN');
      const keys = this.keys();
      this.runtimePromise = this.openedStore().then((store) => openRuntime(this.config, this.io.env, { withWorker: this.withWorker, startServer: this.withWorker, log: (m) => this.io.err.write(`${m}\n`), keys, store }));
    }
    return this.runtimePromise;
  }

  /** Closes the connection and the store if they were opened. */
  async close(): Promise<void> {
    const opened = this.runtimePromise;
    const store = this.storePromise;
    this.runtimePromise = undefined;
    this.storePromise = undefined;
    if (opened) await (await opened.catch(() => undefined))?.close();
    if (store) await (await store.catch(() => undefined))?.opened.close();
  }
}

/** Runs `body` with a context and always closes it. */
export async function withContext<T>(context: DebugContext, body: (ctx: DebugContext) => Promise<T>): Promise<T> {
  try {
    return await body(context);
  } finally {
    await context.close();
  }
}
