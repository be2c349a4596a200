/**
 * The ways an MCP server fails Unroll, each naming the server and its config key: it
 * did not start (or list its tools) in time, or it died or hung up during a call.
 */
import { mcpConfigKey } from './server-spec';

/** A server that could not be started, initialised or listed (within `startup_timeout_sec`). */
export class McpServerStartError extends Error {
  override readonly name = 'McpServerStartError';
  constructor(readonly server: string, readonly reason: string) {
    super(`MCP server "${server}" (${mcpConfigKey(server)}) failed to start: ${reason}`);
  }
}

/** A server that went away (exited, closed its connection) while a call was running. */
export class McpServerGoneError extends Error {
  override readonly name = 'McpServerGoneError';
  constructor(readonly server: string, readonly reason: string) {
    super(`MCP server "${server}" (${mcpConfigKey(server)}) stopped during the call: ${reason}`);
  }
}

/** A call that got no answer within the server's `tool_timeout_sec`. */
export class McpCallTimeoutError extends Error {
  override readonly name = 'McpCallTimeoutError';
  constructor(readonly server: string, readonly tool: string, readonly timeoutMs: number) {
    super(`MCP tool ${server}/${tool} did not answer within ${timeoutMs} ms (${mcpConfigKey(server)}.tool_timeout_sec)`);
  }
}
