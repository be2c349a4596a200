/** `UNROLL_METRICS_ADDRESS`: where a worker process serves the SDK's metrics (src/client/runtime-logger.ts). */
import { metricsAddress } from '../../src/client/runtime-logger';

describe('UNROLL_METRICS_ADDRESS', () => {
  const saved = process.env.UNROLL_METRICS_ADDRESS;
  afterEach(() => {
    if (saved === undefined) delete process.env.UNROLL_METRICS_ADDRESS;
    else process.env.UNROLL_METRICS_ADDRESS = saved;
  });

  it('is off when unset or empty', () => {
    delete process.env.UNROLL_METRICS_ADDRESS;
    expect(metricsAddress()).toBeUndefined();
    process.env.UNROLL_METRICS_ADDRESS = '  ';
    expect(metricsAddress()).toBeUndefined();
  });

  it('takes host:port', () => {
    process.env.UNROLL_METRICS_ADDRESS = ' 127.0.0.1:9464 ';
    expect(metricsAddress()).toBe('127.0.0.1:9464');
  });

  it.each(['9464', 'http://127.0.0.1:9464/metrics', '127.0.0.1:', 'localhost:port'])('refuses %j, naming the variable', (value) => {
    process.env.UNROLL_METRICS_ADDRESS = value;
    expect(() => metricsAddress()).toThrow(/UNROLL_METRICS_ADDRESS must be host:port/);
  });
});
