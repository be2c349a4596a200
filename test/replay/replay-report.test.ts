/** Reading the replayer's non-determinism messages: the finding and the event it is about. */
import { coreMessage, locateDivergence } from '../../src/history/replay';
import type { History } from '../../src/history/history-events';

const history = {
  events: [
    { eventId: 1, workflowExecutionStartedEventAttributes: {} },
    { eventId: 5, activityTaskScheduledEventAttributes: { activityId: '1', activityType: { name: 'beginTurn' } } },
    { eventId: 11, activityTaskScheduledEventAttributes: { activityId: '2', activityType: { name: 'runInference' } } },
    { eventId: 17, activityTaskScheduledEventAttributes: { activityId: '3', activityType: { name: 'runInference' } } },
    { eventId: 20, timerStartedEventAttributes: { timerId: '4' } },
    { eventId: 23, startChildWorkflowExecutionInitiatedEventAttributes: { workflowId: 'th/turn-2' } },
  ],
} as unknown as History;

describe('replay reports', () => {
  test('the core sentence is taken out of the SDK wrapper', () => {
    const wrapped = 'Replay failed with a nondeterminism error. Details: Workflow activation completion failed: Failure { failure: Some(Failure { message: "[TMPRL1100] Nondeterminism error: Activity type of scheduled event \'beginTurn\' does not match activity type of activity command \'recoverTurnHead\'", source: "" }) }';
    expect(coreMessage(wrapped)).toBe("[TMPRL1100] Nondeterminism error: Activity type of scheduled event 'beginTurn' does not match activity type of activity command 'recoverTurnHead'");
    expect(coreMessage('plain message')).toBe('plain message');
  });

  test.each([
    ['No command scheduled for event HistoryEvent(id: 17, ActivityTaskScheduled)', 17],
    ["Activity id of scheduled event '3' does not match activity id of activity command '4'", 17],
    ["Activity type of scheduled event 'runInference' does not match activity type of activity command 'compactTranscript'", 11],
    ["Timer id of scheduled event '4' does not match", 20],
    ["Child workflow id of initiated event 'th/turn-2' does not match child workflow id of command 'th/turn-3'", 23],
    ['something the replayer has never said before', null],
  ])('%s → event %s', (message, expected) => {
    expect(locateDivergence(history, message)).toBe(expected);
  });
});
