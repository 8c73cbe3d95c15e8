/**
 * Collapses concurrent calls for the same key into one in-flight promise (Go's `singleflight`).
 * Only de-duplicates *concurrent* work inside this process: once a call settles the key is free again,
 * so nothing here is a cache. Rejections are shared with every caller that joined, never remembered.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Promise<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.#inFlight.get(key);
    if (existing) return existing;

    // Promise.resolve().then(fn) turns a synchronous throw in `fn` into a rejection callers can await.
    const promise = Promise.resolve().then(fn);
    this.#inFlight.set(key, promise);
    // Two-argument `then` (not `finally`) so the bookkeeping chain never produces an unhandled rejection.
    const release = (): void => {
      if (this.#inFlight.get(key) === promise) this.#inFlight.delete(key);
    };
    promise.then(release, release);
    return promise;
  }

  /** Number of keys with work in flight; for tests and metrics. */
  get size(): number {
    return this.#inFlight.size;
  }
}
