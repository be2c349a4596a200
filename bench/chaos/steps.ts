/**
 * The building blocks of a chaos session script: steps (one model response's tool
 * calls) drawn from a menu of generators that keep a model of the workspace, so every
 * patch they write applies to the files as the earlier steps left them. Also the
 * tool-fault steps, and the rendering of a planned call into the `function_call` the
 * scripted model sends.
 */
import type { ResponseFunctionToolCall } from 'openai/resources/responses/responses';
import { functionCall, type PlanStep } from '../../test/support/responses-builders';
import type { ToolFault } from './faults';
import type { SeededRandom } from './rng';

/** One tool call of a script, before it gets its call id. */
export type PlannedCall =
  | { readonly tool: 'shell'; readonly body: string; readonly argv: boolean; readonly timeoutMs?: number; readonly toolFault?: ToolFault }
  | { readonly tool: 'apply_patch'; readonly patch: string }
  | { readonly tool: 'update_plan'; readonly plan: readonly PlanStep[] };

/** One model response of a script: its tool calls, maybe preceded by reasoning. */
export interface PlannedStep {
  readonly calls: readonly PlannedCall[];
  readonly reasoning?: string;
}

/** What the generators know about the workspace so far. */
export interface WorkspaceModel {
  /** Text files under src/ that patches may touch, with their lines. */
  readonly files: Map<string, string[]>;
  /** Files under data/ that commands wrote. */
  readonly dataFiles: string[];
  counter: number;
  readonly session: string;
}

/** A kind of step: when it can be used and how to draw one. */
interface StepGenerator {
  readonly name: string;
  applicable(model: WorkspaceModel, first: boolean): boolean;
  make(rng: SeededRandom, model: WorkspaceModel): PlannedStep;
}

const TOPICS = ['parser', 'lexer', 'router', 'cache', 'queue', 'codec', 'ledger', 'scheduler'];
const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo', 'foxtrot', 'golf', 'hotel', 'india', 'juliet'];

const patch = (...lines: string[]): string => ['*** Begin Patch', ...lines, '*** End Patch'].join('\n');
const shell = (body: string, argv = false): PlannedCall => ({ tool: 'shell', body, argv });
const pause = (rng: SeededRandom): string => (rng.next() < 0.5 ? 'sleep 0.3 && ' : '');
const next = (model: WorkspaceModel): number => ++model.counter;

function newFileLines(rng: SeededRandom, model: WorkspaceModel, topic: string, n: number): string[] {
  return Array.from({ length: rng.int(4, 9) }, (_, j) => `${model.session} ${topic} ${n}.${j} ${rng.pick(WORDS)}`);
}

function pickFile(rng: SeededRandom, model: WorkspaceModel): [string, string[]] {
  const file = rng.pick([...model.files.keys()].sort());
  return [file, model.files.get(file)!];
}

/** An `@@` hunk replacing line `i` of `lines` with `replacement`, with up to two lines of context each side. */
function editHunk(lines: readonly string[], i: number, replacement: string): string[] {
  const before = lines.slice(Math.max(0, i - 2), i).map((l) => ` ${l}`);
  const after = lines.slice(i + 1, i + 3).map((l) => ` ${l}`);
  return ['@@', ...before, `-${lines[i]}`, `+${replacement}`, ...after];
}

function addFile(rng: SeededRandom, model: WorkspaceModel): { path: string; lines: string[] } {
  const n = next(model);
  const topic = rng.pick(TOPICS);
  const file = `src/${topic}-${n}.txt`;
  const lines = newFileLines(rng, model, topic, n);
  model.files.set(file, lines);
  return { path: file, lines };
}

function editFile(rng: SeededRandom, model: WorkspaceModel): string[] {
  const [file, lines] = pickFile(rng, model);
  const i = rng.int(0, lines.length - 1);
  const replacement = `${lines[i]} [edit ${next(model)}]`;
  const hunk = editHunk(lines, i, replacement);
  lines[i] = replacement;
  return [`*** Update File: ${file}`, ...hunk];
}

