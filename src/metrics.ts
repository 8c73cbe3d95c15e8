/**
 * A deliberately small Prometheus text-format registry: a handful of counters and one latency histogram are all
 * `/metrics` needs, and they are cheap enough to update on the webhook's hot path.
 * https://prometheus.io/docs/instrumenting/exposition_formats/
 */

const COUNTERS = {
  fsb_webhook_requests_total:
    'Webhook requests by route and outcome (accepted, challenge, rejected, malformed, dropped, refused).',
  fsb_events_total: 'Events handled by type and outcome (handled, duplicate, ignored).',
  fsb_commands_total: 'Commands run, by command name.',
  fsb_replies_total: 'Cards sent to chats, by outcome (sent, failed).',
  fsb_feishu_errors_total: 'Feishu API errors by endpoint and code.',
  fsb_jobs_total: 'Queue jobs by queue and outcome (started, completed, retrying, failed).',
  fsb_digests_total: 'Daily digests by outcome (sent, already_sent, paused, skipped, failed).',
  fsb_ws_frames_total: 'Long-connection data frames received, by type (event, card) and outcome.',
  fsb_ws_reconnects_total: 'Long connections re-established after a drop.',
} as const;

const GAUGES = {
  fsb_ws_connected: 'Whether the long connection to Feishu is open (1) or not (0); absent in webhook mode.',
} as const;

const HISTOGRAMS = {
  fsb_webhook_ack_seconds: 'Time from request start to the webhook answer.',
  fsb_ws_answer_seconds:
    'Time from a long-connection data frame to its answer (accepted event, card callback).',
} as const;

export type CounterName = keyof typeof COUNTERS;
export type GaugeName = keyof typeof GAUGES;
export type HistogramName = keyof typeof HISTOGRAMS;
type Labels = Record<string, string | number>;

const BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly counters = new Map<CounterName, Map<string, number>>();
  private readonly histograms = new Map<HistogramName, Histogram>();
  private readonly gauges = new Map<GaugeName, number>();

  inc(name: CounterName, labels: Labels = {}, by = 1): void {
    const series = this.counters.get(name) ?? new Map<string, number>();
    const key = formatLabels(labels);
    series.set(key, (series.get(key) ?? 0) + by);
    this.counters.set(name, series);
  }

  /** Current value of one counter series; for tests and the closing-note figures. */
  value(name: CounterName, labels: Labels = {}): number {
    return this.counters.get(name)?.get(formatLabels(labels)) ?? 0;
  }

  set(name: GaugeName, value: number): void {
    this.gauges.set(name, value);
  }

  gauge(name: GaugeName): number | undefined {
    return this.gauges.get(name);
  }

  observe(name: HistogramName, seconds: number): void {
    const h = this.histograms.get(name) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
    BUCKETS.forEach((le, i) => {
      if (seconds <= le) h.counts[i] = (h.counts[i] ?? 0) + 1;
    });
    h.sum += seconds;
    h.count += 1;
    this.histograms.set(name, h);
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, help] of Object.entries(COUNTERS) as [CounterName, string][]) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} counter`);
      for (const [labels, value] of this.counters.get(name) ?? []) lines.push(`${name}${labels} ${value}`);
    }
    for (const [name, help] of Object.entries(GAUGES) as [GaugeName, string][]) {
      const value = this.gauges.get(name);
      if (value !== undefined)
        lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} gauge`, `${name} ${value}`);
    }
    for (const [name, help] of Object.entries(HISTOGRAMS) as [HistogramName, string][]) {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} histogram`);
      const h = this.histograms.get(name) ?? { counts: BUCKETS.map(() => 0), sum: 0, count: 0 };
      BUCKETS.forEach((le, i) => {
        lines.push(`${name}_bucket{le="${le}"} ${h.counts[i] ?? 0}`);
      });
      lines.push(`${name}_bucket{le="+Inf"} ${h.count}`, `${name}_sum ${h.sum}`, `${name}_count ${h.count}`);
    }
    return `${lines.join('\n')}\n`;
  }
}

function formatLabels(labels: Labels): string {
  const entries = Object.entries(labels).sort(([a], [b]) => a.localeCompare(b));
  if (entries.length === 0) return '';
  const body = entries.map(
    ([k, v]) => `${k}="${String(v).replace(/["\\\n]/g, (c) => `\\${c === '\n' ? 'n' : c}`)}"`,
  );
  return `{${body.join(',')}}`;
}
