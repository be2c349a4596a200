/**
 * A standalone worker (`unroll worker`, a real process) always stops on SIGINT and
 * SIGTERM, and nothing a client sends can shut it down. The fault this guards against:
 * a worker without the encryption key, serving an encrypted thread that a client
 * without the key queried, let the encrypted payloads into the workflow sandbox; the
 * SDK then sent Core a malformed completion, Core shut the worker down, and it hung in
 * DRAINING, deaf to signals. Now the worker's codec refuses encrypted payloads up front
 * (the query fails with a message naming the key) and the worker keeps running.
 */
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import { parseKeyFile } from '../../src/codec';
import { sessionQuery } from '../../src/workflows/definitions';
import { settled } from '../replay/corpus-scenarios';
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond } from '../support/responses-builders';
import { spawnWorker } from '../support/worker-process';
import { offlineEnv, runCli } from './run-cli';

jest.setTimeout(240_000);

/** Resolves with the exit code (or signal) once the process exits, or 'still running' after `ms`. */
function exitWithin(child: ChildProcess, ms: number): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode ?? String(child.signalCode));
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve('still running'), ms);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? String(signal));
    });
  });
}

describe('a standalone worker and signals', () => {
  const keySpec = `worker-key:${randomBytes(32).toString('base64')}`;
  let h: Harness;
  let threadId: string;

  beforeAll(async () => {
    h = await startHarness({ keys: parseKeyFile(keySpec, 'spec') });
    h.model.enqueue(respond(assistantMessage('an encrypted answer')));
    threadId = (await h.runThread('an encrypted task')).threadId;
    await settled(h, threadId);
    // From here on only the standalone workers serve the thread's task queue.
    await h.stopWorker();
  });
  afterAll(async () => {
    await h?.close();
  });

  test.each(['SIGTERM', 'SIGINT'] as const)(
    'a worker without the key survives a keyless client querying an encrypted thread, and stops on %s',
    async (signal) => {
      const worker = await spawnWorker({ home: h.home, taskQueue: h.taskQueue, address: h.address });
      try {
        const clientEnv = { ...offlineEnv(h.home), UNROLL_TEMPORAL_ADDRESS: h.address, UNROLL_TASK_QUEUE: h.taskQueue, OPENAI_API_KEY: 'test-key', UNROLL_WORKER_WAIT_MS: '10000' };
        // `pending` reads the session with a query that the keyless worker has to answer
        // from the encrypted history; so does a client that has the key.
        const pendings = [await runCli(['pending', threadId], clientEnv, h.home), await runCli(['pending', threadId], clientEnv, h.home)];
        const queried = await h.client.workflow.getHandle(threadId).query(sessionQuery).then(() => 'answered', (err: Error) => err.message);

        worker.child.kill(signal);
        expect(await exitWithin(worker.child, 60_000)).toBe(0);
        expect(worker.log()).toContain(`${signal}: stopping the worker`);
        expect(worker.log()).not.toContain('Initiating Worker shutdown');

        // Each query failed with a message naming the missing key, in the worker and not in its sandbox.
        for (const pending of pendings) {
          expect(pending.code).not.toBe(0);
          expect(pending.stderr).toContain('is encrypted (key "worker-key") and no key is configured');
        }
        expect(queried).toContain('is encrypted (key "worker-key") and no key is configured');
        expect(worker.log()).toContain('MissingEncryptionKeyError');
      } finally {
        await worker.kill();
      }
    },
  );
});
