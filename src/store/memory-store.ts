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
  /** Hash keys, kept apart from string keys; a key lives in at most one of the two maps. */
  readonly #hashes = new Map<string, Map<string, string>>();
  /** Expiry (epoch ms) of the hashes `hashIncrement` gave a TTL; the others live until deleted. */
  readonly #hashExpiry = new Map<string, number>();
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
    if (this.#readHash(key) || this.#read(key) !== null) return false;
    this.#entries.set(key, { value, expiresAt: this.#now() + ttl });
    return true;
  }

  async get(key: string): Promise<string | null> {
    this.#assertOpen();
    this.#assertNotHash(key);
    return this.#read(key);
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    this.#assertOpen();
    const expiresAt = this.#now() + toTtl(ttlMs);
    // Like Redis SET, this replaces a key of any type.
    this.#dropHash(key);
    this.#entries.set(key, { value, expiresAt });
  }

  async delete(key: string): Promise<void> {
    this.#assertOpen();
    this.#entries.delete(key);
    this.#dropHash(key);
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    this.#assertOpen();
    this.#assertNotHash(key);
    // As in setIfAbsent, nothing awaits between the read and the delete.
    if (this.#read(key) !== expected) return false;
    this.#entries.delete(key);
    return true;
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    this.#assertOpen();
    // MGET answers nil for a hash key rather than failing.
    return keys.map((key) => (this.#readHash(key) ? null : this.#read(key)));
  }

  async hashGet(key: string, field: string): Promise<string | null> {
    this.#assertOpen();
    this.#assertNotString(key);
    return this.#readHash(key)?.get(field) ?? null;
  }

  async hashSet(key: string, field: string, value: string): Promise<void> {
    this.#assertOpen();
    this.#assertNotString(key);
    // Like HSET, this keeps the TTL a hash may have.
    const hash = this.#readHash(key) ?? new Map<string, string>();
    hash.set(field, value);
    this.#hashes.set(key, hash);
  }

  async hashDelete(key: string, field: string): Promise<void> {
    this.#assertOpen();
    this.#assertNotString(key);
    const hash = this.#readHash(key);
    if (!hash) return;
    hash.delete(field);
    // Redis removes a hash with its last field, so the key is free again for any type.
    if (hash.size === 0) this.#dropHash(key);
  }

  async hashGetAll(key: string): Promise<Record<string, string>> {
    this.#assertOpen();
    this.#assertNotString(key);
    return Object.fromEntries(this.#readHash(key) ?? []);
  }

  async hashIncrement(
    key: string,
    increments: Readonly<Record<string, number>>,
    ttlMs: number,
  ): Promise<Record<string, number>> {
    this.#assertOpen();
    const ttl = toTtl(ttlMs);
    const entries = Object.entries(increments);
    for (const [, by] of entries) toIncrement(by);
    this.#assertNotString(key);
    const hash = this.#readHash(key) ?? new Map<string, string>();
    // Every field is checked before any is written. Redis' MULTI would still apply the other fields; a field
    // that holds no integer is a key-naming bug either way, so only the rejection is part of the contract.
    const current = entries.map(([field]) => {
      const raw = hash.get(field);
      if (raw !== undefined && !/^-?\d+$/.test(raw)) throw new NotAnIntegerError();
      return raw === undefined ? 0 : Number(raw);
    });
    const updated: Record<string, number> = {};
    entries.forEach(([field, by], i) => {
      const value = (current[i] ?? 0) + by;
      hash.set(field, String(value));
      updated[field] = value;
    });
    if (entries.length > 0) {
      this.#hashes.set(key, hash);
      this.#hashExpiry.set(key, this.#now() + ttl);
    }
    return updated;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
  }

  async close(): Promise<void> {
    clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    this.#entries.clear();
    this.#hashes.clear();
    this.#hashExpiry.clear();
  }

  /** Keys held (strings and hashes), including expired ones not yet swept; for tests and metrics. */
  get size(): number {
    return this.#entries.size + this.#hashes.size;
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

  /** The hash at `key`, unless there is none or its TTL ran out (then it is dropped, as `#read` drops strings). */
  #readHash(key: string): Map<string, string> | undefined {
    const hash = this.#hashes.get(key);
    if (!hash) return undefined;
    const expiresAt = this.#hashExpiry.get(key);
    if (expiresAt !== undefined && this.#now() > expiresAt) {
      this.#dropHash(key);
      return undefined;
    }
    return hash;
  }

  #dropHash(key: string): void {
    this.#hashes.delete(key);
    this.#hashExpiry.delete(key);
  }

  #assertNotHash(key: string): void {
    if (this.#readHash(key)) throw new WrongTypeError();
  }

  #assertNotString(key: string): void {
    if (this.#read(key) !== null) throw new WrongTypeError();
  }

  #sweep(): void {
    const now = this.#now();
    for (const [key, entry] of this.#entries) {
      if (isExpired(entry, now)) this.#entries.delete(key);
    }
    for (const [key, expiresAt] of this.#hashExpiry) {
      if (now > expiresAt) this.#dropHash(key);
    }
  }

  #assertOpen(): void {
    // Mirrors Redis, whose commands reject after quit; a use-after-close is a lifecycle bug worth seeing.
    if (this.#sweepTimer === undefined) throw new Error('MemoryStore is closed');
  }
}

/**
 * What Redis answers when a string command meets a hash or the reverse: mixing them is a key-naming bug, so
 * the memory adapter refuses it too rather than letting it pass in development and fail in production.
 */
class WrongTypeError extends Error {
  constructor() {
    super('WRONGTYPE Operation against a key holding the wrong kind of value');
  }
}

/** What HINCRBY answers for a field that does not hold an integer. */
class NotAnIntegerError extends Error {
  constructor() {
    super('ERR hash value is not an integer');
  }
}

/** HINCRBY takes a 64-bit integer; a fraction or NaN would corrupt the counter, so refuse it before writing. */
function toIncrement(by: number): number {
  if (!Number.isSafeInteger(by)) throw new RangeError(`increment must be a safe integer, got ${by}`);
  return by;
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
