/**
 * Which chats get a digest (daily, weekly or monthly), of what, and what each was last sent. The edits are pure
 * functions over `ChatSubscription` so commands and buttons can be tested without a store; `SubscriptionStore`
 * persists them in two Redis hashes (one field per chat) so the scheduler lists every chat with one HGETALL.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { BotError } from '../errors.js';
import type { Store } from '../store/store.js';
import { cadenceOf, isDigestCadence, isDigestTime, sameCadence } from './schedule.js';
import {
  type ChatSubscription,
  type DeliveryState,
  type DigestCadence,
  type DigestFigures,
  type DigestItem,
  type DigestTime,
  itemKey,
  type RemovalRecord,
} from './types.js';

/** One card per chat: 20 items keep it well under Feishu's 200 elements and 30 KB. */
export const MAX_DIGEST_ITEMS = 20;

export type AddOutcome = 'added' | 'duplicate' | 'full';

/** A new subscription, counting from `now`; `by` (an open_id) is who set it up. */
function newSubscription(chatId: string, now: number, by: string | undefined): ChatSubscription {
  return { chatId, items: [], since: now, updatedAt: now, ...(by ? { subscriber: by } : {}) };
}

/**
 * Adds `item` to the chat's list, creating the subscription (counting from `now`, set up `by` that open_id) if
 * there is none. An item already on the list is a duplicate whatever its position; a document re-added under a
 * new title takes it.
 */
export function addItem(
  sub: ChatSubscription | null,
  chatId: string,
  item: DigestItem,
  now: number,
  by?: string,
): { sub: ChatSubscription; outcome: AddOutcome } {
  if (!sub) return { sub: { ...newSubscription(chatId, now, by), items: [item] }, outcome: 'added' };
  const key = itemKey(item);
  const index = sub.items.findIndex((existing) => itemKey(existing) === key);
  const existing = sub.items[index];
  if (existing) {
    if (existing.kind === 'doc' && item.kind === 'doc' && item.title && item.title !== existing.title) {
      const items = sub.items.with(index, { ...existing, title: item.title });
      return { sub: { ...sub, items, updatedAt: now }, outcome: 'duplicate' };
    }
    return { sub, outcome: 'duplicate' };
  }
  if (sub.items.length >= MAX_DIGEST_ITEMS) return { sub, outcome: 'full' };
  return { sub: { ...sub, items: [...sub.items, item], updatedAt: now }, outcome: 'added' };
}

/**
 * Removes the item at 1-based `index` (as `digest remove <n>` numbers them); out of range leaves `sub` as it
 * is and `removed` absent. `now`, when given, becomes `updatedAt`.
 */
export function removeItem(
  sub: ChatSubscription,
  index: number,
  now?: number,
): { sub: ChatSubscription; removed?: DigestItem } {
  const removed = Number.isInteger(index) && index >= 1 ? sub.items[index - 1] : undefined;
  if (!removed) return { sub };
  const items = sub.items.filter((_, i) => i !== index - 1);
  return { sub: { ...sub, items, updatedAt: now ?? sub.updatedAt }, removed };
}

/**
 * How many `digest remove <n>` commands a chat remembers, and for how long: a retry comes within seconds, or once
 * Feishu takes messages again, and completed jobs (which refuse a re-emitted message) are kept 12 hours.
 */
export const MAX_REMOVAL_RECORDS = 10;
export const REMOVAL_RECORD_TTL_MS = 12 * 60 * 60 * 1000;

/** What the command `by` (a message id) removed from this chat on an earlier attempt, if it removed anything. */
export function removedBy(sub: ChatSubscription, by: string, now: number): DigestItem | undefined {
  return sub.removals?.find((r) => r.by === by && now - r.at < REMOVAL_RECORD_TTL_MS)?.item;
}

/** `sub` remembering that the command `by` removed `item`: the newest `MAX_REMOVAL_RECORDS`, none expired. */
export function recordRemoval(
  sub: ChatSubscription,
  by: string,
  item: DigestItem,
  now: number,
): ChatSubscription {
  const kept = (sub.removals ?? []).filter((r) => r.by !== by && now - r.at < REMOVAL_RECORD_TTL_MS);
  const removals: RemovalRecord[] = [...kept, { by, item, at: now }].slice(-MAX_REMOVAL_RECORDS);
  return { ...sub, removals };
}

/** Removes the item with this `itemKey` (remove buttons carry keys, which survive reordering). */
export function removeItemByKey(
  sub: ChatSubscription,
  key: string,
  now?: number,
): { sub: ChatSubscription; removed?: DigestItem } {
  return removeItem(sub, sub.items.findIndex((item) => itemKey(item) === key) + 1, now);
}

/**
 * Sets the chat's own time (null goes back to DIGEST_TIME). The schedule restarts from `now`, so moving
 * 10:30 to 09:00 at 09:30 means tomorrow at 09:00, not an immediate catch-up digest. Without a subscription
 * it creates one, set up `by` that open_id.
 */
