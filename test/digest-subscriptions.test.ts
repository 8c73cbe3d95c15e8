import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { dueDate } from '../src/digest/schedule.js';
import {
  addItem,
  DELIVERY_STATE_KEY,
  isChatSubscription,
  MAX_DIGEST_ITEMS,
  MAX_REMOVAL_RECORDS,
  pause,
  REMOVAL_RECORD_TTL_MS,
  recordRemoval,
  removedBy,
  removeItem,
  removeItemByKey,
  resume,
  SUBSCRIPTIONS_KEY,
  SubscriptionBusyError,
  SubscriptionStore,
  setTime,
} from '../src/digest/subscriptions.js';
import type { ChatSubscription, DeliveryState, DigestItem } from '../src/digest/types.js';
import type { Store } from '../src/store/store.js';
import { storeAdapters, useFreshRedisDb } from './redis.js';

const T0 = Date.parse('2025-06-01T02:00:00Z');
const CHAT = 'oc_team';

const doc = (token: string, title?: string): DigestItem => ({
  kind: 'doc',
  token,
  type: 'docx',
  url: `https://example.feishu.cn/docx/${token}`,
  ...(title === undefined ? {} : { title }),
});
const app = (appId: string): DigestItem => ({ kind: 'app', appId });

function withItems(items: DigestItem[], overrides: Partial<ChatSubscription> = {}): ChatSubscription {
  return { chatId: CHAT, items, since: T0, updatedAt: T0, ...overrides };
}

describe('addItem', () => {
  it('creates a subscription counting from now when the chat has none', () => {
    const { sub, outcome } = addItem(null, CHAT, { kind: 'workplace' }, T0);
    expect(outcome).toBe('added');
    expect(sub).toEqual({ chatId: CHAT, items: [{ kind: 'workplace' }], since: T0, updatedAt: T0 });
  });

  it('appends in order without touching the input or the schedule start', () => {
    const before = withItems([doc('A')]);
    const { sub, outcome } = addItem(before, CHAT, app('cli_1'), T0 + 60_000);
    expect(outcome).toBe('added');
    expect(sub.items).toEqual([doc('A'), app('cli_1')]);
    expect(sub.since).toBe(T0);
    expect(sub.updatedAt).toBe(T0 + 60_000);
    expect(before.items).toEqual([doc('A')]);
  });

  it('reports a duplicate by item key (app ids are case-insensitive) and changes nothing', () => {
    const before = withItems([app('cli_ABC'), { kind: 'workplace' }]);
    expect(addItem(before, CHAT, app('cli_abc'), T0 + 1)).toEqual({ sub: before, outcome: 'duplicate' });
    expect(addItem(before, CHAT, { kind: 'workplace' }, T0 + 1)).toEqual({
      sub: before,
      outcome: 'duplicate',
    });
  });

  it('takes a re-added document’s new title in place, still as a duplicate', () => {
    const before = withItems([doc('A', 'Old'), doc('B', 'Other')]);
    const { sub, outcome } = addItem(before, CHAT, doc('A', 'Renamed'), T0 + 5);
    expect(outcome).toBe('duplicate');
    expect(sub.items).toEqual([doc('A', 'Renamed'), doc('B', 'Other')]);
    expect(sub.updatedAt).toBe(T0 + 5);
    // Re-adding without a title keeps the one we have.
    expect(addItem(sub, CHAT, doc('A'), T0 + 6).sub.items[0]).toEqual(doc('A', 'Renamed'));
  });

  it(`refuses a new item once the chat has ${MAX_DIGEST_ITEMS}, but still recognises a duplicate`, () => {
    const full = withItems(Array.from({ length: MAX_DIGEST_ITEMS }, (_, i) => app(`cli_${i}`)));
    expect(addItem(full, CHAT, app('cli_new'), T0 + 1)).toEqual({ sub: full, outcome: 'full' });
    expect(addItem(full, CHAT, app('cli_3'), T0 + 1).outcome).toBe('duplicate');
    const almost = withItems(full.items.slice(1));
    expect(addItem(almost, CHAT, app('cli_new'), T0 + 1).sub.items).toHaveLength(MAX_DIGEST_ITEMS);
  });
});

