/**
 * The two ways applying a patch fails that the model is told about: the patch does not
 * fit the files (verification), or the disk refused a write (I/O). Neither escapes the
 * tool as an exception; ./apply.ts turns both into the tool's failure output.
 */

/** The patch cannot be applied to these files; the message is for the model. */
export class PatchVerificationError extends Error {
  override readonly name = 'PatchVerificationError';
}

/**
 * The file system refused a step of writing a verified patch (a full disk, a read-only
 * mount, a permission). `rel` is the workspace path being written, `action` what was
 * being done to it.
 */
export class WorkspaceWriteError extends Error {
  override readonly name = 'WorkspaceWriteError';
  constructor(
    readonly rel: string,
    readonly action: string,
    override readonly cause: unknown,
  ) {
    super(`${describeIoError(cause)} while ${action} '${rel}'`);
  }
}

/** Plain words for the errno codes a disk gives, with the code kept for searching. */
const IO_PROBLEMS: Readonly<Record<string, string>> = {
  ENOSPC: 'no space left on device',
  EDQUOT: 'disk quota exceeded',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'input/output error',
  EMFILE: 'too many open files',
  ENAMETOOLONG: 'file name too long',
  EXDEV: 'cross-device link (the path is a mount point or on another file system)',
  EBUSY: 'device or resource busy (the path may be a mount point)',
};

/** `no space left on device (ENOSPC)`, or the error's own message for anything else. */
export function describeIoError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code !== undefined && IO_PROBLEMS[code] !== undefined) return `${IO_PROBLEMS[code]} (${code})`;
  return error instanceof Error ? error.message : String(error);
}
