/**
 * Encryption units: key specs and key files, the AES-GCM payload codec (round trip, key
 * id in the metadata, rotation, tampering, unknown keys), the encrypted store backend
 * (plaintext never on disk, names unchanged, legacy objects readable) and the decoding
 * of recorded histories. Real crypto, real files in a temp dir.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { temporal } from '@temporalio/proto';
import {
  AesGcmPayloadCodec,
  DecryptionError,
  decodeHistory,
  EncryptedStoreBackend,
  EncryptionKeyError,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  KeyRing,
  keyRingFor,
  MissingEncryptionKeyError,
  newKeySpec,
  parseInlineKeys,
  parseKeyFile,
  UnknownEncryptionKeyError,
  type EncryptionKey,
} from '../../src/codec';
import { ConfigError, loadConfig } from '../../src/config/config';
import type { ConversationItem } from '../../src/items/schemas';
import { FsStoreBackend, openFsStore, TranscriptStore } from '../../src/store';
import { canonicalJson, sha256Hex } from '../../src/store/canonical-json';

const keyA: EncryptionKey = { id: 'key-a', key: randomBytes(32) };
const keyB: EncryptionKey = { id: 'key-b', key: randomBytes(32) };
const b64 = (k: EncryptionKey) => k.key.toString('base64');
const text = (p: Payload, name: string) => Buffer.from(p.metadata?.[name] ?? []).toString('utf8');
const SECRET = 'SECRET-TRANSCRIPT-unit-7f3a';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-enc-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The error `fn` throws (sync or async), checked to be of `type`. */
async function caught<T extends Error>(type: new (...args: never[]) => T, fn: () => unknown): Promise<T> {
  try {
    await fn();
  } catch (err) {
    expect(err).toBeInstanceOf(type);
    return err as T;
  }
  throw new Error(`expected a ${type.name}, but nothing was thrown`);
}

