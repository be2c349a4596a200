/**
 * The sandbox a thread asked for cannot be set up on this host because bubblewrap
 * (`bwrap`) is missing or cannot be executed. The message names the sandbox mode, the
 * binary that was tried and why it failed, and how to fix it; the shell tool turns it into
 * a failed call for the model (the command is not run unsandboxed instead).
 */
export class SandboxUnavailableError extends Error {
  override readonly name = 'SandboxUnavailableError';
  constructor(
    /** The sandbox mode that needed bubblewrap. */
    readonly mode: 'read-only' | 'workspace-write',
    /** The `bwrap` binary that was tried: an explicit path, or `bwrap` looked up on PATH. */
    readonly bwrapPath: string,
    /** Why it could not be started, e.g. `No such file or directory`. */
    readonly reason: string,
  ) {
    super(
      `sandbox unavailable: the ${mode} sandbox needs bubblewrap, but ${bwrapPath} could not be started (${reason}). ` +
        'The command was not run. Install it on the worker host with `apt-get install bubblewrap` ' +
        '(Debian/Ubuntu; `dnf install bubblewrap` on Fedora), or run the thread with sandbox mode danger-full-access.',
    );
  }
}
