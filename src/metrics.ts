import { Counter, collectDefaultMetrics, Gauge, Histogram, type LabelValues, Registry } from 'prom-client';

/**
 * Everything `/metrics` exposes, on prom-client, under one prefix. Each app instance has its own registry (tests
 * run many in one process); the process metrics (CPU, RSS, heap, event-loop lag, GC) are one per process and
 * merged in at scrape time. README ("Metrics") lists every series with sample alerts.
 * https://prometheus.io/docs/practices/naming/
 */
export const METRIC_PREFIX = 'fsb_';

/** Seconds; from a sub-millisecond ack to a Feishu call that waited out a rate-limit window. */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Seconds; queue jobs and digest runs, which can take minutes behind Feishu's send limit. */
const JOB_BUCKETS = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900];

/** BullMQ job states reported as `fsb_queue_jobs{queue,state}`. */
export const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed'] as const;
export type QueueState = (typeof QUEUE_STATES)[number];
/** Reads one queue's job counts at scrape time (BullMQ `Queue.getJobCounts`). */
export type QueueCounts = () => Promise<Partial<Record<QueueState, number>>>;

/** How long a scrape waits for one queue's counts; Prometheus's default scrape timeout is 10 s. */
const QUEUE_READ_MS = 2_000;

function withinMs<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

let processRegistry: Registry | undefined;

/** Default Node process metrics, collected once per process whatever the number of apps in it. */
function processMetrics(): Registry {
  if (!processRegistry) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: METRIC_PREFIX });
  }
  return processRegistry;
}

export interface LongConnectionMetrics {
  connected: Gauge;
  reconnects: Counter;
  frames: Counter<'type' | 'outcome'>;
  answerDuration: Histogram;
}

export class Metrics {
  readonly registry = new Registry();
  /** What `/metrics` answers with: the Prometheus text format, version 0.0.4. */
  readonly contentType = Registry.PROMETHEUS_CONTENT_TYPE;

