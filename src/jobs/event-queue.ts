import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { DEDUPE_TTL_MS, deliveryJobId } from '../bot/dedupe.js';
import {
  type Delivery,
  type EventDispatcher,
  type EventHandler,
  EventRefusedError,
  RunLaterError,
} from '../bot/dispatcher.js';
import type { EventEnvelope } from '../feishu/events.js';
import { type Metrics, QUEUE_STATES } from '../metrics.js';
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

/**
 * When the final attempt could tell the reader nothing at all (`RunLaterError`: Feishu's token endpoint or message
 * API down), the job is kept and runs again 30 s later, then 1, 2, 4 and every 5 min, each run a fresh command
 * with a budget of its own, until the first card goes out. Runs start within 45 min of the first attempt: Feishu
 * keeps a send's `uuid` for 1 hour, so a reply an earlier run did get out is still not posted twice.
 */
export const RUN_LATER = {
  firstDelayMs: 30_000,
  maxDelayMs: 5 * 60_000,
  windowMs: 45 * 60_000,
} as const;

export interface RunLaterPolicy {
  firstDelayMs: number;
  maxDelayMs: number;
  /** From the first attempt's start to the start of the last run. */
  windowMs: number;
}

/** The retry schedule; tests shorten it. */
export interface EventRetryPolicy {
  attempts: number;
  /** Exponential backoff base between attempts. */
  backoffMs: number;
  runLater: RunLaterPolicy;
}

export const EVENT_RETRY: EventRetryPolicy = {
  attempts: EVENT_JOB_OPTIONS.attempts,
  backoffMs: EVENT_JOB_OPTIONS.backoff.delay,
  runLater: RUN_LATER,
};

export interface QueueDispatcherOptions {
  producer: Redis;
  consumer: Redis;
  handle: EventHandler;
  logger: Logger;
  metrics: Metrics;
  concurrency?: number;
  retry?: EventRetryPolicy;
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

  private readonly retry: EventRetryPolicy;
  private readonly stopWatching: () => void;

  constructor(private readonly opts: QueueDispatcherOptions) {
    this.log = opts.logger.child({ queue: EVENT_QUEUE });
    this.retry = opts.retry ?? EVENT_RETRY;
    this.queue = new Queue(EVENT_QUEUE, {
      connection: opts.producer,
      prefix: QUEUE_PREFIX,
      defaultJobOptions: {
        ...EVENT_JOB_OPTIONS,
        attempts: this.retry.attempts,
        backoff: { type: 'exponential', delay: this.retry.backoffMs },
      },
    });
    const processor = (job: Job<EventEnvelope>, token?: string) => this.processCounted(job, token);
    this.worker = new Worker(EVENT_QUEUE, processor, {
      connection: opts.consumer,
      prefix: QUEUE_PREFIX,
      concurrency: opts.concurrency ?? 16,
      autorun: false,
      ...EVENT_WORKER_LOCKS,
    });
    this.worker.on('failed', (job, err) => this.onFailed(job, err));
    this.worker.on('error', (err) => this.log.warn({ reason: err.message }, 'event worker error'));
    this.queue.on('error', (err) => this.log.warn({ reason: err.message }, 'event queue error'));
    this.stopWatching = opts.metrics.watchQueue(EVENT_QUEUE, () => this.queue.getJobCounts(...QUEUE_STATES));
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
    this.stopWatching();
    await this.queue.close();
  }

  /** `process`, counted in `unfinishedHere` while it runs. */
  private async processCounted(job: Job<EventEnvelope>, token: string | undefined): Promise<void> {
    this.handling += 1;
    const started = performance.now();
    let outcome = 'failed';
    try {
      await this.process(job, token);
      outcome = 'completed';
    } catch (err) {
      if (err instanceof DelayedError) outcome = 'run_later';
      throw err;
    } finally {
      this.handling -= 1;
      this.opts.metrics.jobDuration.observe(
        { queue: EVENT_QUEUE, outcome },
        (performance.now() - started) / 1000,
      );
    }
  }

