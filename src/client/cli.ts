/**
 * The `unroll` executable's entry point. An `exec` goes to the home's resident worker when
 * one of this build runs (./resident-exec-client.ts: this process then loads Node
 * built-ins only); every other command line, and an `exec` the worker declines, runs here
 * through the full command line (./commands.ts), loaded only then.
 */
import type { Io } from './process-io';
import { processIo } from './process-io';
import { tryResidentExec } from './resident-exec-client';

export type { Io } from './process-io';
export { processIo } from './process-io';

/** Runs the CLI with `argv` (without node and script) and `io`; resolves with the exit code. */
export async function main(argv: string[], io: Io): Promise<number> {
  return (await import('./commands')).main(argv, io);
}

/**
 * Runs this process's command line: in the resident worker when it can, else here.
 * Resolves with the exit code.
 */
export async function run(argv: string[]): Promise<number> {
  const outcome = await tryResidentExec(argv);
  if (outcome.kind === 'done') return outcome.code;
  const stdin = outcome.stdin;
  return main(argv, processIo(stdin !== undefined ? () => Promise.resolve(stdin) : undefined));
}

if (require.main === module) {
  run(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      process.stderr.write(`unroll: ${String(err)}\n`);
      process.exit(1);
    },
  );
}
