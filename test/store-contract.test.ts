import { createServer } from 'node:net';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { createStore } from '../src/store/create-store.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStore, redactRedisUrl, StoreUnavailableError } from '../src/store/redis-store.js';
import type { Store } from '../src/store/store.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';

/** One adapter under test: a store plus a way to make its TTLs run out. */
interface Harness {
  store: Store;
  /** A TTL the harness can wait out quickly. */
  ttlMs: number;
  /** Returns once a key written `ttlMs` ago with that TTL must have expired. */
  waitPastTtl(): Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
      const ttlMs = 1_000;
      return {
        store: new MemoryStore({ now: () => now }),
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
      const ttlMs = 80;
      // Redis checks expiry on every access with ms precision, so a fixed margin is deterministic.
      return { store: new RedisStore(db.url), ttlMs, waitPastTtl: () => sleep(ttlMs + 70) };
    },
  },
];

describe.each(adapters)('Store contract: $name', (adapter) => {
  let h: Harness;
  beforeEach(async () => {
    await db.redis.flushdb();
    h = adapter.open();
  });
  afterEach(async () => {
    await h.store.close();
  });

  it('lets only the first setIfAbsent claim a key and keeps the winner’s value', async () => {
    expect(await h.store.setIfAbsent('evt:1', 'first', 60_000)).toBe(true);
    expect(await h.store.setIfAbsent('evt:1', 'second', 60_000)).toBe(false);
    expect(await h.store.get('evt:1')).toBe('first');
  });

  it('grants exactly one of 50 concurrent setIfAbsent calls (event de-duplication)', async () => {
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) => h.store.setIfAbsent('evt:race', `worker-${i}`, 60_000)),
    );
    const winners = results.flatMap((won, i) => (won ? [i] : []));
    expect(winners).toHaveLength(1);
    expect(await h.store.get('evt:race')).toBe(`worker-${winners[0]}`);
  });

  it('expires keys after their TTL, after which the key can be claimed again', async () => {
    expect(await h.store.setIfAbsent('claim', 'a', h.ttlMs)).toBe(true);
    await h.store.set('plain', 'b', h.ttlMs);
    expect(await h.store.get('claim')).toBe('a');
    expect(await h.store.get('plain')).toBe('b');

    await h.waitPastTtl();

    expect(await h.store.get('claim')).toBeNull();
    expect(await h.store.get('plain')).toBeNull();
    expect(await h.store.setIfAbsent('claim', 'c', h.ttlMs)).toBe(true);
  });

  it('set overwrites an existing value, including one claimed by setIfAbsent', async () => {
    await h.store.setIfAbsent('k', 'claimed', 60_000);
    await h.store.set('k', 'overwritten', 60_000);
    expect(await h.store.get('k')).toBe('overwritten');
    await h.store.set('k', 'again', 60_000);
    expect(await h.store.get('k')).toBe('again');
  });

  it('delete removes a key (and deleting a missing key is not an error)', async () => {
    await h.store.set('k', 'v', 60_000);
    await h.store.delete('k');
    expect(await h.store.get('k')).toBeNull();
    await expect(h.store.delete('never-set')).resolves.toBeUndefined();
    expect(await h.store.setIfAbsent('k', 'v2', 60_000)).toBe(true);
  });

  it('returns null for a key that was never set', async () => {
    expect(await h.store.get('missing')).toBeNull();
  });

  it('answers ping while the backend is up, and rejects after close', async () => {
    await expect(h.store.ping()).resolves.toBeUndefined();
    await h.store.close();
    await expect(h.store.ping()).rejects.toThrow();
  });

  it('round-trips unicode keys and values byte for byte', async () => {
    const value = '文档统计 📊 — naïve café, 𝒻𝑒𝒾𝓈𝒽𝓊 \u{1F1E8}\u{1F1F3} e\u0301';
    await h.store.set('用户:ou_统计', value, 60_000);
    expect(await h.store.get('用户:ou_统计')).toBe(value);
    expect(await h.store.setIfAbsent('用户:ou_统计', 'other', 60_000)).toBe(false);
  });

  it('compareAndDelete removes a key only while it holds the expected value (lock release)', async () => {
    await h.store.set('lock:k', 'owner-a', 60_000);
    expect(await h.store.compareAndDelete('lock:k', 'owner-b')).toBe(false);
    expect(await h.store.get('lock:k')).toBe('owner-a');

    expect(await h.store.compareAndDelete('lock:k', 'owner-a')).toBe(true);
    expect(await h.store.get('lock:k')).toBeNull();
    expect(await h.store.setIfAbsent('lock:k', 'owner-c', 60_000)).toBe(true);
  });

  it('compareAndDelete of a missing key is false and creates nothing', async () => {
    expect(await h.store.compareAndDelete('never-set', 'x')).toBe(false);
    expect(await h.store.get('never-set')).toBeNull();
  });

  it('does not let an owner whose lock expired release the lock its successor claimed', async () => {
    expect(await h.store.setIfAbsent('lock:k', 'slow-owner', h.ttlMs)).toBe(true);
    await h.waitPastTtl();
    expect(await h.store.compareAndDelete('lock:k', 'slow-owner')).toBe(false);
    expect(await h.store.setIfAbsent('lock:k', 'successor', 60_000)).toBe(true);
    expect(await h.store.compareAndDelete('lock:k', 'slow-owner')).toBe(false);
    expect(await h.store.get('lock:k')).toBe('successor');
  });

  it('reports exactly one of 20 concurrent compareAndDelete calls for the same value as the deleter', async () => {
    await h.store.set('lock:k', '令牌-✓', 60_000);
    const results = await Promise.all(
      Array.from({ length: 20 }, () => h.store.compareAndDelete('lock:k', '令牌-✓')),
    );
    expect(results.filter(Boolean)).toHaveLength(1);
    expect(await h.store.get('lock:k')).toBeNull();
  });

  it('getMany answers in key order with null for missing, expired and hash keys, and [] for no keys', async () => {
    await h.store.set('a', '1', 60_000);
    await h.store.set('short', 'gone soon', h.ttlMs);
    await h.store.set('c', '3', 60_000);
    await h.store.hashSet('h', 'f', 'v');
    await h.waitPastTtl();
    expect(await h.store.getMany(['c', 'missing', 'a', 'short', 'h', 'a'])).toEqual([
      '3',
      null,
      '1',
      null,
      null,
      '1',
    ]);
    expect(await h.store.getMany([])).toEqual([]);
  });

  it('keeps hash fields apart, overwrites a field in place and lists every field with hashGetAll', async () => {
    await h.store.hashSet('subs', 'oc_1', 'one');
    await h.store.hashSet('subs', 'oc_2', 'two');
    await h.store.hashSet('subs', 'oc_1', 'uno');
    await h.store.hashSet('other', 'oc_1', 'elsewhere');
    expect(await h.store.hashGet('subs', 'oc_1')).toBe('uno');
    expect(await h.store.hashGet('subs', 'oc_2')).toBe('two');
    expect(await h.store.hashGetAll('subs')).toEqual({ oc_1: 'uno', oc_2: 'two' });
  });

  it('answers null and {} for a missing hash or field, and deleting either is not an error', async () => {
    expect(await h.store.hashGet('nohash', 'f')).toBeNull();
    expect(await h.store.hashGetAll('nohash')).toEqual({});
    await h.store.hashSet('h', 'f', 'v');
    expect(await h.store.hashGet('h', 'other')).toBeNull();
    await expect(h.store.hashDelete('h', 'other')).resolves.toBeUndefined();
    await expect(h.store.hashDelete('nohash', 'f')).resolves.toBeUndefined();
    expect(await h.store.hashGetAll('h')).toEqual({ f: 'v' });
  });

  it('hashDelete removes one field, and the key itself with the last field', async () => {
    await h.store.hashSet('h', 'a', '1');
    await h.store.hashSet('h', 'b', '2');
    await h.store.hashDelete('h', 'a');
    expect(await h.store.hashGetAll('h')).toEqual({ b: '2' });
    await h.store.hashDelete('h', 'b');
    expect(await h.store.hashGetAll('h')).toEqual({});
    // The key is free again: a string may now live there.
    expect(await h.store.setIfAbsent('h', 'str', 60_000)).toBe(true);
  });

  it('keeps hashes past any TTL (they have none)', async () => {
    await h.store.hashSet('h', 'f', 'v');
    await h.waitPastTtl();
    expect(await h.store.hashGet('h', 'f')).toBe('v');
  });

  it('lands every one of 20 concurrent hashSet calls on different fields', async () => {
    await Promise.all(Array.from({ length: 20 }, (_, i) => h.store.hashSet('h', `chat-${i}`, String(i))));
    const all = await h.store.hashGetAll('h');
    expect(Object.keys(all)).toHaveLength(20);
    expect(all['chat-7']).toBe('7');
  });

  it('round-trips unicode hash keys, fields and values', async () => {
    const value = JSON.stringify({ title: '周报 📈 naïve' });
    await h.store.hashSet('订阅', 'oc_群聊', value);
    expect(await h.store.hashGet('订阅', 'oc_群聊')).toBe(value);
    expect(await h.store.hashGetAll('订阅')).toEqual({ oc_群聊: value });
  });

  it('refuses to mix string and hash commands on one key (WRONGTYPE), while set and delete replace either', async () => {
    await h.store.hashSet('h', 'f', 'v');
    await h.store.set('s', 'v', 60_000);
    await expect(h.store.get('h')).rejects.toThrow(/WRONGTYPE/);
    await expect(h.store.compareAndDelete('h', 'v')).rejects.toThrow(/WRONGTYPE/);
    await expect(h.store.hashGet('s', 'f')).rejects.toThrow(/WRONGTYPE/);
    await expect(h.store.hashSet('s', 'f', 'v')).rejects.toThrow(/WRONGTYPE/);
    await expect(h.store.hashGetAll('s')).rejects.toThrow(/WRONGTYPE/);
    expect(await h.store.setIfAbsent('h', 'claim', 60_000)).toBe(false);
    expect(await h.store.hashGet('h', 'f')).toBe('v');

    await h.store.set('h', 'now a string', 60_000);
    expect(await h.store.get('h')).toBe('now a string');
    await h.store.delete('h');
    await h.store.hashSet('h', 'f', 'again');
    expect(await h.store.hashGetAll('h')).toEqual({ f: 'again' });
  });

  it('hashIncrement counts fields from 0, adds to them and answers each new value', async () => {
    expect(await h.store.hashIncrement('calls', { 'im.v1.message.create': 1, _total: 1 }, 60_000)).toEqual({
      'im.v1.message.create': 1,
      _total: 1,
    });
    expect(
      await h.store.hashIncrement('calls', { 'drive.v1.fileStatistics.get': 2, _total: 2 }, 60_000),
    ).toEqual({ 'drive.v1.fileStatistics.get': 2, _total: 3 });
    expect(await h.store.hashGetAll('calls')).toEqual({
      'im.v1.message.create': '1',
      'drive.v1.fileStatistics.get': '2',
      _total: '3',
    });
    expect(await h.store.hashIncrement('calls', {}, 60_000)).toEqual({});
  });

  it('loses none of 50 concurrent hashIncrement calls (replicas counting the same month)', async () => {
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        h.store.hashIncrement('calls', { [`e${i % 5}`]: 1, _total: 1 }, 60_000),
      ),
    );
    const all = await h.store.hashGetAll('calls');
    expect(all._total).toBe('50');
    for (let i = 0; i < 5; i++) expect(all[`e${i}`]).toBe('10');
  });

  it('hashIncrement gives the hash a TTL, renewed by each increment, after which it counts from 0 again', async () => {
    await h.store.hashIncrement('calls', { n: 1 }, h.ttlMs);
    await h.waitPastTtl();
    expect(await h.store.hashGetAll('calls')).toEqual({});
    expect(await h.store.hashGet('calls', 'n')).toBeNull();
    // Gone means gone for every command: the key is free for a string, and a new count starts at 1.
    expect(await h.store.setIfAbsent('calls', 'str', h.ttlMs)).toBe(true);
    await h.store.delete('calls');
    expect(await h.store.hashIncrement('calls', { n: 1 }, 60_000)).toEqual({ n: 1 });
    // A long TTL given later replaces the short one.
    await h.store.hashIncrement('short', { n: 1 }, h.ttlMs);
    await h.store.hashIncrement('short', { n: 1 }, 60_000);
    await h.waitPastTtl();
    expect(await h.store.hashGet('short', 'n')).toBe('2');
  });

  it('hashIncrement refuses a string key, a field that holds no integer, and an increment that is not one', async () => {
    await h.store.set('s', 'v', 60_000);
    await expect(h.store.hashIncrement('s', { n: 1 }, 60_000)).rejects.toThrow(/WRONGTYPE/);
    await h.store.hashSet('h', 'word', 'abc');
    await expect(h.store.hashIncrement('h', { word: 1 }, 60_000)).rejects.toThrow(/not an integer/);
    await expect(h.store.hashIncrement('h', { n: 0.5 }, 60_000)).rejects.toBeInstanceOf(RangeError);
    await expect(h.store.hashIncrement('h', { n: 1 }, 0)).rejects.toBeInstanceOf(RangeError);
    expect(await h.store.hashGet('h', 'n')).toBeNull();
  });

  it('rejects a TTL that is not a positive number instead of storing a key forever', async () => {
    await expect(h.store.set('k', 'v', 0)).rejects.toBeInstanceOf(RangeError);
    await expect(h.store.setIfAbsent('k', 'v', -5)).rejects.toBeInstanceOf(RangeError);
    await expect(h.store.set('k', 'v', Number.NaN)).rejects.toBeInstanceOf(RangeError);
    expect(await h.store.get('k')).toBeNull();
  });
});

