/**
 * Turns recorded snapshots into chart points and "since last digest" changes. Pure, so the cards and the
 * digest job can share it and tests can feed it plain arrays.
 */
import type { DigestFigures, Snapshot, TrendPoint } from './types.js';

const METRICS = ['uv', 'pv', 'likes'] as const satisfies readonly (keyof DigestFigures)[];

/**
 * One point per snapshot dated within [from, to] that has `metric`, oldest first. Each delta is against the
 * previous snapshot in `history` that has the metric, even one before `from` (which is why
 * `SnapshotStore.history` returns the day before the window); null when there is none. A day without a
 * snapshot is a gap: no point, and the next day's delta spans it.
 */
export function buildTrend(
  history: readonly Snapshot[],
  metric: keyof DigestFigures,
  window: { from: string; to: string },
): TrendPoint[] {
  const points: TrendPoint[] = [];
  let previous: number | undefined;
  // yyyy-MM-dd sorts as text; sorting a copy guards against a caller merging histories out of order.
  for (const snapshot of [...history].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0))) {
    if (snapshot.date > window.to) break;
    const value = snapshot.figures[metric];
    if (value === undefined) continue;
    if (snapshot.date >= window.from) {
      points.push({ date: snapshot.date, value, delta: previous === undefined ? null : value - previous });
    }
    previous = value;
  }
  return points;
}

/** Per-metric `current − previous`; a metric missing on either side is left out rather than shown as 0. */
export function describeChange(
  current: DigestFigures,
  previous: DigestFigures | undefined,
): Partial<Record<keyof DigestFigures, number>> {
  const change: Partial<Record<keyof DigestFigures, number>> = {};
  if (!previous) return change;
  for (const metric of METRICS) {
    const now = current[metric];
    const before = previous[metric];
    if (now !== undefined && before !== undefined) change[metric] = now - before;
  }
  return change;
}
