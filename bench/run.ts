/**
 * `npm run bench`: webhook acknowledgement cost, measured against a baseline taken in the same run.
 * The baseline is `GET /healthz` on the same server (Fastify + HTTP + loopback, no work), so the ratio shows what
 * decryption, signature checking and hand-off add, whatever the machine's noise.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { startFeishuEmulator } from '../test/emulator/feishu-emulator.js';
import { buildEncryptedRequest, messageEvent } from '../test/emulator/fixtures.js';
import { startTestBot, TEST_ENCRYPT_KEY } from '../test/helper.js';

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

const emulator = await startFeishuEmulator();
emulator.addDoc({ token: 'doxcnBenchAbCdEfGhIjKlMnOpQ', type: 'docx' });
const bot = await startTestBot({ emulator });
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
  const events = await timeAll('signed event ack', (i) => {
    const req = requests[i];
    if (!req) throw new Error('missing request');
    return fetch(`${bot.url}/webhook/event`, { method: 'POST', headers: req.headers, body: req.body });
  });
  await bot.settle(120_000);

  const median = (xs: number[]) => xs[Math.floor(xs.length / 2)] ?? 0;
  console.log(`ack p50 / baseline p50: ${(median(events) / median(baseline)).toFixed(2)}x`);
  console.log(`replies sent for ${REQUESTS} events: ${emulator.messages.length}`);
  console.log(
    `rss after run: ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB (bot + emulator + client in one process)`,
  );
} finally {
  await bot.close();
  await emulator.close();
}
