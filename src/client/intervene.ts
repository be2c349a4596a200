/**
 * Client operations for a person steering a running thread: answer an approval, list
 * what waits for approval, interrupt the running turn, send a message to it. They all
 * address the thread's running turn through the session's state.
 */
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { sessionWorkflowId, turnWorkflowId, THREAD_ID } from '../shared/ids';
import {
  answerApprovalUpdate,
  interruptSignal,
  sendInputUpdate,
  turnProgressQuery,
  type ApprovalDecision,
  type PendingApproval,
  type SendInputResult,
} from '../workflows/definitions';
import { refusalExplained } from './request-errors';
import { assertCanWriteTo } from './thread-encryption';
import { describeThread, InvalidThreadIdError, ThreadNotFoundError } from './threads';

/** The thread has no running turn to act on. */
export class NoRunningTurnError extends Error {
  override readonly name = 'NoRunningTurnError';
  constructor(readonly threadId: string, action: string) {
    super(`thread ${threadId} has no running turn to ${action}`);
  }
}

async function runningTurnId(client: Client, threadId: string, action: string): Promise<string> {
  const view = await describeThread(client, threadId);
  if (view.runningTurn === null) throw new NoRunningTurnError(threadId, action);
  return turnWorkflowId(threadId, view.runningTurn);
}

/** Calls of a thread's running turn that wait for approval (empty when none runs). */
export async function pendingApprovals(client: Client, threadId: string): Promise<PendingApproval[]> {
  const view = await describeThread(client, threadId);
  if (view.runningTurn === null) return [];
  const progress = await client.workflow.getHandle(turnWorkflowId(threadId, view.runningTurn)).query(turnProgressQuery, { after: Number.MAX_SAFE_INTEGER });
  return progress.pendingApprovals;
}

/** Answers an approval of the running turn; `callId` may be omitted when only one waits. */
export async function answerApproval(client: Client, threadId: string, decision: ApprovalDecision, callId?: string): Promise<{ callId: string; decision: ApprovalDecision }> {
  await assertCanWriteTo(client, threadId);
  const turnId = await runningTurnId(client, threadId, 'approve or deny');
  return refusalExplained(threadId, decision === 'approve' || decision === 'approve-for-session' ? 'approval' : 'denial', () =>
    client.workflow.getHandle(turnId).executeUpdate(answerApprovalUpdate, { args: [{ decision, ...(callId ? { callId } : {}) }] }),
  );
}

/** Interrupts the running turn; resolves once the signal is recorded. */
export async function interruptTurn(client: Client, threadId: string, reason = 'interrupted by the user'): Promise<string> {
  await assertCanWriteTo(client, threadId);
  const turnId = await runningTurnId(client, threadId, 'interrupt');
  await client.workflow.getHandle(turnId).signal(interruptSignal, { reason });
  return turnId;
}

/** Sends a message: into the running turn if there is one, else as the next turn. */
export async function sendInput(client: Client, threadId: string, text: string): Promise<SendInputResult> {
  if (!THREAD_ID.test(threadId)) throw new InvalidThreadIdError(threadId);
  await assertCanWriteTo(client, threadId);
  try {
    return await refusalExplained(threadId, 'message', () => client.workflow.getHandle(sessionWorkflowId(threadId)).executeUpdate(sendInputUpdate, { args: [{ text }] }));
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ThreadNotFoundError(threadId);
    throw err;
  }
}
