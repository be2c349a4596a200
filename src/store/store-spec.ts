/**
 * Store specs: which transcript store a process uses, as `UNROLL_STORE` or the config
 * file's `store` give it.
 *
 * - `file:<dir>`: the filesystem store rooted at the absolute path `<dir>` (`file:` alone
 *   is the default, `<unroll home>/store`; `file:~/x` is under the user's home).
 * - `postgres://user:password@host:port/database` (or `postgresql://`): the shared
 *   PostgreSQL store. Query parameters (`sslmode=…`) go to the driver unchanged.
 *
 * {@link describeStoreSpec} is the only form a spec may take in a message or a log: it
 * hides the password, even in a spec that does not parse.
 */
import * as os from 'node:os';
import * as path from 'node:path';
import { StoreConfigError } from './errors';

/** A parsed store spec. */
export type StoreSpec =
  | { readonly kind: 'file'; readonly dir: string; readonly description: string }
  | { readonly kind: 'postgres'; readonly url: string; readonly description: string };

/** Where parsing looks for defaults, and how errors name the spec's origin. */
export interface StoreSpecContext {
  /** The Unroll home: the default store is `<home>/store`. */
  readonly home: string;
  /** The user's home directory, for `file:~/…` (default `os.homedir()`). */
  readonly userHome?: string;
  /** Where the spec came from, for errors (default `UNROLL_STORE`). */
  readonly source?: string;
}

const FORMS = 'use file:<absolute dir> or postgres://user:password@host:port/database';

/**
 * The spec with any password replaced by `***`: `postgres://unroll:***@db:5432/unroll`.
 * Works on any text (a spec that does not parse is redacted too, generously: when in
 * doubt, more is hidden). Use it for every message that shows a spec.
 */
export function describeStoreSpec(spec: string): string {
  let text = spec;
  const scheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.exec(text);
  if (scheme) {
    const rest = text.slice(scheme[0].length);
    const at = rest.lastIndexOf('@');
    const colon = rest.indexOf(':');
    // user:password@host: everything between the first ':' and the last '@' may be password.
    if (at >= 0 && colon >= 0 && colon < at) text = `${scheme[0]}${rest.slice(0, colon)}:***${rest.slice(at)}`;
  }
  return text.replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/** Parses a store spec; `undefined` is the default file store. Throws {@link StoreConfigError}. */
export function parseStoreSpec(spec: string | undefined, context: StoreSpecContext): StoreSpec {
  const source = context.source ?? 'UNROLL_STORE';
  if (spec === undefined) return fileSpec(path.join(context.home, 'store'));
  const description = describeStoreSpec(spec);
  const fail = (reason: string): never => {
    throw new StoreConfigError(source, description, reason);
  };
  const text = spec.trim();
  if (text === '') fail(`the store spec is empty; ${FORMS} (or leave it unset for the default file store)`);
  if (/^file:/i.test(text)) return fileSpec(fileDir(text.slice('file:'.length), context, fail));
  if (/^postgres(ql)?:\/\//i.test(text)) return { kind: 'postgres', url: postgresUrl(text, fail), description };
  if (path.isAbsolute(text)) fail(`a store spec names its kind: write file:${text}`);
  const kind = /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(text)?.[1];
  return fail(kind ? `unknown store kind "${kind}"; ${FORMS}` : `not a store spec; ${FORMS}`);
}

function fileSpec(dir: string): StoreSpec {
  return { kind: 'file', dir, description: `file:${dir}` };
}

function fileDir(rest: string, context: StoreSpecContext, fail: (reason: string) => never): string {
  let dir = rest;
  if (dir.startsWith('//')) {
    // file:///abs/dir, the URL form; file://host/dir names another machine.
    if (!dir.startsWith('///')) fail('a file store is local: file://host/… is not supported; use file:/absolute/dir');
    dir = dir.slice(2);
  }
  if (dir === '') return path.join(context.home, 'store');
  if (dir === '~' || dir.startsWith('~/')) dir = path.join(context.userHome ?? os.homedir(), dir.slice(1));
  if (dir.includes('\0')) fail('the directory contains a NUL byte');
  if (!path.isAbsolute(dir)) fail(`the directory must be absolute (workers and the CLI run in different directories): "${dir}"`);
  return path.resolve(dir);
}

function postgresUrl(text: string, fail: (reason: string) => never): string {
  // Checked before parsing, which would only say "invalid URL" for an empty host.
  if (/^postgres(ql)?:\/\/([^/?#]*@)?([/?#]|$)/i.test(text)) fail('the URL names no host: postgres://user:password@host:port/database');
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return fail('not a valid URL (is the port a number from 1 to 65535, and are special characters in the password percent-encoded?)');
  }
  if (url.hostname === '') fail('the URL names no host: postgres://user:password@host:port/database');
  const decode = (part: string, what: string): string => {
    try {
      return decodeURIComponent(part);
    } catch {
      return fail(`the ${what} has an invalid %-escape (write a literal % as %25)`);
    }
  };
  decode(url.username, 'user name');
  decode(url.password, 'password');
  const database = decode(url.pathname.replace(/^\//, ''), 'database name');
  if (database === '') fail('the URL names no database: postgres://user:password@host:port/database');
  if (database.includes('/')) fail(`"${database}" is not a database name (one path segment after the host)`);
  if (url.hash) fail('the URL has a #fragment, which PostgreSQL URLs do not use');
  return text;
}