describe('MemoryStore specifics', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('keeps a key through its last millisecond and drops it one millisecond later, like Redis', async () => {
    let now = 0;
    const store = new MemoryStore({ now: () => now });
    await store.set('k', 'v', 1_000);
    now = 1_000;
    expect(await store.get('k')).toBe('v');
    now = 1_001;
    expect(await store.get('k')).toBeNull();
    await store.close();
  });

  it('sweeps expired entries that nobody reads again, so memory does not grow forever', async () => {
    vi.useFakeTimers();
    let now = 0;
    const store = new MemoryStore({ now: () => now, sweepIntervalMs: 10_000 });
    await store.set('short', 'v', 100);
    await store.set('long', 'v', 60_000);
    now = 5_000;
    vi.advanceTimersByTime(10_000);
    expect(store.size).toBe(1);
    expect(await store.get('long')).toBe('v');
    await store.close();
  });

  it('sweeps hashes whose hashIncrement TTL ran out, and keeps hashes that have none', async () => {
    vi.useFakeTimers();
    let now = 0;
    const store = new MemoryStore({ now: () => now, sweepIntervalMs: 10_000 });
    await store.hashIncrement('month', { calls: 3 }, 100);
    await store.hashSet('subs', 'oc_1', '{}');
    now = 5_000;
    vi.advanceTimersByTime(10_000);
    expect(store.size).toBe(1);
    expect(await store.hashGetAll('subs')).toEqual({ oc_1: '{}' });
    await store.close();
  });

  it('stops its sweep timer on close', async () => {
    vi.useFakeTimers();
    const store = new MemoryStore();
    expect(vi.getTimerCount()).toBe(1);
    await store.close();
    expect(vi.getTimerCount()).toBe(0);
  });
});

