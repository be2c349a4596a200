/**
 * The thread's own provider key never reaches its tools, even when the worker's config
 * does not know that provider (a thread started elsewhere with `--api-key-env X`, served
 * by a standalone worker whose tool environment policy would keep X: its name has none
 * of KEY, SECRET, TOKEN).
 */
import { startHarness, type Harness } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

describe('the provider key variable of a thread', () => {
  let h: Harness;

  beforeAll(async () => {
    h = await startHarness({
      apiKeys: { ACME_PASSPHRASE: 'hunter2' },
      toolEnvironment: { PATH: process.env.PATH ?? '/usr/bin:/bin', ACME_PASSPHRASE: 'hunter2', BUILD_FLAVOUR: 'release' },
    });
  });
  afterAll(async () => {
    await h.close();
  });

  test('is dropped from the tool environment although the worker policy would keep it', async () => {
    h.model.enqueue(respond(shellCall('echo "[$ACME_PASSPHRASE][$BUILD_FLAVOUR]"')), respond(assistantMessage('done')));
    const base = h.settings();
    const { result } = await h.runThread('show the env', { provider: { ...base.provider, envKey: 'ACME_PASSPHRASE' } });
    expect(result.status).toBe('completed');
    const output = h.model.requests[1].input.find((i) => i.type === 'function_call_output');
    expect(String(output?.output)).toContain('[][release]');
    expect(JSON.stringify(h.model.requests.map((r) => r.body))).not.toContain('hunter2');
  });
});
