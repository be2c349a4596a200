/**
 * The codec server over real HTTP on loopback: the Temporal codec server protocol
 * (POST /decode and /encode with proto3-JSON payloads, also under a namespace segment),
 * CORS for the configured Web UI origins only, the namespace restriction, and errors.
 */
import { randomBytes } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { AesGcmPayloadCodec, KeyRing } from '../../src/codec';
import { payloadFromJson, payloadToJson, startCodecServer, type CodecServer } from '../../src/codec/codec-server';

const ring = new KeyRing([{ id: 'k1', key: randomBytes(32) }]);
const codec = new AesGcmPayloadCodec(ring);
const UI = 'http://localhost:8233';
const SECRET = 'SECRET-TRANSCRIPT-codec-server';

describe('codec server', () => {
  let server: CodecServer;
  const lines: string[] = [];

  beforeAll(async () => {
    server = await startCodecServer({ codec, port: 0, origins: [UI, 'https://cloud.temporal.io'], namespace: 'default', log: (l) => lines.push(l) });
  });
  afterAll(async () => {
    await server.close();
  });

  const post = (route: string, payloads: Payload[], headers: Record<string, string> = {}) =>
    fetch(`${server.url}${route}`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default', ...headers },
      body: JSON.stringify({ payloads: payloads.map(payloadToJson) }),
    });
  const payloadsOf = async (res: Response): Promise<Payload[]> => ((await res.json()) as { payloads: Parameters<typeof payloadFromJson>[0][] }).payloads.map((p) => payloadFromJson(p));

  test('listens on loopback', () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
  });

  test('POST /decode of an encrypted payload answers the plaintext payload', async () => {
    const original = defaultPayloadConverter.toPayload({ text: SECRET });
    const [encrypted] = await codec.encode([original]);
    const res = await post('/decode', [encrypted]);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    const [decoded] = await payloadsOf(res);
    expect(defaultPayloadConverter.fromPayload(decoded)).toEqual({ text: SECRET });
    expect(Buffer.from(decoded.metadata!.encoding).toString()).toBe('json/plain');
  });

  test('POST /encode then /decode round trips, and the encoded payload names the key and hides the text', async () => {
    const originals = [defaultPayloadConverter.toPayload(SECRET), defaultPayloadConverter.toPayload([1, 2, 3])];
    const encoded = await payloadsOf(await post('/encode', originals));
    expect(encoded.map((p) => Buffer.from(p.metadata!['encryption-key-id']).toString())).toEqual(['k1', 'k1']);
    expect(Buffer.from(encoded[0].data!).toString('latin1')).not.toContain(SECRET);
    const decoded = await payloadsOf(await post('/default/decode', encoded, { 'X-Namespace': '' }));
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([SECRET, [1, 2, 3]]);
  });

  test('a payload that is not encrypted comes back unchanged from /decode', async () => {
    const plain = defaultPayloadConverter.toPayload({ plain: true });
    expect(await payloadsOf(await post('/decode', [plain]))).toEqual([{ metadata: { encoding: Buffer.from('json/plain') }, data: Buffer.from(plain.data!) }]);
  });

  test('answers the CORS preflight of a configured origin, with credentials and the X-Namespace header allowed', async () => {
    const res = await fetch(`${server.url}/decode`, {
      method: 'OPTIONS',
      headers: { Origin: UI, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe(UI);
    expect(res.headers.get('access-control-allow-credentials')).toBe('true');
    expect(res.headers.get('access-control-allow-methods')).toContain('POST');
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase().split(/,\s*/)).toEqual(expect.arrayContaining(['content-type', 'x-namespace']));
    const actual = await post('/decode', [], { Origin: 'https://cloud.temporal.io' });
    expect(actual.status).toBe(200);
    expect(actual.headers.get('access-control-allow-origin')).toBe('https://cloud.temporal.io');
  });

  test('refuses a browser origin that was not configured, without CORS headers', async () => {
    const [encrypted] = await codec.encode([defaultPayloadConverter.toPayload(SECRET)]);
    const preflight = await fetch(`${server.url}/decode`, { method: 'OPTIONS', headers: { Origin: 'https://evil.example', 'Access-Control-Request-Method': 'POST' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
    const res = await post('/decode', [encrypted], { Origin: 'https://evil.example' });
    expect(res.status).toBe(403);
    expect(await res.text()).not.toContain(SECRET);
  });

  test('refuses another namespace, by header or by path', async () => {
    const byHeader = await post('/decode', [], { 'X-Namespace': 'other' });
    expect(byHeader.status).toBe(403);
    expect(((await byHeader.json()) as { error: string }).error).toBe('this codec server serves namespace "default" only, not "other"');
    expect((await post('/other/decode', [], { 'X-Namespace': '' })).status).toBe(403);
  });

  test.each([
    { name: 'an unknown path', route: '/nope', init: { method: 'POST', body: '{}' }, status: 404 },
    { name: 'a GET', route: '/decode', init: { method: 'GET' }, status: 405 },
    { name: 'a body that is not JSON', route: '/decode', init: { method: 'POST', body: 'payloads' }, status: 400 },
    { name: 'a body without payloads', route: '/decode', init: { method: 'POST', body: '{"items":[]}' }, status: 400 },
    { name: 'data that is not base64', route: '/decode', init: { method: 'POST', body: '{"payloads":[{"metadata":{},"data":"*"}]}' }, status: 400 },
  ])('answers $name with $status', async ({ route, init, status }) => {
    const res = await fetch(`${server.url}${route}`, init);
    expect(res.status).toBe(status);
    expect(typeof ((await res.json()) as { error: unknown }).error).toBe('string');
  });

  test('answers 400 naming the key for a payload encrypted with a key it does not hold, and for a tampered one', async () => {
    const [foreign] = await new AesGcmPayloadCodec(new KeyRing([{ id: 'elsewhere', key: randomBytes(32) }])).encode([defaultPayloadConverter.toPayload(1)]);
    const res = await post('/decode', [foreign]);
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: string }).error).toMatch(/encrypted with key "elsewhere", which is not in the key ring/);
    const [mine] = await codec.encode([defaultPayloadConverter.toPayload(1)]);
    const data = Buffer.from(mine.data!);
    data[data.length - 1] ^= 1;
    expect((await post('/decode', [{ ...mine, data }])).status).toBe(400);
  });

  test('logs method, path and status, never payload contents', () => {
    expect(lines).toEqual(expect.arrayContaining(['POST /decode 200', 'OPTIONS /decode 204']));
    expect(lines.join('\n')).not.toContain(SECRET);
  });
});
