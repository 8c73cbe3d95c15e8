import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { buildDigestCard, type DigestCardItem } from '../../cards/index.js';
import type { DocumentService } from '../data/documents.js';
import type { TenantData } from '../data/tenant-data.js';
import type { FeishuClient } from '../feishu/client.js';
import { isChatGone } from '../feishu/codes.js';
import { FeishuApiError } from '../feishu/errors.js';
import type { Metrics } from '../metrics.js';
import { presentDigestLine, type RetryPolicy, retryIfTransient } from '../present/present-error.js';
import type { Store } from '../store/store.js';
import { addDays, dueDate, localDate } from './schedule.js';
import type { SnapshotStore } from './snapshots.js';
import { pause, resume, type SubscriptionStore } from './subscriptions.js';
import { buildTrend } from './trend.js';
import {
  type DigestItem,
  type DigestTime,
  type ItemFigures,
  itemKey,
  primaryMetric,
  type Snapshot,
} from './types.js';

/** One chat's digest for one local day: the unit of work, and (as `digest-<chat>-<date>`) its job id. */
export interface DueDigest {
  chatId: string;
  date: string;
}

export type DigestOutcome = 'sent' | 'already_sent' | 'skipped' | 'paused' | 'failed';

export interface DigestSettings {
  /** DIGEST_TIME: chats without a time of their own. */
  time: DigestTime;
  /** DIGEST_TZ: every chat's time, and what "today" is. */
  timeZone: string;
}

export interface DigestRunnerDeps {
  feishu: FeishuClient;
  store: Store;
  subscriptions: SubscriptionStore;
  snapshots: SnapshotStore;
  documents: DocumentService;
  tenant: TenantData;
  logger: Logger;
  metrics: Metrics;
  settings: DigestSettings;
  now: () => number;
}

/** A snapshot younger than this is today's figures for every chat due in the same run. */
export const SNAPSHOT_FRESH_MS = 15 * 60_000;
/** Distinct items fetched at once in a run; the shared rate limiter does the real pacing. */
const REFRESH_CONCURRENCY = 8;
/**
 * One tick at a time across replicas, so a tick that outlives the schedule interval is not joined by a second one
 * fetching the same items again. Only an economy: correctness never depends on it (job ids and the delivery state
 * do that), so it is short, and a replica that dies holding it delays the next digests by two minutes at most.
 */
const TICK_LOCK_KEY = 'fsb:digest:tick-lock';
const TICK_LOCK_TTL_MS = 2 * 60_000;
/** chatId → the date whose digest was handed to the queue, so later ticks neither refetch nor re-enqueue it. */
const QUEUED_KEY = 'fsb:digest:queued';

/**
 * The daily digest, independent of how it is scheduled: `tick` finds the chats that are due, fetches each distinct
 * item once and records today's snapshot, then hands one job per chat to `enqueue`; `sendDigest` renders and sends
 * one chat's card. The queue decides who runs what (BullMQ across replicas, or this process alone); exactly once
 * per chat per day comes from three things together: the job id per chat and date, the delivery state checked
 * before sending, and a uuid per chat and date on the send itself, which Feishu deduplicates.
 */
export class DigestRunner {
  private readonly log: Logger;

  constructor(private readonly deps: DigestRunnerDeps) {
    this.log = deps.logger.child({ component: 'digest' });
  }

  /** One scheduling pass. Returns what it found, for logs and tests. */
  async tick(enqueue: (due: DueDigest[]) => Promise<void>): Promise<{ due: number; items: number }> {
    const owner = `${process.pid}-${Math.random().toString(36).slice(2)}`;
    if (!(await this.deps.store.setIfAbsent(TICK_LOCK_KEY, owner, TICK_LOCK_TTL_MS))) {
      this.log.debug('another digest tick is running; skipped');
      return { due: 0, items: 0 };
    }
    try {
      const { due, items } = await this.findDue();
      if (due.length === 0) return { due: 0, items: 0 };
      const started = Date.now();
      const date = due[0]?.date ?? localDate(this.deps.now(), this.deps.settings.timeZone);
      await this.refresh(items, date);
      await enqueue(due);
      await Promise.all(due.map((d) => this.deps.store.hashSet(QUEUED_KEY, d.chatId, d.date)));
      this.log.info(
        { chats: due.length, items: items.length, refresh_ms: Date.now() - started },
        'digest run: items fetched, chats queued',
      );
      return { due: due.length, items: items.length };
    } finally {
      await this.deps.store.compareAndDelete(TICK_LOCK_KEY, owner);
    }
  }

