/**
 * Snapshots from commands: whenever the bot fetches a document's statistics (`stats`, Refresh, `trend`, `digest
 * add`), it keeps that day's figures if it has none yet, so a trend can be drawn for documents in no digest. The
 * digest's own daily snapshot still wins: it is written with `put`, these only where the day is empty.
 */
import type { DocumentStatistics } from '../data/documents.js';
import type { DocRef } from '../feishu/types.js';
import { localDate } from './schedule.js';
import type { SnapshotStore } from './snapshots.js';
import { type DigestFigures, itemKey } from './types.js';

export interface StatisticsRecorderDeps {
  snapshots: SnapshotStore;
  timeZone: string;
  now: () => number;
}

/** The figures a document's snapshot holds; likes only where Feishu counts them (−1 means "not counted"). */
export function documentFigures(stats: DocumentStatistics['stats']): DigestFigures {
  return { uv: stats.uv, pv: stats.pv, ...(stats.likeCount >= 0 ? { likes: stats.likeCount } : {}) };
}

/** The `DocumentService` `onStatistics` hook: today's snapshot of `doc`, unless today has one. */
export function createStatisticsRecorder(
  deps: StatisticsRecorderDeps,
): (doc: DocRef, figures: DocumentStatistics) => Promise<void> {
  return async (doc, figures) => {
    const now = deps.now();
    await deps.snapshots.putIfAbsent(itemKey({ kind: 'doc', type: doc.type, token: doc.token, url: '' }), {
      date: localDate(now, deps.timeZone),
      takenAt: now,
      figures: documentFigures(figures.stats),
    });
  };
}
