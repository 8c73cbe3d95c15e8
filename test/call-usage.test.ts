/**
 * The monthly call accounting (src/data/call-usage.ts) on both store adapters, under a clock the tests move: which
 * attempts count, months turning in DIGEST_TZ, replicas adding up, the 80 % warning claimed once, the budget check,
 * the projection, and the cost of a digest run.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type BudgetWarning,
  CallUsage,
  type CallUsageOptions,
  countsAgainstQuota,
  monthKey,
  projectMonth,
  quotaMonth,
  reachesWarning,
  TOTAL_FIELD,
} from '../src/data/call-usage.js';
import type { FeishuAttempt } from '../src/feishu/transport.js';
import { MemoryStore } from '../src/store/memory-store.js';
import type { Store } from '../src/store/store.js';
import { storeAdapters, useFreshRedisDb } from './redis.js';

const SHANGHAI = 'Asia/Shanghai';
const STATS = 'drive.v1.fileStatistics.get';
const SEND = 'im.v1.message.create';

function attempt(endpoint: string, overrides: Partial<FeishuAttempt> = {}): FeishuAttempt {
  return { endpoint, code: 0, status: 200, seconds: 0.01, ...overrides };
}

/** A logger that keeps what it was told. */
function recordingLogger() {
  const lines: Array<{ level: 'warn' | 'info'; msg: string | undefined }> = [];
  return {
    lines,
    warn: (_obj: object, msg?: string) => lines.push({ level: 'warn', msg }),
    info: (_obj: object, msg?: string) => lines.push({ level: 'info', msg }),
  };
}

function usageOn(store: Store, clock: { now: number }, opts: Partial<CallUsageOptions> = {}): CallUsage {
  return new CallUsage({
    store,
    timeZone: SHANGHAI,
    now: () => clock.now,
    logger: recordingLogger(),
    ...opts,
  });
}

describe('which attempts count against the quota', () => {
  it('counts every request Feishu answered, errors, rate limits and the token fetch included', () => {
    expect(countsAgainstQuota(attempt(STATS))).toBe(true);
    expect(countsAgainstQuota(attempt(STATS, { code: 1069603, status: 403 }))).toBe(true);
    expect(countsAgainstQuota(attempt(STATS, { code: 99991400, status: 429 }))).toBe(true);
    expect(countsAgainstQuota(attempt(SEND, { code: 230020, status: 200 }))).toBe(true);
    expect(countsAgainstQuota(attempt('auth.v3.tenantAccessToken.internal'))).toBe(true);
  });

  it('does not count a request that got no HTTP response (refused, reset, timed out)', () => {
    const { status: _none, ...noResponse } = attempt(STATS, { code: -1 });
    expect(countsAgainstQuota(noResponse)).toBe(false);
  });
});

describe('quotaMonth', () => {
  it('is the calendar month in DIGEST_TZ, not in UTC', () => {
    // 2026-12-01 00:30 in Shanghai is still 2026-11-30 in UTC.
    const instant = Date.parse('2026-12-01T00:30:00+08:00');
    expect(new Date(instant).toISOString().slice(0, 7)).toBe('2026-11');
    expect(quotaMonth(instant, SHANGHAI)).toBe('2026-12');
    expect(quotaMonth(instant, 'UTC')).toBe('2026-11');
    expect(quotaMonth(Date.parse('2026-11-30T23:59:59+08:00'), SHANGHAI)).toBe('2026-11');
  });
});

describe('reachesWarning', () => {
  it('is true from exactly 80 % of the budget on, with no rounding edge', () => {
    expect(reachesWarning(7, 10)).toBe(false);
    expect(reachesWarning(8, 10)).toBe(true);
    expect(reachesWarning(7_999, 10_000)).toBe(false);
    expect(reachesWarning(8_000, 10_000)).toBe(true);
    // 80 % of 7 is 5.6: the sixth call is the first at or past it.
    expect(reachesWarning(5, 7)).toBe(false);
    expect(reachesWarning(6, 7)).toBe(true);
  });
});

