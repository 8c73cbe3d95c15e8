/**
 * A cache load that belongs to more than one caller (findings 1 and 2 of the issue 9 review):
 * - a load of many calls (the workplace walk) outlasts the lock TTL sized for one call: the lock is renewed while
 *   it runs, so another cache on the same store waits for it instead of starting the same walk;
 * - callers that join a load keep their own deadlines: the one that started it cannot fail the others with its
 *   timeout, and time the load spends queued behind our own rate limiter is given back to each of them.
 * Time is a fake clock wherever it decides an outcome; real time only lets the other cache poll.
 */
import { setTimeout as realSleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FeishuApiError, TRANSPORT_FAILURE } from '../src/feishu/errors.js';
import { JsonCache } from '../src/store/cache.js';
import { MemoryStore } from '../src/store/memory-store.js';
import type { Store } from '../src/store/store.js';
import { DeadlineExceededError, pauseDeadline, timeLeftMs, withDeadline } from '../src/util/deadline.js';
import { fileStatistics } from './fixtures/feishu-bodies.js';

const KEY = 'workplace:2026-01-01:2026-12-31';
const LOCK_KEY = `fsb:cache:lock:${KEY}`;

/** A promise the test resolves when it chooses: a Feishu answer that arrives on cue. */
function gate(): { open: () => void; opened: Promise<void> } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { open, opened };
}

/** The same store as another process would see it, counting that process's reads of the lock (its polls). */
function otherProcessView(store: Store): { store: Store; lockReads: () => number } {
  let lockReads = 0;
  const view = new Proxy(store, {
    get(target, name, receiver) {
      if (name === 'get') {
        return (key: string) => {
          if (key === LOCK_KEY) lockReads += 1;
          return target.get(key);
        };
      }
      const value: unknown = Reflect.get(target, name, receiver);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { store: view, lockReads: () => lockReads };
}

/** Real-time wait (never the fake clock) for something another async flow does. */
async function until(done: () => boolean, what: string): Promise<void> {
  for (let polls = 0; !done(); polls++) {
    if (polls > 2_000) throw new Error(`gave up waiting: ${what}`);
    await realSleep(5);
  }
}

/**
 * A Feishu request as src/feishu/http.ts makes it: aborted once the deadline of the context it runs in passes,
 * otherwise answered when `answer` resolves.
 */
async function feishuRequest(answer: Promise<void>): Promise<void> {
  const left = timeLeftMs();
  if (left === undefined) return answer;
  let timer: NodeJS.Timeout | undefined;
  const aborted = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () =>
        reject(new FeishuApiError('workplace.v1.workplaceAccessData.search', TRANSPORT_FAILURE, 'timeout')),
      Math.max(0, left),
    );
  });
  try {
    await Promise.race([answer, aborted]);
  } finally {
    clearTimeout(timer);
  }
}

afterEach(() => {
  vi.useRealTimers();
});

describe('a load that outlasts the lock TTL (finding 1)', () => {
  const TTL = 1_000;

  it('keeps its lock for the whole load: another cache on the same store waits and never loads', async () => {
    // The lock's expiry, its renewal timer and the wait bound all run on the fake clock; polling is real.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval', 'Date', 'performance'] });
    const store = new MemoryStore({ now: () => Date.now() });
    const other = otherProcessView(store);
    // Default wait bound: what the app runs with (it sets only the TTL).
    const holder = new JsonCache(store, { lockTtlMs: TTL, pollMinMs: 1, pollMaxMs: 5 });
    const waiter = new JsonCache(other.store, { lockTtlMs: TTL, pollMinMs: 1, pollMaxMs: 5 });

    const pages = gate();
    const started = gate();
    const walk = vi.fn(async () => {
      started.open();
      await pages.opened;
      return fileStatistics(1);
    });
    const secondWalk = vi.fn(async () => fileStatistics(2));

    const walking = holder.getOrLoad(KEY, walk, { ttlMs: 60_000 });
    await started.opened;
    const waiting = waiter.getOrLoad(KEY, secondWalk, { ttlMs: 60_000 });

    // The walk takes three lock TTLs (a few pages, each as slow as one call may be), half a TTL at a time; after
    // each step the other cache looks at the lock twice before the clock moves on.
    for (let step = 0; step < 6; step++) {
      await vi.advanceTimersByTimeAsync(TTL / 2);
      const seen = other.lockReads();
      await until(
        () => other.lockReads() >= seen + 2 || secondWalk.mock.calls.length > 0,
        'the other cache to poll the lock',
      );
    }
    pages.open();

    expect(await walking).toMatchObject({ value: fileStatistics(1), cached: false });
    expect(await waiting).toMatchObject({ value: fileStatistics(1), cached: true });
    expect(walk).toHaveBeenCalledTimes(1);
    expect(secondWalk).not.toHaveBeenCalled();
    expect(await store.get(LOCK_KEY)).toBeNull();
    await store.close();
  });
});

describe('callers joining one load keep their own deadlines (finding 2)', () => {
  it('times out the caller with little time left, and gives the one that joined with more the value: one load', async () => {
    const store = new MemoryStore();
    const cache = new JsonCache(store);
    const answer = gate();
    const started = gate();
    const load = vi.fn(async () => {
      started.open();
      await feishuRequest(answer.opened);
      return fileStatistics(1);
    });

    const short = withDeadline({ at: Date.now() + 50 }, () => cache.getOrLoad(KEY, load, { ttlMs: 60_000 }));
    await started.opened;
    const long = withDeadline({ at: Date.now() + 60_000 }, () =>
      cache.getOrLoad(KEY, load, { ttlMs: 60_000 }),
    );

    const shortOutcome = await short.then(
      () => 'value',
      (err: unknown) => err,
    );
    // Feishu answers only after the first caller gave up: the load was not cut short with it.
    answer.open();
    await expect(long).resolves.toMatchObject({ value: fileStatistics(1), cached: false });
    expect(shortOutcome).toBeInstanceOf(DeadlineExceededError);
    expect(load).toHaveBeenCalledTimes(1);
    await store.close();
  });

  it('gives a waiting caller back the time the shared load spends queued behind our own rate limiter', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    const store = new MemoryStore({ now: () => Date.now() });
    const cache = new JsonCache(store);
    const slot = gate();
    const queued = gate();
    const load = vi.fn(async () => {
      // What the transport does around the limiter's acquire.
      const resume = pauseDeadline();
      queued.open();
      await slot.opened;
      resume();
      return fileStatistics(1);
    });

    let outcome: string | undefined;
    const asking = withDeadline({ at: Date.now() + 1_000 }, () =>
      cache.getOrLoad(KEY, load, { ttlMs: 60_000 }),
    ).then(
      () => {
        outcome = 'value';
      },
      (err: unknown) => {
        outcome = err instanceof Error ? err.name : 'rejected';
      },
    );
    await queued.opened;
    // Queued for five times the time the caller had left: none of it counts against the caller.
    await vi.advanceTimersByTimeAsync(5_000);
    expect(outcome).toBeUndefined();
    slot.open();
    await asking;
    expect(outcome).toBe('value');
    expect(load).toHaveBeenCalledTimes(1);
    await store.close();
  });
});
