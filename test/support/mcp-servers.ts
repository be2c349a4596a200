/**
 * MCP servers for tests, all real processes: the fixture servers of test/fixtures/mcp
 * (stdio, and streamable HTTP on 127.0.0.1) built on the official SDK, and the published
 * reference server `@modelcontextprotocol/server-everything`; plus how a test thread
 * records them (as the CLI does from `[mcp_servers.*]`).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { recordMcpServers } from '../../src/activities/mcp';
import type { McpServerConfig } from '../../src/config/config';
import type { SessionSettings } from '../../src/config/settings';
import { mcpServerSpecs } from '../../src/mcp/server-spec';
import type { TranscriptStore } from '../../src/store';
import { selectThreadTools } from '../../src/tools/thread-tools';
import { functionCall } from './responses-builders';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures', 'mcp');

/** `[mcp_servers.<name>]` of the stdio fixture server. */
export function fixtureStdioServer(name: string, extra: Partial<McpServerConfig> = {}): McpServerConfig {
  return { name, transport: 'stdio', command: process.execPath, args: [path.join(FIXTURES, 'stdio-server.mjs'), name], ...extra };
}

/** `[mcp_servers.<name>]` of server-everything over stdio (its default transport). */
export function everythingServer(name: string): McpServerConfig {
  return { name, transport: 'stdio', command: process.execPath, args: [require.resolve('@modelcontextprotocol/server-everything/dist/index.js'), 'stdio'], startup_timeout_sec: 30 };
}

/** The streamable HTTP fixture server, running in its own process. */
export interface HttpFixture {
  readonly url: string;
  readonly child: ChildProcess;
  kill(): Promise<void>;
}

/** Starts the HTTP fixture server; with `token`, it answers only `Authorization: Bearer <token>`. */
export async function startHttpFixture(token?: string): Promise<HttpFixture> {
  const child = spawn(process.execPath, [path.join(FIXTURES, 'http-server.mjs')], { env: { PATH: process.env.PATH, ...(token ? { MCP_TEST_TOKEN: token } : {}) }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString('utf8');
      if (out.includes('\n')) resolve(out.trim());
    });
    child.once('exit', (code) => reject(new Error(`the HTTP MCP fixture exited with ${code}`)));
  });
  return {
    url,
    child,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
  };
}

/** A call of an MCP tool as the model makes it under Codex's tools: `{namespace: "mcp__<server>", name: "<tool>"}`. */
export function mcpCall(server: string, tool: string, args: unknown, callId?: string): ReturnType<typeof functionCall> & { namespace: string } {
  return { ...functionCall(tool, args, callId), namespace: `mcp__${server}` };
}

/** The header of every MCP output, as Codex writes it (the wall time varies). */
export const WALL_TIME = /^Wall time: \d+\.\d{4} seconds\nOutput:$/;

/** Settings overrides of a thread with these MCP servers (and a recorded tool list), as `unroll exec` makes them. */
export async function mcpThread(store: TranscriptStore, servers: McpServerConfig[], context: Pick<SessionSettings, 'model' | 'sandboxMode' | 'approvalPolicy'>): Promise<Partial<SessionSettings>> {
  const mcpServers = await recordMcpServers(store, mcpServerSpecs(Object.fromEntries(servers.map((s) => [s.name, s]))));
  return { ...context, tools: selectThreadTools(context), mcpServers };
}
