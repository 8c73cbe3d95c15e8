import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { FeishuApiError } from '../src/feishu/errors.js';
import { createRateLimiter, type RateLimiter, type RateLimitTable } from '../src/feishu/rate-limits.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';

/**
 * "Window" below is the published one (N calls per D). The limiter must keep any span of D (in fact of
 * D + margin, margin = max(25 ms, 2.5% of D)) at N calls or fewer, and should use all N.
 * Fake-clock tests assert exact grant times. Real-time tests run on a noisy 2-core machine, so they assert only
 * what a slow machine cannot break: counts, and waits at least as long as the limit demands (load can lengthen a
 * wait, never shorten it). How long a run took is printed as a `[figure]` line, never asserted.
 */

/** Starts `count` acquires at once and returns when each resolved, in ms since the start. */
async function acquireAll(limiter: RateLimiter, endpoint: string, count: number, scope?: string) {
  const start = Date.now();
  return Promise.all(
    Array.from({ length: count }, async () => {
      await limiter.acquire(endpoint, scope);
      return Date.now() - start;
    }),
  );
}

/** The most calls found in any span of `spanMs` (a sliding window, the strictest way Feishu could count). */
function busiestSpan(times: number[], spanMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  for (let i = 0; i < sorted.length; i += 1) {
    const first = sorted[i] ?? 0;
    let inSpan = 0;
    for (let j = i; j < sorted.length && (sorted[j] ?? 0) - first < spanMs; j += 1) inSpan += 1;
    most = Math.max(most, inSpan);
  }
  return most;
}

/** The most calls in one clock-aligned window of `windowMs`: how the emulator (and maybe Feishu) counts. */
function busiestFixedWindow(epochTimes: number[], windowMs: number): number {
  const counts = new Map<number, number>();
  for (const time of epochTimes) {
    const window = Math.floor(time / windowMs);
    counts.set(window, (counts.get(window) ?? 0) + 1);
  }
  return Math.max(0, ...counts.values());
}

/** Small seeded PRNG (mulberry32), so a failing arrival pattern can be replayed. */
function seededRandom(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const entries = () => lines.map((line) => JSON.parse(line) as { level: number; msg: string });
  return { logger: pino({ level: 'debug' }, stream), entries };
}

