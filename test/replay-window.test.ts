/**
 * The 12 h signature window end to end: a Feishu re-push that still carries its original timestamp and signature is
 * accepted (so an event refused with 503 is not lost), and a byte-identical replay of an accepted delivery inside
 * the window is dropped by dedupe, in memory and, with Redis, after a restart. See `MAX_REQUEST_AGE_SECONDS`.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisStore } from '../src/store/redis-store.js';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';
import { buildEncryptedRequest, messageEvent } from './emulator/fixtures.js';
import { startTestBot, TEST_ENCRYPT_KEY, type TestBot } from './helper.js';
import { freshRedisDb } from './redis.js';
import { startTcpProxy } from './support/tcp-proxy.js';

const DOC_TOKEN = 'doxcnReplayAbCdEfGhIjKlMnOp';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const HOUR_MS = 60 * 60 * 1000;
/** Sends and replies both count: a second run of the handler shows up here even when Feishu's uuid dedupes it. */
const SENDS = /^\/open-apis\/im\/v1\/messages(\/[^/]+\/reply)?$/;

let emulator: FeishuEmulator;

beforeAll(async () => {
  emulator = await startFeishuEmulator();
  emulator.addDoc({
    token: DOC_TOKEN,
    type: 'docx',
    statistics: { uv: 7, pv: 99, like_count: 1, uv_today: 0, pv_today: 0, like_count_today: 0 },
  });
});

afterAll(async () => {
  await emulator?.close();
});

/** The signature clock, moved by the test; the bot's own clock stays real. */
function signatureClock() {
  const start = Date.now();
  let offsetMs = 0;
  return {
    start,
    now: () => start + offsetMs,
    advance: (ms: number) => {
      offsetMs = ms;
    },
  };
}

/** One delivery exactly as Feishu sent it at `atMs`: the same bytes and headers each time it is posted. */
function capturedDelivery(atMs: number) {
  const request = buildEncryptedRequest(messageEvent({ text: `stats ${DOC_URL}` }), TEST_ENCRYPT_KEY, {
    timestampSec: Math.floor(atMs / 1000),
    nonce: randomBytes(6).toString('hex'),
  });
  return (bot: TestBot) =>
    fetch(`${bot.url}/webhook/event`, { method: 'POST', headers: request.headers, body: request.body });
}

const sends = () => emulator.calls.filter((c) => c.method === 'POST' && SENDS.test(c.path)).length;

describe('in memory', () => {
  it('answers once, drops the same signed request replayed 6 h later, and refuses it after 13 h', async () => {
    emulator.reset();
    const clock = signatureClock();
    const bot = await startTestBot({ emulator, now: clock.now });
    try {
      const post = capturedDelivery(clock.start);
      expect((await post(bot)).status).toBe(200);
      await bot.settle();
      expect(sends()).toBe(1);

      clock.advance(6 * HOUR_MS);
      expect((await post(bot)).status).toBe(200);
      await bot.settle();
      expect(sends()).toBe(1);
      expect(bot.logs.text).toContain('duplicate delivery dropped');

      clock.advance(13 * HOUR_MS);
      expect((await post(bot)).status).toBe(401);
      expect(sends()).toBe(1);
    } finally {
      await bot.close();
    }
  });
});

describe('with Redis', () => {
  it('accepts the 1 h re-push of an event refused with 503, answers it once, and drops a replay after a restart', async () => {
    emulator.reset();
    const cleanups: Array<() => Promise<unknown>> = [];
    try {
      const db = await freshRedisDb();
      cleanups.unshift(() => db.cleanup());
      const target = new URL(db.url);
      const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
      cleanups.unshift(() => proxy.close());
      const clock = signatureClock();
      const post = capturedDelivery(clock.start);
      const startRedisBot = async (url: string) => {
        const store = new RedisStore(url);
        const bot = await startTestBot({ emulator, store, env: { REDIS_URL: url }, now: clock.now });
        const stop = async () => {
          await bot.close();
          await store.close();
        };
        cleanups.unshift(stop);
        return { bot, stop };
      };

      const first = await startRedisBot(`redis://127.0.0.1:${proxy.port}${target.pathname}`);
      proxy.cut();
      expect((await post(first.bot)).status).toBe(503);
      proxy.restore();

      // Feishu's third re-push comes 15 s + 5 min + 1 h after the original, with the original's headers.
      clock.advance(HOUR_MS + 5 * 60_000 + 15_000);
      let status = 0;
      for (let tries = 0; tries < 50 && status !== 200; tries++) {
        status = (await post(first.bot)).status;
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 200));
      }
      expect(status).toBe(200);
      await first.bot.settle(20_000);
      expect(sends()).toBe(1);
      cleanups.shift();
      await first.stop();

      // A new process on the same Redis: the job id, kept 12 h, is what refuses the replay.
      clock.advance(11 * HOUR_MS);
      const second = await startRedisBot(db.url);
      expect((await post(second.bot)).status).toBe(200);
      await second.bot.settle(20_000);
      expect(sends()).toBe(1);
    } finally {
      for (const cleanup of cleanups) await cleanup();
    }
  }, 60_000);
});
