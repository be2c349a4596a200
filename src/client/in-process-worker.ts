/**
 * This host's workers run inside the command's own process (`unroll worker`, and `exec`
 * or `resume` with `--in-process-worker`). Loaded only when wanted: the worker SDK, the
 * activities and their dependencies (the model client, the shell) take a good part of a
 * second to import, which a thin client must not pay.
 */
import { NativeConnection } from '@temporalio/worker';
import type { DataConverter } from '@temporalio/common';
import { currentHostFacts } from '../activities';
import type { UnrollConfig } from '../config/config';
import type { OpenedStore } from '../store';
import { toolEnvironment } from '../tools/environment';
import { createHostWorkers, type HostWorkers } from '../workers/worker';

/** A running in-process worker and its connection. */
export interface InProcessWorker {
  readonly worker: HostWorkers;
  /** Settles when the workers have stopped (rejects when they failed). */
  readonly running: Promise<void>;
  readonly connection: NativeConnection;
}

/**
 * Connects and runs this host's workers (the shared queue's and the host queue's) with
 * the configured store. The tools of threads without a recorded environment get this
 * process's environment, filtered by the shell environment policy.
 */
export async function startInProcessWorker(
  config: UnrollConfig,
  env: Record<string, string | undefined>,
  options: { opened: OpenedStore; storeId: string; dataConverter: DataConverter },
): Promise<InProcessWorker> {
  const { address, namespace, taskQueue } = config.temporal;
  const connection = await NativeConnection.connect({ address });
  try {
    const worker = await createHostWorkers({
      connection,
      namespace,
      taskQueue,
      hostId: config.hostId,
      failover: config.failover,
      deps: {
        store: options.opened.store,
        apiKey: (name) => env[name],
        host: currentHostFacts(env),
        toolEnvironment: toolEnvironment(env, config.toolEnvironment.policy, config.toolEnvironment.secretNames),
        storeIdentity: { id: options.storeId, description: options.opened.description, host: config.hostId, source: options.opened.source },
        checkpointRoot: config.checkpointRoot,
      },
      dataConverter: options.dataConverter,
    });
    return { worker, running: worker.run(), connection };
  } catch (err) {
    await connection.close();
    throw err;
  }
}