describe('createRateLimiter in memory, on a fake clock', () => {
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    vi.setSystemTime(1_700_000_000_000);
  });

  afterEach(() => {
    vi.restoreAllMocks();
    vi.useRealTimers();
  });

  /** Starts an acquire now; the returned promise gives the fake time it was granted at. */
  function grantTime(limiter: RateLimiter, endpoint: string, scope?: string): Promise<number> {
    return limiter.acquire(endpoint, scope).then(() => Date.now());
  }

  it('never lets more than N calls into any span of D, over many random arrival patterns', async () => {
    const shapes = [
      { points: 1, durationSec: 1 },
      { points: 3, durationSec: 0.2 },
      { points: 5, durationSec: 1 },
      { points: 10, durationSec: 2.5 },
      { points: 50, durationSec: 1 },
    ];
    for (let seed = 1; seed <= 40; seed += 1) {
      const random = seededRandom(seed);
      const tier = shapes[seed % shapes.length] ?? { points: 1, durationSec: 1 };
      const limiter = createRateLimiter({ table: { api: [tier] }, maxWaitMs: 3_600_000 });
      const windowMs = tier.durationSec * 1000;
      // Bursts and trickles: arrivals clustered at a few moments plus scattered ones, over ~4 windows.
      const arrivals = Array.from({ length: tier.points * 4 + 7 }, () =>
        random() < 0.5 ? Math.floor(random() * 4) * windowMs : Math.floor(random() * 4 * windowMs),
      );
      const start = Date.now();
      const granted = Promise.all(
        arrivals.map(
          (at) =>
            new Promise<number>((resolve) => {
              setTimeout(() => resolve(grantTime(limiter, 'api')), at);
            }),
        ),
      );
      await vi.runAllTimersAsync();
      const times = (await granted).map((time) => time - start);

      expect(times, `seed ${seed}`).toHaveLength(arrivals.length);
      expect(busiestSpan(times, windowMs), `seed ${seed}`).toBeLessThanOrEqual(tier.points);
      // The margin too: the (i + N)th grant is at least D + 25 ms after the ith.
      expect(busiestSpan(times, windowMs + 25), `seed ${seed}`).toBeLessThanOrEqual(tier.points);
    }
  });

  it('grants the (N+1)th call the moment the oldest leaves the window plus margin, not at a bucket edge', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0); // no wake-up jitter: exact times
    const limiter = createRateLimiter({ table: { api: [{ points: 5, durationSec: 1 }] } });
    const start = Date.now();
    const early = [grantTime(limiter, 'api'), grantTime(limiter, 'api')];
    await vi.advanceTimersByTimeAsync(300);
    const later = [grantTime(limiter, 'api'), grantTime(limiter, 'api'), grantTime(limiter, 'api')];
    await vi.advanceTimersByTimeAsync(100);
    const waiting = [grantTime(limiter, 'api'), grantTime(limiter, 'api'), grantTime(limiter, 'api')];

    await vi.runAllTimersAsync();
    const since = async (times: Promise<number>[]) => (await Promise.all(times)).map((t) => t - start);

    expect(await since(early)).toEqual([0, 0]);
    expect(await since(later)).toEqual([300, 300, 300]);
    // The two calls at 0 leave at 1000 + 25 ms of margin; the third waiter takes the first call at 300's slot.
    expect(await since(waiting)).toEqual([1025, 1025, 1325]);
  });

  it('lets a whole minute of 1000/min through at once, then waits 60 s + 1.5 s of margin', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const limiter = createRateLimiter({
      table: { api: [{ points: 1000, durationSec: 60 }] },
      maxWaitMs: 120_000,
    });
    const start = Date.now();

    const times = Array.from({ length: 1002 }, () => grantTime(limiter, 'api'));
    await vi.runAllTimersAsync();
    const granted = (await Promise.all(times)).map((t) => t - start);

    expect(granted.filter((t) => t === 0)).toHaveLength(1000);
    expect(granted.slice(1000)).toEqual([61_500, 61_500]);
  });

  it('adds 0–15 ms of jitter to the wake-up so waiters do not all retry at the same instant', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.99);
    const limiter = createRateLimiter({ table: { api: [{ points: 1, durationSec: 1 }] } });
    const start = Date.now();

    const times = [grantTime(limiter, 'api'), grantTime(limiter, 'api')];
    await vi.runAllTimersAsync();

    expect((await Promise.all(times)).map((t) => t - start)).toEqual([0, 1025 + 14]);
  });

  it('keeps a per-chat tier apart for each chat and skips it for calls without a chat', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const limiter = createRateLimiter({ table: { send: [{ points: 1, durationSec: 1, perScope: true }] } });
    const start = Date.now();

    const chats = ['oc_a', 'oc_b', 'oc_c', 'oc_a'].map((chat) => grantTime(limiter, 'send', chat));
    const unscoped = Array.from({ length: 10 }, () => grantTime(limiter, 'send'));
    await vi.runAllTimersAsync();

    expect((await Promise.all(chats)).map((t) => t - start)).toEqual([0, 0, 0, 1025]);
    expect((await Promise.all(unscoped)).map((t) => t - start)).toEqual(Array(10).fill(0));
  });

  it('counts create and reply to one chat together, but a patch of the same id on its own', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const limiter = createRateLimiter(); // the published table
    const start = Date.now();

    const sends = Array.from({ length: 4 }, () => grantTime(limiter, 'im.v1.message.create', 'oc_chat'));
    const replies = [1, 2].map(() => grantTime(limiter, 'im.v1.message.reply', 'oc_chat'));
    const patches = Array.from({ length: 5 }, () => grantTime(limiter, 'im.v1.message.patch', 'oc_chat'));
    const otherChat = grantTime(limiter, 'im.v1.message.reply', 'oc_other');
    await vi.runAllTimersAsync();
    const since = async (times: Promise<number>[]) => (await Promise.all(times)).map((t) => t - start);

    // 5/s per recipient across create + reply: the sixth message to oc_chat waits a window.
    expect(await since(sends)).toEqual([0, 0, 0, 0]);
    expect(await since(replies)).toEqual([0, 1025]);
    expect(await since(patches)).toEqual([0, 0, 0, 0, 0]);
    expect(await since([otherChat])).toEqual([0]);
  });

  it('waits for all tiers of an endpoint: 50/s and 1000/min together', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const limiter = createRateLimiter({ maxWaitMs: 120_000 });
    const start = Date.now();

    const times = Array.from({ length: 1001 }, () => grantTime(limiter, 'drive.v1.fileViewRecord.list'));
    await vi.runAllTimersAsync();
    const granted = (await Promise.all(times)).map((t) => t - start);

    // 50 per 1025 ms for 20 windows; the 1001st then waits for the minute tier, not the second tier.
    expect(granted.slice(0, 50)).toEqual(Array(50).fill(0));
    expect(granted[50]).toBe(1025);
    expect(granted[999]).toBe(19 * 1025);
    expect(granted[1000]).toBe(61_500);
    expect(busiestSpan(granted, 1000)).toBe(50);
  });

  it('fails with a 99991400 FeishuApiError at once when even the next free slot is past maxWaitMs', async () => {
    const limiter = createRateLimiter({
      table: { 'drive.v2.fileLike.list': [{ points: 1, durationSec: 3_600 }] },
      maxWaitMs: 200,
    });
    await limiter.acquire('drive.v2.fileLike.list');
    const start = Date.now();

    const error = await limiter.acquire('drive.v2.fileLike.list').then(
      () => undefined,
      (e: unknown) => e,
    );

    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({
      endpoint: 'drive.v2.fileLike.list',
      feishuCode: 99991400,
      feishuMsg: 'client-side rate limit wait exceeded',
    });
    // The next slot is an hour away: no point sleeping through the budget first.
    expect(Date.now() - start).toBe(0);
  });

  it('waits while a slot may free before maxWaitMs, and fails once the next one is past it', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0);
    const limiter = createRateLimiter({ table: { api: [{ points: 1, durationSec: 1 }] }, maxWaitMs: 1_500 });
    const start = Date.now();
    const settled = (p: Promise<void>) =>
      p.then(
        () => ({ ok: true, at: Date.now() - start }),
        () => ({ ok: false, at: Date.now() - start }),
      );

    const calls = [
      settled(limiter.acquire('api')),
      settled(limiter.acquire('api')),
      settled(limiter.acquire('api')),
    ];
    await vi.runAllTimersAsync();

    // Both waiters hope for the slot freeing at 1025 ms; once the second has it, the next is at 2050 ms,
    // past the third's deadline (1500 ms): it fails then, without sleeping on to the deadline.
    expect(await Promise.all(calls)).toEqual([
      { ok: true, at: 0 },
      { ok: true, at: 1025 },
      { ok: false, at: 1025 },
    ]);
  });

  it('takes all tiers of an endpoint or none: a refused later tier leaves the earlier one untouched', async () => {
    const tierA = { points: 2, durationSec: 3_600, shareKey: 'a' };
    const tierB = { points: 2, durationSec: 3_600, shareKey: 'b' };
    const limiter = createRateLimiter({
      table: { both: [tierA, tierB], onlyA: [tierA], onlyB: [tierB] },
      maxWaitMs: 100,
    });
    await limiter.acquire('onlyB');
    await limiter.acquire('onlyB');

    await expect(limiter.acquire('both')).rejects.toMatchObject({ feishuCode: 99991400 });
    await expect(limiter.acquire('both')).rejects.toMatchObject({ feishuCode: 99991400 });
    // Tier A still has both its calls.
    await expect(limiter.acquire('onlyA')).resolves.toBeUndefined();
    await expect(limiter.acquire('onlyA')).resolves.toBeUndefined();
    await expect(limiter.acquire('onlyA')).rejects.toMatchObject({ feishuCode: 99991400 });
  });

  it('lets endpoints missing from the table through at once', async () => {
    const limiter = createRateLimiter({ table: { limited: [{ points: 2, durationSec: 60 }] } });
    const start = Date.now();

    await Promise.all(Array.from({ length: 500 }, () => limiter.acquire('bot.v3.info')));

    expect(Date.now() - start).toBe(0);
  });
});