describe('RedisStore specifics', () => {
  beforeEach(async () => {
    await db.redis.flushdb();
  });

  it('sets a real Redis TTL (PX) on both set and setIfAbsent', async () => {
    const store = new RedisStore(db.url);
    await store.set('plain', 'v', 30_000);
    await store.setIfAbsent('claim', 'v', 30_000);
    for (const key of ['plain', 'claim']) {
      const pttl = await db.redis.pttl(key);
      expect(pttl).toBeGreaterThan(25_000);
      expect(pttl).toBeLessThanOrEqual(30_000);
    }
    await store.close();
  });

  it('sets a real Redis TTL on a hash through hashIncrement, and HSET keeps it', async () => {
    const store = new RedisStore(db.url);
    await store.hashIncrement('calls', { n: 1 }, 30_000);
    await store.hashSet('calls', 'note', 'x');
    const pttl = await db.redis.pttl('calls');
    expect(pttl).toBeGreaterThan(25_000);
    expect(pttl).toBeLessThanOrEqual(30_000);
    await store.close();
  });

  it('stores hashes without a TTL (PTTL -1)', async () => {
    const store = new RedisStore(db.url);
    await store.hashSet('h', 'f', 'v');
    expect(await db.redis.pttl('h')).toBe(-1);
    expect(await db.redis.hget('h', 'f')).toBe('v');
    await store.close();
  });

  it('fails getMany and the hash commands fast with StoreUnavailableError naming the operation', {
    timeout: 5_000,
  }, async () => {
    const port = await findClosedPort();
    const store = new RedisStore(`redis://127.0.0.1:${port}`);
    try {
      const calls: [string, () => Promise<unknown>][] = [
        ['getMany', () => store.getMany(['a', 'b'])],
        ['hashGet', () => store.hashGet('h', 'f')],
        ['hashSet', () => store.hashSet('h', 'f', 'v')],
        ['hashDelete', () => store.hashDelete('h', 'f')],
        ['hashGetAll', () => store.hashGetAll('h')],
        ['hashIncrement', () => store.hashIncrement('h', { f: 1 }, 60_000)],
      ];
      for (const [operation, call] of calls) {
        await expect(call()).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', operation });
      }
      // An empty getMany needs no server at all.
      expect(await store.getMany([])).toEqual([]);
    } finally {
      await store.close();
    }
  });

  // The explicit timeout turns a regression (commands waiting for a reconnect) into a quick, named failure.
  it('fails fast with StoreUnavailableError when Redis is unreachable, instead of hanging the webhook', {
    timeout: 5_000,
  }, async () => {
    const port = await findClosedPort();
    const store = new RedisStore(`redis://127.0.0.1:${port}`);
    try {
      const started = Date.now();
      await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
      // Later commands, issued while the client is reconnecting in the background, must not queue up either.
      await expect(store.setIfAbsent('evt', 'v', 1_000)).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(store.get('evt')).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE', operation: 'get' });
      // The 5 s test timeout is the hang guard; how fast it failed is a figure, not a gate.
      console.info(
        `[figure] three commands against an unreachable Redis failed in ${Date.now() - started} ms`,
      );
    } finally {
      await store.close();
    }
  });

  it('reconnects by itself after the connection drops', async () => {
    const store = new RedisStore(db.url);
    await store.ping();
    const before = await storeConnectionIds();
    expect(before).toHaveLength(1);
    await db.redis.client('KILL', 'ID', before[0]!);

    const deadline = Date.now() + 5_000;
    let healthy = false;
    while (!healthy && Date.now() < deadline) {
      healthy = await store.ping().then(
        () => true,
        () => false,
      );
      if (!healthy) await sleep(100);
    }
    expect(healthy).toBe(true);
    const after = await storeConnectionIds();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before[0]);
    await store.close();
  });

  it('lends its own connection as `client`: same database, closed with the store that opened it', async () => {
    const store = new RedisStore(db.url);
    await store.set('k', 'from-store', 60_000);
    expect(await store.client.get('k')).toBe('from-store');
    await store.client.set('k2', 'from-borrower');
    expect(await store.get('k2')).toBe('from-borrower');
    await store.close();
    await expect(store.client.ping()).rejects.toThrow();
  });

  it('lends a caller-provided client as `client` unchanged', async () => {
    const store = new RedisStore(db.redis);
    expect(store.client).toBe(db.redis);
    await store.close();
  });

  it('fails compareAndDelete with StoreUnavailableError when Redis is unreachable', async () => {
    const port = await findClosedPort();
    const store = new RedisStore(`redis://127.0.0.1:${port}`);
    try {
      await expect(store.compareAndDelete('lock:k', 'owner')).rejects.toMatchObject({
        code: 'STORE_UNAVAILABLE',
        operation: 'compareAndDelete',
      });
    } finally {
      await store.close();
    }
  });

  it('leaves a caller-provided client open on close (the caller owns it)', async () => {
    const store = new RedisStore(db.redis);
    await store.set('k', 'v', 60_000);
    await store.close();
    expect(await db.redis.get('k')).toBe('v');
  });
});

