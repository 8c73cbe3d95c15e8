import { SingleFlight } from '../util/single-flight.js';
import type { Store } from './store.js';

export interface CacheOptions {
  ttlMs: number;
  /** Bypass a cached value (Refresh button) but still store the fresh one. */
  refresh?: boolean;
}

export interface CacheResult<T> {
  value: T;
  /** True when the value came from the store rather than from `load` in this call. */
  cached: boolean;
  /** Epoch ms when the value was loaded; cards show it as "updated …". */
  storedAt: number;
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

/**
 * Read-through JSON cache for Feishu statistics, which are rate-limited and change slowly.
 * The cache only ever helps: a store that fails to read or write degrades to calling `load` directly.
 */
export class JsonCache {
  readonly #store: Store;
  readonly #prefix: string;
  readonly #now: () => number;
  readonly #flights = new SingleFlight<Settled>();

  constructor(store: Store, opts: { prefix?: string; now?: () => number } = {}) {
    this.#store = store;
    this.#prefix = opts.prefix ?? 'fsb:cache:';
    this.#now = opts.now ?? Date.now;
  }

  /**
   * Cached value or the result of `load`, stored as JSON with ttl. Concurrent identical keys in this
   * process share one `load` call. Values must be JSON-serialisable and come back as JSON would.
   */
  async getOrLoad<T>(key: string, load: () => Promise<T>, opts: CacheOptions): Promise<CacheResult<T>> {
    const storeKey = this.#prefix + key;
    // The read sits inside the flight too: otherwise a caller whose GET raced the first loader's SET
    // would see a miss after that flight ended and load a second time.
    // Refreshes fly separately so a Refresh click never receives a concurrent plain read's cached value.
    const flightKey = opts.refresh ? `refresh\0${storeKey}` : `read\0${storeKey}`;
    const settled = await this.#flights.run(flightKey, async () => {
      if (!opts.refresh) {
        const hit = await this.#read(storeKey);
        if (hit) return hit;
      }
      return this.#loadAndStore(storeKey, load, opts.ttlMs);
    });
    // Each caller parses its own copy: joiners cannot mutate each other's value, and a fresh load has
    // exactly the shape a later cache hit will have (a Date becomes a string in both cases).
    return { value: JSON.parse(settled.json) as T, cached: settled.cached, storedAt: settled.storedAt };
  }

  async delete(key: string): Promise<void> {
    await this.#store.delete(this.#prefix + key);
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

  async #loadAndStore<T>(storeKey: string, load: () => Promise<T>, ttlMs: number): Promise<Settled> {
    // A rejection propagates before anything is written, so failures are never cached.
    const value = await load();
    const storedAt = this.#now();
    // `undefined` has no JSON form; storing it as null keeps a miss and a later hit identical.
    const json = JSON.stringify(value === undefined ? null : value);
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
