/**
 * The pure and local parts of host failover: the liveness verdict from poller lists,
 * where an adopted workspace goes, the failoverAfter setting's validation, and how a
 * move and an upcoming failover are told.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { adoptionTarget, hostLiveness, type HostMove } from '../../src/activities/failover';
import { ExecEventTranslator } from '../../src/client/exec-events';
import { hostMoveText } from '../../src/client/host-move';
import { waitNotices, type PendingTask } from '../../src/client/turn-waits';
import { ConfigError, loadConfig } from '../../src/config/config';
import { hostPin } from '../../src/shared/hosts';
import type { TranscriptStore } from '../../src/store/transcript-store';

const NOW = Date.parse('2026-12-01T12:00:00Z');
const WINDOW = 75_000;
const poller = (identity: string, agoMs: number | null) => ({ identity, lastAccessMs: agoMs === null ? null : NOW - agoMs });

describe('hostLiveness', () => {
  test.each([
    ['a host whose own queue was polled a second ago is alive', [poller('1@m host:A', 1_000)], [], true],
    ['a host whose workers last polled long ago is lost', [poller('1@m host:A', 200_000)], [poller('1@m host:A', 190_000)], false],
    ['a host nobody ever listed is lost', [], [], false],
    // Its activity slots are full, so it stopped polling its queue; its workflow poller still polls.
    ['a busy host whose queue poller is stale but whose shared-queue poller is fresh is alive', [poller('1@m host:A', 300_000)], [poller('1@m host:A', 10_000)], true],
    ['another host polling the shared queue does not make host A alive', [poller('1@m host:A', 300_000)], [poller('2@n host:B', 1_000), poller('3@o host:AB', 1_000)], false],
    ['a poller without a time is ignored', [poller('1@m host:A', null)], [], false],
  ])('%s', (_name, hostQueue, shared, alive) => {
    expect(hostLiveness('A', hostQueue, shared, NOW, WINDOW).alive).toBe(alive);
  });

  test('names the most recent poll and who made it', () => {
    expect(hostLiveness('A', [poller('1@m host:A', 90_000)], [poller('2@m host:A', 80_000)], NOW, WINDOW)).toEqual({
      alive: false, lastSeen: new Date(NOW - 80_000).toISOString(), seenBy: '2@m host:A',
    });
  });
});

describe('adoptionTarget', () => {
  let dir: string;
  beforeEach(async () => (dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-adopt-'))));
  afterEach(() => rm(dir, { recursive: true, force: true }));

  test('keeps the original path when it is free and creatable (no root configured)', async () => {
    const cwd = path.join(dir, 'lost', 'ws');
    expect(await adoptionTarget(cwd, 't1', { workspaceRoot: path.join(dir, 'root'), workspaceRootConfigured: false })).toEqual({ path: cwd, why: null });
  });

  test('keeps the original path inside a configured root', async () => {
    const root = path.join(dir, 'root');
    const cwd = path.join(root, 'projects', 'ws');
    expect(await adoptionTarget(cwd, 't1', { workspaceRoot: root, workspaceRootConfigured: true })).toEqual({ path: cwd, why: null });
  });

  test('moves a path outside the configured root under the root, named by the thread', async () => {
    const root = path.join(dir, 'root');
    const cwd = path.join(dir, 'elsewhere', 'ws');
    expect(await adoptionTarget(cwd, 'thread/1', { workspaceRoot: root, workspaceRootConfigured: true })).toEqual({
      path: path.join(root, 'thread_1'), why: `${cwd} is outside this worker's workspace root ${root}`,
    });
  });

  test('never restores into a directory that already holds this host\'s own files', async () => {
    const cwd = path.join(dir, 'taken');
    await mkdir(cwd);
    await writeFile(path.join(cwd, 'mine.txt'), 'x');
    const root = path.join(dir, 'root');
    expect(await adoptionTarget(cwd, 't2', { workspaceRoot: root, workspaceRootConfigured: false })).toEqual({ path: path.join(root, 't2'), why: `${cwd} already holds other files on this host` });
  });

  test('moves a path that cannot be created (below a file) under the root', async () => {
    await writeFile(path.join(dir, 'file'), 'x');
    const cwd = path.join(dir, 'file', 'ws');
    const target = await adoptionTarget(cwd, 't3', { workspaceRoot: path.join(dir, 'root'), workspaceRootConfigured: false });
    expect(target).toEqual({ path: path.join(dir, 'root', 't3'), why: `${cwd} cannot be created on this host (ENOTDIR)` });
  });
});

describe('the failoverAfter setting', () => {
  let home: string;
  beforeEach(async () => (home = await mkdtemp(path.join(os.tmpdir(), 'unroll-failover-config-'))));
  afterEach(() => rm(home, { recursive: true, force: true }));

  test('defaults to 120 s, and UNROLL_FAILOVER_AFTER, config.json and --failover-after set it (0 disables)', async () => {
    expect(loadConfig({ UNROLL_HOME: home }).session.failoverAfter).toBe(120);
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_FAILOVER_AFTER: '0' }).session.failoverAfter).toBe(0);
    await writeFile(path.join(home, 'config.json'), JSON.stringify({ failoverAfter: 30 }));
    expect(loadConfig({ UNROLL_HOME: home }).session.failoverAfter).toBe(30);
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_FAILOVER_AFTER: '45' }).session.failoverAfter).toBe(45);
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_FAILOVER_AFTER: '45' }, { failoverAfter: '7' }).session.failoverAfter).toBe(7);
  });

  test.each(['abc', '-1', '1.5', '', '999999999'])('UNROLL_FAILOVER_AFTER=%j is refused with a message naming the setting', (value) => {
    expect(() => loadConfig({ UNROLL_HOME: home, UNROLL_FAILOVER_AFTER: value })).toThrow(ConfigError);
    expect(() => loadConfig({ UNROLL_HOME: home, UNROLL_FAILOVER_AFTER: value })).toThrow(`UNROLL_FAILOVER_AFTER (failoverAfter) must be a whole number of seconds from 0 to 604800, not "${value}"`);
  });

  test('a negative failoverAfter in config.json is refused naming the file and the key', async () => {
    await writeFile(path.join(home, 'config.json'), JSON.stringify({ failoverAfter: -5 }));
    expect(() => loadConfig({ UNROLL_HOME: home })).toThrow(/config\.json is invalid: failoverAfter: /);
  });

  test('the worker workspace root comes from --workspace-root, else UNROLL_WORKSPACE_ROOT, else <home>/workspaces', () => {
    expect(loadConfig({ UNROLL_HOME: home }).failover).toEqual({ workspaceRoot: path.join(home, 'workspaces'), workspaceRootConfigured: false, livenessWindowMs: 75_000 });
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_WORKSPACE_ROOT: '/srv/ws' }).failover.workspaceRoot).toBe('/srv/ws');
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_WORKSPACE_ROOT: '/srv/ws' }, { workspaceRoot: '/data/ws' }).failover).toMatchObject({ workspaceRoot: '/data/ws', workspaceRootConfigured: true });
    expect(() => loadConfig({ UNROLL_HOME: home, UNROLL_HOST_LIVENESS_WINDOW: '0' })).toThrow('UNROLL_HOST_LIVENESS_WINDOW must be at least 1 second');
  });
});

const MOVE: HostMove = {
  from: 'A', to: hostPin('unroll', 'B'), previousCwd: '/w/repo', cwd: '/w/repo', relocatedBecause: null,
  restoredFrom: { id: 'c'.repeat(64), turn: 3, step: 4 }, notRestored: null,
};

describe('telling the user about a move', () => {
  test('a restored move reads "host A lost; thread moved to host B, workspace restored from step 3.4"', () => {
    expect(hostMoveText(MOVE)).toBe('host A lost; thread moved to host B, workspace restored from step 3.4');
  });

  test('a move without a restore says loudly that the workspace was not restored, and why; a new path is named', () => {
    const move: HostMove = { ...MOVE, cwd: '/root/ws/t', relocatedBecause: '/w/repo is outside this worker\'s workspace root /root/ws', restoredFrom: null, notRestored: 'the thread has no checkpoint to restore, so /root/ws/t holds none of its files' };
    expect(hostMoveText(move)).toBe(
      "host A lost; thread moved to host B (workspace now at /root/ws/t: /w/repo is outside this worker's workspace root /root/ws); WARNING: the workspace was NOT restored: the thread has no checkpoint to restore, so /root/ws/t holds none of its files",
    );
  });

  test('exec --json emits the move as an additive thread.moved event', async () => {
    const translator = new ExecEventTranslator({} as TranscriptStore);
    expect(await translator.translate({ seq: 1, kind: 'host.moved', step: 2, move: MOVE })).toEqual([
      {
        type: 'thread.moved', from_host: 'A', to_host: 'B', previous_cwd: '/w/repo', cwd: '/w/repo',
        restored_from: { checkpoint_id: 'c'.repeat(64), step: '3.4' }, not_restored: null, relocated_because: null,
        message: 'host A lost; thread moved to host B, workspace restored from step 3.4',
      },
    ]);
  });

  test('the wait notice of a pinned host says when the thread fails over, and comes before the move', () => {
    const task: PendingTask = {
      kind: 'activity', id: '7', type: 'runTool', attempt: 2, started: false, lastFailure: null, nextAttemptAt: null,
      scheduledAt: NOW - 2_000, taskQueue: 'unroll@host:A', failoverAfterMs: 4_000,
    };
    expect(waitNotices([task], NOW, 3).map((n) => n.message)).toEqual([
      'waiting for a worker on host A (task queue "unroll@host:A"): a tool call has waited 2 s and no worker has taken it; if host A has no worker left, the thread fails over to a live host after 4 s of waiting (failoverAfter), in about 2 s',
    ]);
  });
});