const generators: StepGenerator[] = [
  {
    name: 'setup',
    applicable: (_m, first) => first,
    make: (rng, model) => ({
      reasoning: `Plan the work for ${model.session}: create src/ and data/, then write and edit files.`,
      calls: [
        { tool: 'update_plan', plan: [{ step: 'Set up the workspace', status: 'in_progress' }, { step: 'Write and edit files', status: 'pending' }] },
        shell(`${pause(rng)}mkdir -p src data && printf '%s\\n' '${model.session} workspace' > README.txt`),
      ],
    }),
  },
  {
    name: 'add-file',
    applicable: (_m, first) => !first,
    make: (rng, model) => {
      const added = addFile(rng, model);
      return { calls: [{ tool: 'apply_patch', patch: patch(`*** Add File: ${added.path}`, ...added.lines.map((l) => `+${l}`)) }] };
    },
  },
  {
    name: 'edit-file',
    applicable: (m, first) => !first && m.files.size > 0,
    make: (rng, model) => ({ calls: [{ tool: 'apply_patch', patch: patch(...editFile(rng, model)) }] }),
  },
  {
    name: 'append-at-end',
    applicable: (m, first) => !first && m.files.size > 0,
    make: (rng, model) => {
      const [file, lines] = pickFile(rng, model);
      const added = `${model.session} appended ${next(model)} ${rng.pick(WORDS)}`;
      const last = lines[lines.length - 1];
      lines.push(added);
      return { calls: [{ tool: 'apply_patch', patch: patch(`*** Update File: ${file}`, '@@', ` ${last}`, `+${added}`, '*** End of File') }] };
    },
  },
  {
    name: 'move-and-edit',
    applicable: (m, first) => !first && m.files.size > 0,
    make: (rng, model) => {
      const [file, lines] = pickFile(rng, model);
      const target = `src/moved-${next(model)}.txt`;
      const hunk = editHunk(lines, 0, `${lines[0]} [moved]`);
      lines[0] = `${lines[0]} [moved]`;
      model.files.delete(file);
      model.files.set(target, lines);
      return { calls: [{ tool: 'apply_patch', patch: patch(`*** Update File: ${file}`, `*** Move to: ${target}`, ...hunk) }] };
    },
  },
  {
    name: 'delete-and-add',
    applicable: (m, first) => !first && m.files.size >= 3,
    make: (rng, model) => {
      const [file] = pickFile(rng, model);
      model.files.delete(file);
      const added = addFile(rng, model);
      return { calls: [{ tool: 'apply_patch', patch: patch(`*** Delete File: ${file}`, `*** Add File: ${added.path}`, ...added.lines.map((l) => `+${l}`)) }] };
    },
  },
  {
    name: 'multi-file-patch',
    applicable: (m, first) => !first && m.files.size > 0,
    make: (rng, model) => {
      const edit = editFile(rng, model);
      const added = addFile(rng, model);
      return { calls: [{ tool: 'apply_patch', patch: patch(...edit, `*** Add File: ${added.path}`, ...added.lines.map((l) => `+${l}`)) }] };
    },
  },
  {
    name: 'write-sequence',
    applicable: (_m, first) => !first,
    make: (rng, model) => {
      const file = `data/seq-${next(model)}.txt`;
      model.dataFiles.push(file);
      return { calls: [shell(`${pause(rng)}seq 1 ${rng.int(20, 400)} > ${file}`, rng.next() < 0.3)] };
    },
  },
  {
    name: 'derive-data',
    applicable: (m, first) => !first && m.dataFiles.length > 0,
    make: (rng, model) => {
      const source = rng.pick(model.dataFiles);
      const file = `data/sorted-${next(model)}.txt`;
      model.dataFiles.push(file);
      return { calls: [shell(`${pause(rng)}sort -rn ${source} > ${file} && wc -l ${file}`)] };
    },
  },
  {
    name: 'digest-sources',
    applicable: (m, first) => !first && m.files.size > 0,
    make: (rng, model) => {
      const n = next(model);
      return { calls: [shell(`${pause(rng)}cat src/*.txt | sha256sum > data/digest-${n}.txt && wc -l src/*.txt > data/lines-${n}.txt`)] };
    },
  },
  {
    name: 'plan-and-list',
    applicable: (_m, first) => !first,
    make: (rng, model) => {
      const n = next(model);
      return {
        reasoning: `Check progress of ${model.session} and list the sources.`,
        calls: [
          { tool: 'update_plan', plan: [{ step: 'Set up the workspace', status: 'completed' }, { step: 'Write and edit files', status: 'in_progress' }] },
          { tool: 'update_plan', plan: [{ step: 'Set up the workspace', status: 'completed' }, { step: `Write and edit files (${n})`, status: 'in_progress' }] },
          shell(`${pause(rng)}ls -1 src > data/listing-${n}.txt && cat data/listing-${n}.txt`, rng.next() < 0.5),
        ],
      };
    },
  },
];

