/**
 * `/metrics` after real traffic: prom-client's exposition with the process metrics and every series the bot
 * keeps, each value checked against what the emulator saw (calls, codes, waits) or what the test sent.
 */
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX } from '../src/jobs/connections.js';
import { EVENT_QUEUE } from '../src/jobs/event-queue.js';
import { buildEncryptedRequest, messageEvent } from './emulator/fixtures.js';
import { TEST_ENCRYPT_KEY } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import { type E2e, type E2eDoc, startE2e, useE2e } from './support/e2e.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnMetricsAbCdEfGhIjKlMnO';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const FORBIDDEN_TOKEN = 'doxcnMetricsForbiddenAbCdEf';
const FORBIDDEN_URL = `https://acme.feishu.cn/docx/${FORBIDDEN_TOKEN}`;
const DOCS: E2eDoc[] = [
  {
    token: DOC_TOKEN,
    type: 'docx',
    title: 'Metrics plan',
    statistics: { uv: 12, pv: 30, like_count: 2, uv_today: 1, pv_today: 3, like_count_today: 0 },
  },
  {
    token: FORBIDDEN_TOKEN,
    type: 'docx',
    title: 'Closed',
    statisticsError: { httpStatus: 403, code: 1069603, msg: 'forbidden' },
  },
];

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format as prom-client writes it (no escapes in our label values). */
function parseExposition(text: string): { samples: Sample[]; helps: string[] } {
  const samples: Sample[] = [];
  const helps: string[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('# HELP ')) helps.push(line.split(' ')[2] ?? '');
    if (line === '' || line.startsWith('#')) continue;
    const space = line.lastIndexOf(' ');
    const series = line.slice(0, space);
    const brace = series.indexOf('{');
    const name = brace === -1 ? series : series.slice(0, brace);
    const labels: Record<string, string> = {};
    if (brace !== -1) {
      for (const pair of series.slice(brace + 1, -1).split('",')) {
        const eq = pair.indexOf('=');
        labels[pair.slice(0, eq)] = pair.slice(eq + 2).replace(/"$/, '');
      }
    }
    samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return { samples, helps };
}

async function scrape(bot: E2e) {
  const res = await fetch(`${bot.url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const parsed = parseExposition(await res.text());
  /** The one sample named so with exactly these labels; undefined when absent. */
  const value = (name: string, labels: Record<string, string> = {}): number | undefined => {
    const wanted = Object.entries(labels);
    return parsed.samples.find(
      (s) =>
        s.name === name &&
        Object.keys(s.labels).length === wanted.length &&
        wanted.every(([k, v]) => s.labels[k] === v),
    )?.value;
  };
  return { ...parsed, value };
}

describe('metrics in memory', () => {
  const { emulator, bot } = useE2e({ docs: DOCS });

  it('counts requests by route and outcome, Feishu calls by endpoint and code, and waits by side', async () => {
    const callsBefore = emulator.calls.length;
    // Feishu answers the first statistics call with a rate limit that resets at once: one Feishu-side wait.
    emulator.failNext('GET', `/open-apis/drive/v1/files/${DOC_TOKEN}/statistics`, {
      httpStatus: 429,
      code: 99991400,
      msg: 'request trigger frequency limit',
      headers: { 'x-ogw-ratelimit-reset': '0' },
    });
    expect((await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }))).status).toBe(200);
    expect((await bot.deliver(messageEvent({ text: `stats ${FORBIDDEN_URL}` }))).status).toBe(200);
    await emulator.waitForMessages(2);
    await bot.settle();
    const forged = buildEncryptedRequest(messageEvent({ text: 'help' }), `${TEST_ENCRYPT_KEY}-wrong`);
    const post = (body: string, headers: Record<string, string>) =>
      fetch(`${bot.url}/webhook/event`, { method: 'POST', headers, body });
    expect((await post(forged.body, forged.headers)).status).toBe(401);
    expect((await post('{"encrypt":', { 'content-type': 'application/json' })).status).toBe(400);
    expect((await fetch(`${bot.url}/no/such/route`)).status).toBe(404);

    const m = await scrape(bot);
    const duration = 'fsb_http_request_duration_seconds_count';
    expect(m.value(duration, { route: '/webhook/event', outcome: 'accepted' })).toBe(2);
    expect(m.value(duration, { route: '/webhook/event', outcome: 'rejected' })).toBe(1);
    expect(m.value(duration, { route: '/webhook/event', outcome: 'malformed' })).toBe(1);
    expect(m.value(duration, { route: 'unmatched', outcome: 'client_error' })).toBe(1);
    expect(m.value('fsb_webhook_requests_total', { route: 'event', outcome: 'accepted' })).toBe(2);
    expect(m.value('fsb_events_total', { type: 'im.message.receive_v1', outcome: 'handled' })).toBe(2);
    expect(m.value('fsb_replies_total', { outcome: 'sent' })).toBe(2);

    // Every request the emulator saw is one observation, under the code it answered.
    const calls = emulator.calls.slice(callsBefore);
    const statistics = (token: string) =>
      calls.filter((c) => c.path === `/open-apis/drive/v1/files/${token}/statistics`).length;
    const feishu = 'fsb_feishu_request_duration_seconds_count';
    expect(statistics(DOC_TOKEN)).toBe(2);
    expect(m.value(feishu, { endpoint: 'drive.v1.fileStatistics.get', code: '0' })).toBe(1);
    expect(m.value(feishu, { endpoint: 'drive.v1.fileStatistics.get', code: '99991400' })).toBe(1);
    expect(m.value(feishu, { endpoint: 'drive.v1.fileStatistics.get', code: '1069603' })).toBe(
      statistics(FORBIDDEN_TOKEN),
    );
    const observed = m.samples.filter((s) => s.name === feishu).reduce((sum, s) => sum + s.value, 0);
    expect(observed).toBe(calls.length);
    expect(m.value(feishu, { endpoint: 'auth.v3.tenantAccessToken.internal', code: '0' })).toBe(
      calls.filter((c) => c.path.endsWith('/tenant_access_token/internal')).length,
    );

    // Our limiter is asked before every attempt; Feishu's reset was slept once.
    const wait = 'fsb_rate_limit_wait_seconds_count';
    const statisticsAttempts = statistics(DOC_TOKEN) + statistics(FORBIDDEN_TOKEN);
    expect(m.value(wait, { endpoint: 'drive.v1.fileStatistics.get', side: 'client' })).toBe(
      statisticsAttempts,
    );
    expect(m.value(wait, { endpoint: 'drive.v1.fileStatistics.get', side: 'feishu' })).toBe(1);
  });

  it('includes the process metrics once, under the same prefix, and no long-connection series', async () => {
    const m = await scrape(bot);
    expect(m.value('fsb_process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(m.value('fsb_nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    expect(m.value('fsb_process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(m.helps).toContain('fsb_nodejs_eventloop_lag_seconds');
    expect(m.helps).toContain('fsb_nodejs_gc_duration_seconds');
    expect(new Set(m.helps).size).toBe(m.helps.length);
    expect(m.helps.every((name) => name.startsWith('fsb_'))).toBe(true);
    expect(m.helps).not.toContain('fsb_ws_connected');
    // No queues in memory.
    expect(m.samples.filter((s) => s.name === 'fsb_queue_jobs')).toEqual([]);
  });
});

describe('metrics with Redis', () => {
  let db: FreshRedisDb;
  let bot: E2e;
  beforeAll(async () => {
    db = await freshRedisDb();
    bot = await startE2e({ redis: { url: db.url }, docs: DOCS });
  });
  afterAll(async () => {
    await bot?.close();
    await db?.cleanup();
  });

  it('reports queue depth per state from Redis and job durations per queue', async () => {
    await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
    await bot.deliver(messageEvent({ text: 'help' }));
    await bot.emulator.waitForMessages(2);
    await bot.settle();
    // A job due in an hour sits in the delayed set, where no worker takes it during the test.
    const connection = new Redis(db.url, { maxRetriesPerRequest: null });
    const queue = new Queue(EVENT_QUEUE, { connection, prefix: QUEUE_PREFIX });
    try {
      await queue.add('metrics-probe', {}, { delay: 3_600_000, jobId: 'metrics-probe' });
      const m = await scrape(bot);
      expect(m.value('fsb_queue_jobs', { queue: 'events', state: 'delayed' })).toBe(1);
      expect(m.value('fsb_queue_jobs', { queue: 'events', state: 'waiting' })).toBe(0);
      expect(m.value('fsb_queue_jobs', { queue: 'events', state: 'active' })).toBe(0);
      expect(m.value('fsb_queue_jobs', { queue: 'events', state: 'failed' })).toBe(0);
      expect(m.value('fsb_queue_jobs', { queue: 'digests', state: 'failed' })).toBe(0);
      expect(m.value('fsb_job_duration_seconds_count', { queue: 'events', outcome: 'completed' })).toBe(2);
      expect(m.value('fsb_jobs_total', { queue: 'events', outcome: 'completed' })).toBe(2);
      await queue.remove('metrics-probe');
      const after = await scrape(bot);
      expect(after.value('fsb_queue_jobs', { queue: 'events', state: 'delayed' })).toBe(0);
    } finally {
      await queue.close();
      connection.disconnect();
    }
  });
});

describe('metrics of a digest run', () => {
  const ADMIN = 'ou_metricsadmin000000000000000001';
  let db: FreshRedisDb;
  let bot: E2e | undefined;
  afterAll(async () => {
    await bot?.close();
    await db?.cleanup();
  });

  it('times the run, counts its items and the digest sent', async () => {
    db = await freshRedisDb();
    const clock = { now: Date.parse('2026-11-20T10:00:00+08:00') };
    bot = await startE2e({
      redis: { url: db.url },
      docs: DOCS,
      clock: () => clock.now,
      digestTickMs: 100,
      env: { BOT_ADMINS: ADMIN, DIGEST_TIME: '10:30' },
    });
    const { emulator } = bot;
    await bot.deliver(messageEvent({ text: `digest add ${DOC_URL}`, chatType: 'p2p', senderOpenId: ADMIN }));
    await emulator.waitForMessages(1);
    await bot.settle();
    const before = await scrape(bot);
    expect(before.value('fsb_digest_run_duration_seconds_count')).toBe(0);

    clock.now = Date.parse('2026-11-20T10:31:00+08:00');
    await emulator.waitForMessages(2, 10_000);
    // The card is out before the job records it, and the send may finish before the run that queued it records
    // its duration: wait for both counts rather than for a time.
    let m = await scrape(bot);
    await waitUntil(
      async () => {
        m = await scrape(bot as E2e);
        const sent = m.value('fsb_digests_total', { outcome: 'sent' }) !== undefined;
        return sent && (m.value('fsb_digest_run_duration_seconds_count') ?? 0) >= 1;
      },
      10_000,
      () => 'no digest counted as sent, or no digest run timed',
      25,
    );
    expect(m.value('fsb_digest_run_duration_seconds_count')).toBe(1);
    expect(m.value('fsb_digest_run_items_total')).toBe(1);
    expect(m.value('fsb_digests_total', { outcome: 'sent' })).toBe(1);
    // The send job and at least one tick ran on the digest queue.
    expect(
      m.value('fsb_job_duration_seconds_count', { queue: 'digests', outcome: 'completed' }),
    ).toBeGreaterThanOrEqual(2);
  }, 30_000);
});
