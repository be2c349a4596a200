/**
 * The MCP servers of one worker process: each server is started (stdio) or connected to
 * (streamable HTTP) once, through the official `@modelcontextprotocol/sdk` client, and
 * reused by every later listing and call of any thread whose launch is the same (same
 * recorded spec, environment and directory: the pool's key). A server that exits or
 * hangs up leaves the pool at once, so the next call starts a fresh one; the call that
 * was running gets an {@link McpServerGoneError}.
 *
 * Starting is bounded by the server's startup timeout (spawn, `initialize`), each call
 * by its tool timeout; both are errors that name the server and its config key.
 */
import { createHash } from 'node:crypto';
import type { Readable } from 'node:stream';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError, type CallToolResult, type Tool } from '@modelcontextprotocol/sdk/types.js';
import { McpCallTimeoutError, McpServerGoneError, McpServerStartError } from './errors';
import { mcpConfigKey, type McpServerSpec } from './server-spec';

/** Everything that decides how a server is started: two equal launches share one server. */
export interface McpLaunch {
  readonly spec: McpServerSpec;
  /** The whole environment of a stdio server's process. */
  readonly env: Readonly<Record<string, string>>;
  /** The directory a stdio server starts in. */
  readonly cwd: string;
  /** HTTP headers of a streamable HTTP server, tokens resolved. */
  readonly headers: Readonly<Record<string, string>>;
}

/** The name and version Unroll gives servers in `initialize`. */
const CLIENT_INFO = { name: 'unroll', version: '1' };

/** How much of a stdio server's stderr is kept for error messages. */
const STDERR_TAIL_CHARS = 2000;

interface LiveServer {
  readonly client: Client;
  closed: boolean;
  stderrTail: string;
}

/** A per-process pool of running MCP servers; see the module comment. */
export class McpClientPool {
  private readonly servers = new Map<string, Promise<LiveServer>>();

  /** The server's tools (all pages), starting it if it is not running. */
  async listTools(launch: McpLaunch): Promise<Tool[]> {
    const live = await this.server(launch);
    const tools: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await live.client
        .listTools(cursor !== undefined ? { cursor } : undefined, { timeout: launch.spec.startupTimeoutMs })
        .catch((err: unknown) => {
          throw new McpServerStartError(launch.spec.name, `tools/list failed: ${describe(err, live)}`);
        });
      tools.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined);
    return tools;
  }

  /**
   * Calls `tool` with `args` (starting the server if needed). A tool's own error
   * (`isError`, or a JSON-RPC error such as an unknown tool) comes back as the result or
   * as a plain Error; a server that went away, a timeout and a failed start throw the
   * named errors of ./errors.ts. An aborted `signal` cancels the call.
   */
  async callTool(launch: McpLaunch, tool: string, args: Record<string, unknown>, signal?: AbortSignal): Promise<CallToolResult> {
    const live = await this.server(launch);
    try {
      return (await live.client.callTool({ name: tool, arguments: args }, undefined, { timeout: launch.spec.toolTimeoutMs, ...(signal ? { signal } : {}) })) as CallToolResult;
    } catch (err) {
      if (signal?.aborted) throw err;
      if (err instanceof McpError && err.code === (ErrorCode.RequestTimeout as number)) throw new McpCallTimeoutError(launch.spec.name, tool, launch.spec.toolTimeoutMs);
      if (live.closed || (err instanceof McpError && err.code === (ErrorCode.ConnectionClosed as number)) || !(err instanceof McpError)) {
        this.forget(launch, live);
        throw new McpServerGoneError(launch.spec.name, describe(err, live));
      }
      throw new Error(err.message);
    }
  }

  /** Stops every server of the pool (worker shutdown, end of a test). */
  async closeAll(): Promise<void> {
    const all = [...this.servers.values()];
    this.servers.clear();
    await Promise.all(all.map(async (p) => {
      const live = await p.catch(() => null);
      await live?.client.close().catch(() => undefined);
    }));
  }

  /** How many servers are running (for tests and diagnostics). */
  get size(): number {
    return this.servers.size;
  }

  private server(launch: McpLaunch): Promise<LiveServer> {
    const key = launchKey(launch);
    let started = this.servers.get(key);
    if (!started) {
      started = start(launch, () => this.servers.delete(key));
      this.servers.set(key, started);
      // A start that failed is not kept: the next use tries again.
      started.catch(() => {
        if (this.servers.get(key) === started) this.servers.delete(key);
      });
    }
    return started;
  }

  private forget(launch: McpLaunch, live: LiveServer): void {
    const key = launchKey(launch);
    void this.servers.get(key)?.then((current) => {
      if (current === live) this.servers.delete(key);
    }, () => undefined);
    void live.client.close().catch(() => undefined);
  }
}

/** Starts one server and connects to it, within its startup timeout. */
async function start(launch: McpLaunch, onGone: () => void): Promise<LiveServer> {
  const { spec } = launch;
  const live: LiveServer = { client: new Client(CLIENT_INFO, { capabilities: {} }), closed: false, stderrTail: '' };
  const transport = makeTransport(launch, live);
  live.client.onclose = () => {
    live.closed = true;
    onGone();
  };
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new McpServerStartError(spec.name, `no answer to initialize within ${spec.startupTimeoutMs} ms (${mcpConfigKey(spec.name)}.startup_timeout_sec)`)), spec.startupTimeoutMs);
  });
  try {
    await Promise.race([live.client.connect(transport, { timeout: spec.startupTimeoutMs }), timeout]);
    return live;
  } catch (err) {
    await live.client.close().catch(() => undefined);
    if (err instanceof McpServerStartError) throw err;
    throw new McpServerStartError(spec.name, describe(err, live));
  } finally {
    clearTimeout(timer);
  }
}

function makeTransport(launch: McpLaunch, live: LiveServer): Transport {
  const { spec } = launch;
  if (spec.transport === 'streamable_http') {
    return new StreamableHTTPClientTransport(new URL(spec.url!), { requestInit: { headers: { ...launch.headers } } });
  }
  const transport = new StdioClientTransport({ command: spec.command!, args: spec.args, env: { ...launch.env }, cwd: launch.cwd, stderr: 'pipe' });
  (transport.stderr as Readable | null)?.on('data', (chunk: Buffer) => {
    live.stderrTail = (live.stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL_CHARS);
  });
  return transport;
}

/** An error's message, with what the server last wrote to stderr (why it died, usually). */
function describe(err: unknown, live: LiveServer): string {
  const message = err instanceof Error ? err.message : String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const base = code === 'ENOENT' ? `the command was not found (${message})` : live.closed && !/closed/i.test(message) ? `${message} (the server exited)` : message;
  const stderr = live.stderrTail.trim();
  return stderr === '' ? base : `${base}; its stderr ends with: ${stderr.split('\n').slice(-5).join(' | ')}`;
}

function launchKey(launch: McpLaunch): string {
  return createHash('sha256').update(JSON.stringify([launch.spec, Object.entries(launch.env).sort(), launch.cwd, Object.entries(launch.headers).sort()])).digest('hex');
}

/**
 * The pool of this worker process: every worker (the shared queue's and the host queue's)
 * of the process shares it, so a server is started once per process. Closed by
 * `closeAll()` when the process's workers stop.
 */
export const processMcpPool = new McpClientPool();
