import type { Logger } from 'pino';
import type { EventEnvelope } from '../feishu/events.js';

/**
 * The single hand-off between the webhook route and the bot. `dispatch` resolves once the event is *accepted*
 * (stored or queued), never when the work is done: the route answers Feishu within milliseconds whatever the work
 * costs. When acceptance fails (queue unreachable, shutting down) `dispatch` rejects and the route answers 503 so
 * Feishu delivers the event again later. Two implementations: `QueueDispatcher` (BullMQ on Redis: durable, shared
 * by every replica) and `InProcessDispatcher` (no Redis: one process, lost on a crash).
 */
export interface EventDispatcher {
  dispatch(envelope: EventEnvelope): Promise<void>;
  /** Stop accepting, then wait for queued and running work to finish (graceful shutdown). */
  drain(timeoutMs: number): Promise<void>;
  /** Events accepted and not yet finished (waiting, running or backing off before a retry). */
  pending(): Promise<number>;
}

/** How the dispatcher runs this delivery: whether a failure now can still be retried later. */
export interface Delivery {
  /** 1-based. */
  attempt: number;
  /** No retry follows a failure of this attempt: errors must become cards now. */
  finalAttempt: boolean;
  /** How long the queue waits before the next attempt, when there is one. */
  retryDelayMs?: number;
  /** Epoch ms at which the first attempt started: the command's budget counts from here. Default: now. */
  startedAt?: number;
}

export type EventHandler = (envelope: EventEnvelope, delivery: Delivery) => Promise<void>;

/** Resolves true for the first delivery of an event, false for a repeat (see `claimDelivery`). */
export type DeliveryClaim = (envelope: EventEnvelope) => Promise<boolean>;

/**
 * In-process queue with bounded concurrency, for deployments without Redis. Not durable: work accepted but not
 * finished when the process dies is lost, which is why shutdown drains it and why startup says so. Duplicate
 * deliveries are dropped at acceptance through `claim`; each event gets one attempt.
 */
export class InProcessDispatcher implements EventDispatcher {
  private readonly queue: EventEnvelope[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private running = 0;
  private closed = false;

  constructor(
    private readonly handle: EventHandler,
    private readonly claim: DeliveryClaim,
    private readonly logger: Logger,
    private readonly concurrency = 16,
  ) {}

  async pending(): Promise<number> {
    return this.count;
  }

  private get count(): number {
    return this.queue.length + this.running;
  }

  async dispatch(envelope: EventEnvelope): Promise<void> {
    if (this.closed) throw new Error('dispatcher is shutting down');
    if (!(await this.claim(envelope))) {
      this.logger.debug({ event_id: envelope.header.event_id }, 'duplicate delivery dropped');
      return;
    }
    this.queue.push(envelope);
    // Start work on a later tick so the route's reply is never behind handler code.
    setImmediate(() => this.pump());
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

  private pump(): void {
    while (this.running < this.concurrency) {
      const envelope = this.queue.shift();
      if (!envelope) break;
      this.running += 1;
      this.handle(envelope, { attempt: 1, finalAttempt: true })
        .catch((err: unknown) => {
          // Handlers turn expected failures into cards themselves; reaching here is a bug worth one loud line.
          this.logger.error({ err, event_id: envelope.header.event_id }, 'event handler crashed');
        })
        .finally(() => {
          this.running -= 1;
          if (this.count === 0) for (const wake of this.idleWaiters.splice(0)) wake();
          else this.pump();
        });
    }
  }
}
