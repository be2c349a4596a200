/**
 * The plan of a chaos run, drawn from its seed: one fixed script per session (turns of
 * tool calls that create and edit files with apply_patch and run commands with shell)
 * and the faults to inject (provider faults per request slot, worker kills, dev server
 * restarts). The fault-free baseline plays the same scripts without the faults.
 *
 * Commands that change the workspace are idempotent (`>` rather than `>>`), as a careful
 * model writes them, so re-issuing one after an "interrupted" output leaves the same
 * files. The one deliberate non-idempotent effect is the side-effect ledger: every
 * command first appends `<session> t<turn> k<step> c<call> r<retry>` to $CHAOS_LEDGER,
 * which is how executions are counted.
 */
import { PROVIDER_FAULTS, TOOL_FAULTS, type ProviderFault, type ToolFault } from './faults';
import { SeededRandom } from './rng';
import { stepGenerators, toolFaultStep, type PlannedStep, type WorkspaceModel } from './steps';

export type { PlannedCall, PlannedStep } from './steps';

/** One turn of a session: the user's prompt, the tool steps, the closing message. */
export interface PlannedTurn {
  readonly prompt: string;
  readonly steps: readonly PlannedStep[];
  readonly finalMessage: string;
}

/** A worker kill: `delayMs` after the model first answers request slot (turn, step). */
export interface KillPoint {
  readonly turn: number;
  readonly step: number;
  readonly delayMs: number;
}

/** Everything about one session: its script and its faults. */
export interface SessionPlan {
  readonly index: number;
  /** Short name used in call ids and the ledger, e.g. `s03`. */
  readonly name: string;
  readonly turns: readonly PlannedTurn[];
  /** Faults served, in order, before the normal answer to a slot (`t<turn>k<step>`). */
  readonly providerFaults: ReadonlyMap<string, readonly ProviderFault[]>;
  readonly kills: readonly KillPoint[];
  readonly toolFaults: readonly ToolFault[];
}

/** The shape of a run: how many of everything. */
export interface PlanOptions {
  readonly seed: number;
  readonly sessions: number;
  readonly turns: number;
  readonly killsPerSession: number;
  readonly providerFaultsPerSession: number;
  readonly toolFaultsPerSession: number;
  readonly serverRestarts: number;
}

/** The whole run's plan. */
export interface ChaosPlan {
  readonly sessions: readonly SessionPlan[];
  /**
   * Dev server restarts, each at a fraction of the run's normal model answers (e.g.
   * 0.4: once 40 % of the expected answers have been served).
   */
  readonly serverRestartsAt: readonly number[];
  /** Normal (fault-free) model answers the whole run needs at least. */
  readonly expectedAnswers: number;
}

/** The key of a request slot: turn `turn` (1-based), step `step` (0-based; = steps.length for the final message). */
export function slotKey(turn: number, step: number): string {
  return `t${turn}k${step}`;
}

/** Draws the run's plan from `options.seed`. Pure: same options, same plan. */
export function planChaosRun(options: PlanOptions): ChaosPlan {
  const rng = new SeededRandom(options.seed);
  const providerDeck = deal(rng.fork('provider-deck'), PROVIDER_FAULTS, options.sessions * options.providerFaultsPerSession);
  const toolDeck = deal(rng.fork('tool-deck'), TOOL_FAULTS, options.sessions * options.toolFaultsPerSession);
  const sessions: SessionPlan[] = [];
  for (let index = 0; index < options.sessions; index++) {
    const sessionRng = rng.fork(`session-${index}`);
    const toolFaults = toolDeck.splice(0, options.toolFaultsPerSession);
    const turns = planTurns(sessionRng, index, options.turns, toolFaults);
    const providerFaults = planProviderFaults(sessionRng, turns, providerDeck.splice(0, options.providerFaultsPerSession));
    const kills = planKills(sessionRng, turns, options.killsPerSession);
    sessions.push({ index, name: sessionName(index), turns, providerFaults, kills, toolFaults });
  }
  const restartRng = rng.fork('server-restarts');
  const serverRestartsAt = Array.from({ length: options.serverRestarts }, () => 0.15 + restartRng.next() * 0.6).sort((a, b) => a - b);
  const expectedAnswers = sessions.reduce((sum, s) => sum + s.turns.reduce((n, t) => n + t.steps.length + 1, 0), 0);
  return { sessions, serverRestartsAt, expectedAnswers };
}

/** `s00`, `s01`, …: short, sortable, safe in ids and shell words. */
export function sessionName(index: number): string {
  return `s${String(index).padStart(2, '0')}`;
}

/** `count` items taken round-robin from a shuffled deck, so every kind appears about equally often. */
function deal<T>(rng: SeededRandom, kinds: readonly T[], count: number): T[] {
  const out: T[] = [];
  while (out.length < count) out.push(...rng.shuffle(kinds));
  return out.slice(0, count);
}

function planTurns(rng: SeededRandom, index: number, turnCount: number, toolFaults: readonly ToolFault[]): PlannedTurn[] {
  const name = sessionName(index);
  const model: WorkspaceModel = { files: new Map(), dataFiles: [], counter: 0, session: name };
  const faultTurns = toolFaults.map(() => rng.int(1, turnCount));
  const turns: PlannedTurn[] = [];
  for (let turn = 1; turn <= turnCount; turn++) {
    const steps: PlannedStep[] = [];
    const stepCount = rng.int(3, 4);
    for (let k = 0; k < stepCount; k++) {
      const candidates = stepGenerators.filter((g) => g.applicable(model, k === 0 && turn === 1));
      steps.push(rng.pick(candidates).make(rng, model));
    }
    toolFaults.forEach((fault, i) => {
      if (faultTurns[i] === turn) steps.splice(rng.int(1, steps.length), 0, toolFaultStep(fault));
    });
    turns.push({
      prompt: `chaos turn ${turn} of session ${name}: continue the workspace task (step ${turn} of ${turnCount})`,
      steps,
      finalMessage: `Turn ${turn} of ${name} is done: ${steps.length} steps.`,
    });
  }
  return turns;
}

function planProviderFaults(rng: SeededRandom, turns: readonly PlannedTurn[], faults: readonly ProviderFault[]): Map<string, ProviderFault[]> {
  const slots = turns.flatMap((t, i) => Array.from({ length: t.steps.length + 1 }, (_, k) => slotKey(i + 1, k)));
  const out = new Map<string, ProviderFault[]>();
  for (const fault of faults) {
    const key = rng.pick(slots);
    out.set(key, [...(out.get(key) ?? []), fault]);
  }
  return out;
}

function planKills(rng: SeededRandom, turns: readonly PlannedTurn[], count: number): KillPoint[] {
  // Not the last few answers: a kill due after the session has ended would hit nothing.
  const slots = turns.flatMap((t, i) => Array.from({ length: t.steps.length + 1 }, (_, k) => ({ turn: i + 1, step: k })));
  slots.splice(-3);
  return rng
    .sample(slots, count)
    .map((slot) => ({ ...slot, delayMs: rng.int(0, 1_500) }))
    .sort((a, b) => a.turn - b.turn || a.step - b.step);
}
