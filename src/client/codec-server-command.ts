/**
 * `unroll codec-server [--port 8888] [--host 127.0.0.1] [--origin URL…] [--namespace NS]`:
 * serves the configured encryption key as a Temporal codec server (src/codec/codec-server.ts)
 * until Ctrl-C, so the Temporal Web UI (`temporal server start-dev --ui-codec-endpoint
 * http://127.0.0.1:8888`) and CLI (`temporal workflow show --codec-endpoint …`) can show
 * an encrypted thread's payloads. Running it is the key holder's consent; stopping it
 * withdraws it.
 */
import { AesGcmPayloadCodec } from '../codec/aes-gcm-codec';
import { DEFAULT_CODEC_PORT, DEV_UI_ORIGINS, startCodecServer } from '../codec/codec-server';
import { DebugContext, DebugUsageError, guarded, type DebugIo } from './debug-command';

/** Options of `unroll codec-server`. */
export interface CodecServerFlags {
  readonly port?: string;
  readonly host?: string;
  readonly origin?: readonly string[];
  readonly namespace?: string;
}

/** Resolves on SIGINT or SIGTERM. */
function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}

function parsePort(value: string | undefined): number {
  if (value === undefined) return DEFAULT_CODEC_PORT;
  if (!/^\d+$/.test(value) || Number(value) > 65_535) throw new DebugUsageError(`--port expects a port number (0 picks a free one), got "${value}"`);
  return Number(value);
}

function parseOrigin(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new DebugUsageError(`--origin expects a URL like https://cloud.temporal.io or http://localhost:8233, got "${value}"`);
  }
  if (url.origin === 'null') throw new DebugUsageError(`--origin ${value} has no origin (give scheme://host[:port])`);
  return url.origin;
}

/**
 * Runs `unroll codec-server` until `until` resolves (default: SIGINT or SIGTERM).
 * Exit 2 when no key is configured or the flags are wrong.
 */
export function codecServerCommand(flags: CodecServerFlags, io: DebugIo, until: () => Promise<void> = untilSignal): Promise<number> {
  return guarded(io, async () => {
    const ctx = DebugContext.open(io);
    const port = parsePort(flags.port);
    const origins = flags.origin && flags.origin.length > 0 ? flags.origin.map(parseOrigin) : [...DEV_UI_ORIGINS];
    const keys = ctx.keys();
    if (!keys) throw new DebugUsageError('codec-server needs the encryption key: set UNROLL_ENCRYPTION_KEY_FILE (or UNROLL_ENCRYPTION_KEY, or encryption.keyFile in config.json)');
    const namespace = flags.namespace ?? ctx.config.temporal.namespace;
    const server = await startCodecServer({
      codec: new AesGcmPayloadCodec(keys),
      host: flags.host ?? '127.0.0.1',
      port,
      origins,
      namespace,
      log: (line) => io.err.write(`${line}\n`),
    });
    io.err.write(`codec server for namespace "${namespace}" at ${server.url} (keys: ${keys.ids().join(', ')}; browser origins: ${origins.join(', ')})\n`);
    io.err.write(`  Web UI: temporal server start-dev --ui-codec-endpoint ${server.url}   CLI: temporal workflow show --codec-endpoint ${server.url} -w <id>\n`);
    io.err.write('Ctrl-C to stop\n');
    try {
      await until();
    } finally {
      await server.close();
    }
    return 0;
  });
}