describe('createRateLimiter in memory, in real time', () => {
  it('uses the whole budget: 100 calls at 10 per 400 ms, all 10 of a window at once, never > 10 per window', async () => {
    // 400 ms rather than 200: the 25 ms margin and timer lag on a busy machine stay small beside the window.
    const limiter = createRateLimiter({ table: { api: [{ points: 10, durationSec: 0.4 }] } });
    const grants: number[] = [];
    const start = Date.now();

    const all = Promise.all(
      Array.from({ length: 100 }, async () => {
        await limiter.acquire('api');
        grants.push(Date.now());
      }),
    );
    // Granted before any timer could run, whatever the machine's speed: the first window's 10, not one more.
    // Buckets at 80% of the rate would hand out 8.
    await new Promise((resolve) => setImmediate(resolve));
    expect(grants).toHaveLength(10);
    await all;
    const elapsed = Date.now() - start;

    // 10 at once, then 10 more each window: the last ten 9 windows in (9 × 425 ms with the margin), never sooner.
    // How close to that it got is a figure, not a gate.
    const nineWindowsMs = 9 * 400;
    expect(elapsed).toBeGreaterThanOrEqual(nineWindowsMs);
    console.info(`[figure] 100 calls at 10 per 400 ms: ${elapsed} ms (9 windows = ${nineWindowsMs} ms)`);
    expect(busiestFixedWindow(grants, 400)).toBeLessThanOrEqual(10);
    expect(busiestSpan(grants, 400)).toBeLessThanOrEqual(10);
  });

  it('bursts a whole window at once (20 per 2 s), then waits for the window to pass', async () => {
    const limiter = createRateLimiter({ table: { api: [{ points: 20, durationSec: 2 }] } });
    const start = Date.now();
    const times: number[] = [];

    const all = Promise.all(
      Array.from({ length: 21 }, async () => {
        await limiter.acquire('api');
        times.push(Date.now() - start);
      }),
    );
    // Granted before any timer could run, whatever the machine's speed: the whole window, and not one call more.
    await new Promise((resolve) => setImmediate(resolve));
    expect(times).toHaveLength(20);
    await all;
    // 2 s + 50 ms margin + up to 15 ms jitter.
    expect(times[20]).toBeGreaterThanOrEqual(2_050);
    console.info(`[figure] 21st call at 20 per 2 s granted after ${times[20]} ms`);
  });
});

