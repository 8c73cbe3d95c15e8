import type { Store } from './store.js';

export interface MemoryStoreOptions {
  /** Clock in epoch ms; injected by tests to expire keys without waiting. */
  now?: () => number;
  /** How often expired entries are dropped even if nobody reads them again. Default 60 s. */
  sweepIntervalMs?: number;
}

interface Entry {
  value: string;
  expiresAt: number;
}

/**
 * Single-process store for `npm start` without Redis. State is lost on restart and invisible to a second
 * instance, which is why `createStore` warns when it picks this one.
 */
export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly #entries = new Map<string, Entry>();
  readonly #now: () => number;
  #sweepTimer: NodeJS.Timeout | undefined;

  constructor(opts: MemoryStoreOptions = {}) {
    this.#now = opts.now ?? Date.now;
    this.#sweepTimer = setInterval(() => this.#sweep(), opts.sweepIntervalMs ?? 60_000);
    // The sweep is housekeeping only: it must never keep a process (or a test run) alive.
    this.#sweepTimer.unref();
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    this.#assertOpen();
    const ttl = toTtl(ttlMs);
    // No await between the check and the write, so this is atomic within the one event loop.
    if (this.#read(key) !== null) return false;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttl });
    return true;
  }

  async get(key: string): Promise<string | null> {
    this.#assertOpen();
    return this.#read(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#assertOpen();
    this.#entries.set(key, { value, expiresAt: this.#now() + toTtl(ttlMs) });
  }

  async delete(key: string): Promise<void> {
    this.#assertOpen();
    this.#entries.delete(key);
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    this.#assertOpen();
    // As in setIfAbsent, nothing awaits between the read and the delete.
    if (this.#read(key) !== expected) return false;
    this.#entries.delete(key);
    return true;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#entries.clear();
  }

  /** Entries held, including expired ones not yet swept; for tests and metrics. */
  get size(): number {
    return this.#entries.size;
  }

  /** Lazy expiry, like Redis: an expired entry is gone the moment anyone looks at it. */
  #read(key: string): string | null {
    const entry = this.#entries.get(key);
    if (!entry) return null;
    if (isExpired(entry, this.#now())) {
      this.#entries.delete(key);
      return null;
    }
    return entry.value;
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (isExpired(entry, now)) this.#entries.delete(key);
    }
  }

  #assertOpen(): void {
    // Mirrors Redis, whose commands reject after quit; a use-after-close is a lifecycle bug worth seeing.
    if (this.#sweepTimer === undefined) throw new Error('MemoryStore is closed');
  }
}

/** Redis keeps a key alive through its expiry millisecond and drops it after (`now > when`); so do we. */
function isExpired(entry: Entry, now: number): boolean {
  return now > entry.expiresAt;
}

/** Same rule as Redis `PX`: a positive integer number of milliseconds. */
function toTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}
