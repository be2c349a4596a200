/**
 * How store errors reach Temporal: a corrupt or missing object is retried a few times
 * and then final, naming the object, what it is and the thread; a refused read or write
 * is retried with a message that says why; anything else passes through unchanged.
 */
import { ApplicationFailure } from '@temporalio/common';
import { classifyStoreError, classifyingStoreErrors, UNREADABLE_OBJECT_ATTEMPTS } from '../../src/activities/store-errors';
import { StoreFailureType } from '../../src/shared/failure-types';
import { CorruptObjectError, ObjectNotFoundError, StoreReadError, StoreWriteError } from '../../src/store';

const NODE = '3f'.repeat(32);
const ITEM = 'a0'.repeat(32);

describe('classifyStoreError', () => {
  it.each([
    {
      name: 'a corrupt node on the first attempt is retried',
      err: new CorruptObjectError(NODE, 'content does not match its hash', 'transcript node'),
      attempt: 1,
      expected: {
        type: StoreFailureType.Transient,
        nonRetryable: false,
        message: `transcript node ${NODE} of thread th-1 is corrupt: content does not match its hash; retrying (attempt 1 of 3)`,
      },
    },
    {
      name: 'a corrupt node on the last attempt is final',
      err: new CorruptObjectError(NODE, 'content does not match its hash', 'transcript node'),
      attempt: UNREADABLE_OBJECT_ATTEMPTS,
      expected: {
        type: StoreFailureType.ObjectUnreadable,
        nonRetryable: true,
        message: `transcript node ${NODE} of thread th-1 is corrupt: content does not match its hash (still so after 3 attempts: retrying cannot repair it)`,
      },
    },
    {
      name: 'a missing item on a later attempt is final',
      err: new ObjectNotFoundError(ITEM, 'item'),
      attempt: 7,
      expected: {
        type: StoreFailureType.ObjectUnreadable,
        nonRetryable: true,
        message: `item ${ITEM} of thread th-1 is missing from the transcript store (still so after 7 attempts: retrying cannot repair it)`,
      },
    },
    {
      name: 'a full disk is retried with the reason',
      err: new StoreWriteError('ENOSPC', 'no space left on device', '/s/objects/ab/cd'),
      attempt: 12,
      expected: {
        type: StoreFailureType.Transient,
        nonRetryable: false,
        message: 'store write failed: no space left on device; retrying (ENOSPC at /s/objects/ab/cd)',
      },
    },
    {
      name: 'an I/O error on read is retried with the reason',
      err: new StoreReadError('EIO', 'i/o error', '/s/objects/ab/cd'),
      attempt: 1,
      expected: { type: StoreFailureType.Transient, nonRetryable: false, message: 'store read failed: i/o error; retrying (EIO at /s/objects/ab/cd)' },
    },
  ])('$name', ({ err, attempt, expected }) => {
    const failure = classifyStoreError(err, { threadId: 'th-1', attempt });
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect({ type: failure?.type, nonRetryable: failure?.nonRetryable, message: failure?.message }).toEqual(expected);
    expect(failure?.cause).toBe(err);
  });

  it('leaves the thread out of the message when the activity does not name one', () => {
    expect(classifyStoreError(new ObjectNotFoundError(ITEM, 'item'), { attempt: 3 })?.message).toBe(
      `item ${ITEM} is missing from the transcript store (still so after 3 attempts: retrying cannot repair it)`,
    );
  });

  it.each([new TypeError('a bug'), ApplicationFailure.nonRetryable('model said no', 'ModelRequestRejected'), 'a string'])(
    'leaves %p alone',
    (err) => {
      expect(classifyStoreError(err, { threadId: 'th-1', attempt: 5 })).toBeUndefined();
    },
  );
});

describe('classifyingStoreErrors', () => {
  it('classifies a store error an activity throws and passes results and other errors through', async () => {
    const activities = classifyingStoreErrors({
      ok: (input: { threadId: string }) => Promise.resolve(`ran for ${input.threadId}`),
      missing: (_input: { threadId: string }) => Promise.reject(new ObjectNotFoundError(NODE, 'transcript node')),
      bug: (_input: { threadId: string }) => Promise.reject(new TypeError('a bug')),
    });
    await expect(activities.ok({ threadId: 'th-2' })).resolves.toBe('ran for th-2');
    // Outside a Temporal activity the attempt is 1: the first failure is retried.
    await expect(activities.missing({ threadId: 'th-2' })).rejects.toMatchObject({
      type: StoreFailureType.Transient,
      message: `transcript node ${NODE} of thread th-2 is missing from the transcript store; retrying (attempt 1 of 3)`,
    });
    await expect(activities.bug({ threadId: 'th-2' })).rejects.toThrow(new TypeError('a bug'));
  });
});
