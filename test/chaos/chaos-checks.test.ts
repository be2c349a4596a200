/**
 * The chaos suite's own checks must be able to fail: a plan is a pure function of its
 * seed, the scripted model places a request from its input alone, and the verifiers
 * catch what they exist to catch (a corrupted or lost store object, a command that ran
 * twice without being re-issued, a result with no execution behind it, a workspace
 * that drifted).
 */
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { analyseLedger, readCallResults, transcriptFacts } from '../../bench/chaos/executions';
import { hashTree, treeDifferences, verifyStore } from '../../bench/chaos/integrity';
import { answerAt, locate } from '../../bench/chaos/model';
import { planChaosRun, type PlanOptions } from '../../bench/chaos/plan';
import { killStep, PATCH_SHAPES } from '../../bench/chaos/patch-shapes';
import { summariseTargeted } from '../../bench/chaos/report';
import { callId } from '../../bench/chaos/steps';
import { scenarioPlan, type ScenarioResult } from '../../bench/chaos/targeted';
import { callMarkerKey } from '../../src/activities/tools';
import { applyPatch } from '../../src/tools/apply-patch/apply';
import { FsStoreBackend, TranscriptStore } from '../../src/store';
import type { InputItem } from '../support/responses-server';

const OPTIONS: PlanOptions = { seed: 1, sessions: 3, turns: 3, killsPerSession: 3, providerFaultsPerSession: 3, toolFaultsPerSession: 2, serverRestarts: 2 };

