/**
 * A quick look at what listens at a Temporal address before the SDK connects to it. The
 * SDK's connect retries for its whole deadline when the port answers in a language it
 * does not speak (a web server on that port), then says only "Failed to connect before
 * the deadline". Sending the HTTP/2 connection preface tells within one round trip: a
 * gRPC server answers with an HTTP/2 SETTINGS frame, an HTTP/1 server with a status
 * line. Plaintext only, as Unroll connects without TLS.
 */
import net from 'node:net';
import { parseTemporalAddress } from './dev-server';

/** The HTTP/2 client connection preface followed by an empty SETTINGS frame (RFC 9113 §3.4). */
const PREFACE = Buffer.concat([Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1'), Buffer.from([0, 0, 0, 4, 0, 0, 0, 0, 0])]);
const HTTP2_FRAME_HEADER_BYTES = 9;
const SETTINGS_FRAME_TYPE = 4;

/**
 * Why what listens at `address` is not an HTTP/2 (gRPC) server, or undefined when it
 * answers the HTTP/2 preface as one does (or nothing could be learnt: the SDK's own
 * connect then reports). Never throws for network errors.
 */
export function http2Problem(address: string, timeoutMs = 3_000): Promise<string | undefined> {
  const { host, port } = parseTemporalAddress(address);
  return new Promise((resolve) => {
    let received = Buffer.alloc(0);
    let done = false;
    const socket = net.connect({ host, port });
    const finish = (problem: string | undefined) => {
      if (done) return;
      done = true;
      socket.destroy();
      resolve(problem);
    };
    const judge = (): string | undefined => {
      if (received.length >= HTTP2_FRAME_HEADER_BYTES && received[3] === SETTINGS_FRAME_TYPE) return undefined;
      const text = received.toString('latin1');
      if (text.startsWith('HTTP/')) return `it answers HTTP/1, not gRPC over HTTP/2: "${text.split('\r\n')[0]}"`;
      if (received.length === 0) return 'it closed the connection without answering the HTTP/2 greeting';
      return `it answered the HTTP/2 greeting with ${received.length} bytes that are not an HTTP/2 frame (${JSON.stringify(text.slice(0, 40))})`;
    };
    socket.setTimeout(timeoutMs, () => finish(received.length === 0 ? `it did not answer the HTTP/2 greeting within ${timeoutMs / 1000} s` : judge()));
    socket.once('connect', () => socket.write(PREFACE));
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.length >= HTTP2_FRAME_HEADER_BYTES || received.includes('\r\n')) finish(judge());
    });
    socket.once('end', () => finish(judge()));
    // A refused or reset connection says nothing about the protocol: the SDK reports it.
    socket.once('error', () => finish(received.length > 0 ? judge() : undefined));
  });
}