  readonly httpRequestDuration = this.#histogram(
    'http_request_duration_seconds',
    'HTTP request duration from arrival to the answer, by route and outcome (the webhook outcome, else ok / client_error / server_error).',
    ['route', 'outcome'],
    LATENCY_BUCKETS,
  );
  readonly webhookRequests = this.#counter(
    'webhook_requests_total',
    'Webhook requests by route and outcome (accepted, challenge, rejected, malformed, dropped, refused).',
    ['route', 'outcome'],
  );
  readonly events = this.#counter(
    'events_total',
    'Events handled by type and outcome (handled, duplicate, ignored, …).',
    ['type', 'outcome'],
  );
  readonly commands = this.#counter('commands_total', 'Commands run, by command name.', ['command']);
  readonly replies = this.#counter(
    'replies_total',
    'Cards sent to chats, by outcome (sent, failed, too_large).',
    ['outcome'],
  );
  readonly feishuRequestDuration = this.#histogram(
    'feishu_request_duration_seconds',
    'Requests to the Feishu Open Platform (retries and token fetches each count), by endpoint and Feishu code (0 = success, -1 = no Feishu answer). The _count series is the call count.',
    ['endpoint', 'code'],
    LATENCY_BUCKETS,
  );
  readonly rateLimitWait = this.#histogram(
    'rate_limit_wait_seconds',
    'Time a Feishu call waited for a rate limit, by endpoint and side (client: our shared limiter; feishu: a reset Feishu asked for).',
    ['endpoint', 'side'],
    LATENCY_BUCKETS,
  );
  readonly jobs = this.#counter(
    'jobs_total',
    'Queue jobs by queue and outcome (started, completed, run_later, retrying, failed).',
    ['queue', 'outcome'],
  );
  readonly jobDuration = this.#histogram(
    'job_duration_seconds',
    'Time one queue job attempt ran, by queue and outcome (completed, failed).',
    ['queue', 'outcome'],
    JOB_BUCKETS,
  );
  readonly digests = this.#counter(
    'digests_total',
    'Digests by outcome (sent, already_sent, paused, skipped, failed).',
    ['outcome'],
  );
  readonly digestRunDuration = this.#histogram(
    'digest_run_duration_seconds',
    'One digest run (a scheduling pass that found work): fetching every due item and queueing the sends.',
    [],
    JOB_BUCKETS,
  );
  readonly digestRunItems = this.#counter(
    'digest_run_items_total',
    'Subscription items fetched by digest runs.',
    [],
  );
  #longConnection: LongConnectionMetrics | undefined;

  readonly #queues = new Map<string, QueueCounts>();

  constructor() {
    const queues = this.#queues;
    new Gauge({
      name: `${METRIC_PREFIX}queue_jobs`,
      help: 'BullMQ jobs by queue and state (waiting, active, delayed, failed), read from Redis at scrape time.',
      labelNames: ['queue', 'state'],
      registers: [this.registry],
      async collect() {
        this.reset();
        await Promise.all(
          [...queues].map(async ([queue, read]) => {
            // A scrape while Redis is away or slow still answers, in time: the series are absent, not stale.
            const counts = await withinMs(read(), QUEUE_READ_MS).catch(() => undefined);
            if (!counts) return;
            for (const state of QUEUE_STATES) this.set({ queue, state }, counts[state] ?? 0);
          }),
        );
      },
    });
  }

  /** The long-connection series, registered on first use so they are absent in webhook mode. */
  longConnection(): LongConnectionMetrics {
    this.#longConnection ??= {
      connected: this.#gauge(
        'ws_connected',
        'Whether the long connection to Feishu is open (1) or not (0); absent in webhook mode.',
        [],
      ),
      reconnects: this.#counter('ws_reconnects_total', 'Long connections re-established after a drop.', []),
      frames: this.#counter(
        'ws_frames_total',
        'Long-connection data frames received, by type (event, card) and outcome.',
        ['type', 'outcome'],
      ),
      answerDuration: this.#histogram(
        'ws_answer_seconds',
        'Time from a long-connection data frame to its answer (accepted event, card callback).',
        [],
        LATENCY_BUCKETS,
      ),
    };
    return this.#longConnection;
  }

  /** Reports `queue`'s job counts at every scrape (Redis mode); the returned function stops it. */
  watchQueue(queue: string, read: QueueCounts): () => void {
    this.#queues.set(queue, read);
    return () => {
      if (this.#queues.get(queue) === read) this.#queues.delete(queue);
    };
  }

  /** The Prometheus text exposition of this app's series and the process's. */
  async render(): Promise<string> {
    return Registry.merge([processMetrics(), this.registry]).metrics();
  }

  /**
   * One series' current value (a counter or gauge; a histogram's count), 0 when it has none; for tests and the
   * figures in closing notes. `name` is the full name, e.g. `fsb_replies_total`.
   */
  async value(name: string, labels: LabelValues<string> = {}): Promise<number> {
    const metric = this.registry.getSingleMetric(name);
    if (!metric) throw new Error(`no metric ${name}`);
    const { values } = await metric.get();
    const isHistogram = metric instanceof Histogram;
    const wanted = Object.entries(labels).map(([k, v]) => [k, String(v)] as const);
    const match = values.find(
      (v) =>
        (!isHistogram || (v as { metricName?: string }).metricName?.endsWith('_count')) &&
        Object.keys(v.labels).filter((k) => k !== 'le').length === wanted.length &&
        wanted.every(([k, expected]) => String(v.labels[k]) === expected),
    );
    return match?.value ?? 0;
  }

  #counter<L extends string>(name: string, help: string, labelNames: L[]): Counter<L> {
    return new Counter({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  #gauge<L extends string>(name: string, help: string, labelNames: L[]): Gauge<L> {
    return new Gauge({ name: `${METRIC_PREFIX}${name}`, help, labelNames, registers: [this.registry] });
  }

  #histogram<L extends string>(name: string, help: string, labelNames: L[], buckets: number[]): Histogram<L> {
    return new Histogram({
      name: `${METRIC_PREFIX}${name}`,
      help,
      labelNames,
      buckets,
      registers: [this.registry],
    });
  }
}
