/**
 * Loaded before every test file (vitest `setupFiles`).
 * nock 15 depends on @mswjs/interceptors 0.44, which calls Promise.withResolvers (Node >= 22). This machine and
 * the Docker base run Node 20, so give the test processes the standard-conforming polyfill. Production code does
 * not use it.
 */
if (!('withResolvers' in Promise)) {
  Object.defineProperty(Promise, 'withResolvers', {
    configurable: true,
    writable: true,
    value: <T>() => {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}
