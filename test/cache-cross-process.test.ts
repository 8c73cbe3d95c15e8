import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { JsonCache, type JsonCacheOptions } from '../src/store/cache.js';
import { RedisStore } from '../src/store/redis-store.js';
import { fileStatistics } from './fixtures/feishu-bodies.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { waitUntil } from './support/wait-until.js';

/**
 * Three bot instances on one Redis: each is a JsonCache over its own RedisStore (its own connection), which
 * is all a second process would share with the first. The in-process single flight cannot help here, so
 * every "exactly one load" below is the store lock's doing.
 */

const KEY = 'stats:doc:doccnfYZzTlvXqZIGTdAHKabcef';
const LOCK_KEY = `fsb:cache:lock:${KEY}`;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A Feishu call stand-in shared by every instance: takes `ms`, counts calls, answers uv = call number. */
function slowLoad(ms = 100) {
  let calls = 0;
  return vi.fn(async () => {
    calls += 1;
    const call = calls;
    await sleep(ms);
    return fileStatistics(call);
  });
}

/** A promise that resolves when `fn` is first called, for ordering "A holds the lock" before "B arrives". */
function signalOnStart<T>(fn: () => Promise<T>) {
  let started!: () => void;
  const whenStarted = new Promise<void>((resolve) => {
    started = resolve;
  });
  const wrapped = vi.fn(() => {
    started();
    return fn();
  });
  return { load: wrapped, whenStarted };
}

/** A load that starts when called and answers `fileStatistics(1)` only once `answer()` is called. */
function gatedLoad() {
  let answer!: () => void;
  const answered = new Promise<void>((resolve) => {
    answer = resolve;
  });
  const { load, whenStarted } = signalOnStart(async () => {
    await answered;
    return fileStatistics(1);
  });
  return { load, whenStarted, answer };
}

let db: FreshRedisDb;
let stores: RedisStore[];

beforeAll(async () => {
  db = await freshRedisDb();
});
afterAll(async () => {
  await db.cleanup();
});
beforeEach(async () => {
  await db.redis.flushdb();
  stores = [new RedisStore(db.url), new RedisStore(db.url), new RedisStore(db.url)];
  await Promise.all(stores.map((store) => store.ping()));
});
afterEach(async () => {
  await Promise.all(stores.map((store) => store.close()));
});

const instances = (opts: JsonCacheOptions = {}) => stores.map((store) => new JsonCache(store, opts));

