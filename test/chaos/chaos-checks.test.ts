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
import { analyseLedger } from '../../bench/chaos/executions';
import { hashTree, treeDifferences, verifyStore } from '../../bench/chaos/integrity';
import { answerAt, locate } from '../../bench/chaos/model';
import { planChaosRun, type PlanOptions } from '../../bench/chaos/plan';
import { callId } from '../../bench/chaos/steps';
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