export function setTime(
  sub: ChatSubscription | null,
  chatId: string,
  time: DigestTime | null,
  now: number,
  by?: string,
): ChatSubscription {
  const base: ChatSubscription = sub ?? newSubscription(chatId, now, by);
  const { time: _previous, ...rest } = base;
  return time ? { ...rest, time, since: now, updatedAt: now } : { ...rest, since: now, updatedAt: now };
}

/**
 * Sets how often the digest goes out, keeping its time. As with `setTime` the schedule restarts from `now`: moving
 * to weekly on Mondays at 11:00 on a Monday, after the 10:30 slot, means next Monday. Daily is stored as no
 * cadence at all, the form every older subscription has. The same cadence again changes nothing (and returns `sub`
 * itself, so the store writes nothing). Without a subscription it creates one, set up `by` that open_id.
 */
export function setCadence(
  sub: ChatSubscription | null,
  chatId: string,
  cadence: DigestCadence,
  now: number,
  by?: string,
): ChatSubscription {
  if (sub && sameCadence(cadenceOf(sub), cadence)) return sub;
  const base: ChatSubscription = sub ?? newSubscription(chatId, now, by);
  const { cadence: _previous, ...rest } = base;
  const next: ChatSubscription = { ...rest, since: now, updatedAt: now };
  return cadence.kind === 'daily' ? next : { ...next, cadence };
}

/** Marks the chat as one the bot was removed from (Feishu 230002); already paused keeps the first `at`. */
export function pause(sub: ChatSubscription, now: number): ChatSubscription {
  if (sub.paused) return sub;
  return { ...sub, paused: { reason: 'bot_removed', at: now }, updatedAt: now };
}

/**
 * Undoes `pause` once the bot is back in the chat. The schedule restarts from `now`, as for a new
 * subscription: being added back at 15:00 should not fire the 10:30 digest at once.
 */
export function resume(sub: ChatSubscription, now: number): ChatSubscription {
  if (!sub.paused) return sub;
  const { paused: _paused, ...rest } = sub;
  return { ...rest, since: now, updatedAt: now };
}

/** Another edit of the same chat held its lock for longer than `lockWaitMs`. */
export class SubscriptionBusyError extends BotError {
  readonly code = 'DIGEST_SUBSCRIPTION_BUSY';
  override get transient(): boolean {
    return true;
  }
  constructor(
    readonly chatId: string,
    waitedMs: number,
  ) {
    super(`digest subscription of chat ${chatId} is locked by another edit; gave up after ${waitedMs} ms`);
  }
}

export interface SubscriptionStoreOptions {
  logger?: { warn(obj: object, msg?: string): void };
  /** How long an edit may hold a chat's lock before it expires by itself. Default 5 s. */
  lockTtlMs?: number;
  /** How long `update` waits for another edit's lock before throwing. Default 3 s. */
  lockWaitMs?: number;
  /** Pause between attempts to take the lock. Default 25 ms. */
  lockRetryMs?: number;
}

export const SUBSCRIPTIONS_KEY = 'fsb:digest:subs';
export const DELIVERY_STATE_KEY = 'fsb:digest:state';
const LOCK_PREFIX = 'fsb:digest:lock:';

/**
 * Subscriptions and delivery state, one hash field per chat. Records are validated on read: a corrupt or
 * unknown one is skipped with a warning, so one bad field can never stop every other chat's digest.
 */
export class SubscriptionStore {
  readonly #store: Store;
  readonly #logger: SubscriptionStoreOptions['logger'];
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #lockRetryMs: number;

  constructor(store: Store, opts: SubscriptionStoreOptions = {}) {
    this.#store = store;
    this.#logger = opts.logger;
    this.#lockTtlMs = opts.lockTtlMs ?? 5_000;
    this.#lockWaitMs = opts.lockWaitMs ?? 3_000;
    this.#lockRetryMs = opts.lockRetryMs ?? 25;
  }

  async get(chatId: string): Promise<ChatSubscription | null> {
    const raw = await this.#store.hashGet(SUBSCRIPTIONS_KEY, chatId);
    return raw === null ? null : this.#parseSubscription(chatId, raw);
  }

