/**
 * The protocol between a thin `unroll exec` client and the resident worker that runs the
 * command for it (./resident-exec-client.ts, ./resident-exec-service.ts): one JSON object
 * per line over the worker's Unix socket (`<home>/worker.sock`, mode 0600). Node built-ins
 * only.
 *
 * The client opens with `start`; the worker answers with the command's output (`out`,
 * `err`), asks for what the command reads (`read-stdin`: all of stdin; `want-input`: the
 * next chunk typed at the terminal, for approval prompts) and ends with `exit`, or with
 * `decline` when the command needs a runtime other than the worker's (the client then
 * runs it itself, with the stdin it already read). Ctrl-C and SIGTERM travel as `signal`.
 */

/** What the client sends. */
export type ClientFrame =
  | {
      readonly t: 'start';
      readonly argv: string[];
      readonly env: Record<string, string | undefined>;
      readonly cwd: string;
      /** The client's build id (./build-id.ts): a worker of another build declines. */
      readonly build: string;
      /** Which of the client's stdin, stdout and stderr are terminals. */
      readonly tty: { readonly in: boolean; readonly out: boolean; readonly err: boolean };
    }
  | { readonly t: 'stdin'; readonly data: string }
  | { readonly t: 'input'; readonly data: string }
  | { readonly t: 'input-end' }
  | { readonly t: 'signal'; readonly name: 'SIGINT' | 'SIGTERM' };

/** What the worker sends. */
export type ServiceFrame =
  | { readonly t: 'out'; readonly data: string }
  | { readonly t: 'err'; readonly data: string }
  | { readonly t: 'read-stdin' }
  | { readonly t: 'want-input' }
  | { readonly t: 'decline'; readonly reason: string }
  | { readonly t: 'exit'; readonly code: number };

/** The socket of the resident worker of `home`. */
export const RESIDENT_SOCKET_NAME = 'worker.sock';

/**
 * The longest Unix socket path Linux takes (`sun_path` holds 108 bytes with its NUL); a
 * home whose socket path is longer serves no thin clients (they run commands themselves).
 */
export const MAX_SOCKET_PATH_BYTES = 107;

/** Splits a byte stream into JSON lines; calls `onFrame` for each parsed object. */
export function frameReader<F>(onFrame: (frame: F) => void, onBadFrame: (line: string) => void): (chunk: Buffer | string) => void {
  let pending = '';
  return (chunk) => {
    pending += chunk.toString();
    for (let nl = pending.indexOf('\n'); nl >= 0; nl = pending.indexOf('\n')) {
      const line = pending.slice(0, nl);
      pending = pending.slice(nl + 1);
      if (line.trim() === '') continue;
      let frame: F;
      try {
        frame = JSON.parse(line) as F;
      } catch {
        onBadFrame(line);
        continue;
      }
      onFrame(frame);
    }
  };
}

/** One frame as the line it is sent as. */
export function frameLine(frame: ClientFrame | ServiceFrame): string {
  return `${JSON.stringify(frame)}\n`;
}