describe('createRateLimiter on Redis', () => {
  let db: FreshRedisDb;
  const extraClients: Redis[] = [];
  const FIVE_PER_HALF_SECOND: RateLimitTable = { burst: [{ points: 5, durationSec: 0.5 }] };

  beforeAll(async () => {
    db = await freshRedisDb();
  });

  afterAll(async () => {
    for (const client of extraClients) client.disconnect();
    await db.cleanup();
  });

  async function connect(): Promise<Redis> {
    const client = new Redis(db.url, {
      maxRetriesPerRequest: 1,
      enableOfflineQueue: false,
      lazyConnect: true,
    });
    client.on('error', () => {});
    extraClients.push(client);
    await client.connect();
    return client;
  }

  it('shares one budget between two processes on the same Redis, never more than N per window', async () => {
    // Two connections, as two bot instances would have.
    const [one, two] = await Promise.all([connect(), connect()]);
    const first = createRateLimiter({ redis: one, keyPrefix: 'rl-share', table: FIVE_PER_HALF_SECOND });
    const second = createRateLimiter({ redis: two, keyPrefix: 'rl-share', table: FIVE_PER_HALF_SECOND });

    const [a, b] = await Promise.all([acquireAll(first, 'burst', 8), acquireAll(second, 'burst', 8)]);
    const times = [...a, ...b];

    // Separate budgets would let 10 through at once and finish within one window.
    expect(busiestSpan(times, 500)).toBeLessThanOrEqual(5);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(3 * 525);
    console.info(
      `[figure] 16 calls at 5 per 500 ms over two connections: last granted after ${Math.max(...times)} ms`,
    );
    expect(await db.redis.keys('rl-share:*')).toEqual(['rl-share:v2:burst:5per0.5s:app']);
  });

  it('keeps per-chat logs under their own keys, expiring a window after the last call', async () => {
    const client = await connect();
    const scripts = vi.spyOn(client, 'evalsha');
    const table: RateLimitTable = { send: [{ points: 1, durationSec: 1, perScope: true }] };
    const limiter = createRateLimiter({ redis: client, keyPrefix: 'rl-scope', table });
    const start = Date.now();
    const since = async (chat: string) => {
      await limiter.acquire('send', chat);
      return Date.now() - start;
    };

    const [chatA, chatB] = await Promise.all([since('oc_a'), since('oc_b')]);
    // One script run each: both chats had a slot on the first try, neither waited for the other's budget.
    const firstTries = scripts.mock.calls.length;
    const keys = (await db.redis.keys('rl-scope:*')).sort();
    const ttl = await db.redis.pttl('rl-scope:v2:send:1per1s:scoped:oc_b');
    const chatAAgain = await since('oc_a');

    expect(firstTries).toBe(2);
    console.info(`[figure] one call each for two chats at 1 per 1 s: ${Math.max(chatA, chatB)} ms`);
    expect(chatAAgain).toBeGreaterThanOrEqual(1_000);
    expect(keys).toEqual(['rl-scope:v2:send:1per1s:scoped:oc_a', 'rl-scope:v2:send:1per1s:scoped:oc_b']);
    // The log is only needed for one window (plus margin) after its last call.
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1_025);
  });

  it('takes all tiers in one script: a refused later tier adds nothing to the earlier one', async () => {
    const client = await connect();
    const tierA = { points: 2, durationSec: 3_600, shareKey: 'a' };
    const tierB = { points: 1, durationSec: 3_600, shareKey: 'b' };
    const limiter = createRateLimiter({
      redis: client,
      keyPrefix: 'rl-atomic',
      table: { both: [tierA, tierB], onlyB: [tierB] },
      maxWaitMs: 100,
    });
    await limiter.acquire('onlyB');

    await expect(limiter.acquire('both')).rejects.toMatchObject({ feishuCode: 99991400 });

    expect(await db.redis.zcard('rl-atomic:v2:a:2per3600s:app')).toBe(0);
    expect(await db.redis.zcard('rl-atomic:v2:b:1per3600s:app')).toBe(1);
  });

  it('wakes each waiter near its own turn instead of all of them whenever a slot frees', async () => {
    const client = await connect();
    const scripts = vi.spyOn(client, 'evalsha');
    const limiter = createRateLimiter({
      redis: client,
      keyPrefix: 'rl-herd',
      table: { api: [{ points: 5, durationSec: 0.2 }] },
    });

    const times = await acquireAll(limiter, 'api', 60);

    expect(busiestSpan(times, 200)).toBeLessThanOrEqual(5);
    // Waking every waiter whenever the window frees costs 60 + 55 + 50 + … + 5 = 390 scripts. Each waiter
    // here wakes about twice: once with the first refused burst (none knew of the others yet), once at its turn.
    expect(scripts.mock.calls.length).toBeLessThanOrEqual(4 * 60);
  });

  it('counts in memory when Redis is unreachable, still limiting, and says so once', async () => {
    const closedPort = await findClosedPort();
    const unreachable = new Redis({
      port: closedPort,
      host: '127.0.0.1',
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    unreachable.on('error', () => {});
    extraClients.push(unreachable);
    const { logger, entries } = captureLogger();
    const limiter = createRateLimiter({ redis: unreachable, table: FIVE_PER_HALF_SECOND, logger });

    const times = await acquireAll(limiter, 'burst', 8);

    expect(times).toHaveLength(8);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(500);
    expect(busiestSpan(times, 500)).toBeLessThanOrEqual(5);
    const warnings = entries().filter((entry) => entry.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]?.msg).toContain('cannot reach Redis');
  });

  it('falls back without forgetting what Redis granted, and says once when Redis is back', async () => {
    let offsetMs = 0;
    const now = () => Date.now() + offsetMs;
    const client = new Redis(db.url, {
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
    });
    client.on('error', () => {});
    extraClients.push(client);
    await client.connect();
    const { logger, entries } = captureLogger();
    const table: RateLimitTable = { api: [{ points: 2, durationSec: 3_600 }] };
    const limiter = createRateLimiter({
      redis: client,
      keyPrefix: 'rl-back',
      table,
      logger,
      now,
      maxWaitMs: 50,
    });

    await limiter.acquire('api');
    await limiter.acquire('api');
    const closed = new Promise((resolve) => client.once('end', resolve));
    client.disconnect();
    await closed;
    // In memory now, and this process's two calls still fill the window.
    await expect(limiter.acquire('api')).rejects.toMatchObject({ feishuCode: 99991400 });
    expect(entries().filter((entry) => entry.level === 40)).toHaveLength(1);

    await client.connect();
    offsetMs += 5_000; // past the rest after a failure
    await expect(limiter.acquire('api')).rejects.toMatchObject({ feishuCode: 99991400 });
    await expect(limiter.acquire('api')).rejects.toMatchObject({ feishuCode: 99991400 });

    const recoveries = entries().filter((entry) => entry.level === 30);
    expect(recoveries.map((entry) => entry.msg)).toEqual([
      'rate limiter reached Redis again; limits are shared across processes again',
    ]);
    expect(await db.redis.zcard('rl-back:v2:api:2per3600s:app')).toBe(2);
  });
});

async function findClosedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}