let dir: string;
beforeEach(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), 'unroll-chaos-checks-'));
});
afterEach(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

describe('planChaosRun', () => {
  it('draws the same plan from the same seed and a different one from another seed', () => {
    const summary = (seed: number) => JSON.stringify(planChaosRun({ ...OPTIONS, seed }), (_k, v: unknown) => (v instanceof Map ? [...v] : v));
    expect(summary(1)).toBe(summary(1));
    expect(summary(2)).not.toBe(summary(1));
  });

  it('gives every session its kills, provider faults and tool faults, and places restarts inside the run', () => {
    const plan = planChaosRun(OPTIONS);
    for (const session of plan.sessions) {
      expect(session.kills).toHaveLength(3);
      expect([...session.providerFaults.values()].flat()).toHaveLength(3);
      expect(session.turns.flatMap((t) => t.steps).filter((s) => s.calls.some((c) => c.tool === 'shell' && c.toolFault))).toHaveLength(2);
    }
    expect(plan.serverRestartsAt).toHaveLength(2);
    expect(plan.serverRestartsAt.every((at) => at > 0 && at < 1)).toBe(true);
  });
});

describe('locate (the scripted model reads its position from the request)', () => {
  const plan = planChaosRun(OPTIONS).sessions[0];
  const user = (text: string): InputItem => ({ type: 'message', role: 'user', content: [{ type: 'input_text', text }] });
  const call = (id: string): InputItem => ({ type: 'function_call', call_id: id, name: 'shell', arguments: '{}' });
  const output = (id: string, text: string): InputItem => ({ type: 'function_call_output', call_id: id, output: text });
  const turn2 = user(plan.turns[1].prompt);

  it('starts a turn at step 0 after its user message', () => {
    expect(locate(plan, [user(plan.turns[0].prompt), call(callId('s00', 1, 0, 0, 0)), output(callId('s00', 1, 0, 0, 0), 'Exit code: 0\n'), turn2])).toMatchObject({ turn: 2, step: 0, retry: 0 });
  });

  it('moves to the next step when every call of the last one has an output', () => {
    const id = callId('s00', 2, 0, 0, 0);
    expect(locate(plan, [turn2, call(id), output(id, 'Exit code: 0\nWall time: 0.1 seconds\nOutput:\n')])).toMatchObject({ turn: 2, step: 1, retry: 0 });
  });

  it('re-issues only the calls whose output says they were interrupted, under a new retry number', () => {
    const ok = callId('s00', 2, 0, 0, 0);
    const cut = callId('s00', 2, 0, 1, 0);
    const position = locate(plan, [turn2, call(ok), call(cut), output(ok, 'Plan updated'), output(cut, 'interrupted: the worker running this command stopped')]);
    expect(position).toEqual({ turn: 2, step: 0, retry: 1, calls: [1] });
  });

  it('answers the final message once the steps of a turn are done', () => {
    const steps = plan.turns[0].steps.length;
    const position = { turn: 1, step: steps, retry: 0, calls: [] };
    expect(answerAt(plan, position)).toEqual([expect.objectContaining({ type: 'message', role: 'assistant' })]);
  });
});

describe('analyseLedger', () => {
  const interrupted = 'interrupted: the worker running this command stopped before it finished';
  const done = 'Exit code: 0\nWall time: 0.0 seconds\nOutput:\n';

  it('explains a command that ran again because the model re-issued it after an interrupted output', () => {
    const outputs = new Map([[callId('s01', 1, 2, 0, 0), interrupted], [callId('s01', 1, 2, 0, 1), done]]);
    const report = analyseLedger(['s01 t1 k2 c0 r0', 's01 t1 k2 c0 r1'], outputs);
    expect(report.repeated).toEqual([{ command: 's01 t1 k2 c0', executions: 2, explained: true, reason: expect.stringContaining('re-issued by it as r1') }]);
    expect(report.unexplained).toBe(0);
  });

  it('flags the same call running twice as unexplained', () => {
    const report = analyseLedger(['s01 t1 k2 c0 r0', 's01 t1 k2 c0 r0'], new Map([[callId('s01', 1, 2, 0, 0), done]]));
    expect(report.unexplained).toBe(1);
    expect(report.repeated[0].reason).toContain('itself ran more than once');
  });

  it('flags a re-run whose first call was answered with a result as unexplained', () => {
    const outputs = new Map([[callId('s01', 1, 2, 0, 0), done], [callId('s01', 1, 2, 0, 1), done]]);
    expect(analyseLedger(['s01 t1 k2 c0 r0', 's01 t1 k2 c0 r1'], outputs).unexplained).toBe(1);
  });

  it('flags an output reporting a finished command that the ledger never saw', () => {
    expect(analyseLedger([], new Map([[callId('s01', 1, 2, 0, 0), done]])).phantomResults).toEqual([callId('s01', 1, 2, 0, 0)]);
  });
});

describe('verifyStore', () => {
  async function storeWithChain(): Promise<{ root: string; head: string; item: string }> {
    const root = path.join(dir, 'store');
    const store = new TranscriptStore(new FsStoreBackend(root));
    const first = await store.append(null, [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello' }] }]);
    const head = await store.append(first, [{ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'hi' }] }]);
    const node = await store.getNode(head);
    return { root, head, item: node.items[0] };
  }
  const objectFile = (root: string, hash: string) => path.join(root, 'objects', hash.slice(0, 2), hash.slice(2));

  it('finds nothing wrong with a whole store', async () => {
    const { root, head } = await storeWithChain();
    expect(await verifyStore(root, [head])).toMatchObject({ objects: 4, corrupted: [], lost: [], headsChecked: 1, chainsLoaded: 1 });
  });

  it('reports an object whose bytes no longer match its name as corrupted', async () => {
    const { root, head, item } = await storeWithChain();
    await fs.writeFile(objectFile(root, item), '{"type":"message","role":"assistant","content":[]}');
    const report = await verifyStore(root, [head]);
    expect(report.corrupted).toEqual([item]);
    expect(report.chainsLoaded).toBe(0);
  });

  it('reports an object a chain needs but the store lacks as lost', async () => {
    const { root, head, item } = await storeWithChain();
    await fs.rm(objectFile(root, item));
    expect(await verifyStore(root, [head])).toMatchObject({ lost: [item], chainsLoaded: 0 });
  });

  it('passes a checkpoint bundle (a blob a checkpoint record names) and flags a blob nothing names', async () => {
    const { root, head } = await storeWithChain();
    const store = new TranscriptStore(new FsStoreBackend(root));
    const bundle = await store.putBlob(Buffer.from([0x50, 0x41, 0x43, 0x4b, 0xff, 0x00]));
    await store.putValue({ kind: 'checkpoint', version: 1, commit: 'a'.repeat(40), parent: null, bundle, files: 1, bytes: 6, changes: [], changeCount: 0 });
    expect(await verifyStore(root, [head])).toMatchObject({ objects: 6, corrupted: [], lost: [] });
    const stray = await store.putBlob(Buffer.from([0xfe, 0xfd]));
    expect((await verifyStore(root, [head])).corrupted).toEqual([stray]);
  });

  it('takes the temporary of a head marker write cut short by a kill for no head, and still walks the real marker', async () => {
    const { root, head } = await storeWithChain();
    const marker = new TranscriptStore(new FsStoreBackend(root));
    await marker.putMarker('heads/th-1/turn-1', head);
    // What a worker SIGKILLed between opening and renaming its temporary leaves behind.
    await fs.writeFile(path.join(root, 'markers', 'heads', 'th-1', '.tmp-4242-0123456789ab'), '');
    expect(await verifyStore(root, [])).toMatchObject({ corrupted: [], lost: [], headsChecked: 1, chainsLoaded: 1 });
  });
});

describe('workspace trees', () => {
  it('lists files that are missing, unexpected or different', async () => {
    const a = path.join(dir, 'a');
    const b = path.join(dir, 'b');
    for (const ws of [a, b]) await fs.mkdir(path.join(ws, 'src'), { recursive: true });
    await fs.writeFile(path.join(a, 'src', 'same.txt'), 'same\n');
    await fs.writeFile(path.join(b, 'src', 'same.txt'), 'same\n');
    await fs.writeFile(path.join(a, 'changed.txt'), 'one\n');
    await fs.writeFile(path.join(b, 'changed.txt'), 'two\n');
    await fs.writeFile(path.join(a, 'gone.txt'), 'x\n');
    await fs.writeFile(path.join(b, '.half-written.tmp'), 'x');
    expect(treeDifferences(await hashTree(a), await hashTree(b))).toEqual([
      '.half-written.tmp (unexpected)',
      'changed.txt (different content)',
      'gone.txt (missing)',
    ]);
  });
});

describe('patches a retry finished (metadata.resumed)', () => {
  const plan = scenarioPlan('x00', 'patch twice', [{ calls: [{ tool: 'apply_patch', patch: '*** Begin Patch\n*** Add File: a.txt\n+a\n*** End Patch' }] }, { calls: [{ tool: 'apply_patch', patch: '*** Begin Patch\n*** Add File: b.txt\n+b\n*** End Patch' }] }]);
  const first = callId('x00', 1, 0, 0, 0);
  const second = callId('x00', 1, 1, 0, 0);
  const success = 'Success. Updated the following files:\nA a.txt';
  const items = [
    { type: 'function_call' as const, call_id: first, name: 'apply_patch', arguments: '{}' },
    { type: 'function_call_output' as const, call_id: first, output: success },
    { type: 'function_call' as const, call_id: second, name: 'apply_patch', arguments: '{}' },
    // The old count looked for this note, which a journaled retry no longer writes.
    { type: 'function_call_output' as const, call_id: second, output: `${success}\n(patch already applied: the files already contained these changes, nothing was written)` },
  ];

  it('are counted from the recorded results, not from the output text', async () => {
    const store = new TranscriptStore(new FsStoreBackend(path.join(dir, 'store')));
    const done = (id: string, metadata: Record<string, unknown>) => `done ${JSON.stringify({ callId: id, outputHash: 'x', success: true, interrupted: false, metadata, outputBytes: 1 })}`;
    await store.putMarker(callMarkerKey({ threadId: 't', turn: 1, step: 1 }, first), done(first, { changes: [], alreadyApplied: false, resumed: true }));
    await store.putMarker(callMarkerKey({ threadId: 't', turn: 1, step: 2 }, second), done(second, { changes: [], alreadyApplied: true }));
    await store.putMarker(`${callMarkerKey({ threadId: 't', turn: 1, step: 2 }, second)}.journal`, '{"version":1}');

    const results = await readCallResults(path.join(dir, 'store'));
    expect([...results.keys()].sort()).toEqual([first, second].sort());
    expect(transcriptFacts(plan, items, results).patchesResumed).toBe(1);
    expect(transcriptFacts(plan, items).patchesResumed).toBe(0);
  });
});

describe('targeted scenario verdicts', () => {
  const passed: ScenarioResult = {
    name: 'patch-kill append @ first committed',
    kind: 'patch-kill',
    passed: true,
    turn: { end: 'completed', message: null, errorType: null, reasonsSeen: [] },
    patch: { atKill: 'partial', verdict: 'once', leftovers: [], outputs: 1, successOutputs: 1, requestsWithOutput: 1, requestsWithExpectedOutput: 1, resumed: true },
    note: '',
    problems: [],
    seconds: 1,
  };

  it('count nothing wrong when every scenario passed', () => {
    const { report, problems } = summariseTargeted('all', [passed]);
    expect(problems).toEqual([]);
    expect(report).toMatchObject({ passed: 1, doubleApplications: 0, partialPatches: 0, patchKills: 1, patchKillsWithOneSuccess: 1, patchKillsResumed: 1, stuckWithoutMessage: 0 });
    expect(report.byKind['patch-kill']).toEqual({ runs: 1, passed: 1 });
  });

  it('count a patch applied twice, a half-applied patch and a stuck turn, each as a problem of its own', () => {
    const twice = { ...passed, passed: false, patch: { ...passed.patch!, verdict: 'unexpected' as const, outputs: 2 }, problems: ['applied twice'] };
    const half = { ...passed, passed: false, patch: { ...passed.patch!, verdict: 'partial' as const }, problems: ['half'] };
    const stuck = { ...passed, kind: 'store-corrupt' as const, name: 'store-corrupt', passed: false, patch: null, turn: { ...passed.turn!, end: 'stuck' as const }, problems: ['stuck'] };
    const { report, problems } = summariseTargeted('all', [twice, half, stuck]);
    expect(report).toMatchObject({ passed: 0, doubleApplications: 1, partialPatches: 1, stuckWithoutMessage: 1, patchKillsWithOneSuccess: 1 });
    expect(problems).toEqual(expect.arrayContaining([
      '1 patches applied twice (or mangled) after a kill',
      '1 patches left partly applied',
      '1 targeted turns stuck without a message to the user',
      'targeted store-corrupt: stuck',
    ]));
  });

  it('count a host loss as survived only when the thread moved once, completed, and ended with the fault-free workspace', () => {
    const facts = { failoverAfterS: 3, timeToMoveMs: 8000, waitedOnLostHostMs: 5000, restoreMs: 600, livenessChecks: 1, restoredFrom: 'step 1.2', stepsRepeated: 1, moves: 1, workspaceIdentical: true };
    const loss = { ...passed, kind: 'host-loss' as const, name: 'host-loss', patch: null, hostLoss: facts };
    const drifted = { ...loss, passed: false, hostLoss: { ...facts, workspaceIdentical: false }, problems: ['the final workspace differs from the fault-free run: src/c.txt'] };
    const stayed = { ...loss, passed: false, hostLoss: { ...facts, moves: 0 }, problems: ['0 host moves recorded (1 expected)'] };
    expect(summariseTargeted('all', [loss]).report).toMatchObject({ hostLosses: 1, hostLossesSurvived: 1 });
    const { report, problems } = summariseTargeted('all', [loss, drifted, stayed]);
    expect(report).toMatchObject({ hostLosses: 3, hostLossesSurvived: 1 });
    expect(report.byKind['host-loss']).toEqual({ runs: 3, passed: 1 });
    expect(problems).toEqual(['targeted host-loss: the final workspace differs from the fault-free run: src/c.txt', 'targeted host-loss: 0 host moves recorded (1 expected)']);
  });
});

describe('patch shapes of the targeted kills', () => {
  it.each(PATCH_SHAPES.map((s) => [s.name, s] as const))('%s applies to its files and has a step for every kill point', async (_name, shape) => {
    const ws = path.join(dir, 'ws');
    for (const [rel, text] of Object.entries(shape.files)) {
      await fs.mkdir(path.dirname(path.join(ws, rel)), { recursive: true });
      await fs.writeFile(path.join(ws, rel), text);
    }
    const steps: string[] = [];
    const outcome = await applyPatch(shape.patch, ws, { onStep: (step) => Promise.resolve(void steps.push(step)) });
    expect(outcome).toMatchObject({ ok: true });
    // First committed is a different step from last committed: a kill there leaves the patch half done.
    expect(killStep(steps, 'first committed')).not.toBe(killStep(steps, 'last committed'));
    expect([killStep(steps, 'first staged'), killStep(steps, 'last committed')]).toEqual([expect.stringMatching(/^apply_patch:staged:/), expect.stringMatching(/^apply_patch:committed:data\//)]);
  });
});
