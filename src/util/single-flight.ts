import { SharedWork, untilDeadline } from './deadline.js';

interface Flight<T> {
  promise: Promise<T>;
  waiters: SharedWork;
}

/**
 * Collapses concurrent calls for the same key into one in-flight promise (Go's `singleflight`).
 * Only de-duplicates *concurrent* work inside this process: once a call settles the key is free again,
 * so nothing here is a cache. Rejections are shared with every caller that joined, never remembered.
 *
 * The work belongs to no one caller (src/util/deadline.ts `SharedWork`): it runs free of the deadline of whoever
 * started it, so a caller with a second left cannot fail one that joined with fifteen. Each caller waits only until
 * its own deadline (then DeadlineExceededError), and the work goes on for the others.
 */
export class SingleFlight<T> {
  readonly #inFlight = new Map<string, Flight<T>>();

  run(key: string, fn: () => Promise<T>): Promise<T> {
    const existing = this.#inFlight.get(key);
    if (existing) {
      existing.waiters.join();
      return untilDeadline(existing.promise);
    }

    const waiters = new SharedWork();
    waiters.join();
    // Promise.resolve().then(fn) turns a synchronous throw in `fn` into a rejection callers can await.
    const promise = waiters.run(() => Promise.resolve().then(fn));
    const flight: Flight<T> = { promise, waiters };
    this.#inFlight.set(key, flight);
    // Two-argument `then` (not `finally`) so the bookkeeping chain never produces an unhandled rejection.
    const release = (): void => {
      if (this.#inFlight.get(key) === flight) this.#inFlight.delete(key);
    };
    promise.then(release, release);
    return untilDeadline(promise);
  }

  /** Number of keys with work in flight; for tests and metrics. */
  get size(): number {
    return this.#inFlight.size;
  }
}
