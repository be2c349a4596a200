/**
 * AGENTS.md as Codex 0.171 finds it. The global instructions: `AGENTS.override.md`, else
 * `AGENTS.md`, in the home directory (Unroll's home; `unroll config import-codex` copies
 * Codex's there), the first that is not blank. The project docs: in each directory from
 * the repository root down to the working directory, the first of `AGENTS.override.md`,
 * `AGENTS.md` and the configured fallback names that exists (a blank one contributes
 * nothing), within a byte budget (`project_doc_max_bytes`, 32 KiB by default; 0 turns
 * project docs off; the global file is not counted). Both go into one user message, in
 * Codex's format (see {@link agentsMessageText}).
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Codex's default budget for project instructions: 32 KiB across all project docs. */
export const AGENTS_MD_BUDGET_BYTES = 32 * 1024;

/** The file that takes precedence over AGENTS.md in its directory (and in the home). */
export const AGENTS_OVERRIDE_FILENAME = 'AGENTS.override.md';
export const AGENTS_FILENAME = 'AGENTS.md';

/** One instructions file that contributes to the message. */
export interface AgentsDoc {
  readonly path: string;
  readonly text: string;
}

/** How instructions are found (a thread's `projectDocs` settings). */
export interface ProjectDocOptions {
  readonly maxBytes: number;
  readonly fallbackFilenames: readonly string[];
  /** The directory holding the global instructions; null: none. */
  readonly globalDir: string | null;
}

/**
 * Finds the project docs that apply to `cwd`: from the repository root (the nearest
 * ancestor holding `.git`; `cwd` itself when there is none) down to `cwd`, root first, at
 * most one per directory. Their contents are concatenated within `budgetBytes`; a file
 * that does not fit is cut at the budget (on a character boundary) and later ones are
 * dropped.
 */
export async function discoverAgentsDocs(cwd: string, budgetBytes = AGENTS_MD_BUDGET_BYTES, fallbackFilenames: readonly string[] = []): Promise<AgentsDoc[]> {
  if (budgetBytes <= 0) return [];
  const dirs = await directoriesFromRepoRoot(path.resolve(cwd));
  const names = [...new Set([AGENTS_OVERRIDE_FILENAME, AGENTS_FILENAME, ...fallbackFilenames])];
  const docs: AgentsDoc[] = [];
  let remaining = budgetBytes;
  for (const dir of dirs) {
    if (remaining <= 0) break;
    const file = await firstFile(dir, names);
    if (file === undefined) continue;
    const text = await readText(file);
    if (text === undefined || text.trim() === '') continue;
    const bytes = Buffer.from(text, 'utf8');
    if (bytes.length > remaining) {
      // The budget ends inside this file: keep what fits and drop every later file.
      docs.push({ path: file, text: bytes.subarray(0, remaining).toString('utf8').replace(/\uFFFD+$/, '') });
      break;
    }
    remaining -= bytes.length;
    docs.push({ path: file, text });
  }
  return docs;
}

/** The global instructions in `dir`: AGENTS.override.md, else AGENTS.md, the first not blank. */
export async function readGlobalAgentsDoc(dir: string): Promise<AgentsDoc | undefined> {
  for (const name of [AGENTS_OVERRIDE_FILENAME, AGENTS_FILENAME]) {
    const file = path.join(dir, name);
    const text = await readText(file);
    if (text !== undefined && text.trim() !== '') return { path: file, text: text.trim() };
  }
  return undefined;
}

/**
 * The text of the instructions message for `cwd` under `options` (global file and project
 * docs), or '' when there are none.
 */
export async function agentsInstructionsText(cwd: string, options: ProjectDocOptions): Promise<string> {
  const global = options.globalDir === null ? undefined : await readGlobalAgentsDoc(options.globalDir);
  const docs = await discoverAgentsDocs(cwd, options.maxBytes, options.fallbackFilenames);
  return agentsMessageText(cwd, docs, global);
}

/**
 * The user message text that carries the instructions, in Codex's format: the global
 * text, then `--- project-doc ---`, then the project docs joined by blank lines. The
 * heading names `cwd` when there are project docs. '' when there is nothing.
 */
export function agentsMessageText(cwd: string, docs: readonly AgentsDoc[], global?: AgentsDoc): string {
  const project = docs.map((d) => d.text).join('\n\n');
  if (docs.length === 0 && global === undefined) return '';
  if (docs.length === 0) return `# AGENTS.md instructions\n\n<INSTRUCTIONS>\n${global?.text}\n</INSTRUCTIONS>`;
  const body = global === undefined ? project : `${global.text}\n\n--- project-doc ---\n\n${project}`;
  return `# AGENTS.md instructions for ${cwd}\n\n<INSTRUCTIONS>\n${body}\n</INSTRUCTIONS>`;
}

async function firstFile(dir: string, names: readonly string[]): Promise<string | undefined> {
  for (const name of names) {
    const file = path.join(dir, name);
    try {
      if ((await fs.stat(file)).isFile()) return file;
    } catch {
      // Not there: try the next name.
    }
  }
  return undefined;
}

async function readText(file: string): Promise<string | undefined> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch {
    return undefined;
  }
}

async function directoriesFromRepoRoot(cwd: string): Promise<string[]> {
  const chain: string[] = [];
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    chain.push(dir);
    if (await exists(path.join(dir, '.git'))) return chain.reverse();
    if (path.dirname(dir) === dir) return [cwd];
  }
}

async function exists(p: string): Promise<boolean> {
  try {
    await fs.access(p);
    return true;
  } catch {
    return false;
  }
}
