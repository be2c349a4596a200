/**
 * The client's part of MCP (src/activities/mcp.ts does the rest, on the thread's host):
 * recording the configured servers with a new thread, and telling the user which of them
 * failed to start, one line each (an `error` event with `--json`), naming the server and
 * its config key.
 */
import type { Client } from '@temporalio/client';
import { recordMcpServers } from '../activities/mcp';
import type { UnrollConfig } from '../config/config';
import type { SessionSettings } from '../config/settings';
import { mcpServerSpecs } from '../mcp/server-spec';
import { sessionWorkflowId } from '../shared/ids';
import type { TranscriptStore } from '../store/transcript-store';
import { sessionQuery } from '../workflows/definitions';
import { notice, type EventSink } from './run-turn';

/** `SessionSettings.mcpServers` for a new thread: its enabled servers, stored; nothing when there are none. */
export async function mcpServerSettings(config: Pick<UnrollConfig, 'mcpServers'>, store: TranscriptStore): Promise<Pick<SessionSettings, 'mcpServers'>> {
  const specs = mcpServerSpecs(config.mcpServers);
  return specs.length > 0 ? { mcpServers: await recordMcpServers(store, specs) } : {};
}

/** Tells the user about the thread's servers that failed to start (the first turn has started, so they were listed). */
export async function reportMcpFailures(client: Client, threadId: string, sink: EventSink): Promise<void> {
  const view = await client.workflow.getHandle(sessionWorkflowId(threadId)).query(sessionQuery);
  for (const failure of view.mcpFailures ?? []) notice(sink, failure.message);
}
