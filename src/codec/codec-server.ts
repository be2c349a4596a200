/**
 * A Temporal codec server: the HTTP endpoint the Temporal Web UI and CLI call to show
 * encrypted payloads in clear (`--ui-codec-endpoint` of the dev server, the UI's codec
 * settings, `temporal workflow show --codec-endpoint`). The key never leaves this process:
 * the key holder runs it, on loopback by default, for as long as they want others' tools
 * on this machine to read the payloads.
 *
 * Protocol (Temporal's codec server contract): `POST /decode` and `POST /encode` (also
 * under a namespace segment, `/{namespace}/decode`, for the CLI's endpoint templating)
 * with a JSON body `{payloads: [{metadata: {key: base64}, data: base64}]}` (proto3 JSON
 * of `Payload`, so metadata values are base64 too); the answer has the same shape. The
 * namespace comes from the `X-Namespace` header or the path; with `namespace` set, other
 * namespaces are refused (403). Browsers get CORS headers for the configured origins
 * only (credentials allowed, for the UI's "include cross-origin credentials"); a request
 * from any other origin is refused. Requests without an Origin (the CLI) are served.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Payload, PayloadCodec } from '@temporalio/common';
import { z } from 'zod';
import { ConfigError } from '../config/config';
import { DecryptionError } from './errors';

/** Origins of the Temporal Web UI of `temporal server start-dev`, allowed by default. */
export const DEV_UI_ORIGINS = ['http://localhost:8233', 'http://127.0.0.1:8233'] as const;

/** The port Temporal's samples and docs use for a codec server. */
export const DEFAULT_CODEC_PORT = 8888;

/** Options of {@link startCodecServer}. */
export interface CodecServerOptions {
  /** The codec that encodes and decodes (the AES-GCM codec over the key ring). */
  readonly codec: PayloadCodec;
  /** Address to listen on; loopback unless the key holder decides otherwise. */
  readonly host?: string;
  /** Port; 0 picks a free one. */
  readonly port?: number;
  /** Browser origins allowed to call (exact `scheme://host[:port]`). */
  readonly origins: readonly string[];
  /** Serve only this namespace (X-Namespace or path segment); any when undefined. */
  readonly namespace?: string;
  /** Largest request body accepted, in bytes. */
  readonly maxBodyBytes?: number;
  /** One line per request (method, path, status; never payload contents). */
  readonly log?: (line: string) => void;
}

/** A running codec server. */
export interface CodecServer {
  /** Base URL, e.g. `http://127.0.0.1:8888`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** The codec server cannot listen (port taken, bad host). */
export class CodecServerListenError extends ConfigError {
  override readonly name = 'CodecServerListenError';
  constructor(
    readonly address: string,
    cause: Error,
  ) {
    super(`the codec server cannot listen on ${address}: ${cause.message}`);
  }
}

const JsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).nullish(),
  data: z.string().nullish(),
});
const Body = z.object({ payloads: z.array(JsonPayload) });
type JsonPayload = z.infer<typeof JsonPayload>;

const BASE64 = /^[A-Za-z0-9+/_-]*={0,2}$/;

/** A request the server refuses, with its HTTP status. */
class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function bytesFromBase64(text: string, where: string): Buffer {
  if (!BASE64.test(text)) throw new HttpError(400, `${where} is not base64`);
  return Buffer.from(text, 'base64');
}

/** proto3 JSON → Payload. */
export function payloadFromJson(json: JsonPayload, index = 0): Payload {
  const metadata = Object.fromEntries(Object.entries(json.metadata ?? {}).map(([k, v]) => [k, bytesFromBase64(v, `payloads[${index}].metadata.${k}`)]));
  return { metadata, data: bytesFromBase64(json.data ?? '', `payloads[${index}].data`) };
}

/** Payload → proto3 JSON. */
export function payloadToJson(payload: Payload): { metadata: Record<string, string>; data: string } {
  const metadata = Object.fromEntries(Object.entries(payload.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]));
  return { metadata, data: Buffer.from(payload.data ?? new Uint8Array()).toString('base64') };
}