describe('createStore', () => {
  const makeLogger = () => ({ warn: vi.fn(), info: vi.fn() });

  it('falls back to memory with exactly one warning when no Redis URL is configured', async () => {
    const logger = makeLogger();
    const store = await createStore({ logger });
    expect(store.kind).toBe('memory');
    expect(logger.warn).toHaveBeenCalledTimes(1);
    expect(String(logger.warn.mock.calls[0]?.[1])).toMatch(/memory.*single instance.*lost on restart/);
    await store.close();
  });

  it('connects to Redis when a URL is configured, and the store works', async () => {
    const logger = makeLogger();
    const store = await createStore({ redisUrl: db.url, logger });
    expect(store.kind).toBe('redis');
    await store.set('k', 'v', 60_000);
    expect(await db.redis.get('k')).toBe('v');
    expect(logger.warn).not.toHaveBeenCalled();
    await store.close();
  });

  it('throws a clear error without the password when Redis cannot be reached at startup', async () => {
    const port = await findClosedPort();
    const logger = makeLogger();
    const started = Date.now();
    const error = await createStore({ redisUrl: `redis://bot:s3cr3t-pw@127.0.0.1:${port}/0`, logger }).then(
      () => undefined,
      (err: unknown) => err,
    );
    console.info(`[figure] createStore gave up on an unreachable Redis in ${Date.now() - started} ms`);
    expect(error).toBeInstanceOf(StoreUnavailableError);
    const message = (error as Error).message;
    expect(message).toContain(`127.0.0.1:${port}`);
    expect(message).toContain('REDIS_URL');
    expect(message).not.toContain('s3cr3t-pw');
    expect(JSON.stringify([logger.warn.mock.calls, logger.info.mock.calls])).not.toContain('s3cr3t-pw');
  });
});