describe('key specs and key files', () => {
  it('reads id:base64 lines, skipping comments and blank lines, first key active', () => {
    const ring = parseKeyFile(`# rotated 2026-11\n\n${keyB.id}:${b64(keyB)}\n  ${keyA.id}:${b64(keyA)}  # old\n`, '/keys');
    expect(ring.ids()).toEqual(['key-b', 'key-a']);
    expect(ring.active.key.equals(keyB.key)).toBe(true);
    expect(ring.get('key-a')?.key.equals(keyA.key)).toBe(true);
  });

  it('gives a bare base64 key an id derived from the key, so different keys get different ids', () => {
    const ring = parseInlineKeys(`${b64(keyA)}, ${b64(keyB)}`, 'UNROLL_ENCRYPTION_KEY');
    expect(ring.ids()).toHaveLength(2);
    expect(ring.ids()[0]).toMatch(/^k-[0-9a-f]{12}$/);
    expect(ring.ids()[0]).not.toBe(ring.ids()[1]);
    expect(parseInlineKeys(b64(keyA), 'X').ids()).toEqual([ring.ids()[0]]);
  });

  it.each([
    { name: 'a 16-byte key', spec: `k1:${randomBytes(16).toString('base64')}`, message: /^UNROLL_ENCRYPTION_KEY: key "k1" decodes to 16 bytes; an AES-256 key is 32/ },
    { name: 'text that is not base64', spec: 'k1:not base64 at all!', message: /^UNROLL_ENCRYPTION_KEY: key "k1" is not base64/ },
    { name: 'a bad key id', spec: `bad id!:${b64(keyA)}`, message: /key id "bad id!" is not valid/ },
    { name: 'an empty value', spec: ' , ', message: /UNROLL_ENCRYPTION_KEY is empty/ },
    { name: 'two keys with one id', spec: `k1:${b64(keyA)},k1:${b64(keyB)}`, message: /two keys have the id "k1"/ },
  ])('rejects $name with an EncryptionKeyError that names the source', async ({ spec, message }) => {
    const err = await caught(EncryptionKeyError, () => parseInlineKeys(spec, 'UNROLL_ENCRYPTION_KEY'));
    expect(err.message).toMatch(message);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err.message).not.toContain(b64(keyA));
  });

  it('names the file and line of a bad key, and an unreadable file', async () => {
    const file = path.join(dir, 'keys');
    await writeFile(file, `k1:${b64(keyA)}\nk2:${randomBytes(31).toString('base64')}\n`);
    expect((await caught(EncryptionKeyError, () => keyRingFor({ encryption: { kind: 'file', path: file, origin: 'test' } }))).message).toMatch(`${file} line 2: key "k2" decodes to 31 bytes`);
    const missing = path.join(dir, 'nope');
    expect((await caught(EncryptionKeyError, () => keyRingFor({ encryption: { kind: 'file', path: missing, origin: 'UNROLL_ENCRYPTION_KEY_FILE' } }))).message).toMatch(`cannot read the key file ${missing} (from UNROLL_ENCRYPTION_KEY_FILE)`);
    await writeFile(file, '# nothing here\n');
    expect((await caught(EncryptionKeyError, () => keyRingFor({ encryption: { kind: 'file', path: file, origin: 'test' } }))).message).toMatch(`${file} holds no key`);
  });

  it('loadConfig takes the key source from the env vars or config.json, and none means encryption off', async () => {
    const home = dir;
    expect(loadConfig({ UNROLL_HOME: home }).encryption).toBeUndefined();
    expect(keyRingFor(loadConfig({ UNROLL_HOME: home }))).toBeNull();
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_ENCRYPTION_KEY: `k1:${b64(keyA)}` }).encryption).toEqual({ kind: 'inline', text: `k1:${b64(keyA)}`, origin: 'UNROLL_ENCRYPTION_KEY' });
    await writeFile(path.join(home, 'config.json'), JSON.stringify({ encryption: { keyFile: 'keys.txt' } }));
    await writeFile(path.join(home, 'keys.txt'), `${newKeySpec('from-file')}\n`);
    const config = loadConfig({ UNROLL_HOME: home });
    expect(config.encryption).toEqual({ kind: 'file', path: path.join(home, 'keys.txt'), origin: `encryption.keyFile in ${path.join(home, 'config.json')}` });
    expect(keyRingFor(config)?.ids()).toEqual(['from-file']);
    expect(loadConfig({ UNROLL_HOME: home, UNROLL_ENCRYPTION_KEY_FILE: '/etc/unroll-keys' }).encryption).toEqual({ kind: 'file', path: '/etc/unroll-keys', origin: 'UNROLL_ENCRYPTION_KEY_FILE' });
    expect(() => loadConfig({ UNROLL_HOME: home, UNROLL_ENCRYPTION_KEY: 'x', UNROLL_ENCRYPTION_KEY_FILE: 'y' })).toThrow(/both UNROLL_ENCRYPTION_KEY and UNROLL_ENCRYPTION_KEY_FILE/);
  });
});

