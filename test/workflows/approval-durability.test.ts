/**
 * A pending approval is workflow state: it survives the worker being killed and the
 * (file-backed) Temporal server being restarted, and once given, the command runs
 * exactly once.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { randomUUID } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import { answerApproval, pendingApprovals } from '../../src/client/intervene';
import { followTurn, startThread } from '../../src/client/threads';
import { devServerPidFile, ensureDevServer, stopDevServer } from '../../src/temporal/dev-server';
import { testEnvironment } from '../support/harness';
import { assistantMessage, respond, shellCall } from '../support/responses-builders';
import { ScriptedResponsesServer } from '../support/responses-server';
import { scriptedSessionSettings } from '../support/session-settings';
import { spawnWorker, waitFor, type WorkerProcess } from '../support/worker-process';

jest.setTimeout(180_000);

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

describe('approval durability', () => {
  const workers: WorkerProcess[] = [];
  let dir: string;
  let model: ScriptedResponsesServer;
  let connection: Connection | undefined;
  let dbFile: string;

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'unroll-approval-'));
    dbFile = path.join(dir, 'temporal.db');
    model = await ScriptedResponsesServer.start();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await connection?.close();
    await stopDevServer(devServerPidFile(dbFile));
    await model.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('an approval requested, the worker killed and the server restarted, then approved: the command runs once', async () => {
    const address = `127.0.0.1:${await freePort()}`;
    const server = { address, cliPath: testEnvironment().cliPath, dbFile, logFile: path.join(dir, 'server.log'), uiPort: 65_536 };
    await ensureDevServer(server);
    const home = path.join(dir, 'home');
    const workspace = await mkdtemp(path.join(os.tmpdir(), 'unroll-approval-ws-'));
    const taskQueue = `approval-${randomUUID()}`;
    const worker = () => spawnWorker({ home, taskQueue, address }).then((w) => (workers.push(w), w));
    const connect = async () => {
      await connection?.close();
      connection = await Connection.connect({ address });
      return new Client({ connection });
    };

    model.enqueue(respond(shellCall('echo ran >> ledger.txt')), respond(assistantMessage('ran it')));
    const first = await worker();
    let client = await connect();
    const threadId = `approval-${randomUUID()}`;
    const settings = { ...scriptedSessionSettings({ cwd: workspace, baseUrl: model.url, taskQueue }), approvalPolicy: 'untrusted' as const };
    const started = await startThread(client, { threadId, settings, text: 'record that it ran', taskQueue });
    await waitFor('the approval request', async () => (await pendingApprovals(client, threadId)).length === 1);

    await first.kill();
    await stopDevServer(devServerPidFile(dbFile));
    expect((await ensureDevServer(server)).started).toBe(true);
    client = await connect();
    await worker();

    const [pending] = await pendingApprovals(client, threadId);
    expect(pending.summary).toBe('shell: echo ran >> ledger.txt');
    await answerApproval(client, threadId, 'approve', pending.callId);
    const result = await followTurn(client, started.turnWorkflowId, () => undefined);
    expect(result.status).toBe('completed');
    expect(await readFile(path.join(workspace, 'ledger.txt'), 'utf8')).toBe('ran\n');
    model.assertProtocol();
    await rm(workspace, { recursive: true, force: true });
  });
});
