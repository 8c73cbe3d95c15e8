/**
 * Polling for multi-process tests, where there is no in-process event to await: a reply in the emulator, an
 * empty queue in Redis, a log line from a child.
 */

/** Resolves once `done()` holds; rejects after `timeoutMs` with `progress()` saying how far it got. */
export async function waitUntil(
  done: () => boolean | Promise<boolean>,
  timeoutMs: number,
  progress: () => string,
  pollMs = 100,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > deadline) throw new Error(`not reached within ${timeoutMs} ms: ${progress()}`);
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
}