describe('projectMonth', () => {
  it('extends the calls so far linearly over the month’s days in the time zone', () => {
    // Halfway through November (30 days) in Shanghai: 15 days gone.
    const mid = projectMonth(150, Date.parse('2026-11-16T00:00:00+08:00'), SHANGHAI);
    expect(mid).toEqual({ elapsedDays: 15, daysInMonth: 30, projected: 300 });
    // The same instant is only 15.666… days into November in UTC.
    const utc = projectMonth(150, Date.parse('2026-11-16T00:00:00+08:00'), 'UTC');
    expect(utc.elapsedDays).toBeCloseTo(15 - 8 / 24, 9);
    expect(utc.projected).toBe(Math.round((150 * 30) / (15 - 8 / 24)));
  });

  it('knows each month’s length, February of a leap year included', () => {
    expect(projectMonth(0, Date.parse('2028-02-10T12:00:00+08:00'), SHANGHAI).daysInMonth).toBe(29);
    expect(projectMonth(0, Date.parse('2027-02-10T12:00:00+08:00'), SHANGHAI).daysInMonth).toBe(28);
    expect(projectMonth(0, Date.parse('2026-12-31T23:00:00+08:00'), SHANGHAI).daysInMonth).toBe(31);
  });

  it('measures a month that changes clocks between its own two midnights', () => {
    // New York leaves daylight saving on 2026-11-01: November starts at 00:00 EDT and ends at 00:00 EST.
    const zone = 'America/New_York';
    expect(projectMonth(0, Date.parse('2026-11-01T00:00:00-04:00'), zone).elapsedDays).toBe(0);
    const last = projectMonth(0, Date.parse('2026-12-01T00:00:00-05:00') - 1, zone);
    expect(last.daysInMonth).toBe(30);
    expect(last.elapsedDays).toBeCloseTo(30, 6);
    // Half of November's 721 hours.
    const half = Date.parse('2026-11-01T00:00:00-04:00') + (721 / 2) * 3_600_000;
    expect(projectMonth(0, half, zone).elapsedDays).toBeCloseTo(15, 9);
  });

  it('assumes one day gone during the first day, so early calls do not project thousands', () => {
    const early = projectMonth(40, Date.parse('2026-12-01T00:05:00+08:00'), SHANGHAI);
    expect(early.elapsedDays).toBeLessThan(0.01);
    expect(early.projected).toBe(40 * 31);
  });
});

const redisDb = useFreshRedisDb();

