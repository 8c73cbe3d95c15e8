import type { Logger } from 'pino';
import { BotError } from '../errors.js';
import type { EventEnvelope } from '../feishu/events.js';
import { ADMIT_WITHIN_MS } from '../lifecycle.js';

/**
 * The single hand-off between the webhook route and the bot. `dispatch` resolves once the event is *accepted*
 * (stored or queued), never when the work is done: the route answers Feishu within milliseconds whatever the work
 * costs. When acceptance fails (queue unreachable, shutting down, backlog full) `dispatch` rejects and the route
 * answers 503 so Feishu delivers the event again later. Two implementations: `QueueDispatcher` (BullMQ on Redis:
 * durable, shared by every replica) and `InProcessDispatcher` (no Redis: one process, lost on a crash).
 */
export interface EventDispatcher {
  dispatch(envelope: EventEnvelope): Promise<void>;
  /** Stop accepting, then wait for queued and running work to finish (graceful shutdown). */
  drain(timeoutMs: number): Promise<void>;
  /** Events accepted and not yet finished (waiting, running or backing off before a retry). */
  pending(): Promise<number>;
  /**
   * Events this process holds and has not finished, read without I/O (for shutdown, when Redis may be gone): in
   * memory every waiting and running one, lost if the process ends now; with the queue the jobs this worker is
   * running, which run again on another worker once their lock lapses.
   */
  unfinishedHere(): number;
}

/**
 * Acknowledges at once, without storing or queueing anything, the events the bot would do nothing with (`ignores`,
 * `Bot.ignoresAtOnce`), and hands every other event to `inner`. Nothing is lost: there is no work to lose.
 */
export function acknowledgingIgnored(
  inner: EventDispatcher,
  ignores: (envelope: EventEnvelope) => boolean,
  onIgnored: (envelope: EventEnvelope) => void,
): EventDispatcher {
  return {
    async dispatch(envelope) {
      if (!ignores(envelope)) return inner.dispatch(envelope);
      onIgnored(envelope);
    },
    drain: (timeoutMs) => inner.drain(timeoutMs),
    pending: () => inner.pending(),
    unfinishedHere: () => inner.unfinishedHere(),
  };
}

/**
 * The dispatcher did not accept the event, and says so before claiming it: Feishu's redelivery (15 s, 5 min, 1 h,
 * 6 h later) is then processed, not dropped as a duplicate.
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
 */
export class EventRefusedError extends BotError {
  readonly code = 'EVENT_REFUSED';
  override get transient(): boolean {
    return true;
  }
  constructor(
    readonly reason: 'shutting_down' | 'backlog_full',
    message: string,
  ) {
    super(message);
  }
}

/**
 * Thrown by a handler on its final attempt when not even the error card could be sent, for a reason that passes
 * (Feishu's token endpoint or message API down): nobody has heard anything yet. Only when the delivery says
 * `mayRunLater`; the queue then keeps the job and runs the whole event again later (see `DEFERRAL` in
 * `jobs/event-queue.ts`).
 */
export class RunLaterError extends BotError {
  readonly code = 'RUN_LATER';
  override get transient(): boolean {
    return true;
  }
  constructor(cause: unknown) {
    super('nothing could be sent to the reader; the event runs again later', { cause });
  }
}

/** How the dispatcher runs this delivery: whether a failure now can still be retried later. */
export interface Delivery {
  /** 1-based. */
  attempt: number;
  /** No retry follows a failure of this attempt: errors must become cards now. */
  finalAttempt: boolean;
  /**
   * On a final attempt: the dispatcher can still run the event again later, much later than a retry, if the
   * handler could tell the reader nothing at all (`RunLaterError`). Only the durable queue can.
   */
  mayRunLater?: boolean;
  /** How long the queue waits before the next attempt, when there is one. */
  retryDelayMs?: number;
  /** Epoch ms at which the first attempt started; "as of" times render from it. Default: now. */
  startedAt?: number;
  /**
   * Epoch ms from which the command's budget counts: `startedAt`, moved later by any time the budget was paused
   * (queueing behind the limiter). A handler that fails updates it, and the queue keeps it for the next attempt.
   */
  budgetFrom?: number;
}

export type EventHandler = (envelope: EventEnvelope, delivery: Delivery) => Promise<void>;

/** Resolves true for the first delivery of an event, false for a repeat (see `claimDelivery`). */
export type DeliveryClaim = (envelope: EventEnvelope) => Promise<boolean>;

export interface InProcessDispatcherOptions {
  /** The backlog must be estimated to finish within this (default ADMIT_WITHIN_MS); see `InProcessDispatcher`. */
  admitWithinMs?: number;
  concurrency?: number;
  /** Assumed handling time of an event until some have finished here. */
  initialEstimateMs?: number;
  now?: () => number;
}

/**
 * No evidence yet: assume a few Feishu calls. Erring low accepts work a shutdown may have to drop; erring high
 * refuses the first burst after a start, often Feishu's redeliveries of what the last shutdown refused, whose next
 * retry is then minutes away. The age of the events running corrects it before the first one finishes.
 */
