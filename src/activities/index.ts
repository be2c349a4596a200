/**
 * All of Unroll's activities, created from their dependencies. The worker registers
 * the object this returns; workflows proxy it by type only.
 */
import type { TranscriptStore } from '../store/transcript-store';
import { createCheckpointActivities } from './checkpoints';
import { createCompactionActivities } from './compaction';
import { createExecSessionActivities } from './exec-sessions';
import { createInferenceActivities } from './inference';
import { McpHost } from './mcp';
import { processMcpPool, type McpClientPool } from '../mcp/pool';
import { ModelClients } from './model-client';
import { classifyingStoreErrors } from './store-errors';
import { checkingThreadStore, type StoreIdentity } from './store-identity';
import { createToolAndRequestActivities } from './tool-and-request';
import { createToolActivities } from './tools';
import { createTurnSetupActivities, type HostFacts } from './turn-setup';
import type { ListMcpToolsInput } from './types';

/** What the activities need from the process that hosts them. */
export interface ActivityDeps {
  readonly store: TranscriptStore;
  readonly apiKey: (envKey: string) => string | undefined;
  readonly host: HostFacts;
  /** Test hook for crash tests (see `ToolContext.stepHook`); never set in normal runs. */
  readonly toolStepHook?: (step: string) => Promise<void>;
  /**
   * The environment tool processes get: the worker's own, filtered by its shell
   * environment policy (`toolEnvironment` in src/tools/environment.ts). Never the raw
   * process environment: that holds the provider's API key.
   */
  readonly toolEnvironment: Readonly<Record<string, string>>;
  /** The worker's store, checked against each thread's (see ./store-identity); absent: no check. */
  readonly storeIdentity?: StoreIdentity;
  /** Where this host keeps its shadow repositories (a cache; see ./checkpoints.ts). */
  readonly checkpointRoot?: string;
  /** The MCP servers of this process (default: the process's one pool, src/mcp/pool.ts). */
  readonly mcpPool?: McpClientPool;
}

/** Creates every activity with its dependencies. */
export function createActivities(deps: ActivityDeps) {
  const clients = new ModelClients(deps.apiKey);
  const mcp = new McpHost({ store: deps.store, pool: deps.mcpPool ?? processMcpPool, toolEnvironment: deps.toolEnvironment, secret: deps.apiKey });
  const activities = {
    ...createTurnSetupActivities({ store: deps.store, host: deps.host }),
    ...createInferenceActivities({ store: deps.store, clients }),
    // Store errors leave every activity classified (see ./store-errors); the other
    // groups wrap themselves, the tool activity is wrapped here.
    ...classifyingStoreErrors(createToolActivities({ store: deps.store, stepHook: deps.toolStepHook, env: deps.toolEnvironment, mcp })),
    // Lists the thread's MCP tools on its host when it starts (./mcp.ts).
    ...classifyingStoreErrors({ listMcpTools: (input: ListMcpToolsInput) => mcp.listMcpTools(input) }),
    ...createCompactionActivities({ store: deps.store, clients, host: deps.host }),
    ...classifyingStoreErrors(createCheckpointActivities({ store: deps.store, checkpointRoot: deps.checkpointRoot })),
    ...createExecSessionActivities(),
  };
  // A step's call and the next request in one activity (./tool-and-request.ts).
  const chained = { ...activities, ...createToolAndRequestActivities({ runTool: (input) => activities.runTool(input), runInference: (input) => activities.runInference(input) }) };
  return deps.storeIdentity ? checkingThreadStore(chained, deps.storeIdentity) : chained;
}

/** The activity interface, for `proxyActivities<Activities>()` in workflows. */
export type Activities = ReturnType<typeof createActivities>;

/**
 * The activities that touch the workspace (tools; AGENTS.md and environment reading): a
 * host's own worker serves these on the host's task queue (see src/shared/hosts.ts).
 */
export const WORKSPACE_ACTIVITIES = ['beginTurn', 'readWorkspaceContext', 'runTool', 'runToolAndInfer', 'checkpointWorkspace', 'restoreWorkspace', 'listMcpTools', 'endExecSessions'] as const satisfies readonly (keyof Activities)[];

/** The workspace activities of `all`, for the host queue's worker. */
export function workspaceActivities(all: Activities): Pick<Activities, (typeof WORKSPACE_ACTIVITIES)[number]> {
  return {
    beginTurn: (input) => all.beginTurn(input),
    readWorkspaceContext: (input) => all.readWorkspaceContext(input),
    runTool: (input) => all.runTool(input),
    runToolAndInfer: (input) => all.runToolAndInfer(input),
    checkpointWorkspace: (input) => all.checkpointWorkspace(input),
    restoreWorkspace: (input) => all.restoreWorkspace(input),
    listMcpTools: (input) => all.listMcpTools(input),
    endExecSessions: (input) => all.endExecSessions(input),
  };
}
export * from './types';
export type { CompactInput, CompactResult, CompactionReason } from './compaction';
export { InferenceFailureType, NON_RETRYABLE_INFERENCE_FAILURES } from './inference-errors';
export { currentHostFacts, type HostFacts } from './turn-setup';
export { recordMcpServers } from './mcp';
export type { StoreIdentity } from './store-identity';
export type { EndExecSessionsInput } from './exec-sessions';
export type { CheckpointInput, RestoreWorkspaceInput, RestoreWorkspaceResult } from './checkpoints';
