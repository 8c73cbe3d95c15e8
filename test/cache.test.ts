import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JsonCache } from '../src/store/cache.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { Store } from '../src/store/store.js';
import { SingleFlight } from '../src/util/single-flight.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';

/**
 * The `data` of the documented response of drive.v1.fileStatistics.get
 * (https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get), with `uv` varied per load.
 */
const fileStatistics = (uv: number) => ({
  file_token: 'doccnfYZzTlvXqZIGTdAHKabcef',
  file_type: 'doc',
  statistics: {
    uv,
    pv: 15,
    like_count: 2,
    timestamp: 1627367349,
    uv_today: 1,
    pv_today: 1,
    like_count_today: 1,
  },
});

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A load function that counts its calls and resolves on the next macrotask, like a real HTTP call. */
function countingLoad<T>(make: (call: number) => T) {
  let calls = 0;
  const load = vi.fn(async () => {
    calls += 1;
    const call = calls;
    await sleep(5);
    return make(call);
  });
  return load;
}

interface Harness {
  store: Store;
  cache: JsonCache;
  ttlMs: number;
  /** Returns once an entry stored with `ttlMs` must have expired. */
  waitPastTtl(): Promise<void>;
}

let db: FreshRedisDb;
beforeAll(async () => {
  db = await freshRedisDb();
});
afterAll(async () => {
  await db.cleanup();
});

const adapters: { name: string; open(): Harness }[] = [
  {
    name: 'MemoryStore',
    open: () => {
      let now = Date.UTC(2025, 0, 1);
      const store = new MemoryStore({ now: () => now });
      const ttlMs = 60_000;
      return {
        store,
        cache: new JsonCache(store, { now: () => now }),
        ttlMs,
        waitPastTtl: async () => {
          now += ttlMs + 1;
        },
      };
    },
  },
  {
    name: 'RedisStore',
    open: () => {
      const store = new RedisStore(db.url);
      const ttlMs = 100;
      return { store, cache: new JsonCache(store), ttlMs, waitPastTtl: () => sleep(ttlMs + 80) };
    },
  },
];