  /** Chats whose digest is due now and not yet sent or queued, and the distinct items they need. */
  async findDue(): Promise<{ due: DueDigest[]; items: DigestItem[] }> {
    const { subscriptions, settings, store } = this.deps;
    const now = this.deps.now();
    const [subs, states, queued] = await Promise.all([
      subscriptions.all(),
      subscriptions.allStates(),
      store.hashGetAll(QUEUED_KEY),
    ]);
    const due: DueDigest[] = [];
    const items = new Map<string, DigestItem>();
    for (const sub of subs) {
      const date = dueDate(sub, states.get(sub.chatId), now, settings);
      if (!date || queued[sub.chatId] === date) continue;
      due.push({ chatId: sub.chatId, date });
      for (const item of sub.items) items.set(itemKey(item), item);
    }
    return { due, items: [...items.values()] };
  }

  /** Fetch each item once and record today's snapshot; a failure is logged and left to the chat's own job. */
  async refresh(items: readonly DigestItem[], date: string): Promise<void> {
    const queue = [...items];
    const worker = async (): Promise<void> => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        try {
          // Already recorded minutes ago (another chat's run, or a tick that overran the lock): reuse it.
          const recorded = await this.deps.snapshots.get(itemKey(item), date);
          if (recorded && this.deps.now() - recorded.takenAt < SNAPSHOT_FRESH_MS) continue;
          await this.snapshot(item, date, { refresh: true });
        } catch (err) {
          this.log.warn({ item: itemKey(item), reason: errorText(err) }, 'digest item could not be fetched');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, queue.length) }, worker));
  }

  /** Render and send one chat's digest for `date`, unless it already went out. */
  async sendDigest(job: DueDigest, policy: RetryPolicy): Promise<DigestOutcome> {
    const { subscriptions, snapshots, settings } = this.deps;
    const log = this.log.child({ chat_id: job.chatId, date: job.date });
    const [sub, state] = await Promise.all([
      subscriptions.get(job.chatId),
      subscriptions.getState(job.chatId),
    ]);
    if (state?.lastSentDate === job.date) return this.count('already_sent');
    if (!sub || sub.paused || sub.items.length === 0) return this.count('skipped');

    const from = addDays(job.date, -6);
    const items: DigestCardItem[] = [];
    const reported: NonNullable<typeof state>['reported'] = {};
    for (const item of sub.items) {
      const key = itemKey(item);
      const label = labelOf(item);
      const previous = state?.reported?.[key];
      try {
        const current = await this.current(item, job.date);
        reported[key] = current.figures;
        const history = await snapshots.history(key, job.date, 7);
        items.push({
          item,
          ...(label ? { label } : {}),
          current,
          ...(previous ? { previous } : {}),
          trend: trendOf(item, history, from, job.date),
        });
      } catch (err) {
        const itemLog = log.child({ item: key });
        retryIfTransient(err, itemLog, policy);
        // The presenter logs the failure once; the digest goes out with this item's line instead of figures.
        const line = presentDigestLine(err, itemLog);
        // Keep what the chat saw last time, so tomorrow's change is still against real figures.
        if (previous) reported[key] = previous;
        items.push({
          item,
          ...(label ? { label } : {}),
          ...(previous ? { previous } : {}),
          trend: [],
          error: line,
        });
      }
    }

    const card = buildDigestCard({
      date: job.date,
      timeZone: settings.timeZone,
      items,
      firstDigest: !state?.lastSentDate,
    });
    try {
      await this.deps.feishu.sendCard(job.chatId, card, digestUuid(job), { receiveIdType: 'chat_id' });
    } catch (err) {
      if (isChatGone(err)) {
        // 230002 (bot removed) or 232009 (chat dissolved). Logged once: the paused subscription is not due
        // again until the bot is added back.
        await subscriptions.update(job.chatId, (s) => (s ? pause(s, this.deps.now()) : s));
        log.warn({ feishu_code: err.feishuCode }, 'bot is no longer in the chat; digest paused');
        return this.count('paused');
      }
      retryIfTransient(err, log, policy);
      log.error({ reason: errorText(err) }, 'digest could not be sent');
      return this.count('failed');
    }
    await subscriptions.setState(job.chatId, {
      lastSentDate: job.date,
      lastSentAt: this.deps.now(),
      reported,
    });
    this.deps.metrics.inc('fsb_replies_total', { outcome: 'sent' });
    log.info({ items: items.length }, 'digest sent');
    return this.count('sent');
  }

  /** The bot was added to a chat again: a digest paused by its removal starts again from now. */
  async resumeChat(chatId: string): Promise<void> {
    const now = this.deps.now();
    const after = await this.deps.subscriptions.update(chatId, (s) => (s?.paused ? resume(s, now) : s));
    if (after && !after.paused) this.log.info({ chat_id: chatId }, 'digest resumed');
  }

  /** Today's snapshot when it is fresh (the run just fetched it), otherwise a fetch now. */
  private async current(item: DigestItem, date: string): Promise<ItemFigures> {
    const snapshot = await this.deps.snapshots.get(itemKey(item), date);
    if (snapshot && this.deps.now() - snapshot.takenAt < SNAPSHOT_FRESH_MS)
      return fromSnapshot(snapshot, item);
    return this.snapshot(item, date);
  }

  /** `refresh`: past the short-lived answer cache, for the run that records the day's figures. */
  private async snapshot(
    item: DigestItem,
    date: string,
    opts: { refresh?: boolean } = {},
  ): Promise<ItemFigures> {
    const figures = await this.fetch(item, date, opts.refresh === true);
    const snapshot: Snapshot = { date, takenAt: this.deps.now(), figures: figures.figures };
    await this.deps.snapshots.put(itemKey(item), snapshot);
    return figures;
  }

  /**
   * Documents report totals so far; the tenant endpoints report per day, and only a finished day is final, so
   * workplace and app items describe yesterday.
   */
  private async fetch(item: DigestItem, date: string, refresh: boolean): Promise<ItemFigures> {
    const { documents, tenant } = this.deps;
    const yesterday = addDays(date, -1);
    switch (item.kind) {
      case 'doc': {
        const { stats, fetchedAt } = await documents.statistics(
          { token: item.token, type: item.type },
          refresh ? { refresh: true } : {},
        );
        return {
          figures: {
            uv: stats.uv,
            pv: stats.pv,
            ...(stats.likeCount >= 0 ? { likes: stats.likeCount } : {}),
          },
          fetchedAt: fetchedAt.getTime(),
        };
      }
      case 'workplace': {
        const { days, fetchedAt } = await tenant.workplaceDays({
          from: yesterday,
          to: yesterday,
          final: true,
        });
        const day = days.find((d) => d.date === yesterday);
        return {
          figures: day ? { pv: day.allWorkplace.pv, uv: day.allWorkplace.uv } : { pv: 0, uv: 0 },
          date: yesterday,
          fetchedAt: fetchedAt.getTime(),
        };
      }
      case 'app': {
        const { overview, fetchedAt } = await tenant.appOverview(
          { appId: item.appId, cycle: 'day', date: yesterday, ability: 'app' },
          true,
        );
        const uv = overview.metrics.uv;
        return { figures: uv === undefined ? {} : { uv }, date: yesterday, fetchedAt: fetchedAt.getTime() };
      }
    }
  }

  private count(outcome: DigestOutcome): DigestOutcome {
    this.deps.metrics.inc('fsb_digests_total', { outcome });
    return outcome;
  }
}

