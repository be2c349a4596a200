/**
 * Which commands are known to be read-only, after Codex's list: the `untrusted` approval
 * policy runs these without asking. Conservative: anything not recognised is unsafe, and
 * a `bash -c` script is safe only if every command in a plain `&&`/`||`/`;`/`|` chain is.
 */

const ALWAYS_SAFE = new Set([
  'cat', 'cd', 'echo', 'false', 'grep', 'head', 'ls', 'nl', 'pwd', 'rg', 'tail', 'true', 'wc', 'which', 'whoami', 'stat', 'file', 'tree', 'du', 'df', 'env', 'printenv', 'date', 'uname', 'id', 'basename', 'dirname', 'realpath', 'readlink', 'sort', 'uniq', 'cut', 'tr', 'diff', 'cmp', 'md5sum', 'sha256sum',
]);

const SHELLS = new Set(['bash', 'sh', 'zsh']);

const GIT_READ_ONLY = new Set(['status', 'log', 'diff', 'show', 'branch', 'rev-parse', 'ls-files', 'blame', 'grep']);

/** True when `argv` is known not to change anything. */
export function isKnownSafeCommand(argv: readonly string[]): boolean {
  if (argv.length === 0) return false;
  const [cmd, ...args] = argv;
  // exec_command runs `/bin/bash -lc <cmd>`: a shell is recognised by its name, with or without a path (as Codex does).
  if (SHELLS.has(cmd.slice(cmd.lastIndexOf('/') + 1)) && (args[0] === '-c' || args[0] === '-lc') && args.length === 2) {
    return isSafeScript(args[1]);
  }
  if (ALWAYS_SAFE.has(cmd)) return !(cmd === 'sort' && args.some((a) => a === '-o' || a.startsWith('--output')));
  if (cmd === 'find') return !args.some((a) => ['-exec', '-execdir', '-ok', '-okdir', '-delete', '-fprint', '-fprintf', '-fls'].includes(a));
  if (cmd === 'sed') return args[0] === '-n' && args.length >= 2 && /^\d+(,\d+)?p$/.test(args[1]);
  if (cmd === 'git') return args.length > 0 && GIT_READ_ONLY.has(args[0]) && !args.includes('--output');
  return false;
}

/** A script of simple words joined by &&, ||, ; or | is safe if each command is. */
function isSafeScript(script: string): boolean {
  if (/[`$<>(){}\\]|&(?!&)/.test(script.replace(/&&/g, ''))) return false;
  const commands = script.split(/&&|\|\||;|\|/).map((part) => part.trim()).filter((part) => part !== '');
  if (commands.length === 0) return false;
  return commands.every((command) => {
    const words = splitWords(command);
    return words !== null && isKnownSafeCommand(words);
  });
}

/** Splits on whitespace with simple quotes; null for anything it does not understand. */
function splitWords(command: string): string[] | null {
  const words: string[] = [];
  const pattern = /\s*(?:'([^']*)'|"([^"$`\\]*)"|([^\s'"]+))/g;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = pattern.exec(command)) !== null) {
    if (match[0].trim() === '') break;
    words.push(match[1] ?? match[2] ?? match[3]);
    consumed = pattern.lastIndex;
  }
  return command.slice(consumed).trim() === '' ? words : null;
}