describe('removeItem / removeItemByKey', () => {
  const sub = withItems([doc('A'), { kind: 'workplace' }, app('cli_1')]);

  it('removes by 1-based position, as `digest remove <n>` counts', () => {
    const { sub: after, removed } = removeItem(sub, 2, T0 + 9);
    expect(removed).toEqual({ kind: 'workplace' });
    expect(after.items).toEqual([doc('A'), app('cli_1')]);
    expect(after.updatedAt).toBe(T0 + 9);
    expect(sub.items).toHaveLength(3);
  });

  it.each([0, 4, -1, 1.5, Number.NaN])('leaves the list alone for position %s', (index) => {
    expect(removeItem(sub, index)).toEqual({ sub });
  });

  it('removes by item key, and reports nothing removed for an unknown key', () => {
    const { sub: after, removed } = removeItemByKey(sub, 'app-cli_1');
    expect(removed).toEqual(app('cli_1'));
    expect(after.items).toEqual([doc('A'), { kind: 'workplace' }]);
    expect(removeItemByKey(sub, 'doc-docx-ZZZ')).toEqual({ sub });
  });
});

describe('recordRemoval / removedBy', () => {
  it('answers what a message removed, and nothing for another message', () => {
    const sub = recordRemoval(withItems([doc('B')]), 'om_1', doc('A'), T0);
    expect(removedBy(sub, 'om_1', T0 + 1)).toEqual(doc('A'));
    expect(removedBy(sub, 'om_2', T0 + 1)).toBeUndefined();
    expect(removedBy(withItems([]), 'om_1', T0)).toBeUndefined();
  });

  it(`keeps the newest ${MAX_REMOVAL_RECORDS} per chat, oldest first`, () => {
    let sub = withItems([]);
    for (let i = 1; i <= MAX_REMOVAL_RECORDS + 3; i++)
      sub = recordRemoval(sub, `om_${i}`, app(`cli_${i}`), T0 + i);
    expect(sub.removals?.map((r) => r.by)).toEqual(
      Array.from({ length: MAX_REMOVAL_RECORDS }, (_, i) => `om_${i + 4}`),
    );
    expect(removedBy(sub, 'om_3', T0 + 20)).toBeUndefined();
    expect(removedBy(sub, 'om_4', T0 + 20)).toEqual(app('cli_4'));
  });

  it('forgets a record once it is older than the retry window, and drops it at the next record', () => {
    const sub = recordRemoval(withItems([]), 'om_old', doc('A'), T0);
    expect(removedBy(sub, 'om_old', T0 + REMOVAL_RECORD_TTL_MS - 1)).toEqual(doc('A'));
    expect(removedBy(sub, 'om_old', T0 + REMOVAL_RECORD_TTL_MS)).toBeUndefined();
    const later = recordRemoval(sub, 'om_new', doc('B'), T0 + REMOVAL_RECORD_TTL_MS);
    expect(later.removals?.map((r) => r.by)).toEqual(['om_new']);
  });

  it('is part of a valid subscription record, and a malformed one makes the record unreadable', () => {
    const sub = recordRemoval(withItems([doc('B')]), 'om_1', doc('A'), T0);
    expect(isChatSubscription(JSON.parse(JSON.stringify(sub)))).toBe(true);
    expect(isChatSubscription({ ...sub, removals: [{ by: 'om_1', at: T0 }] })).toBe(false);
    expect(isChatSubscription({ ...sub, removals: 'om_1' })).toBe(false);
  });
});