/** Feishu keeps a send idempotent for an hour per uuid (≤ 50 chars): a retried digest job cannot post twice. */
export function digestUuid(job: DueDigest): string {
  return `dg-${createHash('sha256').update(`${job.chatId}\n${job.date}`).digest('hex').slice(0, 40)}`;
}

/** BullMQ job id of one chat's digest for one day (no `:` allowed). */
export function digestJobId(job: DueDigest): string {
  const chat = /^[A-Za-z0-9_-]{1,100}$/.test(job.chatId)
    ? job.chatId
    : `h${createHash('sha256').update(job.chatId).digest('hex').slice(0, 32)}`;
  return `digest-${chat}-${job.date}`;
}

/** Day-based items record yesterday's figures in today's snapshot: plot them on the day they describe. */
function trendOf(item: DigestItem, history: Snapshot[], from: string, to: string) {
  const trend = buildTrend(history, primaryMetric(item), { from, to });
  return item.kind === 'doc' ? trend : trend.map((point) => ({ ...point, date: addDays(point.date, -1) }));
}

function fromSnapshot(snapshot: Snapshot, item: DigestItem): ItemFigures {
  const dayBased = item.kind !== 'doc';
  return {
    figures: snapshot.figures,
    ...(dayBased ? { date: addDays(snapshot.date, -1) } : {}),
    fetchedAt: snapshot.takenAt,
  };
}

function labelOf(item: DigestItem): string | undefined {
  return item.kind === 'doc' ? item.title : undefined;
}

function errorText(err: unknown): string {
  if (err instanceof FeishuApiError) return `${err.endpoint} ${err.feishuCode}`;
  return err instanceof Error ? err.message : String(err);
}
