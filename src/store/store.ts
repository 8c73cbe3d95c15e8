/**
 * The store port: everything the bot keeps between requests goes through this interface, with a Redis
 * adapter for real deployments and an in-memory one for `npm start` on a fresh machine.
 * Keys are plain strings; adapters add no prefix of their own (callers use `keys.ts`).
 */
export interface Store {
  /** Which adapter this is, for logs and /readyz. */
  readonly kind: 'redis' | 'memory';
  /** Atomic set-if-absent with a TTL. Resolves true when this caller claimed the key. */
  setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean>;
  get(key: string): Promise<string | null>;
  /** Unconditional set with a TTL. */
  set(key: string, value: string, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /**
   * Atomically deletes `key` only while it still holds `expected`; resolves true when it did. Releases a lock
   * without removing one that another owner claimed after ours expired.
   */
  compareAndDelete(key: string, expected: string): Promise<boolean>;
  /** Values of `keys` in order, null for each missing (or hash) key, as MGET. One round-trip for them all. */
  getMany(keys: readonly string[]): Promise<(string | null)[]>;
  /**
   * Hashes hold small records addressed by field (e.g. one per chat). They have no TTL, and live until deleted,
   * unless `hashIncrement` gave them one. A key holds either a string or a hash; using a string command on a hash
   * key (or the reverse) rejects with a `WRONGTYPE` error, as Redis does, except `set`/`delete`, which replace or
   * remove either.
   */
  hashGet(key: string, field: string): Promise<string | null>;
  hashSet(key: string, field: string, value: string): Promise<void>;
  /** Deleting the last field removes the key. */
  hashDelete(key: string, field: string): Promise<void>;
  /** Every field of the hash; `{}` when the key does not exist (HGETALL). */
  hashGetAll(key: string): Promise<Record<string, string>>;
  /**
   * Adds each integer in `increments` to its field (a missing field counts from 0) and gives the hash `ttlMs` to
   * live from now, all in one atomic step (HINCRBY per field and PEXPIRE in one MULTI); resolves to each field's
   * new value. Counters shared by replicas (API calls per month) that must outlive their period, not pile up.
   * A field that holds something other than an integer rejects, as HINCRBY does.
   */
  hashIncrement(
    key: string,
    increments: Readonly<Record<string, number>>,
    ttlMs: number,
  ): Promise<Record<string, number>>;
  /** Throws when the backing service is unreachable; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
