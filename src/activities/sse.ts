/**
 * A server-sent events reader that takes time linear in the size of the stream.
 *
 * Why not the `openai` SDK's own: its reader appends every network chunk to one buffer
 * (copying it) and searches that whole buffer for the end of an event again after each
 * chunk, so one large event costs time quadratic in its size. A model that streams a tool
 * call with 21 MB of arguments sends several events of 21 MB (the arguments' `.done`
 * event, the item's `.done` event, `response.completed`), and taking them in took minutes.
 * Here every byte is looked at once: text is decoded chunk by chunk, a line is collected
 * as a list of pieces and joined once when its end arrives.
 *
 * Follows the WHATWG event-stream format: lines end in CRLF, LF or CR; a line starting
 * with `:` is a comment; `event:` names the event, `data:` lines are joined with `\n`; a
 * blank line dispatches the event; an event not terminated by a blank line when the
 * stream ends is dropped. `id:` and `retry:` are ignored (the Responses API resumes
 * nothing).
 */

/** One dispatched event: its `event:` name (null when none was given) and its data. */
export interface ServerSentEvent {
  readonly event: string | null;
  readonly data: string;
}

/**
 * Yields the events of a `text/event-stream` body in order. Splits of a line, of a CRLF
 * pair or of a multi-byte character across chunks are handled. Throws whatever reading
 * `body` throws (an abort, a cut connection).
 */
export async function* readServerSentEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder('utf-8');
  const lines = new LineSplitter();
  const events = new EventAssembler();
  for await (const chunk of body) {
    for (const line of lines.push(decoder.decode(chunk, { stream: true }))) {
      const event = events.line(line);
      if (event) yield event;
    }
  }
  for (const line of lines.push(decoder.decode())) {
    const event = events.line(line);
    if (event) yield event;
  }
}

/** Splits text that arrives in pieces into lines, scanning each character once. */
class LineSplitter {
  private pieces: string[] = [];
  /** The last piece ended in CR: a LF at the start of the next one belongs to it. */
  private afterCarriageReturn = false;

  push(text: string): string[] {
    const lines: string[] = [];
    let start = 0;
    if (this.afterCarriageReturn && text.startsWith('\n')) start = 1;
    if (text.length > 0) this.afterCarriageReturn = false;
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 0x0a && c !== 0x0d) continue;
      this.pieces.push(text.slice(start, i));
      lines.push(this.pieces.length === 1 ? this.pieces[0] : this.pieces.join(''));
      this.pieces = [];
      if (c === 0x0d) {
        if (i + 1 === text.length) this.afterCarriageReturn = true;
        else if (text.charCodeAt(i + 1) === 0x0a) i++;
      }
      start = i + 1;
    }
    if (start < text.length) this.pieces.push(text.slice(start));
    return lines;
  }
}

/** Turns lines into events as the event-stream format says. */
class EventAssembler {
  private event: string | null = null;
  private data: string[] = [];

  line(line: string): ServerSentEvent | undefined {
    if (line === '') {
      if (this.data.length === 0 && this.event === null) return undefined;
      const dispatched = { event: this.event, data: this.data.join('\n') };
      this.event = null;
      this.data = [];
      return dispatched;
    }
    if (line.startsWith(':')) return undefined;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') this.event = value;
    else if (field === 'data') this.data.push(value);
    return undefined;
  }
}
