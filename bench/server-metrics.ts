/**
 * Temporal's own metrics, read from a server's Prometheus endpoint (`--metrics-port` of
 * the dev server, `global.metrics.prometheus` of a cluster): how the benchmarks find the
 * server's limiters (task load latency, forwarded matching tasks, persistence latency).
 */

/** Every sample of one scrape, keyed by the metric name with its labels as printed. */
export type MetricSamples = ReadonlyMap<string, number>;

/** A Prometheus endpoint that did not answer. */
export class MetricsScrapeError extends Error {
  override readonly name = 'MetricsScrapeError';
  constructor(readonly url: string, detail: string) {
    super(`cannot read Temporal's metrics at ${url}: ${detail}`);
  }
}

/** Reads every sample at `url` (`http://host:port/metrics`). */
export async function scrapeMetrics(url: string): Promise<MetricSamples> {
  let text: string;
  try {
    const response = await fetch(url);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    text = await response.text();
  } catch (err) {
    throw new MetricsScrapeError(url, err instanceof Error ? err.message : String(err));
  }
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const at = line.lastIndexOf(' ');
    samples.set(line.slice(0, at), Number(line.slice(at + 1)));
  }
  return samples;
}

/** What changed between two scrapes of the same server (counters and histogram sums only grow). */
export function metricsDelta(before: MetricSamples, after: MetricSamples): MetricSamples {
  const delta = new Map<string, number>();
  for (const [key, value] of after) delta.set(key, value - (before.get(key) ?? 0));
  return delta;
}

/** Whether a sample key is metric `name` with every label in `labels` (e.g. `{ task_type: 'TransferActiveTaskWorkflowTask' }`). */
function matches(key: string, name: string, labels: Readonly<Record<string, string>>): boolean {
  if (!key.startsWith(`${name}{`) && key !== name) return false;
  return Object.entries(labels).every(([label, value]) => key.includes(`${label}="${value}"`));
}

/** The sum of every sample of `name` with these labels. */
export function total(samples: MetricSamples, name: string, labels: Readonly<Record<string, string>> = {}): number {
  let sum = 0;
  for (const [key, value] of samples) if (matches(key, name, labels)) sum += value;
  return sum;
}

/** How many observations histogram `name` (in seconds) recorded with these labels, and their mean in ms (0 when none). */
export function histogramMeanMs(samples: MetricSamples, name: string, labels: Readonly<Record<string, string>> = {}): { count: number; meanMs: number } {
  const count = total(samples, `${name}_count`, labels);
  const sum = total(samples, `${name}_sum`, labels);
  return { count, meanMs: count > 0 ? (sum / count) * 1000 : 0 };
}
