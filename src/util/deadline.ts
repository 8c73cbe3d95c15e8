import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A deadline carried by the async context, so every Feishu call made on behalf of one command (through any number
 * of helpers) knows how long it may still take, without passing it through each signature. Node's
 * AsyncLocalStorage is the well-kept tool for this; the file only names the four operations the bot needs.
 */
export interface Deadline {
  /** Epoch ms; moved later while a wait is paused (`pauseDeadline`). */
  at: number;
}

const storage = new AsyncLocalStorage<Deadline | undefined>();

/** Runs `work` under `deadline`; the caller keeps the object and sees any extension made inside. */
export function withDeadline<T>(deadline: Deadline, work: () => Promise<T>): Promise<T> {
  return storage.run(deadline, work);
}

/** Runs `work` free of any deadline: an answer already computed is still delivered. */
export function withoutDeadline<T>(work: () => Promise<T>): Promise<T> {
  return storage.run(undefined, work);
}

/** Milliseconds left before the current deadline (≤ 0 once past it); undefined outside any deadline. */
export function timeLeftMs(): number | undefined {
  const deadline = storage.getStore();
  return deadline ? deadline.at - Date.now() : undefined;
}

/**
 * Stops the clock of the current deadline while the caller waits behind our own rate limiter: time spent
 * queueing is not time Feishu spent failing, so a command that waited its turn keeps the budget it had. Call the
 * returned function when the wait ends. Waits that overlap (several calls of one command queueing at once) do not
 * add up: the deadline only moves to give back what was left when each wait began.
 */
export function pauseDeadline(): () => void {
  const deadline = storage.getStore();
  if (!deadline) return () => undefined;
  const leftAtStart = deadline.at - Date.now();
  return () => {
    deadline.at = Math.max(deadline.at, Date.now() + leftAtStart);
  };
}