describe('setTime / pause / resume', () => {
  it('sets the chat’s time and restarts the schedule from now', () => {
    const sub = setTime(withItems([doc('A')]), CHAT, { hour: 9, minute: 0 }, T0 + 100);
    expect(sub).toEqual(
      withItems([doc('A')], { time: { hour: 9, minute: 0 }, since: T0 + 100, updatedAt: T0 + 100 }),
    );
  });

  it('goes back to DIGEST_TIME on null, without leaving a time key behind', () => {
    const sub = setTime(withItems([doc('A')], { time: { hour: 9, minute: 0 } }), CHAT, null, T0 + 1);
    expect('time' in sub).toBe(false);
    expect(sub.since).toBe(T0 + 1);
  });

  it('creates an empty subscription holding the time when the chat has none', () => {
    expect(setTime(null, CHAT, { hour: 8, minute: 15 }, T0)).toEqual({
      chatId: CHAT,
      items: [],
      time: { hour: 8, minute: 15 },
      since: T0,
      updatedAt: T0,
    });
  });

  it('a time moved earlier than now does not fire an immediate catch-up digest', () => {
    const defaults = { time: { hour: 10, minute: 30 }, timeZone: 'Asia/Shanghai' };
    // 09:30 Shanghai: the chat moves its 10:30 digest to 09:00.
    const now = Date.parse('2025-06-01T01:30:00Z');
    const sub = setTime(withItems([doc('A')]), CHAT, { hour: 9, minute: 0 }, now);
    expect(dueDate(sub, undefined, now, defaults)).toBeNull();
    expect(dueDate(sub, undefined, Date.parse('2025-06-02T01:00:00Z'), defaults)).toBe('2025-06-02');
  });

  it('pause records why and when, and a second pause keeps the first time', () => {
    const paused = pause(withItems([doc('A')]), T0 + 10);
    expect(paused.paused).toEqual({ reason: 'bot_removed', at: T0 + 10 });
    expect(pause(paused, T0 + 20)).toBe(paused);
  });

  it('resume clears the pause and restarts the schedule, so being re-added at 15:00 does not send at once', () => {
    const defaults = { time: { hour: 10, minute: 30 }, timeZone: 'Asia/Shanghai' };
    const back = Date.parse('2025-06-01T07:00:00Z'); // 15:00 Shanghai
    const resumed = resume(pause(withItems([doc('A')]), T0), back);
    expect('paused' in resumed).toBe(false);
    expect(resumed.since).toBe(back);
    expect(dueDate(resumed, undefined, back, defaults)).toBeNull();
    const notPaused = withItems([doc('A')]);
    expect(resume(notPaused, back)).toBe(notPaused);
  });
});

const redisDb = useFreshRedisDb();