  private async process(job: Job<EventEnvelope>, token: string | undefined): Promise<void> {
    const attempt = job.attemptsMade + 1;
    const attempts = job.opts.attempts ?? 1;
    this.opts.metrics.jobs.inc({ queue: EVENT_QUEUE, outcome: 'started' });
    // The command's budget counts from its first attempt's start, not from acceptance: a backlog waiting for a
    // worker is not Feishu being slow. Remembered in the job only when an attempt fails, off the happy path.
    const recorded = readProgress(job.progress);
    const startedAt = recorded.startedAt ?? Date.now();
    const since = recorded.since ?? startedAt;
    const runLaterInMs = token ? this.runLaterDelayMs(since, recorded.runs) : undefined;
    const finalAttempt = attempt >= attempts;
    const delivery: Delivery = {
      attempt,
      finalAttempt,
      ...(finalAttempt && runLaterInMs !== undefined ? { mayRunLater: true } : {}),
      startedAt,
      budgetFrom: recorded.budgetFrom ?? startedAt,
      retryDelayMs: this.retry.backoffMs * 2 ** (attempt - 1),
    };
    try {
      await this.opts.handle(job.data, delivery);
    } catch (err) {
      if (err instanceof RunLaterError && token && runLaterInMs !== undefined) {
        await this.runLater(job, token, { since, runs: recorded.runs + 1 }, runLaterInMs, err);
      }
      // Kept for the next attempt: when the first one started, and where its budget stood (the handler moves
      // `budgetFrom` by any pause behind the limiter).
      if (attempt < attempts && recorded.budgetFrom !== delivery.budgetFrom) {
        const progress: JobProgress = {
          startedAt,
          budgetFrom: delivery.budgetFrom ?? startedAt,
          since,
          runs: 0,
        };
        await job.updateProgress(progress).catch(() => undefined);
      }
      throw err;
    }
    this.opts.metrics.jobs.inc({ queue: EVENT_QUEUE, outcome: 'completed' });
  }

  /** How long until the next later run, or undefined when it would start past the window. */
  private runLaterDelayMs(since: number, runs: number): number | undefined {
    const { firstDelayMs, maxDelayMs, windowMs } = this.retry.runLater;
    const delayMs = Math.min(firstDelayMs * 2 ** runs, maxDelayMs);
    return Date.now() + delayMs - since <= windowMs ? delayMs : undefined;
  }

  /**
   * Back to the delayed set without spending an attempt (`moveToDelayed` with the worker's lock token, then
   * BullMQ's `DelayedError`): the later run is a final attempt again, with a budget of its own from its start.
   */
  private async runLater(
    job: Job<EventEnvelope>,
    token: string,
    next: { since: number; runs: number },
    delayMs: number,
    err: RunLaterError,
  ): Promise<never> {
    try {
      await job.moveToDelayed(Date.now() + delayMs, token);
    } catch (moveErr) {
      // The lock was lost (another worker took the stalled job over) or Redis failed: not failing the job for good
      // leaves it to stalled-job recovery, which runs it again.
      this.log.warn(
        { job_id: job.id, err: moveErr },
        'could not move the event job to later; left to recovery',
      );
      throw new DelayedError();
    }
    // After the move, which checks the lock: a job another worker took over keeps that worker's count. Without the
    // count the next run waits as long as this one; `since` still ends the window.
    const progress: JobProgress = next;
    await job.updateProgress(progress).catch((progressErr: unknown) => {
      this.log.warn({ job_id: job.id, err: progressErr }, 'could not record the later run');
    });
    this.opts.metrics.jobs.inc({ queue: EVENT_QUEUE, outcome: 'run_later' });
    const reason = err.cause instanceof Error ? err.cause.message : String(err.cause);
    this.log.warn(
      { job_id: job.id, run: next.runs, delay_ms: delayMs, reason },
      'Feishu takes no messages; the event runs again later',
    );
    throw new DelayedError();
  }

  private onFailed(job: Job<EventEnvelope> | undefined, err: Error): void {
    const final = job ? job.attemptsMade >= (job.opts.attempts ?? 1) : true;
    this.opts.metrics.jobs.inc({ queue: EVENT_QUEUE, outcome: final ? 'failed' : 'retrying' });
    const fields = { job_id: job?.id, attempt: job?.attemptsMade, reason: err.message };
    if (final) this.log.error(fields, 'event job failed for good');
    else this.log.info(fields, 'event job failed; retrying with backoff');
  }
}

/**
 * What earlier attempts recorded in the job's progress: when this run's first attempt started and where its budget
 * stood, when the event's very first attempt started (`since`), and how many later runs there have been.
 */
interface JobProgress {
  startedAt?: number;
  budgetFrom?: number;
  since: number;
  runs: number;
}

function readProgress(progress: unknown): Partial<JobProgress> & { runs: number } {
  const { startedAt, budgetFrom, since, runs } = (progress ?? {}) as Record<string, unknown>;
  const start = finite(startedAt);
  return {
    ...(start !== undefined ? { startedAt: start, budgetFrom: finite(budgetFrom) ?? start } : {}),
    ...(finite(since) !== undefined ? { since: finite(since) } : {}),
    runs: finite(runs) ?? 0,
  };
}

function finite(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}
