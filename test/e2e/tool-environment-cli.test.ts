/**
 * The environment of tool processes as a user gets it from the compiled CLI: `unroll
 * exec` with its in-process worker, the API key and other credentials in its environment,
 * and the shell environment policy from config.json.
 */
import { writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { runCli, startCliFixture, type CliFixture } from './run-cli';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';

describe('the environment of tool processes under unroll exec', () => {
  let fixture: CliFixture;

  beforeAll(async () => {
    fixture = await startCliFixture('tool-env');
  });
  afterAll(async () => {
    await fixture.close();
  });
  afterEach(() => fixture.model.assertProtocol());

  /** Runs one turn whose only tool call is `command`; returns that call's output and what the CLI printed. */
  async function toolOutput(command: string, env: Record<string, string | undefined>, args: string[] = []): Promise<{ output: string; printed: string }> {
    fixture.model.enqueue(respond(shellCall(command, { callId: 'call_env' })), respond(assistantMessage('done')));
    const run = await runCli(['exec', ...args, 'show me the environment'], env, fixture.workspace);
    expect(run.code).toBe(0);
    const answer = fixture.model.requests.at(-1)?.input.find((i) => i.type === 'function_call_output');
    return { output: String(answer?.output), printed: run.stdout + run.stderr };
  }

  test('has no API key or other credential of the worker, but keeps the rest', async () => {
    const env = { ...fixture.env, OPENAI_API_KEY: 'sk-cli-secret-77', ACME_CREDENTIAL: 'acme-cli-secret-77', DEPLOY_TOKEN: 'tok-cli-secret-77', BUILD_FLAVOUR: 'debug' };
    const { output, printed } = await toolOutput('echo "[$OPENAI_API_KEY][$ACME_CREDENTIAL][$DEPLOY_TOKEN][$BUILD_FLAVOUR]"; env', env, ['--api-key-env', 'ACME_CREDENTIAL']);
    expect(output).toContain('\n[][][][debug]\n');
    expect(output).not.toMatch(/cli-secret-77/);
    expect(printed).toContain('[][][][debug]');
    expect(printed).not.toMatch(/cli-secret-77/);
    expect(JSON.stringify(fixture.model.requests.map((r) => r.body))).not.toMatch(/cli-secret-77/);
  });

  test('follows shellEnvironmentPolicy from config.json', async () => {
    await writeFile(
      path.join(fixture.home, 'config.json'),
      JSON.stringify({ shellEnvironmentPolicy: { inherit: 'core', exclude: ['HOME'], set: { CI: 'from-config' } } }),
    );
    const { output } = await toolOutput('echo "[$CI][$HOME][$BUILD_FLAVOUR][${PATH:+path-set}]"', { ...fixture.env, BUILD_FLAVOUR: 'debug' });
    expect(output).toMatch(/\nOutput:\n\[from-config\]\[\]\[\]\[path-set\]\n$/);
  });
});
