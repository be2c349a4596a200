/**
 * `unroll config import-codex` (a Codex home's config.toml, profile files and global
 * AGENTS.md into the Unroll home) and `unroll config migrate` (config.json to
 * config.toml). The work is in src/config/codex-import.ts; this prints the report.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { unrollHome } from '../config/config';
import { importCodexHome, migrateLegacyConfig, type ImportReport } from '../config/codex-import';

/** The streams and environment the commands use. */
export interface ConfigCommandIo {
  readonly env: Record<string, string | undefined>;
  readonly out: NodeJS.WritableStream;
}

function printReport(report: ImportReport, out: NodeJS.WritableStream): void {
  for (const key of report.imported) out.write(`imported ${key}\n`);
  for (const item of report.skipped) out.write(`skipped  ${item}\n`);
  for (const file of report.written) out.write(`wrote    ${file}\n`);
}

/** Runs `unroll config import-codex`; resolves with the exit code. */
export function importCodexCommand(flags: { codexHome?: string; force?: boolean }, io: ConfigCommandIo): number {
  const codexHome = path.resolve(flags.codexHome ?? io.env.CODEX_HOME ?? path.join(os.homedir(), '.codex'));
  printReport(importCodexHome(codexHome, unrollHome(io.env), { force: flags.force }), io.out);
  return 0;
}

/** Runs `unroll config migrate`; resolves with the exit code. */
export function migrateConfigCommand(io: ConfigCommandIo): number {
  printReport(migrateLegacyConfig(unrollHome(io.env)), io.out);
  return 0;
}
