import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { buildDigestCard, type DigestCardItem } from '../../cards/index.js';
import type { CallUsage } from '../data/call-usage.js';
import type { DocumentService } from '../data/documents.js';
import type { TenantData } from '../data/tenant-data.js';
import type { FeishuClient } from '../feishu/client.js';
import { isChatGone } from '../feishu/codes.js';
import { FeishuApiError } from '../feishu/errors.js';
import type { Metrics } from '../metrics.js';
import { presentDigestLine, type RetryPolicy, retryIfTransient } from '../present/present-error.js';
import type { Store } from '../store/store.js';
import {
  addDays,
  cadenceOf,
  comparedWith,
  daysBetween,
  dueDate,
  localDate,
  periodKey,
  periodKindOf,
  sentInPeriod,
  snapshotDueDate,
} from './schedule.js';
import type { SnapshotStore } from './snapshots.js';
import { pause, resume, type SubscriptionStore } from './subscriptions.js';
import { buildTrend } from './trend.js';
import {
  type DigestFigures,
  type DigestItem,
  type DigestTime,
  type ItemFigures,
  itemKey,
  primaryMetric,
  type Snapshot,
} from './types.js';

/**
 * One chat's digest for one period: the unit of work, and (as `digest-<chat>-<period>`) its job id. For a daily
 * digest the period is the date itself, so its job id, uuid and queued marker are what they were before cadences.
 */
export interface DueDigest {
  chatId: string;
  /** The local date the digest is for (the day it is due): its title, and the snapshot it reports. */
  date: string;
  /**
   * `periodKey` of the chat's cadence on `date`: `2026-11-20`, `week-2026-11-16` or `month-2026-11`. Absent on
   * jobs queued before cadences existed, which were all daily: `date` is their period.
   */
  period?: string;
  /** The digest run (tick) that queued it: its calls count toward that run's cost (`usage`). */
  run?: string;
}

