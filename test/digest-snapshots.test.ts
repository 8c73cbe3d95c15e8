import { afterEach, beforeEach, describe, expect, it, type Mock, vi } from 'vitest';
import { SNAPSHOT_RETENTION_DAYS, SnapshotStore, snapshotKey } from '../src/digest/snapshots.js';
import { buildTrend, describeChange } from '../src/digest/trend.js';
import type { DigestFigures, Snapshot } from '../src/digest/types.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { Store } from '../src/store/store.js';
import { storeAdapters, useFreshRedisDb } from './redis.js';

const DAY_MS = 86_400_000;
const ITEM = 'doc-docx-AbC123';

const snap = (date: string, figures: DigestFigures): Snapshot => ({
  date,
  takenAt: Date.parse(`${date}T02:30:00Z`),
  figures,
});

const redisDb = useFreshRedisDb();

describe.each(storeAdapters(redisDb))('SnapshotStore on $name', ({ open }) => {
  let store: Store;
  let warn: Mock<(obj: object, msg?: string) => void>;
  let snapshots: SnapshotStore;
  beforeEach(async () => {
    await redisDb().redis.flushdb();
    store = open();
    warn = vi.fn();
    snapshots = new SnapshotStore(store, { logger: { warn } });
  });
  afterEach(async () => {
    await store.close();
  });

  it('reads back what was put, keeps items apart, and lets the last put of a day win', async () => {
    await snapshots.put(ITEM, snap('2025-06-01', { pv: 10 }));
    await snapshots.put(ITEM, snap('2025-06-01', { pv: 12, uv: 4 }));
    await snapshots.put('workplace', snap('2025-06-01', { pv: 999 }));
    expect(await snapshots.get(ITEM, '2025-06-01')).toEqual(snap('2025-06-01', { pv: 12, uv: 4 }));
    expect(await snapshots.get(ITEM, '2025-06-02')).toBeNull();
    expect(await store.get(snapshotKey(ITEM, '2025-06-01'))).not.toBeNull();
  });

  it('turns three recorded days into three trend points, the first without a delta', async () => {
    await snapshots.put(ITEM, snap('2025-06-01', { pv: 100 }));
    await snapshots.put(ITEM, snap('2025-06-02', { pv: 130 }));
    await snapshots.put(ITEM, snap('2025-06-03', { pv: 135 }));
    const history = await snapshots.history(ITEM, '2025-06-03');
    expect(history.map((s) => s.date)).toEqual(['2025-06-01', '2025-06-02', '2025-06-03']);
    expect(buildTrend(history, 'pv', { from: '2025-05-28', to: '2025-06-03' })).toEqual([
      { date: '2025-06-01', value: 100, delta: null },
      { date: '2025-06-02', value: 130, delta: 30 },
      { date: '2025-06-03', value: 135, delta: 5 },
    ]);
  });

  it('leaves a missing day as a gap; the next delta is against the last recorded day', async () => {
    await snapshots.put(ITEM, snap('2025-06-01', { pv: 100 }));
    await snapshots.put(ITEM, snap('2025-06-02', { pv: 110 }));
    await snapshots.put(ITEM, snap('2025-06-05', { pv: 150 }));
    const history = await snapshots.history(ITEM, '2025-06-05');
    expect(buildTrend(history, 'pv', { from: '2025-05-30', to: '2025-06-05' })).toEqual([
      { date: '2025-06-01', value: 100, delta: null },
      { date: '2025-06-02', value: 110, delta: 10 },
      { date: '2025-06-05', value: 150, delta: 40 },
    ]);
  });

  it('fetches the day before the window too, so the window’s first point has a delta', async () => {
    // A 3-day window ending 2025-06-10 is 06-08..06-10; 06-07 is fetched for the first delta only.
    for (const [date, pv] of [
      ['2025-06-06', 1],
      ['2025-06-07', 50],
      ['2025-06-08', 70],
      ['2025-06-10', 100],
      ['2025-06-11', 999],
    ] as const) {
      await snapshots.put(ITEM, snap(date, { pv }));
    }
    const history = await snapshots.history(ITEM, '2025-06-10', 3);
    expect(history.map((s) => s.date)).toEqual(['2025-06-07', '2025-06-08', '2025-06-10']);
    expect(buildTrend(history, 'pv', { from: '2025-06-08', to: '2025-06-10' })).toEqual([
      { date: '2025-06-08', value: 70, delta: 20 },
      { date: '2025-06-10', value: 100, delta: 30 },
    ]);
  });

  it('reads a whole history with one getMany call', async () => {
    await snapshots.put(ITEM, snap('2025-06-03', { pv: 1 }));
    const getMany = vi.spyOn(store, 'getMany');
    const get = vi.spyOn(store, 'get');
    await snapshots.history(ITEM, '2025-06-03', 30);
    expect(getMany).toHaveBeenCalledTimes(1);
    expect(getMany.mock.calls[0]?.[0]).toHaveLength(31);
    expect(get).not.toHaveBeenCalled();
  });

  it('skips a corrupt snapshot, or one filed under the wrong date, with a warning', async () => {
    await snapshots.put(ITEM, snap('2025-06-01', { pv: 1 }));
    await store.set(snapshotKey(ITEM, '2025-06-02'), '{oops', DAY_MS);
    await store.set(snapshotKey(ITEM, '2025-06-03'), JSON.stringify(snap('2025-01-01', { pv: 3 })), DAY_MS);
    await store.set(
      snapshotKey(ITEM, '2025-06-04'),
      JSON.stringify({ date: '2025-06-04', figures: {} }),
      DAY_MS,
    );
    const history = await snapshots.history(ITEM, '2025-06-04');
    expect(history.map((s) => s.date)).toEqual(['2025-06-01']);
    expect(warn).toHaveBeenCalledTimes(3);
  });

  it('rejects a history length that is not a positive whole number of days', async () => {
    await expect(snapshots.history(ITEM, '2025-06-01', 0)).rejects.toBeInstanceOf(RangeError);
    await expect(snapshots.history(ITEM, '2025-06-01', 2.5)).rejects.toBeInstanceOf(RangeError);
  });
});

