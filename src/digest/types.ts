/**
 * The daily digest's plain data, shared by the subscription store, the scheduler, the runner and the cards.
 * Feishu only serves totals ("views so far"), so every change and trend a digest shows comes from what the bot
 * itself recorded: the figures each chat was last shown, and one snapshot per item per day.
 */
import type { DigestCadence, DigestFigures, DigestItem, DigestTime } from '../../cards/data.js';

export type {
  DigestCadence,
  DigestFigures,
  DigestItem,
  DigestTime,
  ItemFigures,
  TrendPoint,
} from '../../cards/data.js';
export { primaryMetric } from '../../cards/data.js';

/** An item's figures as recorded on one local day (the last fetch of that day wins). */
export interface Snapshot {
  /** Local date (DIGEST_TZ), yyyy-MM-dd. */
  date: string;
  takenAt: number;
  figures: DigestFigures;
}

/** A chat's subscription, edited by `digest …` commands and remove buttons. */
export interface ChatSubscription {
  chatId: string;
  /** Display order; `digest remove <n>` is 1-based into this list. */
  items: DigestItem[];
  /** The chat's own time; absent means DIGEST_TIME. Always in DIGEST_TZ. */
  time?: DigestTime;
  /**
   * How often the digest goes out; absent means daily, which is how every subscription stored before cadences
   * existed reads. `digest daily` removes the field again rather than storing `{ kind: 'daily' }`.
   */
  cadence?: DigestCadence;
  /**
   * Epoch ms from which the schedule counts: the first digest is the first scheduled time at or after this
   * (subscribing at 15:00 to a 10:30 digest means tomorrow, not a digest a minute later).
   */
  since: number;
  /**
   * open_id of the person whose command created the subscription: with the group's owner and managers and the bot
   * admins, the one who may turn it off or move its time. Absent on subscriptions stored before it was recorded.
   */
  subscriber?: string;
  /** Set when Feishu said the bot is no longer in the chat (230002); cleared when it is added back. */
  paused?: { reason: 'bot_removed'; at: number };
  /**
   * The last few `digest remove <n>` commands that removed an item, oldest first. A command's job runs again when
   * its reply fails, and by then item n is another item: the retry finds its message here and answers as the
   * first attempt did, removing nothing more. Written in the same record as `items`, so one write does both.
   */
  removals?: RemovalRecord[];
  updatedAt: number;
}

/** One `digest remove <n>` that removed an item (see `ChatSubscription.removals`). */
export interface RemovalRecord {
  /** The command's message id: the same on every attempt of its job, and on a re-emitted message. */
  by: string;
  item: DigestItem;
  at: number;
}

/** What the bot last delivered to a chat: written by the digest job only, never by commands. */
export interface DeliveryState {
  /** Local date of the last digest sent (the day it was due, whatever the cadence): never two on one day. */
  lastSentDate?: string;
  /** The period that digest was sent for (`periodKey`: the date, `week-<Monday>`, `month-<yyyy-MM>`). */
  lastSentPeriod?: string;
  lastSentAt?: number;
  /** The figures that digest showed, by item key, for "change since the previous digest". */
  reported?: Record<string, DigestFigures>;
}

/**
 * Stable key of an item: subscription dedupe, snapshot keys, button values. Only `[A-Za-z0-9_-]`, so it is safe
 * inside Redis keys and BullMQ job ids (which may not contain `:`).
 */
export function itemKey(item: DigestItem): string {
  switch (item.kind) {
    case 'doc':
      return `doc-${item.type}-${item.token}`;
    case 'workplace':
      return 'workplace';
    case 'app':
      return `app-${item.appId.toLowerCase()}`;
  }
}
