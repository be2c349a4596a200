/**
 * The shape every benchmark reports in, and the statistics it is summarised with:
 * each figure is a median over repeated runs, with the min and max next to it.
 */

/** One measured figure over repeated runs. */
export interface Figure {
  readonly measure: string;
  readonly unit: string;
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

/** One benchmark's results: a titled table plus the settings it ran with. */
export interface BenchSection {
  readonly id: string;
  readonly title: string;
  readonly figures: Figure[];
  /** Settings and caveats a reader needs to interpret the figures. */
  readonly notes: string[];
}

/** Summarises repeated samples of one measure. */
export function figure(measure: string, unit: string, samples: readonly number[]): Figure {
  if (samples.length === 0) throw new RangeError(`figure ${measure}: no samples`);
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
  return { measure, unit, median: round(median), min: round(sorted[0]), max: round(sorted[sorted.length - 1]), runs: samples.length };
}

/** The p-th percentile (0–100) of samples, nearest rank. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return 0;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank];
}

function round(value: number): number {
  return Math.abs(value) >= 100 ? Math.round(value) : Math.round(value * 100) / 100;
}

/** A section as a markdown table. */
export function sectionMarkdown(section: BenchSection): string {
  return [
    `## ${section.title}`,
    '',
    '| measure | median | min | max | unit | runs |',
    '|---|---|---|---|---|---|',
    ...section.figures.map((f) => `| ${f.measure} | ${f.median} | ${f.min} | ${f.max} | ${f.unit} | ${f.runs} |`),
    '',
    ...section.notes.map((n) => `- ${n}`),
    '',
  ].join('\n');
}
