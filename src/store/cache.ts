import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { DeadlineExceededError, waitLeftMs } from '../util/deadline.js';
import { SingleFlight } from '../util/single-flight.js';
import type { Store } from './store.js';

/** How long a value may be served; a function lets closed periods live for a day and open ones for a minute. */
export type CacheTtl<T> = number | ((value: T) => number);

export interface CacheOptions<T = unknown> {
  /** Milliseconds to keep the loaded value. ≤ 0 (or not finite) means "answer with it but do not store it". */
  ttlMs: CacheTtl<T>;
  /** Bypass a cached value (Refresh button) but still store the fresh one. */
  refresh?: boolean;
  /** `false` skips the cross-process lock: for keys so cheap that a duplicate load costs less than a wait. */
  lock?: false;
}

export interface CacheResult<T> {
  value: T;
  /** True when the value came from the store rather than from `load` in this call. */
  cached: boolean;
  /** Epoch ms when the value was loaded; cards show it as "updated …". */
  storedAt: number;
}

export interface JsonCacheOptions {
  /** Prefix of every key written; locks live under `<prefix>lock:<key>`. Default `fsb:cache:`. */
  prefix?: string;
  /** Clock for `storedAt`. Waiting for a lock always runs on real time. */
  now?: () => number;
  /**
   * How long a loader's lock lives unless renewed. The loader renews it every half TTL while its load runs, so a
   * load of many calls (a page walk) keeps it throughout and a crashed loader frees the key within this time.
   * Default 15 s; the app passes the Feishu transport's worst-case call time (`worstCaseCallMs`: rate-limit waits
   * and retries included), so a renewal delayed by a slow store or a busy event loop still lands in time.
   */
  lockTtlMs?: number;
  /**
   * How long a reader waits for another process's load before loading itself, and so how long a loader renews its
   * lock: past it, whoever still waits loads anyway. Only a load that never settles should get there. Default
   * `LOCK_WAIT_TTLS` lock TTLs. A reader never waits past the deadline of every caller waiting on it.
   */
  lockWaitMs?: number;
  /** First and largest pause between polls of a key another process is loading. Default 20 ms and 200 ms. */
  pollMinMs?: number;
  pollMaxMs?: number;
  logger?: { warn(obj: object, msg?: string): void };
}

/** What is written to the store: the value plus when it was loaded, which survives restarts. */
interface Envelope {
  v: unknown;
  t: number;
}

interface Settled {
  json: string;
  cached: boolean;
  storedAt: number;
}

type LockState = 'held' | 'free' | 'unknown';

/**
 * Default wait bound in lock TTLs. The app's TTL is one Feishu call at its slowest, and a load may make several
 * (the workplace walk pages through its range; a year is two pages), each of which can be that slow.
 */
const LOCK_WAIT_TTLS = 4;

/** Largest pause between retries of a lock release that failed because the store was away. */
const RELEASE_RETRY_MAX_MS = 1_000;

interface Renewal {
  /** Stops renewing, and waits for a renewal under way so that none lands after the lock is released. */
  stop(): Promise<void>;
}

/**
 * Read-through JSON cache for Feishu statistics, which are rate-limited and change slowly.
 *
 * A miss costs one `load` across every process sharing the store: an in-process single flight sends at most
 * one lock attempt per key, the lock's owner loads and stores (renewing the lock for as long as that takes), and
 * the other processes poll the key until the value appears. The cache only ever helps: a store that fails, or a
 * lock that is never released, degrades to calling `load` directly (after at most `lockWaitMs`), never to an
 * error. The load belongs to no one caller: each waits for it until its own deadline (src/util/deadline.ts).
 */
export class JsonCache {
  readonly #store: Store;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #lockTtlMs: number;
  readonly #lockWaitMs: number;
  readonly #pollMinMs: number;
  readonly #pollMaxMs: number;
  readonly #logger: JsonCacheOptions['logger'];
  readonly #flights = new SingleFlight<Settled>();

  constructor(store: Store, opts: JsonCacheOptions = {}) {
    this.#store = store;
    this.#prefix = opts.prefix ?? 'fsb:cache:';
    this.#now = opts.now ?? Date.now;
    this.#lockTtlMs = opts.lockTtlMs ?? 15_000;
    this.#lockWaitMs = opts.lockWaitMs ?? LOCK_WAIT_TTLS * this.#lockTtlMs;
    this.#pollMinMs = opts.pollMinMs ?? 20;
    this.#pollMaxMs = opts.pollMaxMs ?? 200;
    this.#logger = opts.logger;
  }

  /** How long a loader's lock lives unless renewed (see JsonCacheOptions.lockTtlMs). */
  get lockTtlMs(): number {
    return this.#lockTtlMs;
  }