describe('redactRedisUrl', () => {
  it('masks the password and keeps what an operator needs to find the server', () => {
    expect(redactRedisUrl('rediss://default:hunter2@cache.example.com:6380/3')).toBe(
      'rediss://default:***@cache.example.com:6380/3',
    );
    expect(redactRedisUrl('redis://:hunter2@10.0.0.5:6379')).toBe('redis://:***@10.0.0.5:6379');
    expect(redactRedisUrl('redis://10.0.0.5:6379')).toBe('redis://10.0.0.5:6379');
  });

  it('prints nothing of a URL it cannot parse, since it may still hold a password', () => {
    expect(redactRedisUrl('not a url :hunter2@')).not.toContain('hunter2');
  });
});

/** Connection ids of RedisStore clients on this file's database (they all carry the bot's client name). */
async function storeConnectionIds(): Promise<string[]> {
  const list = (await db.redis.client('LIST')) as string;
  const dbNumber = new URL(db.url).pathname.slice(1);
  return list
    .split('\n')
    .filter((line) => line.includes(' name=feishu-stats-bot ') && line.includes(` db=${dbNumber} `))
    .map((line) => /^id=(\d+)/.exec(line)?.[1] ?? '');
}

/** A loopback port with nothing listening: bound, then released. */
function findClosedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject()));
    });
  });
}
