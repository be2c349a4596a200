/** Loopback ports for tests. */
import { createServer, type AddressInfo } from 'node:net';

/**
 * A loopback port with nothing listening on it (it was free a moment ago): for a
 * "connection refused" or a server the test starts itself.
 */
export async function unusedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
