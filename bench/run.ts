/**
 * `npm run bench`: webhook acknowledgement cost, measured against a baseline taken in the same run.
 * The baseline is `GET /healthz` on the same server (Fastify + HTTP + loopback, no work), so the ratio shows what
 * decryption, signature checking and hand-off add, whatever the machine's noise. Run twice: in memory, and with
 * Redis (the hand-off is then a BullMQ enqueue, one Redis round trip before the 200), when `redis-server` is on
 * the PATH; a throwaway one is started on a free port for the run.
 *
 * With Redis it also times the digest run at scale (test/support/digest-run.ts) against the floor Feishu's send
 * limit sets. The tests only print these figures: timing is reported here, never asserted in `npm test`.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { buildEncryptedRequest, messageEvent } from '../test/emulator/fixtures.js';
import { TEST_ENCRYPT_KEY } from '../test/helper.js';
import { describeDigestRun, runDigestAtScale } from '../test/support/digest-run.js';
import { startE2e } from '../test/support/e2e.js';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 2000);
const CONCURRENCY = 16;

async function timeAll(label: string, send: (i: number) => Promise<Response>): Promise<number[]> {
  const durations: number[] = [];
  let next = 0;
  const worker = async () => {
    while (next < REQUESTS) {
      const i = next++;
      const started = performance.now();
      const res = await send(i);
      await res.arrayBuffer();
      if (!res.ok) throw new Error(`${label}: HTTP ${res.status}`);
      durations.push(performance.now() - started);
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  const seconds = (performance.now() - started) / 1000;
  durations.sort((a, b) => a - b);
  const pct = (p: number) => durations[Math.min(durations.length - 1, Math.floor(p * durations.length))] ?? 0;
  console.log(
    `${label.padEnd(22)} ${String(REQUESTS).padStart(5)} req  ${(REQUESTS / seconds).toFixed(0).padStart(6)} req/s  ` +
      `p50 ${pct(0.5).toFixed(2)} ms  p99 ${pct(0.99).toFixed(2)} ms`,
  );
  return durations;
}

async function runScenario(label: string, redisUrl?: string): Promise<void> {
  console.log(`\n== ${label} ==`);
  const bot = await startE2e(redisUrl ? { redis: { url: redisUrl } } : {});
  const { emulator } = bot;
  bot.app.log.level = 'warn';
  try {
    // Warm up JIT and connections for both paths.
    for (let i = 0; i < 200; i++) await (await fetch(`${bot.url}/healthz`)).arrayBuffer();

    const baseline = await timeAll('baseline GET /healthz', () => fetch(`${bot.url}/healthz`));
    // Events are prepared before timing so the client's own encryption is not counted against the server.
    const requests = Array.from({ length: REQUESTS }, () =>
      buildEncryptedRequest(messageEvent({ text: 'help' }), TEST_ENCRYPT_KEY, {
        nonce: randomBytes(6).toString('hex'),
      }),
    );
    const started = performance.now();
    const events = await timeAll('signed event ack', (i) => {
      const req = requests[i];
      if (!req) throw new Error('missing request');
      return fetch(`${bot.url}/webhook/event`, { method: 'POST', headers: req.headers, body: req.body });
    });
    await emulator.waitForMessages(REQUESTS, 120_000);
    const allAnswered = (performance.now() - started) / 1000;

    const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? 0;
    console.log(`ack p50 / baseline p50: ${(median(events) / median(baseline)).toFixed(2)}x`);
    console.log(
      `replies sent for ${REQUESTS} events: ${emulator.messages.length}, all answered ${allAnswered.toFixed(1)} s ` +
        'after the first delivery',
    );
    console.log(
      `rss after run: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (bot + emulator + client in one process)`,
    );
  } finally {
    await bot.close();
  }
}

/** The digest run at scale on an empty Redis database, timed against the send-limit floor. */
async function runDigestScenario(redisUrl: string): Promise<void> {
  console.log('\n== digest run at scale (Redis) ==');
  const run = await runDigestAtScale(redisUrl);
  console.log(describeDigestRun(run));
  console.log(
    `digests sent: ${run.messages.length}, before the digest time: ${run.sentBeforeDue} ` +
      '(the test asserts the counts; the time is only reported)',
  );
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** A throwaway redis-server for the run, or undefined when there is none on the PATH. */
async function startThrowawayRedis(): Promise<
  { urlFor: (db: number) => string; process: ChildProcess } | undefined
> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const failed = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(true));
    setTimeout(() => resolve(false), 300);
  });
  if (failed) return undefined;
  const urlFor = (db: number) => `redis://127.0.0.1:${port}/${db}`;
  const probe = new Redis(urlFor(0), { lazyConnect: true, maxRetriesPerRequest: 1 });
  for (let i = 0; i < 50; i++) {
    try {
      await probe.connect();
      break;
    } catch {
      await delay(100);
    }
  }
  probe.disconnect();
  return { urlFor, process: child };
}

await runScenario('in memory (single instance)');
const redis = await startThrowawayRedis();
if (redis) {
  try {
    await runScenario('Redis (BullMQ enqueue before the ack)', redis.urlFor(0));
    // A database of its own: the ack scenario left its queue and cache in database 0.
    await runDigestScenario(redis.urlFor(1));
  } finally {
    redis.process.kill('SIGTERM');
  }
} else {
  console.log('\nredis-server not found on PATH: Redis scenario skipped');
}
