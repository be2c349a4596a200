/** The configuration's error type (its own module, so every config module can throw it). */

/** A configuration problem, with where it came from (a file and line, a flag, a variable). */
export class ConfigError extends Error {
  // Typed as string so that subclasses (e.g. EncryptionKeyError) can name themselves.
  override readonly name: string = 'ConfigError';
}
