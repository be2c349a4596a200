/**
 * Encryption through the compiled CLI (`npm run build` first): the debugging commands
 * read an encrypted thread when the key is configured and say which key is missing when
 * it is not; export keeps the histories encrypted, import writes the objects encrypted
 * at rest; `unroll codec-server` serves the key over HTTP until it is stopped.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { gunzip } from 'node:zlib';
import { defaultPayloadConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, parseKeyFile } from '../../src/codec';
import { payloadFromJson, payloadToJson } from '../../src/codec/codec-server';
import { settled } from '../replay/corpus-scenarios';
import { startHarness, testEnvironment, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { offlineEnv, runCli } from './run-cli';

jest.setTimeout(240_000);

const CLI = path.resolve(__dirname, '..', '..', 'bin', 'unroll');

describe('encryption in the CLI', () => {
  const marker = `SECRET-TRANSCRIPT-${randomUUID()}`;
  const keySpec = `cli-key:${randomBytes(32).toString('base64')}`;
  const ring = parseKeyFile(keySpec, 'spec');
  let h: Harness;
  let threadId: string;
  let scratch: string;
  let keyFile: string;

  beforeAll(async () => {
    h = await startHarness({ keys: ring });
    scratch = await mkdtemp(path.join(os.tmpdir(), 'unroll-enc-cli-'));
    keyFile = path.join(scratch, 'keys');
    await writeFile(keyFile, `# active first\n${keySpec}\n`, { mode: 0o600 });
    h.model.enqueue(respond(shellCall(`echo ${marker}-output`)), respond(assistantMessage(`answer ${marker}`)));
    threadId = (await h.runThread(`task ${marker}`)).threadId;
    await settled(h, threadId);
  });
  afterAll(async () => {
    await h?.close();
    await rm(scratch, { recursive: true, force: true });
  });

  const serverEnv = (extra: Record<string, string> = {}) => ({ ...offlineEnv(h.home), UNROLL_TEMPORAL_ADDRESS: h.address, ...extra });

  test('show reads an encrypted thread with the key file, and names the missing key without it', async () => {
    const shown = await runCli(['show', threadId], serverEnv({ UNROLL_ENCRYPTION_KEY_FILE: keyFile }), scratch);
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`${marker}-output`);
    expect(shown.stdout).toContain(`answer ${marker}`);
    const withoutKey = await runCli(['show', threadId], serverEnv(), scratch);
    expect(withoutKey.code).toBe(2);
    expect(withoutKey.stderr).toMatch(/unroll: the history of .* is encrypted \(key "cli-key"\) and no key is configured: set UNROLL_ENCRYPTION_KEY_FILE/);
    const badKey = await runCli(['show', threadId], serverEnv({ UNROLL_ENCRYPTION_KEY: 'cli-key:c2hvcnQ=' }), scratch);
    expect(badKey.code).toBe(2);
    expect(badKey.stderr).toMatch(/unroll: UNROLL_ENCRYPTION_KEY: key "cli-key" decodes to 5 bytes/);
  });

  test('replay replays an encrypted thread deterministically with the key', async () => {
    const run = await runCli(['replay', threadId, '--json', '--workflow-bundle', testEnvironment().bundlePath], serverEnv({ UNROLL_ENCRYPTION_KEY_FILE: keyFile }), scratch);
    expect(run.code).toBe(0);
    const report = JSON.parse(run.stdout) as { outcomes: { workflowType: string; ok: boolean }[] };
    expect(report.outcomes.map((o) => [o.workflowType, o.ok])).toEqual([
      ['SessionWorkflow', true],
      ['TurnWorkflow', true],
    ]);
  });

  test('threads shows the last message of an encrypted thread with the key', async () => {
    const listed = await runCli(['threads', '--json'], serverEnv({ UNROLL_ENCRYPTION_KEY: keySpec }), scratch);
    expect(listed.code).toBe(0);
    const thread = (JSON.parse(listed.stdout) as { threadId: string; lastMessage: string | null }[]).find((t) => t.threadId === threadId);
    expect(thread?.lastMessage).toContain(`answer ${marker}`);
  });

  test('export keeps the histories encrypted; import into a fresh home encrypts the objects at rest and show still works', async () => {
    const bundleFile = path.join(scratch, 'thread.unroll.gz');
    const exported = await runCli(['export', threadId, '-o', bundleFile], serverEnv({ UNROLL_ENCRYPTION_KEY_FILE: keyFile }), scratch);
    expect(exported.stderr).toMatch(/exported .*: 2 workflow run\(s\), \d+ store object\(s\)/);
    expect(exported.code).toBe(0);
    const bundle = JSON.parse((await promisify(gunzip)(await readFile(bundleFile))).toString('utf8')) as { workflows: { history: unknown }[]; objects: Record<string, string> };
    expect(JSON.stringify(bundle.workflows)).not.toContain(marker);
    expect(Object.values(bundle.objects).some((o) => o.includes(marker))).toBe(true);

    const fresh = await mkdtemp(path.join(scratch, 'home-'));
    const imported = await runCli(['import', bundleFile], { ...offlineEnv(fresh), UNROLL_ENCRYPTION_KEY_FILE: keyFile }, scratch);
    expect(imported.code).toBe(0);
    const entries = await readdir(fresh, { recursive: true, withFileTypes: true });
    const files = await Promise.all(entries.filter((e) => e.isFile()).map(async (e) => (await readFile(path.join(e.parentPath, e.name))).toString('latin1')));
    expect(files.length).toBeGreaterThan(3);
    expect(files.filter((f) => f.includes(marker))).toEqual([]);
    const shown = await runCli(['show', threadId], { ...offlineEnv(fresh), UNROLL_ENCRYPTION_KEY_FILE: keyFile }, scratch);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(`${marker}-output`);
    const fromBundleWithoutKey = await runCli(['show', bundleFile], offlineEnv(fresh), scratch);
    expect(fromBundleWithoutKey.code).toBe(2);
    expect(fromBundleWithoutKey.stderr).toMatch(/is encrypted \(key "cli-key"\)/);
  });

  test('codec-server serves the key until stopped', async () => {
    const child = spawn(process.execPath, [CLI, 'codec-server', '--port', '0'], { env: { ...offlineEnv(scratch), UNROLL_ENCRYPTION_KEY_FILE: keyFile }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`codec-server did not start: ${stderr}`)), 60_000);
        child.stderr.on('data', (chunk: Buffer) => {
          stderr += chunk.toString();
          const found = /at (http:\/\/127\.0\.0\.1:\d+)/.exec(stderr);
          if (found) {
            clearTimeout(timer);
            resolve(found[1]);
          }
        });
      });
      expect(stderr).toContain('codec server for namespace "default"');
      const [encrypted] = await new AesGcmPayloadCodec(ring).encode([defaultPayloadConverter.toPayload(marker)]);
      const res = await fetch(`${url}/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default' }, body: JSON.stringify({ payloads: [payloadToJson(encrypted)] }) });
      expect(res.status).toBe(200);
      const body = (await res.json()) as { payloads: Parameters<typeof payloadFromJson>[0][] };
      expect(defaultPayloadConverter.fromPayload(payloadFromJson(body.payloads[0]))).toBe(marker);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).not.toContain(marker);
  });

  test('codec-server without a key is a usage error', async () => {
    const run = await runCli(['codec-server', '--port', '0'], offlineEnv(scratch), scratch);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('unroll: codec-server needs the encryption key');
  });
});