/** The menu of ordinary steps. */
export const stepGenerators: readonly StepGenerator[] = generators;

const FAULT_COMMANDS: Record<ToolFault, { body: string; timeoutMs?: number }> = {
  'hanging-command': { body: 'sleep 30', timeoutMs: 1_000 },
  'output-50mb': { body: "yes 'chaos flood line 0123456789' | head -c 52428800" },
  'binary-output': { body: 'seq 1 40000 | gzip -n -c' },
  'invalid-utf8': { body: "printf 'before \\xff\\xfe middle \\xc3\\x28 after \\xe2\\x82\\n'" },
  'fork-and-exit': { body: 'for i in 1 2 3; do sleep 20 & done; echo forked' },
};

/** A step whose only call is the misbehaving command for `fault`. */
export function toolFaultStep(fault: ToolFault): PlannedStep {
  const { body, timeoutMs } = FAULT_COMMANDS[fault];
  return { calls: [{ tool: 'shell', body, argv: false, toolFault: fault, ...(timeoutMs ? { timeoutMs } : {}) }] };
}

/** Whether the output a fault command got shows the expected handling. */
export function toolFaultHandled(fault: ToolFault, output: string): boolean {
  switch (fault) {
    case 'hanging-command':
      return output.includes('Exit code: 124') && output.includes('command timed out after 1000 milliseconds');
    case 'output-50mb':
      return output.includes('Exit code: 0') && /\[\.\.\. omitted \d+ bytes/.test(output) && output.length < 20_000;
    case 'binary-output':
    case 'invalid-utf8':
      return output.includes('Exit code: 0') && output.includes('\uFFFD');
    case 'fork-and-exit':
      return output.includes('forked') && !/Wall time: (1\d|[2-9]\d)\./.test(output);
  }
}

/** The ledger line a call appends: `<session> t<turn> k<step> c<call> r<retry>`. */
export function ledgerTag(session: string, turn: number, step: number, call: number, retry: number): string {
  return `${session} t${turn} k${step} c${call} r${retry}`;
}

/** The call id of a call instance; retries of a re-issued call differ only in `r`. */
export function callId(session: string, turn: number, step: number, call: number, retry: number): string {
  return `call_${session}_t${turn}_k${step}_c${call}_r${retry}`;
}

/** Parses {@link callId}; undefined for ids the chaos script did not make. */
export function parseCallId(id: string): { session: string; turn: number; step: number; call: number; retry: number } | undefined {
  const m = /^call_([a-z]\d+)_t(\d+)_k(\d+)_c(\d+)_r(\d+)$/.exec(id);
  return m ? { session: m[1], turn: Number(m[2]), step: Number(m[3]), call: Number(m[4]), retry: Number(m[5]) } : undefined;
}

/** The `function_call` the scripted model sends for a planned call instance. */
export function renderCall(call: PlannedCall, id: string, tag: string): ResponseFunctionToolCall {
  switch (call.tool) {
    case 'shell': {
      const script = `echo '${tag}' >> "$CHAOS_LEDGER" && ${call.body}`;
      const command = call.argv ? ['bash', '-c', script] : script;
      return functionCall('shell', { command, ...(call.timeoutMs ? { timeout_ms: call.timeoutMs } : {}) }, id);
    }
    case 'apply_patch':
      return functionCall('apply_patch', { input: call.patch }, id);
    case 'update_plan':
      return functionCall('update_plan', { plan: call.plan }, id);
  }
}