describe.each(adapters)('JsonCache over $name', (adapter) => {
  let h: Harness;
  beforeEach(async () => {
    await db.redis.flushdb();
    h = adapter.open();
  });
  afterEach(async () => {
    await h.store.close();
  });

  it('calls load once for 50 concurrent requests on one key and gives every caller the value', async () => {
    const load = countingLoad((call) => fileStatistics(100 + call));
    const results = await Promise.all(
      Array.from({ length: 50 }, () => h.cache.getOrLoad('stats:doc', load, { ttlMs: h.ttlMs })),
    );
    expect(load).toHaveBeenCalledTimes(1);
    for (const result of results) expect(result.value).toEqual(fileStatistics(101));
    // Every caller gets its own copy, so one card builder mutating it cannot corrupt another's.
    expect(results[0]?.value).not.toBe(results[1]?.value);
  });

  it('answers a second call within the TTL from the store without calling load', async () => {
    const load = countingLoad((call) => fileStatistics(call));
    const first = await h.cache.getOrLoad('stats:doc', load, { ttlMs: h.ttlMs });
    const second = await h.cache.getOrLoad('stats:doc', load, { ttlMs: h.ttlMs });
    expect(first.cached).toBe(false);
    expect(second).toEqual({ value: fileStatistics(1), cached: true, storedAt: first.storedAt });
    expect(load).toHaveBeenCalledTimes(1);
  });

  it('loads again once the TTL has passed', async () => {
    const load = countingLoad((call) => fileStatistics(call));
    await h.cache.getOrLoad('stats:doc', load, { ttlMs: h.ttlMs });
    await h.waitPastTtl();
    const later = await h.cache.getOrLoad('stats:doc', load, { ttlMs: h.ttlMs });
    expect(later).toMatchObject({ value: fileStatistics(2), cached: false });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('refresh bypasses a cached value and stores the fresh one for later callers', async () => {
    const load = countingLoad((call) => fileStatistics(call * 10));
    await h.cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    const refreshed = await h.cache.getOrLoad('stats:doc', load, { ttlMs: 60_000, refresh: true });
    expect(refreshed).toMatchObject({ value: fileStatistics(20), cached: false });
    const after = await h.cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    expect(after).toMatchObject({ value: fileStatistics(20), cached: true });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('shares a load rejection among concurrent callers and does not cache it', async () => {
    const failure = new Error('99991400 request trigger frequency limit');
    let calls = 0;
    const load = vi.fn(async () => {
      calls += 1;
      await sleep(5);
      if (calls === 1) throw failure;
      return fileStatistics(7);
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 10 }, () => h.cache.getOrLoad('stats:doc', load, { ttlMs: h.ttlMs })),
    );
    expect(load).toHaveBeenCalledTimes(1);
    for (const outcome of outcomes) expect(outcome).toEqual({ status: 'rejected', reason: failure });

    const retry = await h.cache.getOrLoad('stats:doc', load, { ttlMs: h.ttlMs });
    expect(retry).toMatchObject({ value: fileStatistics(7), cached: false });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it.each([
    ['not JSON', '{"v": {"uv": 1'],
    ['JSON without the envelope', JSON.stringify(fileStatistics(1))],
    ['an envelope with a non-numeric time', '{"v":{"uv":1},"t":"yesterday"}'],
  ])('treats a corrupt stored value (%s) as a miss and overwrites it', async (_label, corrupt) => {
    await h.store.set('fsb:cache:stats:doc', corrupt, 60_000);
    const load = countingLoad(() => fileStatistics(42));
    const result = await h.cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    expect(result).toMatchObject({ value: fileStatistics(42), cached: false });
    expect(load).toHaveBeenCalledTimes(1);
    const again = await h.cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    expect(again).toMatchObject({ value: fileStatistics(42), cached: true });
  });

  it('stores under the default fsb:cache: prefix, and delete forces the next call to load', async () => {
    const load = countingLoad((call) => fileStatistics(call));
    await h.cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    expect(await h.store.get('fsb:cache:stats:doc')).not.toBeNull();
    expect(await h.store.get('stats:doc')).toBeNull();

    await h.cache.delete('stats:doc');
    const after = await h.cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    expect(after).toMatchObject({ value: fileStatistics(2), cached: false });
  });
});

describe('JsonCache behaviour independent of the adapter', () => {
  it('returns a fresh load in the same JSON shape a later cache hit will have', async () => {
    const store = new MemoryStore();
    const cache = new JsonCache(store);
    const load = async () => ({ at: new Date(Date.UTC(2025, 0, 2)), missing: undefined, uv: 3 });
    const miss = await cache.getOrLoad('k', load, { ttlMs: 60_000 });
    const hit = await cache.getOrLoad('k', load, { ttlMs: 60_000 });
    expect(miss.value).toEqual({ at: '2025-01-02T00:00:00.000Z', uv: 3 });
    expect(hit.value).toEqual(miss.value);
    expect(hit.cached).toBe(true);
    await store.close();
  });

  it('records storedAt from its clock when loading and keeps it on hits', async () => {
    const store = new MemoryStore();
    let now = 1_735_689_600_000;
    const cache = new JsonCache(store, { prefix: 'test:', now: () => now });
    await cache.getOrLoad('k', async () => 1, { ttlMs: 60_000 });
    now += 30_000;
    const hit = await cache.getOrLoad('k', async () => 2, { ttlMs: 60_000 });
    expect(hit).toEqual({ value: 1, cached: true, storedAt: 1_735_689_600_000 });
    expect(await store.get('test:k')).not.toBeNull();
    await store.close();
  });

  it('still answers by calling load when the store cannot be read, and when it cannot be written', async () => {
    const down = new Error('Redis get failed: connect ECONNREFUSED');
    const broken: Store = {
      kind: 'redis',
      setIfAbsent: () => Promise.reject(down),
      get: () => Promise.reject(down),
      set: () => Promise.reject(down),
      delete: () => Promise.reject(down),
      ping: () => Promise.reject(down),
      close: () => Promise.resolve(),
    };
    const cache = new JsonCache(broken);
    const load = countingLoad((call) => fileStatistics(call));
    const first = await cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    const second = await cache.getOrLoad('stats:doc', load, { ttlMs: 60_000 });
    expect(first).toMatchObject({ value: fileStatistics(1), cached: false });
    expect(second).toMatchObject({ value: fileStatistics(2), cached: false });
  });

  it('keeps different keys apart', async () => {
    const store = new MemoryStore();
    const cache = new JsonCache(store);
    const a = await cache.getOrLoad('a', async () => 'A', { ttlMs: 60_000 });
    const b = await cache.getOrLoad('b', async () => 'B', { ttlMs: 60_000 });
    expect([a.value, b.value]).toEqual(['A', 'B']);
    await store.close();
  });
});

describe('SingleFlight', () => {
  it('shares one in-flight call among concurrent callers with the same key', async () => {
    const flight = new SingleFlight<number>();
    const fn = vi.fn(async () => {
      await sleep(5);
      return 7;
    });
    const results = await Promise.all([flight.run('k', fn), flight.run('k', fn), flight.run('k', fn)]);
    expect(results).toEqual([7, 7, 7]);
    expect(fn).toHaveBeenCalledTimes(1);
  });

  it('runs different keys independently', async () => {
    const flight = new SingleFlight<string>();
    const results = await Promise.all([flight.run('a', async () => 'A'), flight.run('b', async () => 'B')]);
    expect(results).toEqual(['A', 'B']);
  });

  it('shares a rejection, then frees the key so the next call runs again', async () => {
    const flight = new SingleFlight<number>();
    const boom = new Error('boom');
    const failing = vi.fn(async () => {
      await sleep(5);
      throw boom;
    });
    const outcomes = await Promise.allSettled([flight.run('k', failing), flight.run('k', failing)]);
    expect(outcomes).toEqual([
      { status: 'rejected', reason: boom },
      { status: 'rejected', reason: boom },
    ]);
    expect(failing).toHaveBeenCalledTimes(1);
    expect(flight.size).toBe(0);
    await expect(flight.run('k', async () => 1)).resolves.toBe(1);
  });

  it('turns a synchronous throw into a rejection and frees the key', async () => {
    const flight = new SingleFlight<number>();
    const fn = (): Promise<number> => {
      throw new Error('sync');
    };
    await expect(flight.run('k', fn)).rejects.toThrow('sync');
    expect(flight.size).toBe(0);
  });

  it('frees the key after success, so later calls are not served a stale result', async () => {
    const flight = new SingleFlight<number>();
    expect(await flight.run('k', async () => 1)).toBe(1);
    expect(await flight.run('k', async () => 2)).toBe(2);
  });
});
