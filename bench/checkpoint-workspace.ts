/**
 * A generated workspace for the checkpoint benchmark: deterministic (a seeded generator,
 * so every run and every store sees the same bytes), shaped like a real repository —
 * many small source files in nested package/module directories, plus a few larger files
 * (compressible data fixtures and incompressible binary assets) — and the one-file edits
 * the benchmark's steps make to it.
 */
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import * as path from 'node:path';

/** The shape of a generated workspace. */
export interface WorkspaceShape {
  /** Files in total (default 10,000). */
  readonly files: number;
  /** Bytes in total (default 100 MiB). */
  readonly bytes: number;
  /** Of the files, how many are large (default 100: half text fixtures, half binary assets). */
  readonly largeFiles: number;
}

/** 10,000 files, 100 MiB, 100 of them large. */
export const DEFAULT_SHAPE: WorkspaceShape = { files: 10_000, bytes: 100 * 1024 * 1024, largeFiles: 100 };

/** A generated workspace: its relative paths, small (source) and large. */
export interface GeneratedWorkspace {
  readonly sourceFiles: readonly string[];
  readonly largeTextFiles: readonly string[];
  readonly binaryFiles: readonly string[];
  readonly bytes: number;
}

/** mulberry32: a small, fast, seeded generator (determinism matters here, not quality). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const WORDS = ['const', 'value', 'return', 'export', 'function', 'items', 'index', 'await', 'result', 'config', 'store', 'thread', 'step', 'handler', 'options', 'error', 'string', 'number', 'length', 'map', 'filter', 'async', 'import', 'type', 'interface', 'null', 'undefined', 'true', 'false', 'path', 'file', 'bytes'];

/** `size` bytes of code-like text: indented lines of identifiers, as compressible as source is. */
function codeText(rand: () => number, size: number, header: string): string {
  const lines: string[] = [header];
  let length = header.length + 1;
  while (length < size) {
    const indent = '  '.repeat(Math.floor(rand() * 4));
    const words = 3 + Math.floor(rand() * 8);
    let line = indent;
    for (let w = 0; w < words; w++) line += (w > 0 ? ' ' : '') + WORDS[Math.floor(rand() * WORDS.length)] + (rand() < 0.2 ? String(Math.floor(rand() * 1000)) : '');
    line += rand() < 0.5 ? ';' : ' {';
    lines.push(line);
    length += line.length + 1;
  }
  return lines.join('\n').slice(0, Math.max(size - 1, 0)) + '\n';
}

function randomBytes(rand: () => number, size: number): Buffer {
  const buf = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) buf.writeUInt32LE(Math.floor(rand() * 4294967296), i);
  for (let i = size - (size % 4); i < size; i++) buf[i] = Math.floor(rand() * 256);
  return buf;
}

/**
 * Writes the workspace into `dir` (which must be empty or absent). Small files are
 * 200 B to ~12 KB (skewed small, as source files are) under
 * `packages/pNN/{src,test}/mNN/`; large files share the remaining bytes, half as text
 * fixtures under `fixtures/`, half as binary assets under `assets/`.
 */
export async function generateWorkspace(dir: string, shape: WorkspaceShape = DEFAULT_SHAPE, seed = 1): Promise<GeneratedWorkspace> {
  const rand = seededRandom(seed);
  const smallCount = shape.files - shape.largeFiles;
  const sourceFiles: string[] = [];
  const sizes: number[] = [];
  for (let i = 0; i < smallCount; i++) {
    const pkg = `p${String(i % 20).padStart(2, '0')}`;
    const kind = i % 5 === 4 ? 'test' : 'src';
    const mod = `m${String(Math.floor(i / 20) % 25).padStart(2, '0')}`;
    sourceFiles.push(`packages/${pkg}/${kind}/${mod}/file${String(i).padStart(5, '0')}.${kind === 'test' ? 'test.ts' : 'ts'}`);
    sizes.push(Math.round(200 + 12_000 * rand() ** 2.5));
  }
  const smallBytes = sizes.reduce((a, b) => a + b, 0);
  const largeBudget = shape.bytes - smallBytes;
  if (largeBudget < shape.largeFiles * 1024) throw new RangeError(`a workspace of ${shape.files} files cannot hold only ${shape.bytes} bytes`);
  // Large sizes vary (0.25x to 1.75x the mean), scaled to hit the total exactly.
  const weights = Array.from({ length: shape.largeFiles }, () => 0.25 + 1.5 * rand());
  const weightSum = weights.reduce((a, b) => a + b, 0);
  const largeSizes = weights.map((w) => Math.floor((largeBudget * w) / weightSum));
  largeSizes[0] += largeBudget - largeSizes.reduce((a, b) => a + b, 0);

  const made = new Set<string>();
  const write = async (rel: string, data: string | Buffer) => {
    const dirName = path.dirname(path.join(dir, rel));
    if (!made.has(dirName)) {
      await mkdir(dirName, { recursive: true });
      made.add(dirName);
    }
    await writeFile(path.join(dir, rel), data);
  };
  for (let i = 0; i < smallCount; i++) await write(sourceFiles[i], codeText(rand, sizes[i], `// ${sourceFiles[i]}`));
  const largeTextFiles: string[] = [];
  const binaryFiles: string[] = [];
  for (let i = 0; i < shape.largeFiles; i++) {
    if (i % 2 === 0) {
      const rel = `fixtures/data${String(i).padStart(3, '0')}.txt`;
      largeTextFiles.push(rel);
      await write(rel, codeText(rand, largeSizes[i], `# fixture ${i}`));
    } else {
      const rel = `assets/blob${String(i).padStart(3, '0')}.bin`;
      binaryFiles.push(rel);
      await write(rel, randomBytes(rand, largeSizes[i]));
    }
  }
  await write('.gitignore', 'node_modules/\ndist/\n*.log\n');
  return { sourceFiles, largeTextFiles, binaryFiles, bytes: shape.bytes + '.gitignore'.length };
}

/** One step's edit: which file, and its size after the edit. */
export interface Edit {
  readonly path: string;
  readonly kind: 'source' | 'large text';
  readonly bytesAfter: number;
}

/**
 * Step `step`'s edit, as an agent makes one: a line in the middle of a file is replaced
 * and one appended. Every tenth step edits a large text fixture, the others a source file.
 */
export async function editOneFile(dir: string, ws: GeneratedWorkspace, step: number, rand: () => number): Promise<Edit> {
  const large = step % 10 === 9;
  const list = large ? ws.largeTextFiles : ws.sourceFiles;
  const rel = list[Math.floor(rand() * list.length)];
  const file = path.join(dir, rel);
  const lines = (await readFile(file, 'utf8')).split('\n');
  lines[Math.floor(lines.length / 2)] = `  const edited${step} = ${Math.floor(rand() * 1e9)}; // step ${step}`;
  lines.splice(lines.length - 1, 0, `// step ${step} appended a line`);
  const text = lines.join('\n');
  await writeFile(file, text);
  return { path: rel, kind: large ? 'large text' : 'source', bytesAfter: Buffer.byteLength(text) };
}
