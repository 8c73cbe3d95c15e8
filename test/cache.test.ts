import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { cachedResult } from '../src/data/cached-result.js';
import { FeishuApiError } from '../src/feishu/errors.js';
import { JsonCache } from '../src/store/cache.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { Store } from '../src/store/store.js';
import { SingleFlight } from '../src/util/single-flight.js';
import { fileStatistics } from './fixtures/feishu-bodies.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';

/**
 * What the client throws for the documented 1069604 answer of drive.v1.fileStatistics.get
 * (https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get: HTTP 400, "document not found").
 */
const documentNotFound = () =>
  new FeishuApiError(
    'drive.v1.fileStatistics.get',
    1069604,
    'document not found',
    400,
    '20250101120000ABCDEF',
  );
/** Rate limited (99991400): retrying soon is exactly what should happen, so it is never cached. */
const rateLimited = () =>
  new FeishuApiError('drive.v1.fileStatistics.get', 99991400, 'request trigger frequency limit', 429);
/** The policy a caller would write: a missing document stays missing for a while, anything else is retried. */
const errorTtlFor = (ttlMs: number) => (err: unknown) =>
  err instanceof FeishuApiError && err.feishuCode === 1069604 ? ttlMs : 0;

/** The fields a cached error must keep, so cards and logs cannot tell it from the original. */
const feishuFields = (err: unknown) => {
  if (!(err instanceof FeishuApiError)) throw new Error(`expected a FeishuApiError, got ${String(err)}`);
  const { name, code, message, endpoint, feishuCode, feishuMsg, httpStatus, logId } = err;
  return { name, code, message, endpoint, feishuCode, feishuMsg, httpStatus, logId };
};

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

describe.each(adapters)('JsonCache TTLs and locking over $name', (adapter) => {
  let h: Harness;
  beforeEach(async () => {
    await db.redis.flushdb();
    h = adapter.open();
  });
  afterEach(async () => {
    await h.store.close();
  });

  it('keeps each value for the TTL its function returns for it (closed periods long, open ones short)', async () => {
    const ttlFor = vi.fn((period: { closed: boolean; uv: number }) =>
      period.closed ? 10 * 60_000 : h.ttlMs,
    );
    const loadOpen = countingLoad((call) => ({ closed: false, uv: call }));
    const loadClosed = countingLoad((call) => ({ closed: true, uv: 100 + call }));
    await h.cache.getOrLoad('app:week:open', loadOpen, { ttlMs: ttlFor });
    await h.cache.getOrLoad('app:week:closed', loadClosed, { ttlMs: ttlFor });
    expect(ttlFor).toHaveBeenCalledWith({ closed: false, uv: 1 });
    expect(ttlFor).toHaveBeenCalledWith({ closed: true, uv: 101 });

    await h.waitPastTtl();
    const open = await h.cache.getOrLoad('app:week:open', loadOpen, { ttlMs: ttlFor });
    const closed = await h.cache.getOrLoad('app:week:closed', loadClosed, { ttlMs: ttlFor });
    expect(open).toMatchObject({ value: { closed: false, uv: 2 }, cached: false });
    expect(closed).toMatchObject({ value: { closed: true, uv: 101 }, cached: true });
  });

  it.each([
    ['a TTL function returning 0', () => 0],
    ['a negative TTL', -1],
  ])('answers with the value but does not store it given %s', async (_label, ttlMs) => {
    const write = vi.spyOn(h.store, 'set');
    const load = countingLoad((call) => fileStatistics(call));
    const first = await h.cache.getOrLoad('stats:doc', load, { ttlMs });
    expect(first).toMatchObject({ value: fileStatistics(1), cached: false });
    expect(write).not.toHaveBeenCalled();
    expect(await h.store.get('fsb:cache:stats:doc')).toBeNull();
    const second = await h.cache.getOrLoad('stats:doc', load, { ttlMs });
    expect(second).toMatchObject({ value: fileStatistics(2), cached: false });
  });

  it('releases its lock after a load, and after a failed one, so the next miss does not wait', async () => {
    await h.cache.getOrLoad('stats:doc', async () => 1, { ttlMs: () => 0 });
    expect(await h.store.get('fsb:cache:lock:stats:doc')).toBeNull();
    await expect(
      h.cache.getOrLoad('stats:doc', () => Promise.reject(new Error('boom')), { ttlMs: 60_000 }),
    ).rejects.toThrow('boom');
    expect(await h.store.get('fsb:cache:lock:stats:doc')).toBeNull();
  });

  it('makes a plain read of a missing key wait for a concurrent refresh instead of loading itself', async () => {
    let started!: () => void;
    const refreshStarted = new Promise<void>((resolve) => {
      started = resolve;
    });
    const refreshLoad = vi.fn(async () => {
      started();
      await sleep(60);
      return fileStatistics(99);
    });
    const refreshing = h.cache.getOrLoad('stats:doc', refreshLoad, { ttlMs: 60_000, refresh: true });
    await refreshStarted;
    const plainLoad = countingLoad((call) => fileStatistics(call));
    const plain = await h.cache.getOrLoad('stats:doc', plainLoad, { ttlMs: 60_000 });
    expect(plainLoad).not.toHaveBeenCalled();
    expect(plain).toMatchObject({ value: fileStatistics(99), cached: true });
    expect(await refreshing).toMatchObject({ value: fileStatistics(99), cached: false });
  });

  it('loads cheap keys without a lock when asked to (lock: false)', async () => {
    const claim = vi.spyOn(h.store, 'setIfAbsent');
    const load = countingLoad((call) => call);
    await h.cache.getOrLoad('title:doc', load, { ttlMs: 60_000, lock: false });
    await h.cache.getOrLoad('title:doc', load, { ttlMs: 60_000, lock: false, refresh: true });
    expect(load).toHaveBeenCalledTimes(2);
    expect(claim).not.toHaveBeenCalled();
  });
});

