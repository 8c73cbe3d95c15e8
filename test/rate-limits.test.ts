import { createServer } from 'node:net';
import { Writable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FeishuApiError } from '../src/errors.js';
import {
  createRateLimiter,
  FEISHU_RATE_LIMITS,
  planTier,
  type RateLimiter,
  type RateLimitTable,
} from '../src/feishu/rate-limits.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';

/**
 * Timing tests on a noisy 2-core machine: they count calls per window with slack and never assert exact
 * durations. "Window" below is the published one (N calls per D); the limiter must keep any span of D under N.
 */

const FIVE_PER_HALF_SECOND: RateLimitTable = { burst: [{ points: 5, durationSec: 0.5 }] };

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

/** Sleeps until just after a clock-aligned bucket of `bucketMs` starts, so a test owns a whole bucket. */
async function waitForBucketStart(bucketMs: number): Promise<void> {
  await delay(bucketMs - (Date.now() % bucketMs) + 5);
}

function captureLogger() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: pino({ level: 'debug' }, stream), lines };
}

describe('planTier: the margin below each published limit', () => {
  it('keeps every published tier at or under N in any span of D, at 80% of the rate or more', () => {
    for (const tiers of Object.values(FEISHU_RATE_LIMITS)) {
      for (const tier of tiers) {
        const plan = planTier(tier);
        const buckets = Math.round((tier.durationSec * 1000) / plan.bucketMs);
        // A span of D overlaps at most buckets + 1 aligned buckets.
        expect((buckets + 1) * plan.pointsPerBucket).toBeLessThanOrEqual(tier.points);
        expect(buckets * plan.pointsPerBucket).toBeGreaterThanOrEqual(0.8 * tier.points);
      }
    }
  });

  it('spreads 5/s as one call every 250 ms and 1000/min as 100 calls every 6.7 s', () => {
    expect(planTier({ points: 5, durationSec: 1 })).toEqual({ bucketMs: 250, pointsPerBucket: 1 });
    const perMinute = planTier({ points: 1000, durationSec: 60 });
    expect(perMinute.pointsPerBucket).toBe(100);
    expect(perMinute.bucketMs).toBeCloseTo(60_000 / 9, 6);
  });
});

describe('createRateLimiter in memory', () => {
  it('spreads 15 calls over more than two windows with never more than 5 in any window', async () => {
    const limiter = createRateLimiter({ table: FIVE_PER_HALF_SECOND });

    const times = await acquireAll(limiter, 'burst', 15);

    expect(Math.max(...times)).toBeGreaterThanOrEqual(1_000);
    // 400 of the 500 ms: slack for event-loop lag between the grant and the timestamp.
    expect(busiestSpan(times, 400)).toBeLessThanOrEqual(5);
  });

  it('does not let the calls left in one window and the next window burst together at the edge', async () => {
    // A fixed window opened by a lone call lets 4 more through just before it closes and 5 right after.
    const limiter = createRateLimiter({ table: FIVE_PER_HALF_SECOND });
    await limiter.acquire('burst');
    await delay(440);

    const times = await acquireAll(limiter, 'burst', 10);

    expect(busiestSpan(times, 400)).toBeLessThanOrEqual(5);
  });

  it('keeps a per-chat tier apart for each chat and skips it for calls without a chat', async () => {
    const table: RateLimitTable = { send: [{ points: 5, durationSec: 2, perScope: true }] };
    const { bucketMs } = planTier({ points: 5, durationSec: 2 });
    const limiter = createRateLimiter({ table });
    await waitForBucketStart(bucketMs);
    const start = Date.now();
    const since = async (scope?: string) => {
      await limiter.acquire('send', scope);
      return Date.now() - start;
    };

    const [chatA, chatB, chatC] = await Promise.all([since('oc_a'), since('oc_b'), since('oc_c')]);
    const chatAAgain = await since('oc_a');
    const unscoped = await Promise.all(Array.from({ length: 10 }, () => since()));

    // Three chats share nothing: each gets the bucket's one call at once; chat A's second waits for the next.
    expect(Math.max(chatA ?? 0, chatB ?? 0, chatC ?? 0)).toBeLessThan(bucketMs / 2);
    expect(chatAAgain).toBeGreaterThanOrEqual(bucketMs - 50);
    expect(Math.max(...unscoped) - chatAAgain).toBeLessThan(bucketMs / 2);
  });

  it('fails with a 99991400 FeishuApiError instead of waiting longer than maxWaitMs', async () => {
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
    expect(Date.now() - start).toBeLessThan(1_000);
  });

  it('needs every tier of an endpoint, and gives back what it took when a later tier refuses', async () => {
    // Each tier allows one call per hour: nothing frees up during the test.
    const tierA = { points: 2, durationSec: 3_600, shareKey: 'a' };
    const tierB = { points: 2, durationSec: 3_600, shareKey: 'b' };
    const limiter = createRateLimiter({
      table: { both: [tierA, tierB], onlyA: [tierA], onlyB: [tierB] },
      maxWaitMs: 100,
    });
    await limiter.acquire('onlyB');

    await expect(limiter.acquire('both')).rejects.toMatchObject({ feishuCode: 99991400 });
    // Tier A lent its call to the refused attempt and got it back.
    await expect(limiter.acquire('onlyA')).resolves.toBeUndefined();
    await expect(limiter.acquire('onlyA')).rejects.toMatchObject({ feishuCode: 99991400 });
  });

  it('lets endpoints missing from the table through at once', async () => {
    const limiter = createRateLimiter({ table: { limited: [{ points: 2, durationSec: 60 }] } });
    const start = Date.now();

    await Promise.all(Array.from({ length: 500 }, () => limiter.acquire('bot.v3.info')));

    expect(Date.now() - start).toBeLessThan(1_000);
  });
});

describe('createRateLimiter on Redis', () => {
  let db: FreshRedisDb;
  const extraClients: Redis[] = [];

  beforeAll(async () => {
    db = await freshRedisDb();
  });

  afterAll(async () => {
    for (const client of extraClients) client.disconnect();
    await db.cleanup();
  });

  it('shares one budget between two processes on the same Redis', async () => {
    // Two connections, as two bot instances would have.
    const other = new Redis(db.url, { maxRetriesPerRequest: 1 });
    extraClients.push(other);
    await Promise.all([db.redis.ping(), other.ping()]);
    const first = createRateLimiter({ redis: db.redis, keyPrefix: 'rl-test', table: FIVE_PER_HALF_SECOND });
    const second = createRateLimiter({ redis: other, keyPrefix: 'rl-test', table: FIVE_PER_HALF_SECOND });

    const [a, b] = await Promise.all([acquireAll(first, 'burst', 8), acquireAll(second, 'burst', 8)]);
    const times = [...a, ...b];

    // Separate budgets would let 2 calls through per bucket: 6–8 in any window.
    expect(busiestSpan(times, 400)).toBeLessThanOrEqual(5);
    expect(Math.max(...times)).toBeGreaterThanOrEqual(1_000);
    expect(await db.redis.keys('rl-test:*')).not.toHaveLength(0);
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
    const { logger, lines } = captureLogger();
    const limiter = createRateLimiter({ redis: unreachable, table: FIVE_PER_HALF_SECOND, logger });

    const times = await acquireAll(limiter, 'burst', 8);

    expect(times).toHaveLength(8);
    expect(busiestSpan(times, 400)).toBeLessThanOrEqual(5);
    const warnings = lines.map((line) => JSON.parse(line)).filter((entry) => entry.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0].msg).toContain('cannot reach Redis');
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
