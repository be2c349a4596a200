/**
 * The scripts of the `exec --json` side-by-side suite: the same scripted model runs the
 * real Codex CLI (bench/golden-codex.ts records its stream as golden files) and Unroll
 * (test/e2e/exec-json-golden.test.ts compares Unroll's stream with them).
 *
 * A script says what the model does ("run this command", "apply this patch"), not which
 * tool it calls: each step is rendered for the tools the request offers. Codex 0.171
 * offers `exec_command` ({cmd}, run as `<user shell> -lc cmd`) and a freeform
 * `apply_patch`; so does Unroll for the script's model (`gpt-5.5`). For a thread with
 * `shell` instead, a command becomes `["/bin/bash", "-lc", cmd]`, the argv Codex runs,
 * and both render it as `/bin/bash -lc '…'`.
 *
 * Every response reports the same fixed usage, so `turn.completed.usage` compares
 * exactly whatever the prompt's size.
 */
import type { ScriptStep } from '../../test/support/responses-builders';
import {
  assistantMessage,
  customToolCall,
  functionCall,
  rateLimited,
  reasoning,
  respond,
  updatePlanCall,
  webSearchCall,
  type PlanStep,
} from '../../test/support/responses-builders';

/** The usage every scripted response reports (`input_tokens_details.cache_write_tokens` included). */
export const SCRIPTED_USAGE = {
  input_tokens: 100,
  input_tokens_details: { cached_tokens: 20, cache_write_tokens: 5 },
  output_tokens: 10,
  output_tokens_details: { reasoning_tokens: 3 },
  total_tokens: 110,
};

/** What the model does in one response (or how the provider fails it). */
export type ScenarioStep =
  | { kind: 'command'; cmd: string; timeoutMs?: number }
  | { kind: 'patch'; patch: string }
  | { kind: 'plan'; plan: PlanStep[]; explanation?: string }
  | { kind: 'message'; text: string; reasoning?: string }
  | { kind: 'call'; name: string; args: string }
  | { kind: 'rate-limited'; retryAfterSeconds: number }
  /** Hosted web searches the provider ran (`web_search_call` items), then a message. */
  | { kind: 'web-search'; actions: Array<ReturnType<typeof webSearchCall>['action']>; text: string };

/**
 * Events only Unroll emits in a script, with why: the comparison removes exactly these
 * (each must be there) from Unroll's stream before comparing. The README lists them.
 */
export interface KnownDifference {
  readonly why: string;
  /** `item.completed:command_execution` style keys of the events only Unroll emits. */
  readonly unrollOnly?: readonly string[];
  /** Keys of the events only Codex emits (taken out of the golden stream, in order). */
  readonly codexOnly?: readonly string[];
}

/** One script of the suite. */
export interface Scenario {
  readonly name: string;
  readonly prompt: string;
  readonly steps: readonly ScenarioStep[];
  readonly difference?: KnownDifference;
}

const patch = (body: string): string => `*** Begin Patch\n${body}\n*** End Patch\n`;