describe.each(adapters)('cachedResult over $name', (adapter) => {
  let h: Harness;
  beforeEach(async () => {
    await db.redis.flushdb();
    h = adapter.open();
  });
  afterEach(async () => {
    await h.store.close();
  });

  it('replays a 1069604 for errorTtlMs as a FeishuApiError with the same fields, then asks Feishu again', async () => {
    const original = documentNotFound();
    const load = vi.fn(async (): Promise<ReturnType<typeof fileStatistics>> => {
      throw original;
    });
    const opts = { ttlMs: 10 * 60_000, errorTtlMs: errorTtlFor(h.ttlMs) };

    const first = await cachedResult(h.cache, 'stats:doc', load, opts).catch((err: unknown) => err);
    expect(first).toBe(original);
    const replayed = await cachedResult(h.cache, 'stats:doc', load, opts).catch((err: unknown) => err);
    expect(load).toHaveBeenCalledTimes(1);
    expect(replayed).toBeInstanceOf(FeishuApiError);
    expect(replayed).not.toBe(original);
    expect(feishuFields(replayed)).toEqual(feishuFields(original));

    // The error's own TTL, not the value's ten minutes, decides when Feishu is asked again.
    await h.waitPastTtl();
    load.mockResolvedValueOnce(fileStatistics(5));
    await expect(cachedResult(h.cache, 'stats:doc', load, opts)).resolves.toMatchObject({
      value: fileStatistics(5),
      cached: false,
    });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('gives concurrent callers that joined the failing load the same FeishuApiError', async () => {
    const load = vi.fn(async () => {
      await sleep(10);
      throw documentNotFound();
    });
    const outcomes = await Promise.allSettled(
      Array.from({ length: 5 }, () =>
        cachedResult(h.cache, 'stats:doc', load, { ttlMs: 60_000, errorTtlMs: errorTtlFor(60_000) }),
      ),
    );
    expect(load).toHaveBeenCalledTimes(1);
    for (const outcome of outcomes) {
      expect(outcome.status).toBe('rejected');
      if (outcome.status === 'rejected')
        expect(feishuFields(outcome.reason)).toEqual(feishuFields(documentNotFound()));
    }
  });

  it('does not cache an error whose errorTtlMs is 0 (rate limit), nor one that is not a FeishuApiError', async () => {
    const opts = { ttlMs: 60_000, errorTtlMs: () => 0 };
    const limited = vi.fn(async (): Promise<number> => {
      throw rateLimited();
    });
    await expect(cachedResult(h.cache, 'a', limited, opts)).rejects.toMatchObject({ feishuCode: 99991400 });
    await expect(cachedResult(h.cache, 'a', limited, opts)).rejects.toMatchObject({ feishuCode: 99991400 });
    expect(limited).toHaveBeenCalledTimes(2);
    expect(await h.store.get('fsb:cache:a')).toBeNull();

    // Only FeishuApiError can be rebuilt faithfully, so a policy that says "cache it" is ignored for others.
    const crash = vi.fn(async (): Promise<number> => {
      throw new TypeError('cannot read properties of undefined');
    });
    const always = { ttlMs: 60_000, errorTtlMs: () => 60_000 };
    await expect(cachedResult(h.cache, 'b', crash, always)).rejects.toBeInstanceOf(TypeError);
    await expect(cachedResult(h.cache, 'b', crash, always)).rejects.toBeInstanceOf(TypeError);
    expect(crash).toHaveBeenCalledTimes(2);
  });

  it('returns plain values unwrapped, with their TTL function, and refresh bypasses a cached error', async () => {
    const opts = {
      ttlMs: (stats: ReturnType<typeof fileStatistics>) => (stats.statistics.uv > 0 ? 60_000 : 0),
      errorTtlMs: errorTtlFor(60_000),
    };
    const load = vi.fn(async (): Promise<ReturnType<typeof fileStatistics>> => {
      throw documentNotFound();
    });
    await expect(cachedResult(h.cache, 'stats:doc', load, opts)).rejects.toBeInstanceOf(FeishuApiError);
    load.mockResolvedValue(fileStatistics(3));
    // Without refresh the cached error is still served.
    await expect(cachedResult(h.cache, 'stats:doc', load, opts)).rejects.toBeInstanceOf(FeishuApiError);
    const fresh = await cachedResult(h.cache, 'stats:doc', load, { ...opts, refresh: true });
    expect(fresh).toMatchObject({ value: fileStatistics(3), cached: false });
    const hit = await cachedResult(h.cache, 'stats:doc', load, opts);
    expect(hit).toEqual({ value: fileStatistics(3), cached: true, storedAt: fresh.storedAt });
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('replaces a bare value an older release stored under the key instead of misreading it', async () => {
    await h.store.set('fsb:cache:stats:doc', JSON.stringify({ v: fileStatistics(1), t: 1 }), 60_000);
    const load = countingLoad(() => fileStatistics(2));
    const result = await cachedResult(h.cache, 'stats:doc', load, { ttlMs: 60_000, errorTtlMs: () => 0 });
    expect(result).toMatchObject({ value: fileStatistics(2), cached: false });
    expect(load).toHaveBeenCalledTimes(1);
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
      compareAndDelete: () => Promise.reject(down),
      getMany: () => Promise.reject(down),
      hashGet: () => Promise.reject(down),
      hashSet: () => Promise.reject(down),
      hashDelete: () => Promise.reject(down),
      hashGetAll: () => Promise.reject(down),
      hashIncrement: () => Promise.reject(down),
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