describe.each(storeAdapters(redisDb))('CallUsage on $name', ({ open }) => {
  let store: Store;
  const clock = { now: Date.parse('2026-11-20T10:00:00+08:00') };

  beforeEach(async () => {
    await redisDb().redis.flushdb();
    store = open();
    clock.now = Date.parse('2026-11-20T10:00:00+08:00');
  });
  afterEach(async () => {
    await store.close();
  });

  it('counts calls by endpoint with the month’s total, most called first', async () => {
    const usage = usageOn(store, clock);
    for (let i = 0; i < 3; i++) usage.record(attempt(STATS));
    usage.record(attempt(SEND));
    usage.record(attempt(SEND, { code: 230020 }));
    usage.record(attempt(STATS, { code: -1, status: undefined }));
    await usage.flush();
    expect(await usage.usage()).toEqual({
      month: '2026-11',
      total: 5,
      byEndpoint: [
        { endpoint: STATS, calls: 3 },
        { endpoint: SEND, calls: 2 },
      ],
    });
  });

  it('starts a new month at midnight on the 1st in DIGEST_TZ, keeping the old one readable', async () => {
    const usage = usageOn(store, clock);
    clock.now = Date.parse('2026-11-30T23:59:59+08:00');
    usage.record(attempt(STATS));
    usage.record(attempt(STATS));
    // One second later it is December in Shanghai, though still November 30th in UTC.
    clock.now = Date.parse('2026-12-01T00:00:00+08:00');
    usage.record(attempt(SEND));
    await usage.flush();
    expect(usage.month()).toBe('2026-12');
    expect(await usage.usage()).toEqual({
      month: '2026-12',
      total: 1,
      byEndpoint: [{ endpoint: SEND, calls: 1 }],
    });
    expect((await usage.usage('2026-11')).total).toBe(2);
  });

  it('adds up what two replicas on one store count, exactly, with calls made at once', async () => {
    // Two CallUsage on one store: two replicas on one Redis, or (in memory) two parts of one process.
    const a = usageOn(store, clock);
    const b = usageOn(store, clock);
    for (let i = 0; i < 40; i++) {
      a.record(attempt(i % 2 === 0 ? STATS : SEND));
      b.record(attempt(STATS));
    }
    await Promise.all([a.flush(), b.flush()]);
    const seenByA = await a.usage();
    expect(seenByA.total).toBe(80);
    expect(seenByA.byEndpoint).toEqual([
      { endpoint: STATS, calls: 60 },
      { endpoint: SEND, calls: 20 },
    ]);
    expect(await b.usage()).toEqual(seenByA);
  });

  it('warns once when the month reaches 80 %, however many replicas see it, and again next month', async () => {
    const warnings: Array<BudgetWarning & { replica: string }> = [];
    const replicas = [usageOn(store, clock, { budget: 10 }), usageOn(store, clock, { budget: 10 })];
    replicas.forEach((usage, i) => {
      usage.onBudgetWarning(async (warning) => {
        warnings.push({ ...warning, replica: `r${i}` });
        // The warning's own messages are calls too: they must not claim it again.
        usage.record(attempt(SEND));
      });
    });
    // Both replicas call at once, well past the budget.
    for (let i = 0; i < 12; i++) for (const usage of replicas) usage.record(attempt(STATS));
    await Promise.all(replicas.map((usage) => usage.flush()));
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ month: '2026-11', budget: 10 });
    // The total the warning names is the one that crossed 80 %: the 8th call.
    expect(warnings[0]?.total).toBe(8);
    expect((await replicas[0]?.usage())?.total).toBe(25);

    clock.now = Date.parse('2026-12-01T08:00:00+08:00');
    for (let i = 0; i < 7; i++) for (const usage of replicas) usage.record(attempt(STATS));
    await Promise.all(replicas.map((usage) => usage.flush()));
    expect(warnings.map((w) => w.month)).toEqual(['2026-11', '2026-12']);
  });

  it('does not warn below 80 %, nor without a budget', async () => {
    const warned: BudgetWarning[] = [];
    const below = usageOn(store, clock, { budget: 100 });
    const unbounded = usageOn(store, clock);
    for (const usage of [below, unbounded]) usage.onBudgetWarning(async (w) => void warned.push(w));
    for (let i = 0; i < 79; i++) below.record(attempt(STATS));
    for (let i = 0; i < 500; i++) unbounded.record(attempt(STATS));
    await Promise.all([below.flush(), unbounded.flush()]);
    expect(warned).toEqual([]);
    // The one with a budget counted 79 of 100; the month now holds 579, so its next call warns.
    below.record(attempt(STATS));
    await below.flush();
    expect(warned).toEqual([{ month: '2026-11', total: 580, budget: 100 }]);
  });

  it('says the budget is spent from the call that reaches it, and never without a budget', async () => {
    const usage = usageOn(store, clock, { budget: 3 });
    expect(await usage.budgetSpent()).toBe(false);
    usage.record(attempt(STATS));
    usage.record(attempt(STATS));
    await usage.flush();
    expect(await usage.budgetSpent()).toBe(false);
    usage.record(attempt(STATS));
    await usage.flush();
    expect(await usage.budgetSpent()).toBe(true);
    // A new month starts with the budget whole.
    clock.now = Date.parse('2026-12-01T00:00:01+08:00');
    expect(await usage.budgetSpent()).toBe(false);
    expect(await usageOn(store, clock).budgetSpent()).toBe(false);
  });

  it('adds every call made inside a digest run, however deep, to that run, and no other call', async () => {
    const usage = usageOn(store, clock);
    await usage.beginDigestRun({
      id: 'run-1',
      date: '2026-11-20',
      startedAt: clock.now,
      chats: 2,
      items: 1,
    });
    const nested = async (): Promise<void> => {
      await Promise.resolve();
      usage.record(attempt(STATS));
      setImmediate(() => usage.record(attempt(SEND)));
      await new Promise((resolve) => setImmediate(resolve));
    };
    await Promise.all([
      usage.measureDigestRun('run-1', nested),
      // A command answered at the same time is not the run's.
      (async () => usage.record(attempt('im.v1.message.reply')))(),
      usage.measureDigestRun('run-1', async () => usage.record(attempt(SEND))),
    ]);
    usage.record(attempt(STATS));
    await usage.flush();
    expect(await usage.lastDigestRun()).toEqual({
      id: 'run-1',
      date: '2026-11-20',
      startedAt: clock.now,
      chats: 2,
      items: 1,
      calls: 3,
    });
    expect((await usage.usage()).total).toBe(5);
  });

  it('keeps the month for about three months after its last call, and renews that with each call', async () => {
    const usage = usageOn(store, clock);
    usage.record(attempt(STATS));
    await usage.flush();
    if (store.kind === 'redis') {
      const pttl = await redisDb().redis.pttl(monthKey('2026-11'));
      expect(pttl).toBeGreaterThan(99 * 86_400_000);
      expect(pttl).toBeLessThanOrEqual(100 * 86_400_000);
    } else {
      expect(await store.hashGet(monthKey('2026-11'), TOTAL_FIELD)).toBe('1');
    }
  });
});

