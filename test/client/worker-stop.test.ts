/**
 * `unroll worker` always stops: the escalation of {@link serveUntilStopped} when the
 * worker's drain never ends (as when the SDK worker hung in DRAINING). The runtime here
 * is a stand-in whose worker never drains: the fault itself is gone (see
 * test/e2e/worker-signals.test.ts for the real worker process), so the escalation is
 * exercised directly. Signals are delivered as process events to the handlers the
 * command installs.
 */
import { PassThrough } from 'node:stream';
import type { UnrollRuntime } from '../../src/client/runtime';
import { serveUntilStopped } from '../../src/client/worker-command';

/** A runtime whose worker is stuck draining: close() and stopped never settle. */
function stuckRuntime(): UnrollRuntime {
  const never = new Promise<never>(() => undefined);
  return {
    client: undefined as never,
    store: undefined as never,
    opened: undefined as never,
    storeId: '',
    worker: { getState: () => 'DRAINING' } as never,
    keys: null,
    stopped: never,
    close: () => never,
  };
}

function capture(): { stream: PassThrough; text: () => string } {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('stopping a worker that cannot drain', () => {
  test('a second signal leaves at once, with the exit code of that signal', async () => {
    const err = capture();
    const served = serveUntilStopped(stuckRuntime(), err.stream, 60_000);
    process.emit('SIGTERM', 'SIGTERM');
    process.emit('SIGINT', 'SIGINT');
    expect(await served).toBe(130);
    expect(err.text()).toBe(
      'SIGTERM: stopping the worker (at most 60 s; send SIGTERM again to leave at once)\nSIGINT again: leaving now without waiting for the worker to drain\n',
    );
    expect(process.listeners('SIGINT')).toHaveLength(0);
  });

  test('without a second signal it leaves after the deadline, saying the worker did not stop', async () => {
    const err = capture();
    const served = serveUntilStopped(stuckRuntime(), err.stream, 200);
    process.emit('SIGINT', 'SIGINT');
    expect(await served).toBe(1);
    expect(err.text()).toContain('the worker did not stop within 0.2 s (state DRAINING); leaving anyway\n');
    expect(process.listeners('SIGTERM')).toHaveLength(0);
  });
});