  async all(): Promise<ChatSubscription[]> {
    const fields = await this.#store.hashGetAll(SUBSCRIPTIONS_KEY);
    return Object.entries(fields).flatMap(([chatId, raw]) => this.#parseSubscription(chatId, raw) ?? []);
  }

  async getState(chatId: string): Promise<DeliveryState | undefined> {
    const raw = await this.#store.hashGet(DELIVERY_STATE_KEY, chatId);
    return raw === null ? undefined : this.#parseState(chatId, raw);
  }

  async allStates(): Promise<Map<string, DeliveryState>> {
    const fields = await this.#store.hashGetAll(DELIVERY_STATE_KEY);
    const states = new Map<string, DeliveryState>();
    for (const [chatId, raw] of Object.entries(fields)) {
      const state = this.#parseState(chatId, raw);
      if (state) states.set(chatId, state);
    }
    return states;
  }

  /** Written by the digest job only, after a send; commands never touch it. */
  async setState(chatId: string, state: DeliveryState): Promise<void> {
    await this.#store.hashSet(DELIVERY_STATE_KEY, chatId, JSON.stringify(state));
  }

  /**
   * `digest off`: removes the subscription but keeps the delivery state, so turning the digest back on the
   * same day cannot send that day's digest twice.
   */
  async delete(chatId: string): Promise<void> {
    await this.update(chatId, () => null);
  }

  /**
   * Read-modify-write of one chat's subscription under a per-chat lock, so two edits at once (two people
   * clicking remove, a command racing a pause) both apply. `fn` returning null deletes the subscription;
   * returning `current` itself (a refused edit) writes nothing. Throws `SubscriptionBusyError` when the lock
   * stays taken for `lockWaitMs`, and what `fn` throws (after releasing the lock, having written nothing).
   */
  async update(
    chatId: string,
    fn: (current: ChatSubscription | null) => ChatSubscription | null,
  ): Promise<ChatSubscription | null> {
    const lockKey = LOCK_PREFIX + chatId;
    const token = randomUUID();
    const deadline = performance.now() + this.#lockWaitMs;
    while (!(await this.#store.setIfAbsent(lockKey, token, this.#lockTtlMs))) {
      if (performance.now() >= deadline) throw new SubscriptionBusyError(chatId, this.#lockWaitMs);
      await sleep(this.#lockRetryMs);
    }
    try {
      const current = await this.get(chatId);
      const next = fn(current);
      if (next === current) return next;
      if (next) await this.#store.hashSet(SUBSCRIPTIONS_KEY, chatId, JSON.stringify(next));
      else await this.#store.hashDelete(SUBSCRIPTIONS_KEY, chatId);
      return next;
    } finally {
      // Compare-and-delete: if our lock expired mid-edit, a successor's lock must stay.
      await this.#store.compareAndDelete(lockKey, token).catch(() => false);
    }
  }

  #parseSubscription(chatId: string, raw: string): ChatSubscription | null {
    const value = parseJson(raw);
    if (isChatSubscription(value) && value.chatId === chatId) return value;
    this.#logger?.warn({ chatId, record: 'subscription' }, 'skipping unreadable digest subscription');
    return null;
  }

  #parseState(chatId: string, raw: string): DeliveryState | undefined {
    const value = parseJson(raw);
    if (isDeliveryState(value)) return value;
    this.#logger?.warn({ chatId, record: 'delivery_state' }, 'skipping unreadable digest delivery state');
    return undefined;
  }
}

function parseJson(raw: string): unknown {
  try {
    return JSON.parse(raw);
  } catch {
    return undefined;
  }
}

type Fields = Record<string, unknown>;

const isObject = (value: unknown): value is Fields =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const isString = (value: unknown): value is string => typeof value === 'string' && value.length > 0;
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const DOC_TYPES = new Set(['doc', 'docx', 'sheet', 'bitable', 'mindnote', 'file', 'slides']);

export function isDigestItem(value: unknown): value is DigestItem {
  if (!isObject(value)) return false;
  switch (value.kind) {
    case 'doc':
      return (
        isString(value.token) &&
        typeof value.type === 'string' &&
        DOC_TYPES.has(value.type) &&
        typeof value.url === 'string' &&
        (value.title === undefined || typeof value.title === 'string')
      );
    case 'workplace':
      return true;
    case 'app':
      return isString(value.appId);
    default:
      // An item kind from a newer release: this one cannot fetch it, so the record is not ours to read.
      return false;
  }
}

export function isChatSubscription(value: unknown): value is ChatSubscription {
  if (!isObject(value)) return false;
  const { chatId, items, time, cadence, since, paused, updatedAt, subscriber, removals } = value;
  return (
    isString(chatId) &&
    (subscriber === undefined || isString(subscriber)) &&
    (removals === undefined || (Array.isArray(removals) && removals.every(isRemovalRecord))) &&
    Array.isArray(items) &&
    items.every(isDigestItem) &&
    (time === undefined || isDigestTime(time)) &&
    // Absent on every subscription stored before cadences: those are daily.
    (cadence === undefined || isDigestCadence(cadence)) &&
    isNumber(since) &&
    isNumber(updatedAt) &&
    (paused === undefined || (isObject(paused) && paused.reason === 'bot_removed' && isNumber(paused.at)))
  );
}

function isRemovalRecord(value: unknown): value is RemovalRecord {
  return isObject(value) && isString(value.by) && isNumber(value.at) && isDigestItem(value.item);
}

function isFigures(value: unknown): value is DigestFigures {
  return isObject(value) && Object.values(value).every(isNumber);
}

export function isDeliveryState(value: unknown): value is DeliveryState {
  if (!isObject(value)) return false;
  const { lastSentDate, lastSentPeriod, lastSentAt, reported } = value;
  return (
    (lastSentDate === undefined || typeof lastSentDate === 'string') &&
    (lastSentPeriod === undefined || typeof lastSentPeriod === 'string') &&
    (lastSentAt === undefined || isNumber(lastSentAt)) &&
    (reported === undefined || (isObject(reported) && Object.values(reported).every(isFigures)))
  );
}
