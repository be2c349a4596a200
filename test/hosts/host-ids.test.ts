/**
 * Host ids and host queues: how a process finds its host id (flag, UNROLL_HOST_ID, the
 * hostname), which ids are refused, and the queue a thread's workspace work goes to.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, loadConfig } from '../../src/config/config';
import { hostIdProblem, hostPin, hostTaskQueue, parseHostTaskQueue, workspaceTaskQueue } from '../../src/shared/hosts';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-host-ids-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

describe('the host id of a process', () => {
  test('is the hostname by default, and new threads are pinned to it', () => {
    const config = loadConfig({ UNROLL_HOME: home, UNROLL_TASK_QUEUE: 'fleet' });
    expect(config.hostId).toBe(os.hostname());
    expect(config.session.host).toEqual({ id: os.hostname(), taskQueue: `fleet@host:${os.hostname()}` });
    expect(config.session.toolTaskQueue).toBe(`fleet@host:${os.hostname()}`);
  });

  test('comes from UNROLL_HOST_ID, and --host-id wins over it', () => {
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_HOST_ID: 'build-box-2' }).hostId).toBe('build-box-2');
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_HOST_ID: 'build-box-2' }, { hostId: 'laptop' }).session.host).toEqual({ id: 'laptop', taskQueue: 'unroll@host:laptop' });
  });

  test.each([
    ['a space', { UNROLL_HOST_ID: 'my host' }, {}, '"my host" is not a valid host id: use 1-253 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit (from UNROLL_HOST_ID)'],
    ['a queue separator', {}, { hostId: 'a@host:b' }, '"a@host:b" is not a valid host id: use 1-253 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit (from --host-id)'],
    ['nothing', { UNROLL_HOST_ID: '' }, {}, '"" is not a valid host id: use 1-253 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit (from UNROLL_HOST_ID)'],
  ])('is refused with a ConfigError naming where it came from when it holds %s', (_what, env, overrides, message) => {
    let error: unknown;
    try {
      loadConfig({ UNROLL_HOME: home, ...env }, overrides);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as Error).message).toBe(message);
  });

  test('accepts ids of up to 253 characters and refuses longer ones', () => {
    expect(hostIdProblem('h'.repeat(253))).toBeNull();
    expect(hostIdProblem('h'.repeat(254))).toMatch(/is not a valid host id/);
  });
});

describe('host queues', () => {
  test('name the shared queue and the host, and parse back', () => {
    expect(hostTaskQueue('unroll', 'box-1')).toBe('unroll@host:box-1');
    expect(parseHostTaskQueue('unroll@host:box-1')).toEqual({ taskQueue: 'unroll', hostId: 'box-1' });
    expect(parseHostTaskQueue('unroll')).toBeNull();
    expect(parseHostTaskQueue('@host:box-1')).toBeNull();
  });

  test("a pinned thread's workspace work goes to its host's queue; a thread from before pins keeps its recorded tool queue", () => {
    expect(workspaceTaskQueue({ host: hostPin('unroll', 'box-1'), toolTaskQueue: 'unroll@host:box-1' })).toBe('unroll@host:box-1');
    expect(workspaceTaskQueue({ toolTaskQueue: 'unroll' })).toBe('unroll');
  });
});
