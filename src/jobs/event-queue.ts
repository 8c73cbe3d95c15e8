import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DEDUPE_TTL_MS, deliveryJobId } from '../bot/dedupe.js';
import {
  type Delivery,
  type EventDispatcher,
  type EventHandler,
  EventRefusedError,
} from '../bot/dispatcher.js';
import type { EventEnvelope } from '../feishu/events.js';
import type { Metrics } from '../metrics.js';
import { QUEUE_PREFIX, withTimeout } from './connections.js';

export const EVENT_QUEUE = 'events';

/**
 * Feishu waits 3 s for the ack; enqueueing is one round trip, so anything near this means Redis is away and the
 * right answer is 503 (Feishu delivers again later), not a late 200.
 */
export const ENQUEUE_TIMEOUT_MS = 1_500;

/**
 * Five attempts 1, 2, 4, 8 s apart: a Feishu hiccup (timeout, 5xx, rate limit) is ridden out within about 15 s,
 * after which the user gets the error card. Completed jobs are kept as long as Feishu may redeliver the event
 * (its retries span about 7 h), which is what makes the job id a dedupe key; failed ones a week, for inspection.
 */
export const EVENT_JOB_OPTIONS = {
  attempts: 5,
  backoff: { type: 'exponential', delay: 1_000 },
  removeOnComplete: { age: DEDUPE_TTL_MS / 1000 },
  removeOnFail: { age: 7 * 24 * 60 * 60 },
} as const;

/**
 * Worker locks: a job whose replica died (kill -9, OOM, node lost) is noticed by another replica within
 * `stalledInterval` after its lock lapses, and runs again; replies carry Feishu's `uuid`, so running again never
 * posts twice. Locks are renewed every half `lockDuration` while a job runs, so slow jobs are not affected.
 * https://docs.bullmq.io/guide/workers/stalled-jobs
 */
export const EVENT_WORKER_LOCKS = {
  lockDuration: 15_000,
  stalledInterval: 5_000,
  maxStalledCount: 2,
} as const;

export interface QueueDispatcherOptions {
  producer: Redis;
  consumer: Redis;
  handle: EventHandler;
  logger: Logger;
  metrics: Metrics;
  concurrency?: number;
}

/**
 * Durable hand-off on Redis with BullMQ: the webhook answers 200 only once the event is a job in Redis, under a job
 * id derived from the event (so a redelivery to any replica is refused by Redis itself), and any replica's worker
 * runs it with retries. At-least-once work plus idempotent sends is exactly once as users see it.
 */
export class QueueDispatcher implements EventDispatcher {
  private readonly queue: Queue;
  private readonly worker: Worker;
  private readonly log: Logger;
  private closed = false;
  /** Jobs whose handler is running in this process. */
  private handling = 0;

  constructor(private readonly opts: QueueDispatcherOptions) {
    this.log = opts.logger.child({ queue: EVENT_QUEUE });
    this.queue = new Queue(EVENT_QUEUE, {
      connection: opts.producer,
      prefix: QUEUE_PREFIX,
      defaultJobOptions: EVENT_JOB_OPTIONS,
    });
    this.worker = new Worker(EVENT_QUEUE, (job: Job<EventEnvelope>) => this.processCounted(job), {
      connection: opts.consumer,
      prefix: QUEUE_PREFIX,
      concurrency: opts.concurrency ?? 16,
      autorun: false,
      ...EVENT_WORKER_LOCKS,
    });
    this.worker.on('failed', (job, err) => this.onFailed(job, err));
    this.worker.on('error', (err) => this.log.warn({ reason: err.message }, 'event worker error'));
    this.queue.on('error', (err) => this.log.warn({ reason: err.message }, 'event queue error'));
  }

  /** Start taking jobs (after the app is ready, so a failed boot never half-processes anything). */
  start(): void {
    void this.worker.run().catch((err: unknown) => this.log.error({ err }, 'event worker stopped'));
  }

