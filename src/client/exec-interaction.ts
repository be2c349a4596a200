/**
 * The interactive side of `unroll exec` on a terminal: answering approval requests at a
 * prompt, and Ctrl-C (once: interrupt the running turn and let it record the
 * interruption; twice: leave at once, the thread stays resumable).
 */
import * as readline from 'node:readline/promises';
import type { Client } from '@temporalio/client';
import type { ApprovalDecision } from '../workflows/definitions';
import type { ExecEvent } from './exec-events';
import { answerApproval, interruptTurn } from './intervene';
import { PROCESS_SIGNALS, type SignalHost } from './process-io';

const ANSWERS: Record<string, ApprovalDecision> = { y: 'approve', yes: 'approve', a: 'approve-for-session', always: 'approve-for-session', n: 'deny', no: 'deny', x: 'abort', abort: 'abort' };

/** Asks at the terminal and sends the answer; repeats on an answer it does not know. */
export function approvalPrompter(client: Client, threadId: string, input: NodeJS.ReadableStream, output: NodeJS.WritableStream) {
  return async (request: Extract<ExecEvent, { type: 'approval.requested' }>): Promise<void> => {
    const rl = readline.createInterface({ input, output, terminal: true });
    try {
      for (;;) {
        const answer = (await rl.question(`  approve ${request.call_id}? [y]es / [a]lways for this thread / [n]o / [x] abort the turn: `)).trim().toLowerCase();
        const decision = ANSWERS[answer];
        if (!decision) continue;
        await answerApproval(client, threadId, decision, request.call_id);
        return;
      }
    } finally {
      rl.close();
    }
  };
}

/**
 * Installs the Ctrl-C behaviour for the duration of a turn (and SIGTERM: leave at once,
 * like a crash; the thread stays resumable); returns the uninstaller.
 * `threadId` is read when the signal arrives (it may be known only after the start).
 */
export function installCtrlC(client: Client, threadId: () => string | undefined, err: NodeJS.WritableStream, signals: SignalHost = PROCESS_SIGNALS): () => void {
  let presses = 0;
  const onSigint = () => {
    presses += 1;
    const id = threadId();
    if (presses > 1 || !id) {
      err.write(`\nleaving now; the thread goes on when a worker runs${id ? ` (unroll resume ${id})` : ''}\n`);
      signals.exit(130);
      return;
    }
    err.write('\ninterrupting the turn… (Ctrl-C again to leave at once)\n');
    interruptTurn(client, id).catch((e: unknown) => err.write(`could not interrupt: ${e instanceof Error ? e.message : String(e)}\n`));
  };
  const onSigterm = () => {
    const id = threadId();
    err.write(`\nterminated; the thread goes on when a worker runs${id ? ` (unroll resume ${id})` : ''}\n`);
    signals.exit(143);
  };
  signals.on('SIGINT', onSigint);
  signals.on('SIGTERM', onSigterm);
  return () => {
    signals.off('SIGINT', onSigint);
    signals.off('SIGTERM', onSigterm);
  };
}
