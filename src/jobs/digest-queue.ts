import { type Job, Queue, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { type DigestRunner, type DueDigest, digestJobId } from '../digest/runner.js';
import { type Metrics, QUEUE_STATES } from '../metrics.js';
import { QUEUE_PREFIX } from './connections.js';
import { EVENT_WORKER_LOCKS } from './event-queue.js';

export const DIGEST_QUEUE = 'digests';
/** How often replicas look for chats that are due; one scheduler shared by all replicas. */
export const DIGEST_TICK_MS = 60_000;
export const TICK_SCHEDULER_ID = 'digest-tick';

/**
 * Send jobs: a few retries for Feishu hiccups (the uuid keeps them from posting twice). Completed and failed jobs
 * stay three days: while a job exists, Redis refuses another with the same chat-and-period id. A weekly or monthly
 * period outlives that, so past three days it is the delivery state (sent in this period) that refuses a second
 * send, as it does for any job that runs again.
 */
const SEND_JOB_OPTIONS = {
  attempts: 4,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: { age: 3 * 24 * 60 * 60 },
  removeOnFail: { age: 3 * 24 * 60 * 60 },
} as const;

export interface DigestScheduler {
  start(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Digests on BullMQ: a job scheduler (stored in Redis, so N replicas upserting it make one schedule, not N) emits a
 * `tick` job every minute, which one worker somewhere runs; the tick enqueues one `send` job per due chat under the
 * id `digest-<chat>-<period>` (the period being the date for a daily digest, `week-<monday>` or `month-<yyyy-MM>`
 * otherwise), which any replica's worker may run. A tick right at start-up catches up on digests whose time passed
 * earlier that day while no replica was running.
 * https://docs.bullmq.io/guide/job-schedulers
 */
export class QueueDigestScheduler implements DigestScheduler {
  private readonly queue: Queue;
  private readonly worker: Worker;
  private readonly log: Logger;
  private readonly stopWatching: () => void;

  constructor(
    private readonly opts: {
      producer: Redis;
      consumer: Redis;
      runner: DigestRunner;
      logger: Logger;
      metrics: Metrics;
      tickMs?: number;
      concurrency?: number;
    },
  ) {
    this.log = opts.logger.child({ queue: DIGEST_QUEUE });
    this.queue = new Queue(DIGEST_QUEUE, { connection: opts.producer, prefix: QUEUE_PREFIX });
    this.worker = new Worker(DIGEST_QUEUE, (job: Job) => this.processTimed(job), {
      connection: opts.consumer,
      prefix: QUEUE_PREFIX,
      // Sends wait on the shared rate limiter, so more concurrency only means more jobs waiting there.
      concurrency: opts.concurrency ?? 16,
      autorun: false,
      ...EVENT_WORKER_LOCKS,
    });
    this.worker.on('failed', (job, err) =>
      this.log.warn(
        { job_id: job?.id, attempt: job?.attemptsMade, reason: err.message },
        'digest job failed',
      ),
    );
    this.worker.on('error', (err) => this.log.warn({ reason: err.message }, 'digest worker error'));
    this.queue.on('error', (err) => this.log.warn({ reason: err.message }, 'digest queue error'));
    this.stopWatching = opts.metrics.watchQueue(DIGEST_QUEUE, () => this.queue.getJobCounts(...QUEUE_STATES));
  }

  async start(): Promise<void> {
    const every = this.opts.tickMs ?? DIGEST_TICK_MS;
    await this.queue.upsertJobScheduler(
      TICK_SCHEDULER_ID,
      { every },
      { name: 'tick', opts: { removeOnComplete: true, removeOnFail: 50 } },
    );
    // Catch-up at start: one tick per replica start and minute, deduplicated by id across replicas.
    const minute = Math.floor(Date.now() / 60_000);
    await this.queue.add(
      'tick',
      {},
      { jobId: `tick-start-${minute}`, removeOnComplete: true, removeOnFail: 50 },
    );
    void this.worker.run().catch((err: unknown) => this.log.error({ err }, 'digest worker stopped'));
  }

  async stop(): Promise<void> {
    // The scheduler stays in Redis: the other replicas keep using it, and the next start upserts it again.
    await this.worker.close();
    this.stopWatching();
    await this.queue.close();
  }

  private async processTimed(job: Job): Promise<unknown> {
    const started = performance.now();
    let outcome = 'failed';
    try {
      const result = await this.process(job);
      outcome = 'completed';
      return result;
    } finally {
      this.opts.metrics.jobDuration.observe(
        { queue: DIGEST_QUEUE, outcome },
        (performance.now() - started) / 1000,
      );
    }
  }

  private async process(job: Job): Promise<unknown> {
    if (job.name === 'tick') {
      return this.opts.runner.tick(async (due) => {
        await this.queue.addBulk(
          due.map((d) => ({ name: 'send', data: d, opts: { ...SEND_JOB_OPTIONS, jobId: digestJobId(d) } })),
        );
      });
    }
    if (job.name === 'send') {
      const attempt = job.attemptsMade + 1;
      return this.opts.runner.sendDigest(job.data as DueDigest, {
        finalAttempt: attempt >= (job.opts.attempts ?? 1),
      });
    }
    this.log.warn({ name: job.name }, 'unknown digest job ignored');
    return undefined;
  }
}

/**
 * Without Redis: the same runner on a timer in this process. Single instance by definition; a digest due while
 * the process was down is caught up by the tick at start, as with BullMQ.
 */
export class InProcessDigestScheduler implements DigestScheduler {
  private timer: NodeJS.Timeout | undefined;
  private readonly running = new Set<Promise<unknown>>();
  private readonly inFlight = new Set<string>();
  private stopped = false;

  constructor(
    private readonly opts: { runner: DigestRunner; logger: Logger; tickMs?: number; concurrency?: number },
  ) {}

  async start(): Promise<void> {
    this.timer = setInterval(() => this.runTick(), this.opts.tickMs ?? DIGEST_TICK_MS);
    this.timer.unref();
    this.runTick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.running]);
  }

  private runTick(): void {
    if (this.stopped) return;
    this.track(
      this.opts.runner.tick(async (due) => {
        this.track(this.sendAll(due));
      }),
    );
  }

  private async sendAll(due: DueDigest[]): Promise<void> {
    const queue = due.filter((d) => !this.inFlight.has(digestJobId(d)));
    for (const d of queue) this.inFlight.add(digestJobId(d));
    const worker = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        try {
          await this.opts.runner.sendDigest(next, { finalAttempt: true });
        } catch (err) {
          this.opts.logger.error({ err, chat_id: next.chatId }, 'digest send crashed');
        } finally {
          this.inFlight.delete(digestJobId(next));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.opts.concurrency ?? 8, queue.length) }, worker));
  }

  private track(work: Promise<unknown>): void {
    const tracked = work
      .catch((err: unknown) => this.opts.logger.error({ err }, 'digest tick failed'))
      .finally(() => this.running.delete(tracked));
    this.running.add(tracked);
  }
}
