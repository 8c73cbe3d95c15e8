import {
  buildTrendCard,
  buildTrendHistoryStartsCard,
  type Card,
  type TrendMetric,
} from '../../../cards/index.js';
import { type DocumentService, LIKEABLE_TYPES, type ResolvedDoc } from '../../data/documents.js';
import { addDays, localDate } from '../../digest/schedule.js';
import { documentFigures } from '../../digest/snapshot-recorder.js';
import { SNAPSHOT_RETENTION_DAYS, type SnapshotStore } from '../../digest/snapshots.js';
import type { SubscriptionStore } from '../../digest/subscriptions.js';
import { buildTrend } from '../../digest/trend.js';
import { itemKey, type Snapshot, type TrendPoint } from '../../digest/types.js';
import { presentOrRetry } from '../../present/present-error.js';
import { encodeAction, toActionDoc } from '../actions.js';
import type { TrendDays } from '../commands.js';
import type { MessageContext } from '../context.js';

export interface TrendDeps {
  documents: DocumentService;
  snapshots: SnapshotStore;
  subscriptions: SubscriptionStore;
  timeZone: string;
  now: () => number;
}

/**
 * `trend <link> [7d|30d|90d]` (趋势): the document's daily totals from the bot's own snapshots (Feishu serves
 * running totals only). Aggregate figures, so anyone may ask, as for `stats`. The statistics are fetched first:
 * that proves the bot may read them, records today's snapshot (DocumentService's hook) and is today's point.
 */
export async function runTrendCommand(
  ctx: MessageContext,
  link: string,
  days: TrendDays,
  deps: TrendDeps,
): Promise<void> {
  let docUrl: string | undefined;
  let card: Card;
  try {
    const doc = await deps.documents.resolve(link);
    docUrl = doc.url;
    card = await buildTrendReply(ctx.chatId, doc, days, deps);
  } catch (err) {
    card = presentOrRetry(err, ctx.log, ctx, docUrl ? { docUrl } : {});
  }
  return ctx.reply(card);
}

async function buildTrendReply(
  chatId: string,
  doc: ResolvedDoc,
  days: TrendDays,
  deps: TrendDeps,
): Promise<Card> {
  const key = itemKey({ kind: 'doc', type: doc.type, token: doc.token, url: doc.url });
  const [figures, title] = await Promise.all([
    deps.documents.statistics(doc),
    doc.title ? Promise.resolve(doc.title) : deps.documents.title(doc),
  ]);
  const now = deps.now();
  const today = localDate(now, deps.timeZone);
  const window = { from: addDays(today, -(days - 1)), to: today };
  // The whole retention, not just the window: only then is "recorded since" the first day the bot has at all.
  // One MGET of 91 keys.
  const recorded = await deps.snapshots.history(key, today, SNAPSHOT_RETENTION_DAYS);
  // Today's point is the figures just fetched, whatever today's snapshot holds (an earlier fetch, the digest's),
  // so the card's totals are the stats card's.
  const history: Snapshot[] = [
    ...recorded.filter((snapshot) => snapshot.date !== today),
    { date: today, takenAt: now, figures: documentFigures(figures.stats) },
  ];
  const metrics: TrendMetric[] = LIKEABLE_TYPES.has(doc.type) ? ['uv', 'pv', 'likes'] : ['uv', 'pv'];
  const series: Partial<Record<TrendMetric, TrendPoint[]>> = {};
  for (const metric of metrics) series[metric] = buildTrend(history, metric, window);
  const cardDoc = { url: doc.url, ...(title ? { title } : {}) };
  const first = history[0]?.date ?? today;
  const daysInWindow = history.filter((snapshot) => snapshot.date >= window.from).length;

  if (daysInWindow < 2) {
    const sub = await deps.subscriptions.get(chatId);
    const inDigest = sub?.items.some((item) => itemKey(item) === key) ?? false;
    return buildTrendHistoryStartsCard({
      doc: cardDoc,
      // Today only: the card's own words say recording starts today.
      ...(first < today ? { since: first } : {}),
      ...(inDigest
        ? {}
        : {
            addToDigest: {
              key: 'digest_add',
              label: { zh: '加入本群订阅', en: 'Add to this chat’s digest' },
              value: encodeAction({
                v: 1,
                a: 'digest_add',
                d: toActionDoc({ ...doc, ...(title ? { title } : {}) }),
              }),
            },
          }),
    });
  }
  return buildTrendCard({
    doc: cardDoc,
    days,
    window,
    series,
    ...(first > window.from ? { since: first } : {}),
  });
}