  /**
   * Cached value or the result of `load`, stored as JSON for `ttlMs`. Concurrent identical keys share one
   * `load` call in this process and, through a lock in the store, across processes. Values must be
   * JSON-serialisable and come back as JSON would.
   */
  async getOrLoad<T>(key: string, load: () => Promise<T>, opts: CacheOptions<T>): Promise<CacheResult<T>> {
    const storeKey = this.#prefix + key;
    const lockKey = `${this.#prefix}lock:${key}`;
    const loadAndStore = () => this.#loadAndStore(storeKey, load, opts.ttlMs);
    // The read sits inside the flight too: otherwise a caller whose GET raced the first loader's SET
    // would see a miss after that flight ended and load a second time.
    // Refreshes fly separately so a Refresh click never receives a concurrent plain read's cached value.
    const flightKey = opts.refresh ? `refresh\0${storeKey}` : `read\0${storeKey}`;
    const settled = await this.#flights.run(flightKey, async () => {
      if (opts.refresh) {
        // A refresh must reach Feishu whoever holds the lock; holding it (when free) makes plain readers of
        // a missing key in other processes wait for this fresh value instead of loading their own.
        if (opts.lock === false) return loadAndStore();
        const token = await this.#claim(lockKey);
        return this.#whileHolding(lockKey, token, loadAndStore);
      }
      const hit = await this.#read(storeKey);
      if (hit) return hit;
      if (opts.lock === false) return loadAndStore();
      return this.#loadOnce(key, storeKey, lockKey, loadAndStore);
    });
    // Each caller parses its own copy: joiners cannot mutate each other's value, and a fresh load has
    // exactly the shape a later cache hit will have (a Date becomes a string in both cases).
    return { value: JSON.parse(settled.json) as T, cached: settled.cached, storedAt: settled.storedAt };
  }

  async delete(key: string): Promise<void> {
    await this.#store.delete(this.#prefix + key);
  }

  /** A miss: load under the lock, or wait for whoever holds it, or give up waiting and load anyway. */
  async #loadOnce(
    key: string,
    storeKey: string,
    lockKey: string,
    loadAndStore: () => Promise<Settled>,
  ): Promise<Settled> {
    // The lock's owner renews it while its load runs, so a held lock means a load under way (or a crashed owner,
    // whose lock lapses within lockTtlMs). The wait bound is for an owner whose load never settles.
    const waitUntil = performance.now() + this.#lockWaitMs;
    let pause = this.#pollMinMs;
    for (;;) {
      const token = await this.#claim(lockKey);
      if (token !== null) {
        return this.#whileHolding(lockKey, token, async () => {
          // Another process may have stored the value and released its lock between our miss and our claim.
          return (await this.#read(storeKey)) ?? loadAndStore();
        });
      }
      // Someone else is loading. Read the lock before the value: the owner stores before it releases, so a
      // lock seen gone means the value is visible now (unless the owner failed or stores nothing).
      let lock: LockState = 'held';
      while (lock === 'held') {
        // This runs as shared work (SingleFlight): each caller stops waiting at its own deadline (the command's,
        // src/util/deadline.ts). Once none is left, a load of our own would only answer nobody.
        const left = waitLeftMs();
        if (left !== undefined && left <= 0) throw new DeadlineExceededError();
        if (performance.now() >= waitUntil) {
          this.#logger?.warn(
            { cache: key.split(':')[0], waitedMs: this.#lockWaitMs },
            'cache lock not released in time; loading without it',
          );
          return loadAndStore();
        }
        await sleep(pause);
        pause = Math.min(pause * 2, this.#pollMaxMs);
        lock = await this.#peekLock(lockKey);
        const hit = await this.#read(storeKey);
        if (hit) return hit;
      }
      // The store is unreachable: waiting on it helps nobody.
      if (lock === 'unknown') return loadAndStore();
      // 'free': the owner finished without storing (failed load, TTL ≤ 0) or its lock expired; try to take over.
    }
  }

  /** Our owner token when we claimed the lock, null when another owner holds it or the store is unreachable. */
  async #claim(lockKey: string): Promise<string | null> {
    const token = randomUUID();
    try {
      return (await this.#store.setIfAbsent(lockKey, token, this.#lockTtlMs)) ? token : null;
    } catch {
      return null;
    }
  }

  async #peekLock(lockKey: string): Promise<LockState> {
    try {
      return (await this.#store.get(lockKey)) === null ? 'free' : 'held';
    } catch {
      return 'unknown';
    }
  }

  /**
   * Runs `work`, renewing our lock while it runs, then releases it if we own it; compare-and-delete never removes
   * a successor's lock.
   */
  async #whileHolding(lockKey: string, token: string | null, work: () => Promise<Settled>): Promise<Settled> {
    const renewal = token === null ? undefined : this.#keepAlive(lockKey, token);
    try {
      return await work();
    } finally {
      if (token !== null) {
        await renewal?.stop();
        await this.#release(lockKey, token);
      }
    }
  }

  /**
   * Gives our lock back. When the store is away at that moment the release is retried in the background until it
   * lands or the lock has lapsed by itself: a lock left behind by an outage would otherwise make every other
   * replica wait up to lockTtlMs (70 s in the app) for a key nobody is loading, well past a command's deadline.
   */
  async #release(lockKey: string, token: string): Promise<void> {
    const lapsesAt = performance.now() + this.#lockTtlMs;
    try {
      await this.#store.compareAndDelete(lockKey, token);
      return;
    } catch {
      // The answer is already in hand: retry off the caller's path.
    }
    let pause = this.#pollMinMs;
    const retry = () => {
      if (performance.now() >= lapsesAt) return;
      // Through a promise, so that even a store throwing synchronously only schedules the next try.
      Promise.resolve()
        .then(() => this.#store.compareAndDelete(lockKey, token))
        .catch(() => {
          pause = Math.min(pause * 2, RELEASE_RETRY_MAX_MS);
          setTimeout(retry, pause).unref();
        });
    };
    setTimeout(retry, pause).unref();
  }

  /**
   * Extends our lock to a full TTL every half TTL, so it outlives a load of any number of calls, for at most
   * lockWaitMs (by then every reader has stopped waiting for it). Stops for good once the lock is not ours.
   */
  #keepAlive(lockKey: string, token: string): Renewal {
    const renewUntil = performance.now() + this.#lockWaitMs;
    let running: Promise<void> | undefined;
    const timer = setInterval(
      () => {
        if (running) return;
        if (performance.now() >= renewUntil) {
          clearInterval(timer);
          return;
        }
        running = this.#renew(lockKey, token).then((ours) => {
          running = undefined;
          if (!ours) clearInterval(timer);
        });
      },
      Math.max(1, Math.floor(this.#lockTtlMs / 2)),
    );
    // Housekeeping for a load that keeps the process busy anyway: never a reason to stay alive.
    timer.unref();
    return {
      stop: async () => {
        clearInterval(timer);
        await running;
      },
    };
  }

  /**
   * Compare-and-set of the lock's TTL: only while it still holds our token (else false: it lapsed, or another
   * owner took it over, and we must not overwrite theirs). The store port has no atomic form of this, so it is a
   * read then a write: the read sees a lock with about half a TTL still to run (35 s in the app), and only a write
   * arriving after all of that could overwrite a successor's lock (both would then load once, as without a lock).
   */
  async #renew(lockKey: string, token: string): Promise<boolean> {
    try {
      if ((await this.#store.get(lockKey)) !== token) return false;
      await this.#store.set(lockKey, token, this.#lockTtlMs);
      return true;
    } catch {
      // The store is away: try again next time. If it stays away the lock lapses by itself, which is all it can do.
      return true;
    }
  }

  /** A hit, or undefined for a miss, an unreachable store, or a value that is not an envelope we wrote. */
  async #read(storeKey: string): Promise<Settled | undefined> {
    let raw: string | null;
    try {
      raw = await this.#store.get(storeKey);
    } catch {
      return undefined;
    }
    if (raw === null) return undefined;
    const envelope = parseEnvelope(raw);
    if (!envelope) return undefined;
    return { json: JSON.stringify(envelope.v), cached: true, storedAt: envelope.t };
  }

  async #loadAndStore<T>(storeKey: string, load: () => Promise<T>, ttl: CacheTtl<T>): Promise<Settled> {
    // A rejection propagates before anything is written, so failures are never cached here (see cachedResult).
    const value = await load();
    const storedAt = this.#now();
    // `undefined` has no JSON form; storing it as null keeps a miss and a later hit identical.
    const json = JSON.stringify(value === undefined ? null : value);
    const ttlMs = typeof ttl === 'function' ? ttl(value) : ttl;
    if (!Number.isFinite(ttlMs) || ttlMs <= 0) return { json, cached: false, storedAt };
    try {
      await this.#store.set(storeKey, `{"v":${json},"t":${storedAt}}`, ttlMs);
    } catch {
      // The answer is already in hand; failing to remember it must not cost the user the answer.
    }
    return { json, cached: false, storedAt };
  }
}

function parseEnvelope(raw: string): Envelope | undefined {
  try {
    const parsed: unknown = JSON.parse(raw);
    if (typeof parsed !== 'object' || parsed === null || !('v' in parsed) || !('t' in parsed))
      return undefined;
    const { v, t } = parsed;
    return typeof t === 'number' && Number.isFinite(t) ? { v, t } : undefined;
  } catch {
    return undefined;
  }
}