/** The scripts, in the order the suite runs them. */
export const SCENARIOS: readonly Scenario[] = [
  { name: 'message', prompt: 'say hello', steps: [{ kind: 'message', text: 'Hello there.' }] },
  { name: 'reasoning', prompt: 'think first', steps: [{ kind: 'message', reasoning: 'Weighing the options', text: 'Thought it through.' }] },
  { name: 'shell-ok', prompt: 'run a command', steps: [{ kind: 'command', cmd: 'echo hello' }] },
  { name: 'shell-failing', prompt: 'run a failing command', steps: [{ kind: 'command', cmd: 'echo oops >&2; exit 3' }] },
  { name: 'shell-timed-out', prompt: 'run a slow command', steps: [{ kind: 'command', cmd: 'sleep 3; echo late', timeoutMs: 250 }] },
  { name: 'patch-ok', prompt: 'add two files', steps: [{ kind: 'patch', patch: patch('*** Add File: b.txt\n+bee\n*** Add File: a.txt\n+ay') }] },
  {
    name: 'patch-update-delete',
    prompt: 'edit files',
    steps: [
      { kind: 'patch', patch: patch('*** Add File: notes.txt\n+one\n*** Add File: old.txt\n+old') },
      { kind: 'patch', patch: patch('*** Update File: notes.txt\n@@\n-one\n+two\n*** Delete File: old.txt') },
    ],
  },
  { name: 'patch-missing-file', prompt: 'edit a missing file', steps: [{ kind: 'patch', patch: patch('*** Update File: missing.txt\n@@\n-x\n+y') }] },
  {
    name: 'patch-context-mismatch',
    prompt: 'edit with wrong context',
    steps: [
      { kind: 'patch', patch: patch('*** Add File: z.txt\n+one') },
      { kind: 'patch', patch: patch('*** Update File: z.txt\n@@\n-nope\n+two') },
    ],
  },
  { name: 'patch-unparsable', prompt: 'send a broken patch', steps: [{ kind: 'patch', patch: 'not a patch at all' }] },
  {
    name: 'patch-write-fails',
    prompt: 'write under a file',
    steps: [
      { kind: 'patch', patch: patch('*** Add File: f.txt\n+one') },
      { kind: 'patch', patch: patch('*** Add File: g.txt\n+g\n*** Add File: f.txt/x.txt\n+two') },
    ],
    difference: {
      why:
        'Codex 0.171 starts writing (g.txt is written) and reports a failed file_change when f.txt/x.txt cannot be; ' +
        "Unroll's apply_patch finds before writing anything that f.txt is not a directory, so the call did not run: " +
        'no item (a call.rejected event says why), nothing written.',
      codexOnly: ['item.started:file_change', 'item.completed:file_change'],
    },
  },
  {
    name: 'plan',
    prompt: 'plan the work',
    steps: [
      { kind: 'plan', plan: [{ step: 'read', status: 'in_progress' }, { step: 'write', status: 'pending' }] },
      { kind: 'plan', explanation: 'read done', plan: [{ step: 'read', status: 'completed' }, { step: 'write', status: 'in_progress' }] },
      { kind: 'plan', plan: [{ step: 'read', status: 'completed' }, { step: 'write', status: 'completed' }] },
    ],
  },
  {
    name: 'retries',
    prompt: 'survive rate limits',
    steps: [{ kind: 'rate-limited', retryAfterSeconds: 2 }, { kind: 'rate-limited', retryAfterSeconds: 2 }, { kind: 'message', text: 'Made it.' }],
  },
  { name: 'bad-json-arguments', prompt: 'send bad arguments', steps: [{ kind: 'call', name: '<shell>', args: '{"cmd": "echo hi"' }] },
  { name: 'unknown-tool', prompt: 'call a missing tool', steps: [{ kind: 'call', name: 'no_such_tool', args: '{"x":1}' }] },
  {
    name: 'web-search',
    prompt: 'look it up',
    steps: [
      {
        kind: 'web-search',
        actions: [
          { type: 'search', query: 'temporal history size limit', sources: [{ type: 'url', url: 'https://docs.temporal.io/' }] },
          { type: 'open_page', url: 'https://docs.temporal.io/' },
          { type: 'find_in_page', url: 'https://docs.temporal.io/', pattern: '50 MB' },
        ],
        text: 'The limit is 50 MB.',
      },
    ],
  },
];

/** The answer after the script's steps: a plain message, so the turn ends. */
export const FINAL_MESSAGE = 'Done.';

/** The tool names a request offers (`tools[].name`). */
export function offeredTools(body: Record<string, unknown>): Set<string> {
  const tools = Array.isArray(body.tools) ? (body.tools as Array<{ name?: unknown }>) : [];
  return new Set(tools.map((t) => (typeof t.name === 'string' ? t.name : '')).filter((n) => n !== ''));
}

/** The login shell both agents run a model's command with in the scripts. */
const SHELL = '/bin/bash';

/** A command call for whichever shell tool the request offers. */
function commandCall(tools: Set<string>, cmd: string, timeoutMs?: number): ReturnType<typeof functionCall> {
  if (tools.has('exec_command')) return functionCall('exec_command', { cmd, ...(timeoutMs ? { yield_time_ms: timeoutMs } : {}) });
  return functionCall('shell', { command: [SHELL, '-lc', cmd], ...(timeoutMs ? { timeout_ms: timeoutMs } : {}) });
}

/** The response for step `step` of a script, rendered for the tools `tools` offers. */
export function renderStep(step: ScenarioStep, tools: Set<string>): ScriptStep {
  const usage = { usage: SCRIPTED_USAGE };
  switch (step.kind) {
    case 'command':
      return respond(commandCall(tools, step.cmd, step.timeoutMs), usage);
    case 'patch':
      // Codex 0.171's apply_patch is freeform; Unroll takes a custom call as well as JSON.
      return respond(customToolCall('apply_patch', step.patch), usage);
    case 'plan':
      return respond(updatePlanCall(step.plan, step.explanation), usage);
    case 'message':
      return respond([...(step.reasoning ? [reasoning(step.reasoning)] : []), assistantMessage(step.text)], usage);
    case 'call': {
      const name = step.name === '<shell>' ? (tools.has('exec_command') ? 'exec_command' : 'shell') : step.name;
      return respond(functionCall(name, step.args), usage);
    }
    case 'rate-limited':
      return rateLimited(step.retryAfterSeconds);
    case 'web-search':
      return respond([...step.actions.map((action) => webSearchCall(action)), assistantMessage(step.text)], usage);
  }
}

/**
 * A request handler for the scripted server that plays `scenario`: the n-th request gets
 * the n-th step, every later one the final message.
 */
export function scenarioHandler(scenario: Scenario): (request: { body: Record<string, unknown> }) => ScriptStep {
  let next = 0;
  return (request) => {
    const step = scenario.steps[next++];
    return step ? renderStep(step, offeredTools(request.body)) : respond(assistantMessage(FINAL_MESSAGE), { usage: SCRIPTED_USAGE });
  };
}