describe('AesGcmPayloadCodec', () => {
  const json = (value: unknown) => defaultPayloadConverter.toPayload(value);
  const ringA = new KeyRing([keyA]);

  it('round-trips payloads and names the key in the metadata, with nothing readable in the data', async () => {
    const codec = new AesGcmPayloadCodec(ringA);
    const originals = [json({ text: SECRET }), json(null), json('x'.repeat(10_000))];
    const encoded = await codec.encode(originals);
    expect(encoded.map((p) => [text(p, 'encoding'), text(p, KEY_ID_METADATA), Object.keys(p.metadata ?? {}).length])).toEqual(originals.map(() => [ENCRYPTED_ENCODING, 'key-a', 2]));
    expect(Buffer.from(encoded[0].data!).toString('latin1')).not.toContain(SECRET);
    const decoded = await codec.decode(encoded);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([{ text: SECRET }, null, 'x'.repeat(10_000)]);
    expect(decoded.map((p) => text(p, 'encoding'))).toEqual(originals.map((p) => text(p, 'encoding')));
  });

  it('encrypts the same payload differently each time (fresh IV)', async () => {
    const codec = new AesGcmPayloadCodec(ringA);
    const [a, b] = await codec.encode([json(SECRET), json(SECRET)]);
    expect(Buffer.from(a.data!).equals(Buffer.from(b.data!))).toBe(false);
  });

  it('leaves payloads that are not encrypted as they are (histories from before encryption)', async () => {
    const plain = json({ text: 'legacy' });
    expect(await new AesGcmPayloadCodec(ringA).decode([plain])).toEqual([plain]);
  });

  it('after rotation encrypts with the new key and still decodes payloads of the old one', async () => {
    const old = await new AesGcmPayloadCodec(ringA).encode([json('before rotation')]);
    const rotated = new AesGcmPayloadCodec(new KeyRing([keyB, keyA]));
    const fresh = await rotated.encode([json('after rotation')]);
    expect(text(fresh[0], KEY_ID_METADATA)).toBe('key-b');
    expect((await rotated.decode([...old, ...fresh])).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['before rotation', 'after rotation']);
    // A ring without the new key cannot read what it encrypted.
    const err = await caught(UnknownEncryptionKeyError, () => new AesGcmPayloadCodec(ringA).decode(fresh));
    expect(err.message).toMatch(/encrypted with key "key-b", which is not in the key ring \(it holds: key-a\)/);
  });

  it.each([
    { name: 'a flipped ciphertext byte', at: (n: number) => 12 + Math.floor((n - 28) / 2) },
    { name: 'a flipped IV byte', at: () => 0 },
    { name: 'a flipped tag byte', at: (n: number) => n - 1 },
  ])('rejects $name with a DecryptionError', async ({ at }) => {
    const [encoded] = await new AesGcmPayloadCodec(ringA).encode([json({ text: SECRET })]);
    const data = Buffer.from(encoded.data!);
    data[at(data.length)] ^= 0x01;
    const err = await caught(DecryptionError, () => new AesGcmPayloadCodec(ringA).decode([{ ...encoded, data }]));
    expect(err.message).toMatch(/cannot decrypt a Temporal payload with key "key-a": authentication failed/);
  });

  it('rejects a payload sealed with another key under the same id', async () => {
    const [encoded] = await new AesGcmPayloadCodec(new KeyRing([{ id: 'key-a', key: keyB.key }])).encode([json(1)]);
    await caught(DecryptionError, () => new AesGcmPayloadCodec(ringA).decode([encoded]));
  });
});

describe('EncryptedStoreBackend', () => {
  const item: ConversationItem = { type: 'message', role: 'user', content: [{ type: 'input_text', text: SECRET }] };
  const storeRoot = () => path.join(dir, 'store');

  async function filesUnder(root: string): Promise<{ name: string; data: Buffer }[]> {
    const entries = await readdir(root, { recursive: true, withFileTypes: true });
    return Promise.all(entries.filter((e) => e.isFile()).map(async (e) => ({ name: path.join(e.parentPath, e.name), data: await readFile(path.join(e.parentPath, e.name)) })));
  }

  it('keeps names (sha256 of the plaintext) and reads back plaintext, with no plaintext on disk', async () => {
    const store = openFsStore(dir, new KeyRing([keyA]));
    const hash = await store.putItem(item);
    expect(hash).toBe(sha256Hex(canonicalJson(item)));
    const head = await store.append(null, [item], { note: SECRET });
    await store.putMarker('tool/call_1', `done ${SECRET}`);
    const reopened = openFsStore(dir, new KeyRing([keyA]));
    expect(await reopened.getItem(hash)).toEqual(item);
    expect((await reopened.loadTranscript(head)).map((s) => s.item)).toEqual([item]);
    expect(await reopened.getMarker('tool/call_1')).toBe(`done ${SECRET}`);
    expect((await reopened.backend.get(hash))?.toString('utf8')).toBe(canonicalJson(item));
    const files = await filesUnder(storeRoot());
    expect(files).toHaveLength(3); // the item, the node and the marker
    for (const f of files) {
      expect(f.data.toString('latin1')).not.toContain(SECRET);
      expect(f.data.toString('latin1')).not.toContain('input_text');
    }
    expect(files.find((f) => f.name.endsWith(hash.slice(2)))?.data.subarray(0, 8).toString()).toBe('UNRLENC1');
  });

  it('reads objects and markers written before encryption was turned on, and after rotation', async () => {
    const legacy = new TranscriptStore(new FsStoreBackend(storeRoot()));
    const oldHash = await legacy.putItem(item);
    await legacy.putMarker('m', 'plain marker');
    const afterA = await openFsStore(dir, new KeyRing([keyA])).putItem({ ...item, content: [{ type: 'input_text', text: 'under key a' }] });
    const rotated = openFsStore(dir, new KeyRing([keyB, keyA]));
    const afterB = await rotated.putItem({ ...item, content: [{ type: 'input_text', text: 'under key b' }] });
    expect(await rotated.getItem(oldHash)).toEqual(item);
    expect(await rotated.getMarker('m')).toBe('plain marker');
    expect(((await rotated.getItem(afterA)) as { content: { text: string }[] }).content[0].text).toBe('under key a');
    expect(((await rotated.getItem(afterB)) as { content: { text: string }[] }).content[0].text).toBe('under key b');
    const onDisk = await readFile(path.join(storeRoot(), 'objects', afterB.slice(0, 2), afterB.slice(2)));
    expect(onDisk.subarray(9, 9 + 5).toString()).toBe('key-b');
  });

  it('refuses to read encrypted data without the key, or with a ring that lacks it, naming the object', async () => {
    const hash = await openFsStore(dir, new KeyRing([keyA])).putItem(item);
    expect((await caught(MissingEncryptionKeyError, () => openFsStore(dir).getItem(hash))).message).toMatch(`store object ${hash} is encrypted (key "key-a") and no key is configured`);
    await caught(UnknownEncryptionKeyError, () => openFsStore(dir, new KeyRing([keyB])).getItem(hash));
  });

  it('rejects an encrypted object moved to another name, and a tampered one', async () => {
    const keys = new KeyRing([keyA]);
    const backend = new EncryptedStoreBackend(new FsStoreBackend(storeRoot()), keys);
    const a = await new TranscriptStore(backend).putItem(item);
    const other = 'f'.repeat(64);
    const raw = await new FsStoreBackend(storeRoot()).get(a);
    await new FsStoreBackend(storeRoot()).put(other, raw!);
    await caught(DecryptionError, () => backend.get(other));
    const tampered = Buffer.from(raw!);
    tampered[tampered.length - 20] ^= 0x01;
    const b = 'e'.repeat(64);
    await new FsStoreBackend(storeRoot()).put(b, tampered);
    await caught(DecryptionError, () => backend.get(b));
  });
});

