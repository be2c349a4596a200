/**
 * Unroll's version, as `unroll -V` and `unroll exec -V` print it: the repository's
 * package.json, read once (the compiled CLI runs from dist/src/client, the tests from
 * src/client: the file is looked up from either).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';

function readVersion(): string {
  for (const up of [['..', '..'], ['..', '..', '..']]) {
    const file = path.resolve(__dirname, ...up, 'package.json');
    if (!existsSync(file)) continue;
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
    if (parsed.name === 'unroll' && typeof parsed.version === 'string') return parsed.version;
  }
  return 'unknown';
}

/** `unroll <version>`. */
export const UNROLL_VERSION = `unroll ${readVersion()}`;