  async dispatch(envelope: EventEnvelope): Promise<void> {
    if (this.closed) throw new EventRefusedError('shutting_down', 'dispatcher is shutting down');
    const jobId = deliveryJobId(envelope);
    // An add with an id that exists is a no-op in Redis: the duplicate is acknowledged and nothing runs twice.
    await withTimeout(
      this.queue.add(envelope.header.event_type, envelope, { jobId }),
      ENQUEUE_TIMEOUT_MS,
      `enqueue timed out after ${ENQUEUE_TIMEOUT_MS} ms`,
    );
  }

  async pending(): Promise<number> {
    const counts = await this.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  unfinishedHere(): number {
    return this.handling;
  }

  async drain(timeoutMs: number): Promise<void> {
    this.closed = true;
    // `close()` waits for the running jobs; what is still waiting stays in Redis for the other replicas (or for
    // this one after its restart): nothing needs to finish here for nothing to be lost.
    const graceful = this.worker.close();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      graceful.then(() => false),
      new Promise<boolean>((resolve) => {
        timer = setTimeout(() => resolve(true), timeoutMs);
      }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.log.warn(
        { running: this.handling },
        'shutdown timed out with jobs running or Redis away; what does not finish runs again on another worker',
      );
    }
    // Still waited for: `close(true)` after `close()` only returns the same promise. While Redis is away it never
    // settles, and the shutdown budget (lifecycle.ts) ends the process, saying this step was left.
    await graceful;
    await this.queue.close();
  }

  /** `process`, counted in `unfinishedHere` while it runs. */
  private async processCounted(job: Job<EventEnvelope>): Promise<void> {
    this.handling += 1;
    try {
      await this.process(job);
    } finally {
      this.handling -= 1;
    }
  }

  private async process(job: Job<EventEnvelope>): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    this.opts.metrics.inc('fsb_jobs_total', { queue: EVENT_QUEUE, outcome: 'started' });
    // The command's budget counts from its first attempt's start, not from acceptance: a backlog waiting for a
    // worker is not Feishu being slow. Remembered in the job only when an attempt fails, off the happy path.
    const recorded = recordedStart(job.progress);
    const startedAt = recorded?.startedAt ?? Date.now();
    const delivery: Delivery = {
      attempt,
      finalAttempt: attempt >= attempts,
      startedAt,
      budgetFrom: recorded?.budgetFrom ?? startedAt,
      retryDelayMs: EVENT_JOB_OPTIONS.backoff.delay * 2 ** (attempt - 1),
    };
    try {
      await this.opts.handle(job.data, delivery);
    } catch (err) {
      // Kept for the next attempt: when the first one started, and where its budget stood (the handler moves
      // `budgetFrom` by any pause behind the limiter).
      if (attempt < attempts && (!recorded || recorded.budgetFrom !== delivery.budgetFrom)) {
        await job
          .updateProgress({ startedAt, budgetFrom: delivery.budgetFrom ?? startedAt })
          .catch(() => undefined);
      }
      throw err;
    }
    this.opts.metrics.inc('fsb_jobs_total', { queue: EVENT_QUEUE, outcome: 'completed' });
  }

  private onFailed(job: Job<EventEnvelope> | undefined, err: Error): void {
    const final = job ? job.attemptsMade >= (job.opts.attempts ?? 1) : true;
    this.opts.metrics.inc('fsb_jobs_total', { queue: EVENT_QUEUE, outcome: final ? 'failed' : 'retrying' });
    const fields = { job_id: job?.id, attempt: job?.attemptsMade, reason: err.message };
    if (final) this.log.error(fields, 'event job failed for good');
    else this.log.info(fields, 'event job failed; retrying with backoff');
  }
}

/** What an earlier attempt recorded (see `process`): when the first attempt started, and the budget's start. */
function recordedStart(progress: unknown): { startedAt: number; budgetFrom: number } | undefined {
  const { startedAt, budgetFrom } = (progress ?? {}) as { startedAt?: unknown; budgetFrom?: unknown };
  if (typeof startedAt !== 'number' || !Number.isFinite(startedAt)) return undefined;
  return {
    startedAt,
    budgetFrom: typeof budgetFrom === 'number' && Number.isFinite(budgetFrom) ? budgetFrom : startedAt,
  };
}
