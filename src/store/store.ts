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
  /** Throws when the backing service is unreachable; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