describe('decodeHistory', () => {
  const History = temporal.api.history.v1.History;
  const ring = new KeyRing([keyA]);

  async function historyWith(input: unknown, encrypt: boolean) {
    const payload = defaultPayloadConverter.toPayload(input);
    const [stored] = encrypt ? await new AesGcmPayloadCodec(ring).encode([payload]) : [payload];
    return History.fromObject({
      events: [
        {
          eventId: '1',
          eventType: 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED',
          workflowExecutionStartedEventAttributes: { workflowType: { name: 'SessionWorkflow' }, input: { payloads: [stored] } },
        },
      ],
    });
  }
  const inputOf = (h: temporal.api.history.v1.IHistory) => defaultPayloadConverter.fromPayload(h.events![0].workflowExecutionStartedEventAttributes!.input!.payloads![0]);

  it('decodes every encrypted payload into a copy and leaves the stored history untouched', async () => {
    const stored = await historyWith({ text: SECRET }, true);
    const before = Buffer.from(History.encode(stored).finish());
    const decoded = await decodeHistory(stored, [new AesGcmPayloadCodec(ring)], 'the history');
    expect(inputOf(decoded)).toEqual({ text: SECRET });
    expect(Buffer.from(History.encode(stored).finish()).equals(before)).toBe(true);
    expect(before.toString('latin1')).not.toContain(SECRET);
  });

  it('returns a history without encrypted payloads as it is, with or without codecs', async () => {
    const plain = await historyWith({ text: 'plain' }, false);
    expect(await decodeHistory(plain, [], 'h')).toBe(plain);
    expect(await decodeHistory(plain, [new AesGcmPayloadCodec(ring)], 'h')).toBe(plain);
  });

  it('says a key is needed when the history is encrypted and none is configured', async () => {
    const err = await caught(MissingEncryptionKeyError, async () => decodeHistory(await historyWith(1, true), [], 'the history of t-1'));
    expect(err.message).toMatch(/the history of t-1 is encrypted \(key "key-a"\) and no key is configured: set UNROLL_ENCRYPTION_KEY_FILE/);
  });
});
