import { AsyncLocalStorage } from 'node:async_hooks';
import { BotError } from '../errors.js';

/**
 * A deadline carried by the async context, so every Feishu call made on behalf of one command (through any number
 * of helpers) knows how long it may still take, without passing it through each signature. Node's
 * AsyncLocalStorage is the well-kept tool for this; the file only names the operations the bot needs.
 */
export interface Deadline {
  /** Epoch ms; moved later while a wait is paused (`pauseDeadline`). */
  at: number;
}

/**
 * What the async context carries: the deadline the work runs under, or, for work several callers share, who is
 * waiting on it. Never both: shared work runs under no caller's deadline.
 */
interface Context {
  deadline?: Deadline;
  shared?: SharedWork;
}

const storage = new AsyncLocalStorage<Context | undefined>();

/** Runs `work` under `deadline`; the caller keeps the object and sees any extension made inside. */
export function withDeadline<T>(deadline: Deadline, work: () => Promise<T>): Promise<T> {
  return storage.run({ deadline }, work);
}

/** Runs `work` free of any deadline: an answer already computed is still delivered. */
export function withoutDeadline<T>(work: () => Promise<T>): Promise<T> {
  return storage.run(undefined, work);
}

/** Milliseconds left before the current deadline (≤ 0 once past it); undefined outside any deadline. */
export function timeLeftMs(): number | undefined {
  const deadline = storage.getStore()?.deadline;
  return deadline ? deadline.at - Date.now() : undefined;
}

/**
 * How long anyone may still wait for the current work: the current deadline's time left, or for shared work the
 * longest any of its callers has (≤ 0 once every one of them has stopped waiting). Undefined when someone waits
 * without a deadline.
 */
export function waitLeftMs(): number | undefined {
  const context = storage.getStore();
  if (context?.shared) return context.shared.timeLeftMs();
  return timeLeftMs();
}

/** The caller's deadline passed while it waited for work it shares with others; the work goes on for them. */
export class DeadlineExceededError extends BotError {
  readonly code = 'DEADLINE_EXCEEDED';
  constructor() {
    super('the deadline passed while waiting for work shared with other callers');
  }
  /** The shared work may still finish (and be cached) for a later attempt. */
  override get transient(): boolean {
    return true;
  }
}

/** Deadlines inside a pause now: their clock does not run, and `untilDeadline` looks again when the pause ends. */
interface PauseState {
  count: number;
  onResume: (() => void)[];
}
const pauses = new WeakMap<Deadline, PauseState>();

/**
 * Stops the clock of the current deadline while the caller waits behind our own rate limiter: time spent
 * queueing is not time Feishu spent failing, so a command that waited its turn keeps the budget it had. Call the
 * returned function when the wait ends. Waits that overlap (several calls of one command queueing at once) do not
 * add up: the deadline only moves to give back what was left when each wait began. In shared work the clock of
 * every caller waiting on it stops, as it would for a caller running the work alone.
 */
export function pauseDeadline(): () => void {
  const context = storage.getStore();
  const deadlines = context?.deadline ? [context.deadline] : [...(context?.shared?.deadlines() ?? [])];
  if (deadlines.length === 0) return () => undefined;
  const startedAt = Date.now();
  const held = deadlines.map((deadline) => {
    const state = pauses.get(deadline) ?? { count: 0, onResume: [] };
    state.count += 1;
    pauses.set(deadline, state);
    return { deadline, state, leftAtStart: deadline.at - startedAt };
  });
  let resumed = false;
  return () => {
    if (resumed) return;
    resumed = true;
    const now = Date.now();
    for (const { deadline, state, leftAtStart } of held) {
      deadline.at = Math.max(deadline.at, now + leftAtStart);
      state.count -= 1;
      if (state.count > 0) continue;
      pauses.delete(deadline);
      for (const lookAgain of state.onResume.splice(0)) lookAgain();
    }
  };
}

/**
 * `work`'s outcome, unless the current deadline passes first: then a DeadlineExceededError, while the work goes on
 * (others may be waiting for it). Outside any deadline, and inside shared work, simply `work`.
 */
export function untilDeadline<T>(work: Promise<T>): Promise<T> {
  const deadline = storage.getStore()?.deadline;
  if (!deadline) return work;
  return new Promise<T>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const settle = (): void => {
      settled = true;
      clearTimeout(timer);
    };
    const check = (): void => {
      if (settled) return;
      // No clock runs during a pause, and the pause may move the deadline: look again when it ends.
      const paused = pauses.get(deadline);
      if (paused) {
        paused.onResume.push(check);
        return;
      }
      const left = deadline.at - Date.now();
      if (left <= 0) {
        settle();
        reject(new DeadlineExceededError());
        return;
      }
      timer = setTimeout(check, left);
    };
    work.then(
      (value) => {
        settle();
        resolve(value);
      },
      (err: unknown) => {
        settle();
        reject(err);
      },
    );
    check();
  });
}

/**
 * The callers waiting on one piece of work they share (a single flight). The work runs under none of their
 * deadlines: the first caller's must not fail those that joined with more time left. Each caller stops waiting at
 * its own deadline instead (`untilDeadline`), and time the work spends queued behind our own rate limiter
 * (`pauseDeadline`) is given back to every one of them. The work's own calls are bounded by their own budgets
 * (the transport's call budget and request timeout).
 */
export class SharedWork {
  /** Deadlines of the callers waiting, and shared work waiting on this one (whose callers then wait too). */
  readonly #waiting = new Set<Deadline | SharedWork>();
  /** Someone waits without a deadline. */
  #unbounded = false;

  /** Counts the current caller as waiting on this work. */
  join(): void {
    const context = storage.getStore();
    if (context?.deadline) this.#waiting.add(context.deadline);
    else if (context?.shared) {
      if (context.shared !== this) this.#waiting.add(context.shared);
    } else this.#unbounded = true;
  }

  /** Runs `work` as this shared work: under no deadline, its pauses given back to every caller waiting. */
  run<T>(work: () => Promise<T>): Promise<T> {
    return storage.run({ shared: this }, work);
  }

  /** The longest any caller waiting may still wait; undefined when one waits without a deadline. */
  timeLeftMs(seen = new Set<SharedWork>()): number | undefined {
    if (this.#unbounded) return undefined;
    seen.add(this);
    const now = Date.now();
    let longest = Number.NEGATIVE_INFINITY;
    for (const waiting of this.#waiting) {
      if (waiting instanceof SharedWork) {
        if (seen.has(waiting)) continue;
        const left = waiting.timeLeftMs(seen);
        if (left === undefined) return undefined;
        longest = Math.max(longest, left);
      } else longest = Math.max(longest, waiting.at - now);
    }
    return longest;
  }

  /** Every deadline waiting on this work, through shared work waiting on it. */
  deadlines(into = new Set<Deadline>(), seen = new Set<SharedWork>()): Set<Deadline> {
    seen.add(this);
    for (const waiting of this.#waiting) {
      if (!(waiting instanceof SharedWork)) into.add(waiting);
      else if (!seen.has(waiting)) waiting.deadlines(into, seen);
    }
    return into;
  }
}
