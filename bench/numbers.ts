/** Percentiles and medians for the bench's figures. */

/** Nearest-rank percentile (`p` in 0..1) of values sorted ascending; 0 for none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil(p * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))] ?? 0;
}

export function median(values: readonly number[]): number {
  return percentile(Float64Array.from(values).sort(), 0.5);
}

/** Latencies in ms, summarised; `values` is sorted in place. */
export function summarise(values: Float64Array): { p50Ms: number; p99Ms: number; maxMs: number } {
  values.sort();
  return {
    p50Ms: percentile(values, 0.5),
    p99Ms: percentile(values, 0.99),
    maxMs: values.length > 0 ? (values[values.length - 1] ?? 0) : 0,
  };
}