const ROUTE = /^\/(?:([^/]+)\/)?(encode|decode)\/?$/;

/** Starts the server; resolves once it listens. Throws {@link CodecServerListenError}. */
export async function startCodecServer(options: CodecServerOptions): Promise<CodecServer> {
  const host = options.host ?? '127.0.0.1';
  const maxBody = options.maxBodyBytes ?? 64 * 1024 * 1024;
  const allowed = new Set(options.origins);
  const log = options.log ?? (() => undefined);

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<number> => {
    const url = new URL(req.url ?? '/', 'http://codec.invalid');
    const route = ROUTE.exec(url.pathname);
    const origin = req.headers.origin;
    if (origin !== undefined) {
      if (!allowed.has(origin)) throw new HttpError(403, `origin ${origin} is not allowed (start the codec server with --origin ${origin})`);
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Credentials', 'true');
      res.setHeader('Vary', 'Origin');
    }
    if (!route) throw new HttpError(404, `no such endpoint: ${url.pathname} (POST /encode or /decode)`);
    if (req.method === 'OPTIONS') {
      res.setHeader('Access-Control-Allow-Methods', 'POST, OPTIONS');
      res.setHeader('Access-Control-Allow-Headers', 'Content-Type, X-Namespace, Authorization');
      res.setHeader('Access-Control-Max-Age', '600');
      res.writeHead(204).end();
      return 204;
    }
    if (req.method !== 'POST') {
      res.setHeader('Allow', 'POST, OPTIONS');
      throw new HttpError(405, `${req.method ?? '?'} ${url.pathname}: only POST`);
    }
    const namespace = firstHeader(req.headers['x-namespace']) ?? (route[1] ? decodeURIComponent(route[1]) : undefined);
    if (options.namespace !== undefined && namespace !== undefined && namespace !== options.namespace) {
      throw new HttpError(403, `this codec server serves namespace "${options.namespace}" only, not "${namespace}"`);
    }
    const body = parseBody(await readBody(req, maxBody));
    const payloads = body.payloads.map((p, i) => payloadFromJson(p, i));
    let result: Payload[];
    try {
      result = route[2] === 'decode' ? await options.codec.decode(payloads) : await options.codec.encode(payloads);
    } catch (err) {
      // A key the ring lacks (a ConfigError) or a payload that fails authentication.
      if (err instanceof ConfigError || err instanceof DecryptionError) throw new HttpError(400, err.message);
      throw err;
    }
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ payloads: result.map(payloadToJson) }));
    return 200;
  };

  const server = http.createServer((req, res) => {
    handle(req, res).then(
      (status) => log(`${req.method ?? '?'} ${req.url ?? ''} ${status}`),
      (err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        const message = err instanceof Error ? err.message : String(err);
        log(`${req.method ?? '?'} ${req.url ?? ''} ${status}: ${message}`);
        if (!res.headersSent) res.writeHead(status, { 'Content-Type': 'application/json' });
        res.end(JSON.stringify({ error: status === 500 ? 'internal error' : message }));
      },
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) => reject(new CodecServerListenError(`${host}:${options.port ?? DEFAULT_CODEC_PORT}`, err)));
    server.listen(options.port ?? DEFAULT_CODEC_PORT, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

function firstHeader(value: string | string[] | undefined): string | undefined {
  const first = Array.isArray(value) ? value[0] : value;
  return first === undefined || first === '' ? undefined : first;
}

function readBody(req: http.IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // Past the limit the rest is read and dropped, so the 413 answer still reaches the client.
      if (size > limit) reject(new HttpError(413, `the request body is larger than ${limit} bytes`));
      else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function parseBody(data: Buffer): z.infer<typeof Body> {
  let json: unknown;
  try {
    json = JSON.parse(data.toString('utf8'));
  } catch (err) {
    throw new HttpError(400, `the body is not JSON: ${(err as Error).message}`);
  }
  const parsed = Body.safeParse(json);
  if (!parsed.success) throw new HttpError(400, `the body is not {payloads: [{metadata, data}]}: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return parsed.data;
}
