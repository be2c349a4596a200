/**
 * How long a tool call with a large argument takes to come in (issue 10: a 21 MB
 * argument took minutes). The scripted Responses server streams a `shell` call whose
 * arguments are N MiB, and each stage is timed on its own: reading the stream with the
 * `openai` SDK's own event reader (what Unroll used before; its time grows with the
 * square of an event's size), reading it with Unroll's (`streamResponse`, linear),
 * storing the items, describing the call and running it (answered with the 1 MiB limit
 * error above the limit). Prints one line per size: numbers, not assertions.
 *
 *   npm run build && node dist/bench/large-arguments.js 1 4 8 21
 */
import { mkdtemp, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import { ModelClients, streamResponse } from '../src/activities/model-client';
import { openFsStore } from '../src/store';
import { describeCall, executeToolCall } from '../src/tools/registry';
import type { ToolCallItem } from '../src/items/schemas';
import { ScriptedResponsesServer } from '../test/support/responses-server';
import { respond, shellCall } from '../test/support/responses-builders';
import { scriptedSessionSettings } from '../test/support/session-settings';

/** Milliseconds each stage took for one argument size (in MiB). */
export interface LargeArgumentTimings {
  readonly megabytes: number;
  readonly sdkReaderMs: number;
  readonly streamMs: number;
  readonly storeMs: number;
  readonly describeMs: number;
  readonly executeMs: number;
  readonly output: string;
}

/** Streams (twice: SDK reader, Unroll's), stores, describes and runs one `shell` call of `megabytes` MiB. */
export async function measureLargeArgument(megabytes: number): Promise<LargeArgumentTimings> {
  const home = await mkdtemp(path.join(os.tmpdir(), 'unroll-bench-args-'));
  const model = await ScriptedResponsesServer.start();
  try {
    const store = openFsStore(home);
    const settings = scriptedSessionSettings({ cwd: home, baseUrl: model.url, taskQueue: 'bench' });
    const filler = 'x'.repeat(Math.round(megabytes * 1024 * 1024));
    model.enqueue(respond(shellCall(['echo', filler])), respond(shellCall(['echo', filler])));
    const client = new ModelClients(() => 'bench-key').clientFor(settings);
    let t = Date.now();
    for await (const event of await client.responses.create({ model: 'bench', input: [], stream: true })) void event;
    const sdkReaderMs = Date.now() - t;
    t = Date.now();
    const response = await streamResponse(client, { model: 'bench', input: [] }, {
      settings,
      signal: new AbortController().signal,
      heartbeat: () => undefined,
    });
    const streamMs = Date.now() - t;
    t = Date.now();
    await store.putItems(response.items);
    const storeMs = Date.now() - t;
    const call = response.items[0] as ToolCallItem;
    t = Date.now();
    describeCall(call, { shellTimeoutMs: 10_000 });
    const describeMs = Date.now() - t;
    t = Date.now();
    const ctx = { cwd: home, signal: new AbortController().signal, heartbeat: () => undefined, callId: call.call_id, env: {} };
    const result = await executeToolCall(call, ctx, { shellTimeoutMs: 10_000 });
    const executeMs = Date.now() - t;
    return { megabytes, sdkReaderMs, streamMs, storeMs, describeMs, executeMs, output: result.output.slice(0, 100) };
  } finally {
    await model.close();
    await rm(home, { recursive: true, force: true });
  }
}

async function main(): Promise<void> {
  const sizes = process.argv.slice(2).map(Number);
  for (const mb of sizes.length > 0 ? sizes : [1, 2, 4]) {
    const r = await measureLargeArgument(mb);
    console.log(
      `${mb} MiB: SDK reader ${r.sdkReaderMs} ms, Unroll reader ${r.streamMs} ms, store ${r.storeMs} ms, ` +
        `describe ${r.describeMs} ms, execute ${r.executeMs} ms; output ${JSON.stringify(r.output)}`,
    );
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exitCode = 1;
  });
}
