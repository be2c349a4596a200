/**
 * AGENTS.md as Codex 0.171 finds it, checked against what a real `codex exec` sent the
 * model for the same layouts: the global file (AGENTS.override.md before AGENTS.md),
 * AGENTS.override.md before AGENTS.md in each directory, fallback names, the byte limit
 * (project docs only; 0 turns them off) and the message format. Real files in temp dirs.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { agentsInstructionsText, type ProjectDocOptions } from '../../src/prompt/agents-md';

let root: string;
let home: string;

beforeEach(async () => {
  root = await mkdtemp(path.join(os.tmpdir(), 'unroll-agents-'));
  home = await mkdtemp(path.join(os.tmpdir(), 'unroll-agents-home-'));
  await mkdir(path.join(root, '.git'));
  await mkdir(path.join(root, 'sub'));
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
});

const options = (extra: Partial<ProjectDocOptions> = {}): ProjectDocOptions => ({ maxBytes: 32 * 1024, fallbackFilenames: [], globalDir: home, ...extra });
const put = (file: string, text: string) => writeFile(file, text);

describe('agentsInstructionsText', () => {
  it('puts the global file first, then AGENTS.override.md over AGENTS.md, then a fallback name deeper down', async () => {
    await put(path.join(home, 'AGENTS.md'), '\n\nGLOBAL RULES\n\n\n');
    await put(path.join(root, 'AGENTS.override.md'), 'ROOT OVERRIDE\n');
    await put(path.join(root, 'AGENTS.md'), 'ROOT PLAIN\n');
    await put(path.join(root, 'sub', 'CLAUDE.md'), 'SUB FALLBACK\n');
    const cwd = path.join(root, 'sub');
    expect(await agentsInstructionsText(cwd, options({ fallbackFilenames: ['CLAUDE.md'] }))).toBe(
      `# AGENTS.md instructions for ${cwd}\n\n<INSTRUCTIONS>\nGLOBAL RULES\n\n--- project-doc ---\n\nROOT OVERRIDE\n\n\nSUB FALLBACK\n\n</INSTRUCTIONS>`,
    );
    // Without the fallback name configured, CLAUDE.md is not read.
    expect(await agentsInstructionsText(cwd, options())).toBe(`# AGENTS.md instructions for ${cwd}\n\n<INSTRUCTIONS>\nGLOBAL RULES\n\n--- project-doc ---\n\nROOT OVERRIDE\n\n</INSTRUCTIONS>`);
  });

  it('prefers the global AGENTS.override.md, and names no directory when only the global file applies', async () => {
    await put(path.join(home, 'AGENTS.md'), 'G\n');
    expect(await agentsInstructionsText(root, options())).toBe('# AGENTS.md instructions\n\n<INSTRUCTIONS>\nG\n</INSTRUCTIONS>');
    await put(path.join(home, 'AGENTS.override.md'), 'GLOBAL OVERRIDE\n');
    expect(await agentsInstructionsText(root, options())).toBe('# AGENTS.md instructions\n\n<INSTRUCTIONS>\nGLOBAL OVERRIDE\n</INSTRUCTIONS>');
  });

  it('takes the first existing name in a directory even when it is blank (no fallback past it)', async () => {
    await put(path.join(root, 'AGENTS.md'), '   \n');
    await put(path.join(root, 'CLAUDE.md'), 'ROOT CLAUDE\n');
    await put(path.join(root, 'sub', 'CLAUDE.md'), 'SUB FALLBACK\n');
    const cwd = path.join(root, 'sub');
    expect(await agentsInstructionsText(cwd, options({ fallbackFilenames: ['CLAUDE.md'], globalDir: null }))).toBe(`# AGENTS.md instructions for ${cwd}\n\n<INSTRUCTIONS>\nSUB FALLBACK\n\n</INSTRUCTIONS>`);
  });

  it('cuts the project docs at project_doc_max_bytes without counting the global file, and 0 turns them off', async () => {
    await put(path.join(home, 'AGENTS.md'), 'GLOBAL RULES\n');
    await put(path.join(root, 'AGENTS.md'), 'ROOT OVERRIDE\n');
    expect(await agentsInstructionsText(root, options({ maxBytes: 5 }))).toBe(`# AGENTS.md instructions for ${root}\n\n<INSTRUCTIONS>\nGLOBAL RULES\n\n--- project-doc ---\n\nROOT \n</INSTRUCTIONS>`);
    expect(await agentsInstructionsText(root, options({ maxBytes: 0 }))).toBe('# AGENTS.md instructions\n\n<INSTRUCTIONS>\nGLOBAL RULES\n</INSTRUCTIONS>');
    expect(await agentsInstructionsText(root, options({ maxBytes: 0, globalDir: null }))).toBe('');
  });
});
