import { promises as fs } from 'node:fs';
import * as path from 'node:path';

/** Codex's default budget for project instructions: 32 KiB across all AGENTS.md files. */
export const AGENTS_MD_BUDGET_BYTES = 32 * 1024;

/** One AGENTS.md file that contributes to the instructions. */
export interface AgentsDoc {
  readonly path: string;
  readonly text: string;
}

/**
 * Finds the AGENTS.md files that apply to `cwd`, as Codex does: from the repository root
 * (the nearest ancestor holding `.git`; `cwd` itself when there is none) down to `cwd`,
 * root first. Their contents are concatenated within `budgetBytes`; a file that does not
 * fit is cut at the budget (on a character boundary) and later ones are dropped.
 */
export async function discoverAgentsDocs(cwd: string, budgetBytes = AGENTS_MD_BUDGET_BYTES): Promise<AgentsDoc[]> {
  const dirs = await directoriesFromRepoRoot(path.resolve(cwd));
  const docs: AgentsDoc[] = [];
  let remaining = budgetBytes;
  for (const dir of dirs) {
    if (remaining <= 0) break;
    const file = path.join(dir, 'AGENTS.md');
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      continue;
    }
    if (text.trim() === '') continue;
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

/** The user message text that carries the project instructions (Codex's format). */
export function agentsMessageText(cwd: string, docs: readonly AgentsDoc[]): string {
  const body = docs.map((d) => d.text.trimEnd()).join('\n\n--- project-doc ---\n\n');
  return `# AGENTS.md instructions for ${cwd}\n\n<INSTRUCTIONS>\n${body}\n</INSTRUCTIONS>`;
}