const INITIAL_ESTIMATE_MS = 1_000;
/**
 * Weight of the newest handling time in the running average: bad news counts at once, good news slowly. A burst
 * whose first few events finish before a rate limiter starts making the rest wait must not open the window wide;
 * events that really are fast bring the average down within about sixty of them.
 */
const SMOOTHING_SLOWER = 0.5;
const SMOOTHING_FASTER = 0.05;

/**
 * In-process queue with bounded concurrency, for deployments without Redis. Not durable: work accepted but not
 * finished when the process dies is lost, which is why shutdown drains it and why startup says so. Duplicate
 * deliveries are dropped at acceptance through `claim`; each event gets one attempt.
 *
 * Admission: an event is accepted only if everything already accepted plus this one can be finished within
 * `admitWithinMs` (under the shutdown drain budget, see `lifecycle.ts`), so a SIGTERM at any moment finds a backlog
 * it can finish; anything beyond is refused with 503 and Feishu delivers it again later. The estimate is
 * `ceil(backlog / concurrency)` rounds of `perEventMs`, where `perEventMs` is the larger of the recent average
 * handling time and the age of the oldest event still running (so a Feishu that starts hanging narrows the window
 * before any slow event has finished). An idle dispatcher always accepts one event, which keeps a stale, high
 * average from refusing everything for ever. It is an estimate: work that slows down after it was accepted (a rate
 * limit reached mid-burst) can still outrun the drain budget, and shutdown then says how many events it left.
 */
export class InProcessDispatcher implements EventDispatcher {
  private readonly queue: EventEnvelope[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  /** Running events by when they started. */
  private readonly running = new Map<EventEnvelope, number>();
  /** Admitted and still being claimed: counted, so concurrent deliveries cannot all squeeze past the estimate. */
  private claiming = 0;
  private averageMs: number;
  private closed = false;
  private pumpScheduled = false;
  private readonly concurrency: number;
  private readonly admitWithinMs: number;
  private readonly now: () => number;

  constructor(
    private readonly handle: EventHandler,
    private readonly claim: DeliveryClaim,
    private readonly logger: Logger,
    opts: InProcessDispatcherOptions = {},
  ) {
    this.concurrency = opts.concurrency ?? 16;
    this.admitWithinMs = opts.admitWithinMs ?? ADMIT_WITHIN_MS;
    this.averageMs = opts.initialEstimateMs ?? INITIAL_ESTIMATE_MS;
    this.now = opts.now ?? Date.now;
  }

  async pending(): Promise<number> {
    return this.count;
  }

  unfinishedHere(): number {
    return this.count;
  }

  private get count(): number {
    return this.queue.length + this.running.size;
  }

  async dispatch(envelope: EventEnvelope): Promise<void> {
    // Both checks come before the claim: a refused event must not be remembered as seen.
    if (this.closed) throw new EventRefusedError('shutting_down', 'dispatcher is shutting down');
    const estimateMs = this.finishEstimateMs(this.count + this.claiming + 1);
    if (this.count + this.claiming > 0 && estimateMs > this.admitWithinMs) {
      throw new EventRefusedError(
        'backlog_full',
        `backlog would take about ${estimateMs} ms, more than the ${this.admitWithinMs} ms a shutdown can wait`,
      );
    }
    this.claiming += 1;
    let first: boolean;
    try {
      first = await this.claim(envelope);
    } finally {
      this.claiming -= 1;
    }
    if (!first) {
      this.logger.debug({ event_id: envelope.header.event_id }, 'duplicate delivery dropped');
      return;
    }
    this.queue.push(envelope);
    // Start work on a later tick so the route's reply is never behind handler code; one pump serves every event
    // accepted before it runs.
    if (!this.pumpScheduled) {
      this.pumpScheduled = true;
      setImmediate(() => {
        this.pumpScheduled = false;
        this.pump();
      });
    }
  }

  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.count === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.logger.warn({ pending: this.count }, 'shutdown timed out with events still in progress');
        resolve();
      }, timeoutMs);
    });
    await Promise.race([idle, timeout]);
    clearTimeout(timer);
  }

  /** How long `backlog` events would take from now, by the rule in the class comment. */
  private finishEstimateMs(backlog: number): number {
    const now = this.now();
    let perEventMs = this.averageMs;
    for (const startedAt of this.running.values()) perEventMs = Math.max(perEventMs, now - startedAt);
    return Math.ceil(backlog / this.concurrency) * Math.round(perEventMs);
  }

  private pump(): void {
    while (this.running.size < this.concurrency) {
      const envelope = this.queue.shift();
      if (!envelope) break;
      const startedAt = this.now();
      this.running.set(envelope, startedAt);
      this.handle(envelope, { attempt: 1, finalAttempt: true })
        .catch((err: unknown) => {
          // Handlers turn expected failures into cards themselves; reaching here is a bug worth one loud line.
          this.logger.error({ err, event_id: envelope.header.event_id }, 'event handler crashed');
        })
        .finally(() => {
          this.running.delete(envelope);
          const tookMs = this.now() - startedAt;
          const weight = tookMs > this.averageMs ? SMOOTHING_SLOWER : SMOOTHING_FASTER;
          this.averageMs += weight * (tookMs - this.averageMs);
          if (this.count === 0) for (const wake of this.idleWaiters.splice(0)) wake();
          else this.pump();
        });
    }
  }
}