describe('JsonCache across processes sharing one Redis', () => {
  it('calls load once for 50 concurrent requests on each of 3 instances, and a refresh costs exactly one more', async () => {
    const caches = instances();
    const load = slowLoad(100);
    const claims = stores.map((store) => vi.spyOn(store, 'setIfAbsent'));
    const results = await Promise.all(
      caches.flatMap((cache) =>
        Array.from({ length: 50 }, () => cache.getOrLoad(KEY, load, { ttlMs: 60_000 })),
      ),
    );
    expect(results).toHaveLength(150);
    expect(load).toHaveBeenCalledTimes(1);
    for (const result of results) expect(result.value).toEqual(fileStatistics(1));
    // The loading instance's 50 callers share its fresh load; the other 100 read what it stored.
    expect(results.filter((r) => !r.cached)).toHaveLength(50);
    expect(await db.redis.exists(LOCK_KEY)).toBe(0);
    // The in-process single flight in front of the lock: one lock attempt per instance, not one per caller.
    for (const claim of claims) expect(claim).toHaveBeenCalledTimes(1);

    const refreshed = await caches[1]!.getOrLoad(KEY, load, { ttlMs: 60_000, refresh: true });
    expect(refreshed).toMatchObject({ value: fileStatistics(2), cached: false });
    expect(load).toHaveBeenCalledTimes(2);
    for (const cache of [caches[0]!, caches[2]!]) {
      const seen = await cache.getOrLoad(KEY, load, { ttlMs: 60_000 });
      expect(seen).toMatchObject({ value: fileStatistics(2), cached: true });
    }
    expect(load).toHaveBeenCalledTimes(2);
  });

  it('makes other instances wait for a refresher’s value when the key is missing, instead of loading', async () => {
    const [refresher, ...readers] = instances();
    const { load: refreshLoad, whenStarted } = signalOnStart(slowLoad(100));
    const refreshing = refresher!.getOrLoad(KEY, refreshLoad, { ttlMs: 60_000, refresh: true });
    await whenStarted;

    const readerLoad = slowLoad(10);
    const read = await Promise.all(
      readers.flatMap((cache) =>
        Array.from({ length: 25 }, () => cache.getOrLoad(KEY, readerLoad, { ttlMs: 60_000 })),
      ),
    );
    expect(readerLoad).not.toHaveBeenCalled();
    for (const result of read) expect(result).toMatchObject({ value: fileStatistics(1), cached: true });
    expect((await refreshing).cached).toBe(false);
  });

  it('lets exactly one waiting instance take over when the lock holder’s load fails', async () => {
    const [holder, ...waiters] = instances();
    const { load: failing, whenStarted } = signalOnStart(async () => {
      await sleep(100);
      throw new Error('connect ETIMEDOUT open.feishu.cn');
    });
    const holding = holder!.getOrLoad(KEY, failing, { ttlMs: 60_000 });
    await whenStarted;

    const load = slowLoad(50);
    const waited = Promise.all(
      waiters.flatMap((cache) =>
        Array.from({ length: 10 }, () => cache.getOrLoad(KEY, load, { ttlMs: 60_000 })),
      ),
    );
    await expect(holding).rejects.toThrow('ETIMEDOUT');
    const results = await waited;
    expect(load).toHaveBeenCalledTimes(1);
    for (const result of results) expect(result.value).toEqual(fileStatistics(1));
  });

  it('loads after the wait bound when a crashed process left its lock behind, and leaves that lock alone', async () => {
    // A lock nobody will ever release (the process that took it died); it would outlive the test.
    await db.redis.set(LOCK_KEY, 'crashed-owner', 'PX', 60_000);
    const warn = vi.fn();
    const caches = instances({ lockWaitMs: 300, logger: { warn } });
    const load = slowLoad(10);
    const started = Date.now();
    const results = await Promise.all(
      caches.flatMap((cache) =>
        Array.from({ length: 10 }, () => cache.getOrLoad(KEY, load, { ttlMs: 60_000 })),
      ),
    );
    const elapsed = Date.now() - started;
    // At least the wait bound (load only ever lengthens a wait); how much longer is a figure, not a gate.
    expect(elapsed).toBeGreaterThanOrEqual(290);
    console.info(`[figure] 30 loads behind a crashed owner's lock, 300 ms wait bound: ${elapsed} ms`);
    expect(results).toHaveLength(30);
    // Each instance gives up on its own; one that polls after another stored the value reads it instead.
    expect(load.mock.calls.length).toBeGreaterThanOrEqual(1);
    expect(load.mock.calls.length).toBeLessThanOrEqual(3);
    // Every load came from an instance that sat out the wait bound and said so, none from one that skipped it.
    expect(warn).toHaveBeenCalledTimes(load.mock.calls.length);
    expect(await db.redis.get(LOCK_KEY)).toBe('crashed-owner');
  });

  it('never hangs behind a holder whose load never settles: the wait bound ends the wait', async () => {
    const warn = vi.fn();
    const [holder, waiter] = instances({ lockWaitMs: 300, logger: { warn } });
    const { load: hanging, whenStarted } = signalOnStart(() => new Promise<never>(() => {}));
    void holder!.getOrLoad(KEY, hanging, { ttlMs: 60_000 });
    await whenStarted;

    const load = slowLoad(10);
    const started = Date.now();
    const result = await waiter!.getOrLoad(KEY, load, { ttlMs: 60_000 });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(result).toMatchObject({ value: fileStatistics(1), cached: false });
    expect(load).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('takes the lock over once a hung holder’s lock expires, well before a long wait bound', async () => {
    // A holder renews its lock for as long as readers wait for it (its own wait bound), then lets it lapse.
    const holder = new JsonCache(stores[0]!, { lockTtlMs: 300, lockWaitMs: 300 });
    const warn = vi.fn();
    const waiter = new JsonCache(stores[1]!, { lockWaitMs: 10_000, logger: { warn } });
    const { load: hanging, whenStarted } = signalOnStart(() => new Promise<never>(() => {}));
    void holder.getOrLoad(KEY, hanging, { ttlMs: 60_000 });
    await whenStarted;

    const load = slowLoad(10);
    const started = Date.now();
    const result = await waiter.getOrLoad(KEY, load, { ttlMs: 60_000 });
    const elapsed = Date.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(200);
    console.info(
      `[figure] lock taken over from a hung holder (300 ms lock TTL, 10 s wait bound): ${elapsed} ms`,
    );
    expect(result).toMatchObject({ value: fileStatistics(1), cached: false });
    // The waiter took the lock over when it expired instead of sitting out the 10 s bound (that would warn),
    // and gave it back.
    expect(warn).not.toHaveBeenCalled();
    expect(await db.redis.exists(LOCK_KEY)).toBe(0);
  });

  it('renews its lock in Redis while a load runs, and never renews one another owner took over', async () => {
    // Only the renewal timer is fake: Redis keeps real time, with seconds of margin either side.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    try {
      const holder = new JsonCache(stores[0]!, { lockTtlMs: 30_000 });
      const writes = vi.spyOn(stores[0]!, 'set');
      const reads = vi.spyOn(stores[0]!, 'get');
      const lockReads = () => reads.mock.calls.filter(([key]) => key === LOCK_KEY).length;
      const { load, whenStarted, answer } = gatedLoad();
      const loading = holder.getOrLoad(KEY, load, { ttlMs: 60_000 });
      await whenStarted;
      const token = await db.redis.get(LOCK_KEY);
      expect(token).not.toBeNull();

      // As if most of the TTL had gone by; half a TTL on, the holder extends it to a full TTL again.
      await db.redis.pexpire(LOCK_KEY, 10_000);
      await vi.advanceTimersByTimeAsync(15_000);
      await waitUntil(
        async () => (await db.redis.pttl(LOCK_KEY)) > 10_000,
        5_000,
        () => 'the lock to be renewed',
        10,
      );
      expect(await db.redis.get(LOCK_KEY)).toBe(token);

      // The lock lapsed and another process took it: the next renewal finds it is not ours and leaves it.
      await db.redis.set(LOCK_KEY, 'successor', 'PX', 20_000);
      const readsBefore = lockReads();
      const writesBefore = writes.mock.calls.length;
      await vi.advanceTimersByTimeAsync(15_000);
      await waitUntil(
        () => lockReads() > readsBefore,
        5_000,
        () => 'the renewal to look at the lock',
        10,
      );
      answer();
      await expect(loading).resolves.toMatchObject({ value: fileStatistics(1), cached: false });
      // The value was stored; the successor's lock was neither extended nor released by us.
      expect(writes.mock.calls.slice(writesBefore).map(([key]) => key)).toEqual([`fsb:cache:${KEY}`]);
      expect(await db.redis.get(LOCK_KEY)).toBe('successor');
    } finally {
      vi.useRealTimers();
    }
  });

  it('gives its lock back once Redis is back when an outage cut the release, so other instances do not sit out its TTL', async () => {
    // The holder reaches Redis through a proxy the test cuts mid-load: storing the value and releasing the lock
    // both fail. Before this was retried the lock stayed for its whole TTL (70 s in the app), and every other
    // replica's command for that key waited past its 20 s deadline.
    const { port, hostname, pathname } = new URL(db.url);
    const proxy = await startTcpProxy({ host: hostname, port: Number(port) });
    const viaProxy = new RedisStore(`redis://127.0.0.1:${proxy.port}${pathname}`);
    try {
      await viaProxy.ping();
      const holder = new JsonCache(viaProxy, { lockTtlMs: 60_000 });
      const { load, whenStarted, answer } = gatedLoad();
      const holding = holder.getOrLoad(KEY, load, { ttlMs: 60_000 });
      await whenStarted;
      expect(await db.redis.exists(LOCK_KEY)).toBe(1);

      proxy.cut();
      answer();
      // The caller gets its answer at once, outage or not.
      await expect(holding).resolves.toMatchObject({ value: fileStatistics(1), cached: false });
      expect(await db.redis.exists(LOCK_KEY)).toBe(1);
      expect(await db.redis.exists(`fsb:cache:${KEY}`)).toBe(0);

      proxy.restore();
      const started = Date.now();
      // 15 s against the lock's 60 s TTL: only a retried release gets there in time.
      await waitUntil(
        async () => (await db.redis.exists(LOCK_KEY)) === 0,
        15_000,
        () => 'the lock to be released after the outage',
      );
      console.info(`[figure] lock released ${Date.now() - started} ms after Redis came back (60 s TTL)`);

      // Another instance now loads at once (the value was never stored), without sitting out any wait bound.
      const warn = vi.fn();
      const other = new JsonCache(stores[1]!, { lockTtlMs: 60_000, logger: { warn } });
      const again = slowLoad(10);
      await expect(other.getOrLoad(KEY, again, { ttlMs: 60_000 })).resolves.toMatchObject({
        value: fileStatistics(1),
        cached: false,
      });
      expect(again).toHaveBeenCalledTimes(1);
      expect(warn).not.toHaveBeenCalled();
    } finally {
      await viaProxy.close();
      await proxy.close();
    }
  }, 30_000);

  it('skips the lock entirely with lock: false: one load per instance, no lock key written', async () => {
    const caches = instances();
    const load = slowLoad(50);
    const claims = stores.map((store) => vi.spyOn(store, 'setIfAbsent'));
    await Promise.all(
      caches.flatMap((cache) =>
        Array.from({ length: 10 }, () => cache.getOrLoad(KEY, load, { ttlMs: 60_000, lock: false })),
      ),
    );
    // The in-process single flight still collapses each instance's ten callers into one call.
    expect(load).toHaveBeenCalledTimes(3);
    for (const claim of claims) expect(claim).not.toHaveBeenCalled();
  });
});
