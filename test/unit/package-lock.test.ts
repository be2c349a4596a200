/**
 * package-lock.json must stay installable with `npm ci` on every platform: npm ci
 * refuses a lock in which a locked package names an optional dependency (a platform
 * build such as @swc/core-darwin-arm64) that the lock itself does not hold, which is
 * what a lock written on one platform against a mirror that only serves that platform
 * looks like. A pure check of the JSON, resolving names as Node does (nearest
 * node_modules up the tree).
 */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';

interface LockedPackage {
  readonly optionalDependencies?: Record<string, string>;
  readonly dependencies?: Record<string, string>;
}

interface Lock {
  readonly lockfileVersion: number;
  readonly packages: Record<string, LockedPackage>;
}

/** Where Node would look for `name` from the package at `from` ('' is the root), nearest first. */
function candidates(from: string, name: string): string[] {
  const found: string[] = [];
  let dir = from;
  for (;;) {
    found.push(dir === '' ? `node_modules/${name}` : `${dir}/node_modules/${name}`);
    if (dir === '') return found;
    const at = dir.lastIndexOf('/node_modules/');
    dir = at < 0 ? '' : dir.slice(0, at);
  }
}

/** Optional dependencies that a locked package declares and the lock does not hold. */
function missingOptionalPackages(lock: Lock): string[] {
  const missing: string[] = [];
  for (const [location, pkg] of Object.entries(lock.packages)) {
    for (const name of Object.keys(pkg.optionalDependencies ?? {})) {
      if (!candidates(location, name).some((c) => c in lock.packages)) missing.push(`${location || '(root)'} → ${name}`);
    }
  }
  return missing;
}

describe('package-lock.json', () => {
  const lock = JSON.parse(readFileSync(path.resolve(__dirname, '..', '..', 'package-lock.json'), 'utf8')) as Lock;

  test('is a lockfile v3 (what npm 9+ writes and npm ci reads without the legacy section)', () => {
    expect(lock.lockfileVersion).toBe(3);
  });

  test('holds every optional platform package its locked packages declare, so npm ci accepts it', () => {
    expect(missingOptionalPackages(lock)).toEqual([]);
  });

  test('the check finds an optional platform package the lock lacks', () => {
    const broken: Lock = {
      lockfileVersion: 3,
      packages: {
        '': { dependencies: { tool: '^1.0.0' } },
        'node_modules/tool': { optionalDependencies: { 'tool-linux-x64': '1.0.0', 'tool-darwin-arm64': '1.0.0' } },
        'node_modules/tool-linux-x64': {},
        'node_modules/a/node_modules/nested': { optionalDependencies: { 'tool-linux-x64': '1.0.0' } },
      },
    };
    expect(missingOptionalPackages(broken)).toEqual(['node_modules/tool → tool-darwin-arm64']);
  });
});
