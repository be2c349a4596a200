/**
 * Finds the line of a key in TOML text, so that a value that parses but fails validation
 * can be reported as `config.toml:12`. The TOML parser gives positions only for syntax
 * errors; this is a light scan of the text: table headers (`[a.b]`, `[[a.b]]`), keys
 * (bare, quoted, dotted) and multi-line strings, which it skips. A key inside an inline
 * table or a multi-line array is found at the line of the key that holds it.
 */

/**
 * The 1-based line that defines `keyPath` (or the deepest key above it that the text
 * names: the table or the inline table that holds it), or undefined when the text does
 * not name it at all.
 */
export function lineOfKey(text: string, keyPath: readonly (string | number)[]): number | undefined {
  const wanted = keyPath.filter((k): k is string => typeof k === 'string');
  let table: string[] = [];
  let best: { line: number; depth: number } | undefined;
  const consider = (path: string[], line: number) => {
    const depth = commonPrefix(path, wanted);
    // Only a key whose whole path lies on the wanted path (or is it) can hold the value.
    if (depth === path.length && (best === undefined || depth > best.depth)) best = { line, depth };
  };
  const lines = text.split(/\r?\n/);
  let multiline: '"""' | "'''" | null = null;
  for (let i = 0; i < lines.length; i += 1) {
    const line = lines[i];
    if (multiline) {
      if (line.includes(multiline)) multiline = null;
      continue;
    }
    const header = /^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/.exec(line);
    if (header) {
      table = splitKey(header[1]);
      consider(table, i + 1);
      continue;
    }
    const assignment = /^\s*((?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"(?:[^"\\]|\\.)*"|'[^']*'))*)\s*=(.*)$/.exec(line);
    if (!assignment) continue;
    consider([...table, ...splitKey(assignment[1])], i + 1);
    const rest = assignment[2];
    for (const quote of ['"""', "'''"] as const) {
      const at = rest.indexOf(quote);
      if (at >= 0 && rest.indexOf(quote, at + 3) < 0) multiline = quote;
    }
  }
  return best?.line;
}

/** The parts of a dotted key, quotes removed. */
export function splitKey(key: string): string[] {
  const parts: string[] = [];
  const re = /\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|([^.\s"']+))\s*(?:\.|$)/gy;
  let m: RegExpExecArray | null;
  while (re.lastIndex < key.length && (m = re.exec(key)) !== null) {
    parts.push(m[1] !== undefined ? (JSON.parse(`"${m[1]}"`) as string) : (m[2] ?? m[3]));
  }
  return parts;
}

function commonPrefix(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n += 1;
  return n;
}