describe.each(storeAdapters(redisDb))('SubscriptionStore on $name', ({ open }) => {
  let store: Store;
  let warn: Mock<(obj: object, msg?: string) => void>;
  let subs: SubscriptionStore;
  beforeEach(async () => {
    await redisDb().redis.flushdb();
    store = open();
    warn = vi.fn();
    subs = new SubscriptionStore(store, { logger: { warn }, lockWaitMs: 300 });
  });
  afterEach(async () => {
    await store.close();
  });

  it('creates, reads back and lists subscriptions', async () => {
    const created = await subs.update(CHAT, (current) => addItem(current, CHAT, doc('A', '周报'), T0).sub);
    await subs.update('oc_other', (current) => addItem(current, 'oc_other', { kind: 'workplace' }, T0).sub);
    expect(await subs.get(CHAT)).toEqual(created);
    expect(await subs.get('oc_nobody')).toBeNull();
    const all = await subs.all();
    expect(all.map((s) => s.chatId).sort()).toEqual(['oc_other', CHAT]);
    expect(warn).not.toHaveBeenCalled();
  });

  it('hands update the current record and deletes the subscription when fn returns null', async () => {
    await subs.update(CHAT, (current) => addItem(current, CHAT, doc('A'), T0).sub);
    const seen: (ChatSubscription | null)[] = [];
    await subs.update(CHAT, (current) => {
      seen.push(current);
      return null;
    });
    expect(seen[0]?.items).toEqual([doc('A')]);
    expect(await subs.get(CHAT)).toBeNull();
    expect(await subs.all()).toEqual([]);
  });

  it('delete removes the subscription but keeps the delivery state (no second digest the same day)', async () => {
    await subs.update(CHAT, (current) => addItem(current, CHAT, doc('A'), T0).sub);
    await subs.setState(CHAT, { lastSentDate: '2025-06-01', lastSentAt: T0 });
    await subs.delete(CHAT);
    expect(await subs.get(CHAT)).toBeNull();
    expect(await subs.getState(CHAT)).toEqual({ lastSentDate: '2025-06-01', lastSentAt: T0 });
  });

  it('stores delivery state per chat, and answers undefined for a chat never sent to', async () => {
    const state = {
      lastSentDate: '2025-06-01',
      lastSentAt: T0,
      reported: { 'doc-docx-A': { pv: 10, uv: 3 } },
    };
    await subs.setState(CHAT, state);
    await subs.setState('oc_other', { lastSentDate: '2025-05-31' });
    expect(await subs.getState(CHAT)).toEqual(state);
    expect(await subs.getState('oc_nobody')).toBeUndefined();
    expect(await subs.allStates()).toEqual(
      new Map<string, DeliveryState>([
        [CHAT, state],
        ['oc_other', { lastSentDate: '2025-05-31' }],
      ]),
    );
  });

  it('skips corrupt or unknown subscription records with a warning instead of failing the listing', async () => {
    await subs.update(CHAT, (current) => addItem(current, CHAT, doc('A'), T0).sub);
    const bad = {
      oc_json: '{not json',
      oc_shape: JSON.stringify({ chatId: 'oc_shape', items: 'nope', since: T0, updatedAt: T0 }),
      oc_kind: JSON.stringify(
        withItems([{ kind: 'wiki-space', id: 'x' } as unknown as DigestItem], { chatId: 'oc_kind' }),
      ),
      oc_mismatch: JSON.stringify(withItems([doc('A')], { chatId: 'oc_elsewhere' })),
      oc_time: JSON.stringify(withItems([doc('A')], { chatId: 'oc_time', time: { hour: 25, minute: 0 } })),
    };
    for (const [chatId, raw] of Object.entries(bad)) await store.hashSet(SUBSCRIPTIONS_KEY, chatId, raw);

    expect((await subs.all()).map((s) => s.chatId)).toEqual([CHAT]);
    expect(warn).toHaveBeenCalledTimes(Object.keys(bad).length);
    expect(warn.mock.calls.map(([obj]) => (obj as { chatId: string }).chatId).sort()).toEqual(
      Object.keys(bad).sort(),
    );
    expect(await subs.get('oc_json')).toBeNull();
  });

  it('skips a corrupt delivery state with a warning', async () => {
    await subs.setState(CHAT, { lastSentDate: '2025-06-01' });
    await store.hashSet(DELIVERY_STATE_KEY, 'oc_bad', JSON.stringify({ reported: { a: { pv: 'ten' } } }));
    await store.hashSet(DELIVERY_STATE_KEY, 'oc_null', 'null');
    expect([...(await subs.allStates()).keys()]).toEqual([CHAT]);
    expect(await subs.getState('oc_bad')).toBeUndefined();
    expect(warn).toHaveBeenCalledTimes(3);
  });

  it('applies every one of 20 concurrent updates to one chat (no lost write)', async () => {
    // Production lock settings: the 20 edits queue on one lock within its 3 s wait.
    const subs = new SubscriptionStore(store);
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        subs.update(CHAT, (current) => addItem(current, CHAT, app(`cli_${i}`), T0 + i).sub),
      ),
    );
    const sub = await subs.get(CHAT);
    expect(sub?.items).toHaveLength(20);
    expect(new Set(sub?.items.map((item) => (item.kind === 'app' ? item.appId : '')))).toEqual(
      new Set(Array.from({ length: 20 }, (_, i) => `cli_${i}`)),
    );
    expect(await store.get(`fsb:digest:lock:${CHAT}`)).toBeNull();
  });

  it('gives up with SubscriptionBusyError while another edit holds the lock, writing nothing', async () => {
    await store.setIfAbsent(`fsb:digest:lock:${CHAT}`, 'someone-else', 60_000);
    const fn = vi.fn(() => withItems([doc('A')]));
    const started = performance.now();
    const error = await subs.update(CHAT, fn).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(SubscriptionBusyError);
    expect(error).toMatchObject({ code: 'DIGEST_SUBSCRIPTION_BUSY', chatId: CHAT });
    expect(performance.now() - started).toBeGreaterThanOrEqual(250);
    expect(fn).not.toHaveBeenCalled();
    expect(await subs.get(CHAT)).toBeNull();
    // Someone else's lock is left alone.
    expect(await store.get(`fsb:digest:lock:${CHAT}`)).toBe('someone-else');
  });

  it('releases the lock when fn throws, so the next edit goes through', async () => {
    await expect(
      subs.update(CHAT, () => {
        throw new Error('bad edit');
      }),
    ).rejects.toThrow('bad edit');
    expect(await store.get(`fsb:digest:lock:${CHAT}`)).toBeNull();
    expect(await subs.update(CHAT, () => withItems([doc('A')]))).toEqual(withItems([doc('A')]));
  });

  it('locks per chat: a held lock on one chat does not block another', async () => {
    await store.setIfAbsent(`fsb:digest:lock:${CHAT}`, 'someone-else', 60_000);
    const other = withItems([doc('A')], { chatId: 'oc_other' });
    expect(await subs.update('oc_other', () => other)).toEqual(other);
  });
});
