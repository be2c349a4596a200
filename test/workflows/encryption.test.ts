/**
 * Encryption end to end, on the real dev server: a thread whose user message, tool call,
 * tool output and answer all carry a unique marker runs with the AES-GCM codec and an
 * encrypted store. Read back raw from the server (a client without the codec), no
 * history holds the marker or the API key; no file of the store does either; and yet
 * the thread worked, reads back decoded, and the real Temporal CLI shows it in clear
 * through `unroll`'s codec server. Without encryption the marker is in the history (so
 * the check above means something) but the API key still is nowhere: only the name of
 * its environment variable travels.
 */
import { execFile } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { AesGcmPayloadCodec, decodeThreadHistories, KeyRing, MissingEncryptionKeyError, payloadKeyId } from '../../src/codec';
import { startCodecServer } from '../../src/codec/codec-server';
import { buildThreadRun } from '../../src/history/build-run';
import { runRecord, type History } from '../../src/history/history-events';
import { historyToPlain } from '../../src/history/history-json';
import { fetchThreadHistories } from '../../src/history/thread-histories';
import { sessionWorkflowId, turnWorkflowId } from '../../src/shared/ids';
import { startHarness, testEnvironment, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

jest.setTimeout(180_000);

const HistoryMessage = temporal.api.history.v1.History;

/** Every way a history's content can be read without the key: protobuf bytes, plain JSON, each payload's data as text. */
function rawTexts(history: History): string[] {
  const payloadData: string[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
    const v = value as { metadata?: unknown; data?: unknown };
    if (v.data instanceof Uint8Array && typeof v.metadata === 'object') payloadData.push(Buffer.from(v.data).toString('utf8'));
    for (const child of Object.values(value)) visit(child);
  };
  visit(history);
  return [Buffer.from(HistoryMessage.encode(history).finish()).toString('latin1'), JSON.stringify(historyToPlain(history)), JSON.stringify(history), ...payloadData];
}

/** Every payload `data` and metadata value of a `temporal workflow show -o json` output, base64-decoded. */
function payloadTexts(json: unknown): string[] {
  const out: string[] = [];
  const visit = (value: unknown): void => {
    if (value === null || typeof value !== 'object') return;
    const v = value as { metadata?: unknown; data?: unknown };
    if (typeof v.metadata === 'object' && v.metadata !== null) {
      for (const m of Object.values(v.metadata)) if (typeof m === 'string') out.push(Buffer.from(m, 'base64').toString('utf8'));
      if (typeof v.data === 'string') out.push(Buffer.from(v.data, 'base64').toString('utf8'));
    }
    for (const child of Object.values(value)) visit(child);
  };
  visit(json);
  return out;
}

/** The bytes of every file under `dir`, as text. */
async function filesUnder(dir: string): Promise<{ file: string; text: string }[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return Promise.all(entries.filter((e) => e.isFile()).map(async (e) => ({ file: path.join(e.parentPath, e.name), text: (await readFile(path.join(e.parentPath, e.name))).toString('latin1') })));
}

/** The session's and the first turn's histories exactly as the server stores them. */
async function rawHistories(plainClient: Client, threadId: string): Promise<History[]> {
  return Promise.all([sessionWorkflowId(threadId), turnWorkflowId(threadId, 1)].map((id) => plainClient.workflow.getHandle(id).fetchHistory()));
}

/** Runs a thread whose every step carries `marker`. */
async function runMarkedThread(h: Harness, marker: string) {
  const call = shellCall(`echo ${marker}-tool-output`);
  h.model.enqueue(respond(call), respond(assistantMessage(`done: ${marker}-answer`)));
  const before = h.model.requests.length;
  const run = await h.runThread(`please handle ${marker}-user-message`);
  return { ...run, call, requests: h.model.requests.slice(before) };
}

describe('with encryption on', () => {
  const marker = `SECRET-TRANSCRIPT-${randomUUID()}`;
  const apiKey = `sk-test-${randomUUID()}`;
  const ring = new KeyRing([{ id: 'test-key-1', key: randomBytes(32) }]);
  let h: Harness;
  let plainClient: Client;
  let run: Awaited<ReturnType<typeof runMarkedThread>>;

  beforeAll(async () => {
    h = await startHarness({ keys: ring, apiKeys: { OPENAI_API_KEY: apiKey } });
    plainClient = new Client({ connection: h.client.connection });
    run = await runMarkedThread(h, marker);
  });
  afterAll(async () => {
    await h?.close();
  });

  test('the thread works: the model got the marked message and the API key, the tool ran, the turn completed', async () => {
    expect(run.result.status).toBe('completed');
    expect(run.requests).toHaveLength(2);
    expect(run.requests[0].headers.authorization).toBe(`Bearer ${apiKey}`);
    expect(JSON.stringify(run.requests[0].input)).toContain(`${marker}-user-message`);
    const output = run.requests[1].input.find((i) => i.type === 'function_call_output' && i.call_id === run.call.call_id);
    expect(String(output?.output)).toContain(`${marker}-tool-output`);
    const transcript = JSON.stringify((await h.store.loadTranscript(run.result.head)).map((s) => s.item));
    expect(transcript).toContain(`${marker}-answer`);
    h.model.assertProtocol();
  });

  test('the histories read back raw from the server hold neither the marker nor the API key', async () => {
    const histories = await rawHistories(plainClient, run.threadId);
    let encrypted = 0;
    for (const history of histories) {
      expect(history.events?.length).toBeGreaterThan(3);
      for (const textForm of rawTexts(history)) {
        expect(textForm).not.toContain(marker);
        expect(textForm).not.toContain(apiKey);
      }
      const visit = (value: unknown): void => {
        if (value === null || typeof value !== 'object' || value instanceof Uint8Array) return;
        const v = value as { metadata?: Record<string, Uint8Array> };
        if (v.metadata && v.metadata.encoding instanceof Uint8Array && payloadKeyId(v) === 'test-key-1') encrypted++;
        for (const child of Object.values(value)) visit(child);
      };
      visit(history);
    }
    expect(encrypted).toBeGreaterThan(5);
    // The same histories decoded with the key hold the marker: the check above can fail.
    const decoded = await decodeThreadHistories({ threadId: run.threadId, workflows: histories.map((history, i) => ({ workflowId: `w${i}`, runId: 'r', workflowType: 'T', history })) }, [new AesGcmPayloadCodec(ring)]);
    expect(decoded.workflows.some((w) => rawTexts(w.history).some((t) => t.includes(marker)))).toBe(true);
  });

  test('no file of the store holds the marker or the API key, and every object is encrypted', async () => {
    const files = await filesUnder(h.home);
    expect(files.length).toBeGreaterThan(5);
    for (const { file, text } of files) {
      expect({ file, marker: text.includes(marker), apiKey: text.includes(apiKey) }).toEqual({ file, marker: false, apiKey: false });
    }
    const objects = files.filter((f) => f.file.includes(`${path.sep}objects${path.sep}`));
    expect(objects.length).toBeGreaterThan(5);
    expect(objects.filter((o) => !o.text.startsWith('UNRLENC1'))).toEqual([]);
  });

  test('the thread reads back decoded with the key, and a reader without it gets a clear error', async () => {
    const stored = await fetchThreadHistories(h.client, run.threadId);
    const decoded = await decodeThreadHistories(stored, [new AesGcmPayloadCodec(ring)]);
    const threadRun = await buildThreadRun(decoded, h.store);
    expect(threadRun.turns).toHaveLength(1);
    expect(JSON.stringify(threadRun)).toContain(`${marker}-tool-output`);
    await expect(fetchThreadHistories(plainClient, run.threadId)).rejects.toBeInstanceOf(MissingEncryptionKeyError);
    // The session input carries the name of the key's variable, never the key.
    const input = runRecord(decoded.workflows[0].history).input as { settings: { provider: { envKey: string } } };
    expect(input.settings.provider.envKey).toBe('OPENAI_API_KEY');
  });

  test('the Temporal CLI shows the history in clear only through the codec server', async () => {
    const { cliPath, address } = { ...testEnvironment(), address: h.address };
    const server = await startCodecServer({ codec: new AesGcmPayloadCodec(ring), port: 0, origins: [], namespace: 'default' });
    try {
      const show = (extra: string[]) =>
        new Promise<string>((resolve, reject) => {
          execFile(cliPath, ['workflow', 'show', '--address', address, '--namespace', 'default', '-w', turnWorkflowId(run.threadId, 1), '-o', 'json', ...extra], { timeout: 120_000, maxBuffer: 32 * 1024 * 1024 }, (err, stdout, stderr) =>
            err ? reject(new Error(`temporal workflow show failed: ${err.message}\n${stderr}`)) : resolve(stdout),
          );
        });
      const clear = payloadTexts(JSON.parse(await show(['--codec-endpoint', server.url])));
      expect(clear.some((t) => t.includes(`${marker}-tool-output`))).toBe(true);
      const raw = payloadTexts(JSON.parse(await show([])));
      expect(raw.filter((t) => t.includes(marker))).toEqual([]);
      expect(raw).toContain('binary/encrypted');
    } finally {
      await server.close();
    }
  });
});

describe('without encryption', () => {
  const marker = `PLAIN-TRANSCRIPT-${randomUUID()}`;
  const apiKey = `sk-test-${randomUUID()}`;
  let h: Harness;
  let run: Awaited<ReturnType<typeof runMarkedThread>>;

  beforeAll(async () => {
    h = await startHarness({ apiKeys: { OPENAI_API_KEY: apiKey } });
    run = await runMarkedThread(h, marker);
  });
  afterAll(async () => {
    await h?.close();
  });

  test('the API key is used but appears in no history and no store file; the transcript does (the check can fail)', async () => {
    expect(run.result.status).toBe('completed');
    expect(run.requests[0].headers.authorization).toBe(`Bearer ${apiKey}`);
    const histories = await rawHistories(h.client, run.threadId);
    const texts = histories.flatMap(rawTexts);
    expect(texts.some((t) => t.includes(marker))).toBe(true);
    expect(texts.filter((t) => t.includes(apiKey))).toEqual([]);
    expect(texts.some((t) => t.includes('OPENAI_API_KEY'))).toBe(true);
    const files = await filesUnder(h.home);
    expect(files.some((f) => f.text.includes(marker))).toBe(true);
    expect(files.filter((f) => f.text.includes(apiKey)).map((f) => f.file)).toEqual([]);
  });
});