describe('CallUsage on two Redis connections (two replica processes)', () => {
  it('counts both replicas’ calls exactly, each seeing the same month', async () => {
    const clock = { now: Date.parse('2026-11-20T10:00:00+08:00') };
    const [first, second] = [storeAdapters(redisDb)[1], storeAdapters(redisDb)[1]].map((a) => a?.open());
    if (!first || !second) throw new Error('no Redis adapter');
    await redisDb().redis.flushdb();
    try {
      const a = usageOn(first, clock);
      const b = usageOn(second, clock);
      await Promise.all(
        Array.from({ length: 30 }, async (_, i) => {
          a.record(attempt(STATS));
          if (i % 3 === 0) b.record(attempt(SEND));
        }),
      );
      await Promise.all([a.flush(), b.flush()]);
      expect(await b.usage()).toEqual({
        month: '2026-11',
        total: 40,
        byEndpoint: [
          { endpoint: STATS, calls: 30 },
          { endpoint: SEND, calls: 10 },
        ],
      });
      expect(await a.usage()).toEqual(await b.usage());
    } finally {
      await Promise.all([first.close(), second.close()]);
    }
  });
});

describe('CallUsage when the store fails', () => {
  it('never throws at the caller, logs one warning until writes work again, and says when they do', async () => {
    const logger = recordingLogger();
    const real = new MemoryStore();
    let broken = true;
    const store = new Proxy(real, {
      get(target, property) {
        if (property === 'hashIncrement' && broken) {
          // Thrown, not rejected: even a store that fails synchronously must not reach the transport.
          return () => {
            throw new Error('connection is closed');
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const usage = new CallUsage({ store, timeZone: SHANGHAI, logger, now: () => Date.now() });
    for (let i = 0; i < 5; i++) expect(() => usage.record(attempt(STATS))).not.toThrow();
    await usage.flush();
    expect(logger.lines.filter((l) => l.level === 'warn')).toHaveLength(1);

    broken = false;
    usage.record(attempt(STATS));
    await usage.flush();
    expect(logger.lines.at(-1)).toEqual({ level: 'info', msg: 'Feishu call accounting recovered' });
    expect((await usage.usage()).total).toBe(1);
    await real.close();
  });

  it('answers “not spent” when it cannot read the count, so digests stay as fresh as without a budget', async () => {
    const store = new MemoryStore();
    await store.close();
    const usage = new CallUsage({ store, timeZone: SHANGHAI, budget: 1, logger: recordingLogger() });
    expect(await usage.budgetSpent()).toBe(false);
  });

  it('does not wait for the store: record returns before a hung write settles', async () => {
    let release: () => void = () => {};
    const hung = new Promise<void>((resolve) => {
      release = resolve;
    });
    const real = new MemoryStore();
    const store = new Proxy(real, {
      get(target, property) {
        if (property === 'hashIncrement') {
          return async (...args: Parameters<Store['hashIncrement']>) => {
            await hung;
            return target.hashIncrement(...args);
          };
        }
        const value: unknown = Reflect.get(target, property, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const usage = new CallUsage({ store, timeZone: SHANGHAI, logger: recordingLogger() });
    usage.record(attempt(STATS));
    let flushed = false;
    const flushing = usage.flush().then(() => {
      flushed = true;
    });
    await new Promise((resolve) => setImmediate(resolve));
    expect(flushed).toBe(false);
    expect((await usage.usage()).total).toBe(0);
    release();
    await flushing;
    expect((await usage.usage()).total).toBe(1);
    await real.close();
  });
});
