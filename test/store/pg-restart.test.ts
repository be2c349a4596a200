/**
 * A database that goes away while the store is in use: operations fail with the named,
 * retryable StoreUnavailableError (password redacted), nothing written before is lost,
 * and the same store handle works again once the server is back. Runs on a private
 * cluster of its own, so restarting it cannot disturb other test files.
 */
import { checkStore, openStore, StoreConfigError, StoreUnavailableError, type OpenedStore } from '../../src/store';
import type { ConversationItem } from '../../src/items/schemas';
import { startPostgres, startPostgresServer, stopPostgres, stopPostgresServer, type PostgresCluster } from '../support/postgres';
import { call, output, writeChain } from './store-fixtures';

let cluster: PostgresCluster;
const opened: OpenedStore[] = [];

beforeAll(async () => {
  cluster = await startPostgres();
}, 120_000);
afterAll(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await stopPostgres(cluster);
});

function open(): OpenedStore {
  const store = openStore(cluster.url, { home: '/nonexistent-unroll-home' });
  opened.push(store);
  return store;
}

/** Runs `op`; returns the error it throws, failing the test when it does not throw. */
async function failure(op: () => Promise<unknown>): Promise<Error> {
  try {
    await op();
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected the operation to fail while the database is down');
}

describe('the PostgreSQL store across a database restart', () => {
  it('throws StoreUnavailableError while the server is down, then works again on the same handle with nothing lost', async () => {
    const store = open();
    const id = await checkStore(store);
    const { head, items } = await writeChain(store.store, 10);
    await store.store.putMarker('exec/call_1', 'started');

    await stopPostgresServer(cluster);
    const down = [
      await failure(() => store.store.append(head, [call('during'), output('during')])),
      await failure(() => open().store.loadTranscript(head)),
      await failure(() => store.store.getMarker('exec/call_1')),
      await failure(() => store.store.putMarker('exec/call_1', 'finished')),
    ];
    for (const err of down) {
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(err.message).toBe(`transcript store postgres://unroll:***@127.0.0.1:${cluster.port}/unroll is unavailable: connection refused (is PostgreSQL running and listening on that host and port?); the operation is safe to retry`);
      expect(err.message).not.toContain(cluster.password);
    }
    // At start-up the same outage is a configuration error, naming UNROLL_STORE.
    const startup = await failure(() => checkStore(open()));
    expect(startup).toBeInstanceOf(StoreConfigError);
    expect(startup.message).toBe(`UNROLL_STORE=postgres://unroll:***@127.0.0.1:${cluster.port}/unroll: connection refused (is PostgreSQL running and listening on that host and port?)`);

    await startPostgresServer(cluster);
    const next = await store.store.append(head, [call('after'), output('after')]);
    expect((await open().store.loadTranscript(next)).map((s) => s.item)).toEqual([...items, call('after'), output('after')]);
    expect(await store.store.getMarker('exec/call_1')).toBe('started');
    expect(await checkStore(open())).toBe(id);
  });

  it('loses nothing when the server restarts in the middle of a stream of writes that retry on StoreUnavailableError', async () => {
    const store = open();
    await checkStore(store);
    const errors: Error[] = [];
    const written: ConversationItem[] = [];
    let head: string | null = null;
    let restarted = false;
    const restart = (async () => {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await stopPostgresServer(cluster);
      await startPostgresServer(cluster);
      restarted = true;
    })();
    // Like an activity under Temporal's retry policy: a failed step is retried whole.
    for (let step = 0; !restarted || step < 20; step++) {
      const items = [call(`w${step}`), output(`w${step}`)];
      for (;;) {
        try {
          head = await store.store.append(head, items);
          break;
        } catch (err) {
          errors.push(err as Error);
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      }
      written.push(...items);
    }
    await restart;
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.filter((err) => !(err instanceof StoreUnavailableError))).toEqual([]);
    expect((await open().store.loadTranscript(head)).map((s) => s.item)).toEqual(written);
  });
});