/** The period a job stands for: its own, or (queued before cadences) its date. */
export function periodOf(job: DueDigest): string {
  return job.period ?? job.date;
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
  /** The month's Feishu calls: what a run costs, and whether FEISHU_MONTHLY_CALL_BUDGET is spent. */
  callUsage: Pick<CallUsage, 'budgetSpent' | 'measureDigestRun' | 'beginDigestRun'>;
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
/**
 * chatId → the period (`periodKey`, the date for a daily digest) whose digest was handed to the queue, so later
 * ticks neither refetch nor re-enqueue it.
 */
const QUEUED_KEY = 'fsb:digest:queued';
/**
 * chatId → the date its items were last snapshotted on a day it got no digest (a weekly or monthly chat between its
 * digests), so that is done once a day, not at every tick.
 */
const SNAPPED_KEY = 'fsb:digest:snapped';

/**
 * The digest, independent of how it is scheduled: `tick` finds the chats that are due, fetches each distinct item
 * once and records today's snapshot, then hands one job per chat to `enqueue`; `sendDigest` renders and sends one
 * chat's card. The queue decides who runs what (BullMQ across replicas, or this process alone); exactly once per
 * chat per period (day, week or month) comes from three things together: the job id per chat and period, the
 * delivery state checked before sending, and a uuid per chat and period on the send itself, which Feishu
 * deduplicates. Every item of every subscription is snapshotted daily at its chat's time, also on the days a
 * weekly or monthly chat gets no digest: its next digest compares with those snapshots.
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
      const { date, due, snapshotOnly, items, dueItems } = await this.findDue();
      if (due.length === 0 && snapshotOnly.length === 0) return { due: 0, items: 0 };
      const started = Date.now();
      // Past FEISHU_MONTHLY_CALL_BUDGET a snapshot-only pass is a refresh nobody asked for (its chat gets no digest
      // today), and an item with a snapshot today is not fetched again: the digest shows the day's first figures.
      const spent = await this.deps.callUsage.budgetSpent();
      const toFetch = spent ? dueItems : items;
      if (spent) {
        this.log.info(
          { chats: due.length, snapshot_only_chats: snapshotOnly.length, items: toFetch.length },
          'monthly call budget spent: digests reuse today’s snapshots, snapshot-only passes skipped',
        );
      }
      const run = await this.beginRun(date, due.length, toFetch.length);
      await this.deps.callUsage.measureDigestRun(run, () =>
        this.refresh(toFetch, date, { budgetSpent: spent }),
      );
      if (due.length > 0) await enqueue(run === undefined ? due : due.map((d) => ({ ...d, run })));
      const { store } = this.deps;
      await Promise.all([
        ...due.map((d) => store.hashSet(QUEUED_KEY, d.chatId, periodOf(d))),
        ...snapshotOnly.map((chatId) => store.hashSet(SNAPPED_KEY, chatId, date)),
      ]);
      this.log.info(
        {
          chats: due.length,
          snapshot_only_chats: snapshotOnly.length,
          items: items.length,
          refresh_ms: Date.now() - started,
        },
        due.length > 0 ? 'digest run: items fetched, chats queued' : 'digest run: daily snapshots taken',
      );
      this.deps.metrics.digestRunDuration.observe((Date.now() - started) / 1000);
      this.deps.metrics.digestRunItems.inc(items.length);
      return { due: due.length, items: items.length };
    } finally {
      await this.deps.store.compareAndDelete(TICK_LOCK_KEY, owner);
    }
  }

  /**
   * Chats whose digest is due now and not yet sent or queued; chats that get no digest today but whose items'
   * daily snapshot is due (a weekly or monthly chat between its digests); and the distinct items both need.
   */
  async findDue(): Promise<{
    date: string;
    due: DueDigest[];
    snapshotOnly: string[];
    items: DigestItem[];
    /** Of `items`, those a due chat's digest shows. */
    dueItems: DigestItem[];
  }> {
    const { subscriptions, settings, store } = this.deps;
    const now = this.deps.now();
    const today = localDate(now, settings.timeZone);
    const [subs, states, queued, snapped] = await Promise.all([
      subscriptions.all(),
      subscriptions.allStates(),
      store.hashGetAll(QUEUED_KEY),
      store.hashGetAll(SNAPPED_KEY),
    ]);
    const due: DueDigest[] = [];
    const snapshotOnly: string[] = [];
    const items = new Map<string, DigestItem>();
    const dueItems = new Map<string, DigestItem>();
    for (const sub of subs) {
      const state = states.get(sub.chatId);
      const date = dueDate(sub, state, now, settings);
      if (date) {
        const period = periodKey(cadenceOf(sub).kind, date);
        if (queued[sub.chatId] === period) continue;
        due.push({ chatId: sub.chatId, date, period });
        for (const item of sub.items) dueItems.set(itemKey(item), item);
      } else {
        // Snapshotted today already: by this pass, by the digest queued today, or by the digest sent today.
        if (snapshotDueDate(sub, now, settings) !== today) continue;
        if (snapped[sub.chatId] === today || queued[sub.chatId] === today) continue;
        if (state?.lastSentDate === today) continue;
        snapshotOnly.push(sub.chatId);
      }
      for (const item of sub.items) items.set(itemKey(item), item);
    }
    return { date: today, due, snapshotOnly, items: [...items.values()], dueItems: [...dueItems.values()] };
  }

  /**
   * Fetch each item once and record today's snapshot; a failure is logged and left to the chat's own job. With the
   * budget spent, any snapshot of today stands, and a fetch may be answered from the short-lived cache.
   */
  async refresh(
    items: readonly DigestItem[],
    date: string,
    opts: { budgetSpent?: boolean } = {},
  ): Promise<void> {
    const queue = [...items];
    const spent = opts.budgetSpent === true;
    const worker = async (): Promise<void> => {
      for (let item = queue.shift(); item; item = queue.shift()) {
        try {
          // Already recorded minutes ago (another chat's run, or a tick that overran the lock): reuse it.
          const recorded = await this.deps.snapshots.get(itemKey(item), date);
          if (recorded && (spent || this.deps.now() - recorded.takenAt < SNAPSHOT_FRESH_MS)) continue;
          await this.snapshot(item, date, { refresh: !spent });
        } catch (err) {
          this.log.warn({ item: itemKey(item), reason: errorText(err) }, 'digest item could not be fetched');
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(REFRESH_CONCURRENCY, queue.length) }, worker));
  }

  /**
   * Render and send one chat's digest for `job.period`, unless a digest already went out in that period. The kind
   * of digest (daily, weekly, monthly) is the job's, so a cadence changed after it was queued cannot make it a
   * different card.
   */
  async sendDigest(job: DueDigest, policy: RetryPolicy): Promise<DigestOutcome> {
    const { callUsage } = this.deps;
    // The send and any fetch it needs count toward the run that queued it, on whichever replica runs the job.
    return callUsage.measureDigestRun(job.run, async () =>
      this.send(job, policy, { budgetSpent: await callUsage.budgetSpent() }),
    );
  }

  private async send(
    job: DueDigest,
    policy: RetryPolicy,
    opts: { budgetSpent: boolean },
  ): Promise<DigestOutcome> {
    const { subscriptions, snapshots, settings } = this.deps;
    const period = periodOf(job);
    const kind = periodKindOf(period);
    const log = this.log.child({ chat_id: job.chatId, date: job.date, period });
    const [sub, state] = await Promise.all([
      subscriptions.get(job.chatId),
      subscriptions.getState(job.chatId),
    ]);
    if (sentInPeriod(kind, state, job.date)) return this.count('already_sent');
    if (!sub || sub.paused || sub.items.length === 0) return this.count('skipped');

    // A daily digest draws the last 7 days; a weekly one too, and a monthly one the days since the same day
    // last month. `since` is the day before the window: the trend's first delta, and a period's baseline.
    const since = kind === 'daily' ? addDays(job.date, -7) : comparedWith(kind, job.date);
    const historyDays = daysBetween(since, job.date);
    const from = addDays(since, 1);
    const items: DigestCardItem[] = [];
    const reported: NonNullable<typeof state>['reported'] = {};
    for (const item of sub.items) {
      const key = itemKey(item);
      const label = labelOf(item);
      const previous = state?.reported?.[key];
      try {
        const current = await this.current(item, job.date, opts.budgetSpent);
        reported[key] = current.figures;
        const history = await snapshots.history(key, job.date, historyDays);
        const baseline = kind === 'daily' ? undefined : baselineOf(item, history, since, job.date);
        items.push({
          item,
          ...(label ? { label } : {}),
          current,
          ...(previous ? { previous } : {}),
          ...(baseline ? { baseline } : {}),
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
      ...(kind === 'daily' ? {} : { period: { kind, since } }),
      trendDays: historyDays,
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
      lastSentPeriod: period,
      lastSentAt: this.deps.now(),
      reported,
    });
    this.deps.metrics.replies.inc({ outcome: 'sent' });
    log.info({ items: items.length, cadence: kind }, 'digest sent');
    return this.count('sent');
  }

  /**
   * A run id for a tick that queues digests, remembered as the last run so `usage` can say what one costs. Not
   * worth failing the digests over: without it the run's calls are still counted, only not as a run.
   */
  private async beginRun(date: string, chats: number, items: number): Promise<string | undefined> {
    if (chats === 0) return undefined;
    const startedAt = this.deps.now();
    const id = `${date}-${startedAt.toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
    try {
      await this.deps.callUsage.beginDigestRun({ id, date, startedAt, chats, items });
      return id;
    } catch (err) {
      this.log.warn({ reason: errorText(err) }, 'digest run not recorded for call accounting');
      return undefined;
    }
  }

  /** The bot was added to a chat again: a digest paused by its removal starts again from now. */
  async resumeChat(chatId: string): Promise<void> {
    const now = this.deps.now();
    const after = await this.deps.subscriptions.update(chatId, (s) => (s?.paused ? resume(s, now) : s));
    if (after && !after.paused) this.log.info({ chat_id: chatId }, 'digest resumed');
  }

  /**
   * Today's snapshot when it is fresh (the run just fetched it), or whatever its age once the month's call budget
   * is spent (each item is fetched at most once a day then); otherwise a fetch now.
   */
  private async current(item: DigestItem, date: string, budgetSpent: boolean): Promise<ItemFigures> {
    const snapshot = await this.deps.snapshots.get(itemKey(item), date);
    if (snapshot && (budgetSpent || this.deps.now() - snapshot.takenAt < SNAPSHOT_FRESH_MS))
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
    this.deps.metrics.digests.inc({ outcome });
    return outcome;
  }
}

/**
 * Feishu keeps a send idempotent for an hour per uuid (≤ 50 chars): a retried digest job cannot post twice. Per
 * chat and period; a daily period is its date, so daily uuids are what they were before cadences.
 */
export function digestUuid(job: DueDigest): string {
  const hash = createHash('sha256')
    .update(`${job.chatId}\n${periodOf(job)}`)
    .digest('hex');
  return `dg-${hash.slice(0, 40)}`;
}

/** BullMQ job id of one chat's digest for one period (no `:` allowed): `digest-<chat>-<period>`. */
export function digestJobId(job: DueDigest): string {
  const chat = /^[A-Za-z0-9_-]{1,100}$/.test(job.chatId)
    ? job.chatId
    : `h${createHash('sha256').update(job.chatId).digest('hex').slice(0, 32)}`;
  return `digest-${chat}-${periodOf(job)}`;
}

/**
 * What a weekly or monthly digest on `date` compares an item with: the snapshot on `since` (a week or a month
 * before), else the earliest one after it and before `date`, when the bot's history of the item starts later.
 * Day-based items' snapshots hold the day before's figures, so the baseline is dated by the day it describes.
 */
function baselineOf(
  item: DigestItem,
  history: readonly Snapshot[],
  since: string,
  date: string,
): { date: string; figures: DigestFigures } | undefined {
  const earliest = history
    .filter((snapshot) => snapshot.date >= since && snapshot.date < date)
    .reduce<Snapshot | undefined>((first, s) => (first && first.date <= s.date ? first : s), undefined);
  if (!earliest) return undefined;
  const day = item.kind === 'doc' ? earliest.date : addDays(earliest.date, -1);
  return { date: day, figures: earliest.figures };
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
