import type { Logger } from 'pino';
import type { EventEnvelope } from '../feishu/events.js';

/**
 * The single hand-off between the webhook route and the bot. `dispatch` resolves once the event is *accepted*
 * (queued), never when the work is done: the route answers Feishu within milliseconds whatever the work costs.
 * A durable queue can replace this implementation without the route changing; when acceptance fails
 * (queue unreachable) `dispatch` rejects and the route answers 5xx so Feishu delivers again later.
 */
export interface EventDispatcher {
  dispatch(envelope: EventEnvelope): Promise<void>;
  /** Stop accepting, then wait for queued and running work to finish (graceful shutdown). */
  drain(timeoutMs: number): Promise<void>;
  readonly pending: number;
}

export type EventHandler = (envelope: EventEnvelope) => Promise<void>;

/**
 * In-process queue with bounded concurrency. Not durable: work accepted but not finished when the process dies
 * is lost, which is why shutdown drains it and why Redis deployments will move to a durable queue.
 */
export class InProcessDispatcher implements EventDispatcher {
  private readonly queue: EventEnvelope[] = [];
  private readonly idleWaiters: Array<() => void> = [];
  private running = 0;
  private closed = false;

  constructor(
    private readonly handle: EventHandler,
    private readonly logger: Logger,
    private readonly concurrency = 16,
  ) {}

  get pending(): number {
    return this.queue.length + this.running;
  }

  async dispatch(envelope: EventEnvelope): Promise<void> {
    if (this.closed) throw new Error('dispatcher is shutting down');
    this.queue.push(envelope);
    // Start work on a later tick so the route's reply is never behind handler code.
    setImmediate(() => this.pump());
  }

  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    if (this.pending === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    const timeout = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        this.logger.warn({ pending: this.pending }, 'shutdown timed out with events still in progress');
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
      this.handle(envelope)
        .catch((err: unknown) => {
          // Handlers turn expected failures into cards themselves; reaching here is a bug worth one loud line.
          this.logger.error({ err, event_id: envelope.header.event_id }, 'event handler crashed');
        })
        .finally(() => {
          this.running -= 1;
          if (this.pending === 0) for (const wake of this.idleWaiters.splice(0)) wake();
          else this.pump();
        });
    }
  }
}
