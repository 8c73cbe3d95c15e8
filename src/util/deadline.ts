import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * A deadline carried by the async context, so every Feishu call made on behalf of one command (through any number
 * of helpers) knows how long it may still take, without passing it through each signature. Node's
 * AsyncLocalStorage is the well-kept tool for this; the file only names the three operations the bot needs.
 */
export interface Deadline {
  /** Epoch ms; moved later by `extendDeadline`. */
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
 * Moves the current deadline later by `ms`: time spent queueing behind our own rate limiter is not time Feishu
 * spent failing, and a command that waited its turn still gets its full budget for the calls themselves.
 */
export function extendDeadline(ms: number): void {
  const deadline = storage.getStore();
  if (deadline && ms > 0) deadline.at += ms;
}
