/**
 * The server-sent events reader the model client uses instead of the SDK's: the event
 * stream format (fields, comments, multi-line data, every line ending), and the same
 * events however the bytes are cut into chunks, including inside a CRLF pair, inside a
 * multi-byte character and across a multi-megabyte event.
 */
import { readServerSentEvents, type ServerSentEvent } from '../../src/activities/sse';

async function eventsOf(chunks: readonly Uint8Array[]): Promise<ServerSentEvent[]> {
  const body: AsyncIterable<Uint8Array> = {
    [Symbol.asyncIterator]: () => {
      let i = 0;
      return { next: () => Promise.resolve(i < chunks.length ? { done: false, value: chunks[i++] } : { done: true, value: undefined }) };
    },
  };
  const events: ServerSentEvent[] = [];
  for await (const event of readServerSentEvents(body)) events.push(event);
  return events;
}

const bytes = (text: string): Uint8Array => new TextEncoder().encode(text);

const STREAM = [
  ': a comment the server sends to keep the connection alive\n',
  'event: response.created\n',
  'data: {"type":"response.created"}\n',
  '\n',
  'event: response.output_text.delta\r\n',
  'data: {"delta":"héllo 👋"}\r\n',
  '\r\n',
  'data:first line\r',
  'data: second line\r',
  'id: 7\r',
  'retry: 1000\r',
  '\r',
  'event: ping\n',
  '\n',
  'data\n',
  '\n',
  '\n',
  'event: response.completed\n',
  'data: {"type":"response.completed"}\n',
].join('');

const EXPECTED: ServerSentEvent[] = [
  { event: 'response.created', data: '{"type":"response.created"}' },
  { event: 'response.output_text.delta', data: '{"delta":"héllo 👋"}' },
  { event: null, data: 'first line\nsecond line' },
  { event: 'ping', data: '' },
  { event: null, data: '' },
];

describe('readServerSentEvents', () => {
  test('reads fields, comments, multi-line data and LF, CRLF and CR line endings, and drops an unterminated last event', async () => {
    expect(await eventsOf([bytes(STREAM)])).toEqual(EXPECTED);
  });

  test('gives the same events when the stream is cut in two at any byte', async () => {
    const whole = bytes(STREAM);
    for (let cut = 0; cut <= whole.length; cut++) {
      expect({ cut, events: await eventsOf([whole.subarray(0, cut), whole.subarray(cut)]) }).toEqual({ cut, events: EXPECTED });
    }
  });

  test('gives the same events when every byte arrives on its own', async () => {
    const whole = bytes(STREAM);
    expect(await eventsOf(Array.from(whole, (_, i) => whole.subarray(i, i + 1)))).toEqual(EXPECTED);
  });

  test('reassembles a multi-megabyte event sent in 64 KiB chunks', async () => {
    const argument = 'ü'.repeat(3 * 1024 * 1024);
    const whole = bytes(`event: response.function_call_arguments.done\ndata: ${argument}\n\n`);
    const chunks: Uint8Array[] = [];
    for (let i = 0; i < whole.length; i += 64 * 1024) chunks.push(whole.subarray(i, i + 64 * 1024));
    expect(await eventsOf(chunks)).toEqual([{ event: 'response.function_call_arguments.done', data: argument }]);
  });
});