describe('snapshot retention', () => {
  afterEach(async () => {
    await redisDb().redis.flushdb();
  });

  it(`keeps Redis snapshots for ${SNAPSHOT_RETENTION_DAYS} days by TTL`, async () => {
    const store = new RedisStore(redisDb().url);
    await new SnapshotStore(store).put(ITEM, snap('2025-06-01', { pv: 1 }));
    const pttl = await redisDb().redis.pttl(snapshotKey(ITEM, '2025-06-01'));
    expect(pttl).toBeGreaterThan(90 * DAY_MS - 60_000);
    expect(pttl).toBeLessThanOrEqual(90 * DAY_MS);
    await store.close();
  });

  it('honours a shorter retentionDays on Redis', async () => {
    const store = new RedisStore(redisDb().url);
    await new SnapshotStore(store, { retentionDays: 7 }).put(ITEM, snap('2025-06-01', { pv: 1 }));
    const pttl = await redisDb().redis.pttl(snapshotKey(ITEM, '2025-06-01'));
    expect(pttl).toBeGreaterThan(7 * DAY_MS - 60_000);
    expect(pttl).toBeLessThanOrEqual(7 * DAY_MS);
    await store.close();
  });

  it(`keeps memory snapshots through day ${SNAPSHOT_RETENTION_DAYS} and drops them after`, async () => {
    let now = Date.parse('2025-06-01T02:30:00Z');
    const store = new MemoryStore({ now: () => now });
    const snapshots = new SnapshotStore(store);
    await snapshots.put(ITEM, snap('2025-06-01', { pv: 1 }));
    now += 90 * DAY_MS;
    expect(await snapshots.get(ITEM, '2025-06-01')).not.toBeNull();
    now += 1;
    expect(await snapshots.get(ITEM, '2025-06-01')).toBeNull();
    await store.close();
  });

  it('refuses a retention that would store snapshots forever or not at all', async () => {
    const store = new MemoryStore();
    expect(() => new SnapshotStore(store, { retentionDays: 0 })).toThrow(RangeError);
    expect(() => new SnapshotStore(store, { retentionDays: Number.NaN })).toThrow(RangeError);
    await store.close();
  });
});

describe('buildTrend', () => {
  it('follows the chosen metric and skips snapshots that lack it, spanning them in the next delta', () => {
    const history = [
      snap('2025-06-01', { uv: 5, pv: 100 }),
      snap('2025-06-02', { pv: 120 }),
      snap('2025-06-03', { uv: 9, pv: 125 }),
    ];
    expect(buildTrend(history, 'uv', { from: '2025-06-01', to: '2025-06-03' })).toEqual([
      { date: '2025-06-01', value: 5, delta: null },
      { date: '2025-06-03', value: 9, delta: 4 },
    ]);
  });

  it('ignores snapshots after the window and orders unsorted input by date', () => {
    const history = [
      snap('2025-06-03', { pv: 30 }),
      snap('2025-06-01', { pv: 10 }),
      snap('2025-06-04', { pv: 400 }),
      snap('2025-06-02', { pv: 25 }),
    ];
    expect(buildTrend(history, 'pv', { from: '2025-06-02', to: '2025-06-03' })).toEqual([
      { date: '2025-06-02', value: 25, delta: 15 },
      { date: '2025-06-03', value: 30, delta: 5 },
    ]);
  });

  it('shows a falling figure as a negative delta (workplace visitors per day can drop)', () => {
    const history = [snap('2025-06-01', { uv: 40 }), snap('2025-06-02', { uv: 25 })];
    expect(buildTrend(history, 'uv', { from: '2025-06-01', to: '2025-06-02' })[1]).toEqual({
      date: '2025-06-02',
      value: 25,
      delta: -15,
    });
  });

  it('is empty when nothing was recorded in the window', () => {
    expect(
      buildTrend([snap('2025-05-01', { pv: 1 })], 'pv', { from: '2025-06-01', to: '2025-06-07' }),
    ).toEqual([]);
  });
});

describe('describeChange', () => {
  it('subtracts metric by metric and leaves out a metric missing on either side', () => {
    expect(describeChange({ pv: 130, uv: 40, likes: 3 }, { pv: 100, uv: 40 })).toEqual({ pv: 30, uv: 0 });
    expect(describeChange({ uv: 10 }, { uv: 12, pv: 5 })).toEqual({ uv: -2 });
  });

  it('is empty when there is no previous digest to compare with', () => {
    expect(describeChange({ pv: 130 }, undefined)).toEqual({});
  });
});
