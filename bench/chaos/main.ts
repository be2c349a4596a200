/**
 * `npm run chaos`: runs the fault-injection suite and prints its table.
 *
 *   npm run chaos                                  # 20 sessions, seed 1, 4 at a time
 *   npm run chaos -- --sessions 5 --seed 7 --concurrency 2
 *   npm run chaos -- --sessions 4 --no-targeted         # only the random sessions
 *   npm run chaos -- --hosts 2 --sessions 6             # two hosts on a private PostgreSQL
 *
 * The table goes to stdout and, as markdown and JSON, to bench/results/; progress goes
 * to stderr. Exit 0 when nothing was lost, corrupted, left unfinished or repeated
 * without explanation; 1 otherwise; 2 for usage errors.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { repoRoot } from './cluster';
import { ChaosUsageError } from './errors';
import { renderMarkdown, type ChaosReport } from './report';
import { DEFAULT_CHAOS_OPTIONS, runChaos, stopActiveRuns, type ChaosOptions } from './run';
import type { TargetedSet } from './targeted';

function parseTargeted(value: string): TargetedSet {
  if (value !== 'all' && value !== 'short') throw new InvalidArgumentError('expected all or short');
  return value;
}

/** `--targeted` alone is all of them, `--no-targeted` none. */
function targetedSet(flag: TargetedSet | boolean): TargetedSet {
  if (flag === true) return 'all';
  return flag === false ? 'none' : flag;
}

function hostCount(value: string): 1 | 2 {
  if (value !== '1' && value !== '2') throw new InvalidArgumentError('expected 1 or 2');
  return value === '1' ? 1 : 2;
}

function integer(min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw new InvalidArgumentError(`expected an integer >= ${min}`);
    return n;
  };
}

/** Parses the command line into run options. Throws CommanderError / ChaosUsageError. */
export function parseChaosArgs(argv: string[]): Omit<ChaosOptions, 'log'> {
  const d = DEFAULT_CHAOS_OPTIONS;
  const program = new Command('chaos')
    .description('Fault-injection suite: runs scripted sessions while killing workers, restarting Temporal and breaking the provider and the tools')
    .option('--sessions <n>', 'sessions to run', integer(1), d.sessions)
    .option('--seed <n>', 'seed for the scripts and the fault points', integer(0), d.seed)
    .option('--concurrency <n>', 'sessions at a time', integer(1), d.concurrency)
    .option('--turns <n>', 'turns per session', integer(1), d.turns)
    .option('--kills <n>', 'worker SIGKILLs per session', integer(0), d.killsPerSession)
    .option('--provider-faults <n>', 'provider faults per session', integer(0), d.providerFaultsPerSession)
    .option('--tool-faults <n>', 'tool faults per session', integer(0), d.toolFaultsPerSession)
    .option('--server-restarts <n>', 'Temporal dev server restarts during the run', integer(0), d.serverRestarts)
    .option('--hosts <n>', '1, or 2: hosts A and B on a private PostgreSQL store, sessions pinned to each, kills of either worker, database restarts', hostCount, d.hosts)
    .option('--db-restarts <n>', 'PostgreSQL restarts during the faulty phase (with --hosts 2)', integer(0), d.dbRestarts)
    .option('--targeted [set]', 'targeted scenarios after the random sessions: all (default) or short (those of the test suite)', parseTargeted, d.targeted)
    .option('--no-targeted', 'skip the targeted scenarios (apply_patch kills, store damage, full disks)')
    .option('--session-deadline-s <n>', 'seconds after which a session counts as not completed', integer(10), d.sessionDeadlineMs / 1000)
    .option('--keep', 'keep the run directory (workspaces, store, logs)', false)
    .exitOverride()
    .parse(argv, { from: 'user' });
  const o = program.opts<Record<string, number | boolean | string>>();
  const options = {
    seed: o.seed as number,
    sessions: o.sessions as number,
    concurrency: o.concurrency as number,
    turns: o.turns as number,
    killsPerSession: o.kills as number,
    providerFaultsPerSession: o.providerFaults as number,
    toolFaultsPerSession: o.toolFaults as number,
    serverRestarts: o.serverRestarts as number,
    hosts: o.hosts as 1 | 2,
    dbRestarts: o.dbRestarts as number,
    targeted: targetedSet(o.targeted as TargetedSet | boolean),
    sessionDeadlineMs: (o.sessionDeadlineS as number) * 1000,
    keepWorkDir: o.keep as boolean,
  };
  if (options.toolFaultsPerSession > options.turns * 4) throw new ChaosUsageError('--tool-faults is larger than the script has room for');
  return options;
}

/**
 * Writes the report as `bench/results/chaos-<sessions>-sessions-seed-<seed>.{md,json}`
 * (`chaos-2-hosts-<sessions>-sessions-seed-<seed>` in the two-host mode); returns the markdown path.
 */
export async function writeResults(report: ChaosReport, dir = path.join(repoRoot(), 'bench', 'results')): Promise<string> {
  await mkdir(dir, { recursive: true });
  const hosts = report.options.hosts === 2 ? '2-hosts-' : '';
  const base = path.join(dir, `chaos-${hosts}${report.options.sessions}-sessions-seed-${report.options.seed}`);
  await writeFile(`${base}.md`, renderMarkdown(report));
  await writeFile(`${base}.json`, `${JSON.stringify(report, null, 2)}\n`);
  return `${base}.md`;
}

async function main(argv: string[]): Promise<number> {
  let options: Omit<ChaosOptions, 'log'>;
  try {
    options = parseChaosArgs(argv);
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? 0 : 2;
    if (err instanceof ChaosUsageError) {
      process.stderr.write(`chaos: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  const interrupt = (signal: string) => () => {
    process.stderr.write(`chaos: ${signal}, stopping the workers and the dev server\n`);
    void stopActiveRuns().finally(() => process.exit(130));
  };
  process.once('SIGINT', interrupt('SIGINT'));
  process.once('SIGTERM', interrupt('SIGTERM'));
  const report = await runChaos({ ...options, log: (line) => process.stderr.write(`${line}\n`) });
  process.stdout.write(renderMarkdown(report));
  const written = await writeResults(report);
  process.stderr.write(`\nwritten: ${path.relative(process.cwd(), written)} (and .json)\n`);
  return report.ok ? 0 : 1;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`chaos: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      void stopActiveRuns().finally(() => process.exit(1));
    },
  );
}
