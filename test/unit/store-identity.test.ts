/**
 * The thread-store check every activity with a thread's settings runs first: a worker
 * on another store than the thread's refuses it non-retryably, naming both stores; a
 * thread in the worker's store, or one recorded before threads named their store, runs.
 */
import { ApplicationFailure } from '@temporalio/common';
import { checkingThreadStore, type StoreIdentity } from '../../src/activities/store-identity';
import { NON_RETRYABLE_INFERENCE_FAILURES, StoreFailureType } from '../../src/shared/failure-types';

const identity: StoreIdentity = { id: '11111111-1111-4111-8111-111111111111', description: 'file:/home/b/.unroll/store', host: 'host-b', source: 'UNROLL_STORE' };
const threadStore = { storeId: '22222222-2222-4222-8222-222222222222', storeDescription: 'postgres://unroll:***@db:5432/unroll' };

function activities() {
  const calls: unknown[] = [];
  const wrapped = checkingThreadStore({ work: (input: { threadId: string; settings?: object }) => (calls.push(input), Promise.resolve('ran')) }, identity);
  return { calls, work: wrapped.work };
}

describe('checkingThreadStore', () => {
  test('runs an activity of a thread that lives in the worker’s store', async () => {
    const { work, calls } = activities();
    await expect(work({ threadId: 'th-a', settings: { storeId: identity.id } })).resolves.toBe('ran');
    expect(calls).toHaveLength(1);
  });

  test('runs an activity of a thread recorded before threads named their store', async () => {
    const { work } = activities();
    await expect(work({ threadId: 'th-old', settings: {} })).resolves.toBe('ran');
    await expect(work({ threadId: 'th-old' })).resolves.toBe('ran');
  });

  test('refuses a thread of another store, non-retryably and naming both stores, without running the activity', async () => {
    const { work, calls } = activities();
    const err = await work({ threadId: 'th-x', settings: threadStore }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    const failure = err as ApplicationFailure;
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe(StoreFailureType.WrongStore);
    expect(NON_RETRYABLE_INFERENCE_FAILURES).toContain(failure.type);
    expect(failure.message).toBe(
      'worker on host host-b uses store file:/home/b/.unroll/store (id 11111111-1111-4111-8111-111111111111) but thread th-x lives in store ' +
        'postgres://unroll:***@db:5432/unroll (id 22222222-2222-4222-8222-222222222222); point UNROLL_STORE at the thread\'s store ' +
        '(the one `unroll` used when the thread started) and restart the worker',
    );
    expect(calls).toHaveLength(0);
  });
});
