/**
 * The pure parts of what the client tells while it waits: notices from a turn's pending
 * tasks, outage announcements, the prompt size check, and the probe that tells a
 * Temporal frontend from something else listening on its port (real local sockets).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { temporal } from '@temporalio/proto';
import { checkPromptSize, formatSize, PromptTooLargeError } from '../../src/client/prompt-limit';
import { isServerUnavailable, ServerWatch } from '../../src/client/server-watch';
import { NO_WORKER_AFTER_MS, pendingTasksOf, pollerNote, waitNotices, type PendingTask } from '../../src/client/turn-waits';
import { http2Problem } from '../../src/temporal/frontend-probe';
import { testEnvironment } from '../support/harness';

const NOW = Date.parse('2026-12-01T12:00:00Z');

function task(overrides: Partial<PendingTask>): PendingTask {
  return { kind: 'activity', id: '7', type: 'runInference', attempt: 1, started: true, lastFailure: null, nextAttemptAt: null, scheduledAt: NOW - 1_000, taskQueue: 'unroll', ...overrides };
}

describe('waitNotices', () => {
  test.each<[string, PendingTask, string[]]>([
    ['a first attempt at work', task({}), []],
    [
      'a retried model request backing off',
      task({ attempt: 3, started: false, lastFailure: 'openai answered 429: Rate limit reached', nextAttemptAt: NOW + 2_500 }),
      ['retry:7:3 retrying: inference #4 failed (attempt 2): openai answered 429: Rate limit reached; next attempt in 3 s'],
    ],
    [
      'a retried store write already running again',
      task({ type: 'commitAppend', attempt: 2, lastFailure: 'store write failed: no space left on device; retrying', nextAttemptAt: NOW - 10 }),
      ['retry:7:2 retrying: a store write (commitAppend) failed (attempt 1): store write failed: no space left on device; retrying; retrying now'],
    ],
    [
      'a tool call nobody took for longer than the grace',
      task({ type: 'runTool', started: false, scheduledAt: NOW - NO_WORKER_AFTER_MS - 1_000, taskQueue: 'host-b' }),
      ['no-worker:host-b:7:1 waiting for a worker on task queue "host-b": a tool call has waited 6 s and no worker has taken it'],
    ],
    [
      "a pinned thread's tool call waiting on its host's own queue",
      task({ type: 'runTool', started: false, scheduledAt: NOW - NO_WORKER_AFTER_MS - 1_000, taskQueue: 'unroll@host:laptop-a' }),
      ['no-worker:unroll@host:laptop-a:7:1 waiting for a worker on host laptop-a (task queue "unroll@host:laptop-a"): a tool call has waited 6 s and no worker has taken it'],
    ],
    ['a tool call scheduled a moment ago', task({ type: 'runTool', started: false, scheduledAt: NOW - 1_000 }), []],
    [
      'a workflow task nobody took',
      task({ kind: 'workflow-task', id: 'workflow-task', type: '', started: false, scheduledAt: NOW - 9_000 }),
      ['no-worker:unroll:workflow-task:1 waiting for a worker on task queue "unroll": the next workflow task of th-1/turn-2 has waited 9 s and no worker has taken it'],
    ],
  ])('%s', (_case, pending, expected) => {
    expect(waitNotices([pending], NOW, 4, 'th-1/turn-2').map((n) => `${n.key} ${n.message}`)).toEqual(expected);
  });

  test('a task nobody took names the queue and its type for the poller lookup', () => {
    const [notice] = waitNotices([task({ started: false, scheduledAt: NOW - 60_000, taskQueue: 'q' })], NOW, 1);
    expect(notice.queue).toEqual({ name: 'q', type: 'activity' });
  });
});

describe('pendingTasksOf', () => {
  test('reads pending activities and the pending workflow task of a describe answer', () => {
    const { PendingActivityState, PendingWorkflowTaskState } = temporal.api.enums.v1;
    const tasks = pendingTasksOf(temporal.api.workflowservice.v1.DescribeWorkflowExecutionResponse.fromObject({
      executionConfig: { taskQueue: { name: 'main' } },
      pendingActivities: [
        {
          activityId: '3',
          activityType: { name: 'runTool' },
          state: PendingActivityState.PENDING_ACTIVITY_STATE_SCHEDULED,
          attempt: 2,
          lastFailure: { message: 'activity Heartbeat timeout' },
          nextAttemptScheduleTime: { seconds: NOW / 1000 + 4, nanos: 500_000_000 },
          scheduledTime: { seconds: NOW / 1000 },
          activityOptions: { taskQueue: { name: 'host-a' } },
        },
      ],
      pendingWorkflowTask: { state: PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED, scheduledTime: { seconds: NOW / 1000 }, attempt: 1 },
    }));
    expect(tasks).toEqual([
      { kind: 'activity', id: '3', type: 'runTool', attempt: 2, started: false, lastFailure: 'activity Heartbeat timeout', nextAttemptAt: NOW + 4_500, scheduledAt: NOW, taskQueue: 'host-a' },
      { kind: 'workflow-task', id: 'workflow-task', type: '', attempt: 1, started: true, lastFailure: null, nextAttemptAt: null, scheduledAt: NOW, taskQueue: 'main' },
    ]);
  });

  test('pollerNote says nobody polls, or who polled last', () => {
    expect(pollerNote([])).toBe('no worker polls it (start one: `unroll worker`, or `unroll resume <thread>`)');
    expect(pollerNote([{ identity: 'old', lastAccessTime: { seconds: NOW / 1000 - 60 } }, { identity: 'w@host', lastAccessTime: { seconds: NOW / 1000 } }])).toBe('last polled by w@host at 2026-12-01T12:00:00.000Z');
  });
});

describe('ServerWatch', () => {
  test('announces an outage once, then its end once, with how long it lasted', () => {
    let now = NOW;
    const told: string[] = [];
    const watch = new ServerWatch('127.0.0.1:7233', (m) => told.push(m), { now: () => now });
    now += 12_000;
    watch.unreachable();
    now += 5_000;
    watch.unreachable();
    now += 8_000;
    watch.reached();
    watch.reached();
    expect(told).toEqual([
      'Temporal server at 127.0.0.1:7233 is unreachable; waiting (12 s)…',
      'Temporal server at 127.0.0.1:7233 is reachable again after 25 s; continuing',
    ]);
  });

  test.each<[string, unknown, boolean]>([
    ['a gRPC UNAVAILABLE wrapped by the SDK', Object.assign(new Error('Failed to query Workflow'), { cause: Object.assign(new Error('14 UNAVAILABLE'), { code: 14 }) }), true],
    ['a gRPC NOT_FOUND', Object.assign(new Error('not found'), { code: 5 }), false],
    ['a plain error', new Error('boom'), false],
    ['no error', undefined, false],
  ])('isServerUnavailable: %s', (_case, err, expected) => {
    expect(isServerUnavailable(err)).toBe(expected);
  });
});

describe('the prompt size check', () => {
  test.each<[number, string]>([
    [512, '512 bytes'],
    [300 * 1024, '300 KiB'],
    [1536 * 1024, '1.5 MiB'],
  ])('formats %d bytes as %s', (bytes, text) => {
    expect(formatSize(bytes)).toBe(text);
  });

  test('accepts a prompt at the limit and refuses one byte more, naming both sizes', () => {
    expect(() => checkPromptSize('é'.repeat(512), 'prompt', 1024)).not.toThrow();
    expect(() => checkPromptSize(`${'é'.repeat(512)}x`, 'prompt', 1024)).toThrow(new PromptTooLargeError('prompt', 1025, 1024));
    expect(new PromptTooLargeError('message', 300 * 1024, 256 * 1024).message).toBe('the message is 300 KiB; the limit is 256 KiB (put large input in a file and refer to it)');
  });
});

describe('http2Problem', () => {
  async function listening(server: net.Server): Promise<string> {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return `127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  }
  const sockets = new Set<net.Socket>();
  const close = (server: net.Server) => {
    for (const socket of sockets) socket.destroy();
    return new Promise<void>((resolve) => server.close(() => resolve()));
  };

  test('the Temporal dev server answers as a gRPC server', async () => {
    expect(await http2Problem(testEnvironment().address)).toBeUndefined();
  });

  test('a web server is named by its status line', async () => {
    const web = http.createServer((_req, res) => res.end('hello'));
    try {
      expect(await http2Problem(await listening(web))).toBe('it answers HTTP/1, not gRPC over HTTP/2: "HTTP/1.1 400 Bad Request"');
    } finally {
      await close(web);
    }
  });

  test('a server that hangs up at once, or says nothing, is told apart', async () => {
    const rude = net.createServer((socket) => {
      sockets.add(socket);
      socket.end();
    });
    const silent = net.createServer((socket) => void sockets.add(socket));
    try {
      expect(await http2Problem(await listening(rude))).toBe('it closed the connection without answering the HTTP/2 greeting');
      expect(await http2Problem(await listening(silent), 300)).toBe('it did not answer the HTTP/2 greeting within 0.3 s');
    } finally {
      await close(silent);
      await close(rude);
    }
  });
});
