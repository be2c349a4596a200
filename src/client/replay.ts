/**
 * `unroll replay <thread | bundle> [--workflow-bundle file] [--json]`: replays every
 * workflow run of a thread (session, turns, continue-as-new runs) against the current
 * workflow code and reports each as OK or with its first non-determinism. Exit 1 when
 * any run diverges, so it can gate CI.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { replayThread, type ReplayOutcome, type WorkflowCode } from '../history/replay';
import { defaultWorkflowBundlePath, WORKFLOWS_PATH } from '../workers/worker';
import { DebugContext, DebugUsageError, guarded, painterFor, quietSdk, withContext, type DebugIo, type Paint } from './debug-command';
import { resolveThread } from './thread-source';

/** Options of `unroll replay`. */
export interface ReplayFlags {
  readonly workflowBundle?: string;
  readonly json?: boolean;
  readonly temporalAddress?: string;
}

/** The workflow code the CLI replays against: the built bundle if present, else the sources. */
export function currentWorkflowCode(): WorkflowCode {
  const bundle = defaultWorkflowBundlePath();
  return bundle ? { workflowBundlePath: bundle } : { workflowsPath: WORKFLOWS_PATH };
}

function describeCode(code: WorkflowCode): string {
  return 'workflowBundlePath' in code ? `bundle ${code.workflowBundlePath}` : `sources ${code.workflowsPath}`;
}

/** The human report: one line per run, then a verdict. */
export function renderReplay(threadId: string, code: WorkflowCode, outcomes: readonly ReplayOutcome[], paint: Paint): string[] {
  const lines = [paint('2', `replaying ${outcomes.length} workflow run(s) of ${threadId} against ${describeCode(code)}`)];
  for (const o of outcomes) {
    const name = `${o.workflowType} ${o.workflowId} (run ${o.runId})`;
    if (o.ok) {
      lines.push(`${paint('32', 'OK      ')} ${name}`);
      continue;
    }
    const label = o.problem === 'nondeterminism' ? 'DIVERGED' : 'FAILED  ';
    lines.push(`${paint('31', label)} ${name}${o.eventId !== null ? ` at event ${o.eventId}` : ''}`);
    lines.push(...(o.message ?? '').split('\n').map((l) => paint('31', `         ${l}`)));
  }
  const bad = outcomes.filter((o) => !o.ok).length;
  lines.push(bad === 0 ? paint('32', `all ${outcomes.length} run(s) replay deterministically`) : paint('31', `${bad} of ${outcomes.length} run(s) do not replay: the workflow code changed in a way these histories cannot follow (see "Changing workflow code" in the README)`));
  return lines;
}

/** Runs `unroll replay`; resolves with the exit code (1 on any divergence). */
export function replayCommand(target: string, flags: ReplayFlags, io: DebugIo): Promise<number> {
  return guarded(io, () =>
    withContext(DebugContext.open(io, flags.temporalAddress ? { temporalAddress: flags.temporalAddress } : {}), async (ctx) => {
      let code = currentWorkflowCode();
      if (flags.workflowBundle !== undefined) {
        const file = path.resolve(io.cwd, flags.workflowBundle);
        if (!(await fs.stat(file).then((s) => s.isFile(), () => false))) throw new DebugUsageError(`--workflow-bundle: no such file ${file}`);
        code = { workflowBundlePath: file };
      }
      quietSdk('ERROR');
      const source = await resolveThread(ctx, target);
      const outcomes = await replayThread(source.histories, code);
      if (flags.json) io.out.write(`${JSON.stringify({ threadId: source.histories.threadId, code: describeCode(code), outcomes }, null, 2)}\n`);
      else io.out.write(`${renderReplay(source.histories.threadId, code, outcomes, painterFor(io.out, io.env)).join('\n')}\n`);
      return outcomes.every((o) => o.ok) ? 0 : 1;
    }),
  );
}
