/**
 * The digest run at scale against an emulator that enforces Feishu's message limits (50/s and 1000/min per app):
 * 1,000 chats subscribed to 5 documents each, drawn from 50. Each distinct document must be fetched once, and the
 * run must take little more than the send limit makes necessary, without a single rate-limit refusal.
 * In a file of its own: a fresh Redis DB and emulator, so no earlier send has used this minute's budget.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SubscriptionStore } from '../src/digest/subscriptions.js';
import type { DigestItem } from '../src/digest/types.js';
import { FEISHU_RATE_LIMITS } from '../src/feishu/rate-limits.js';
import { RedisStore } from '../src/store/redis-store.js';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';
import { cardText, startTestBot } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';

const CHATS = 1_000;
const DOCS = 50;
const PER_CHAT = 5;
const SEND_LIMIT_PER_SECOND = 50;
/** Statistics has an unpublished "special" limit; here both sides agree on 50/s so sending is what binds. */
const STATISTICS_PER_SECOND = 50;

let emulator: FeishuEmulator;
let db: FreshRedisDb;

beforeAll(async () => {
  emulator = await startFeishuEmulator();
  db = await freshRedisDb();
});

afterAll(async () => {
  await emulator?.close();
  await db?.cleanup();
});

function docToken(i: number): string {
  return `doxcnEconomy${String(i).padStart(4, '0')}AbCdEfGhIjK`;
}

/** Five distinct documents per chat, spread evenly over the 50 (deterministic, so runs compare). */
function docsForChat(chat: number): number[] {
  const picked = new Set<number>();
  for (let k = 0; picked.size < PER_CHAT; k++) picked.add((chat * 7 + k * 11 + (chat % 13) * k) % DOCS);
  return [...picked];
}

describe('digest run economy', () => {
  it('fetches each distinct document once and sends 1,000 digests within 1.15x of the send-limit floor', async () => {
    for (let i = 0; i < DOCS; i++) {
      emulator.addDoc({
        token: docToken(i),
        type: 'docx',
        statistics: { uv: i, pv: 10 * i, like_count: 1, uv_today: 0, pv_today: 0, like_count_today: 0 },
      });
    }
    emulator.setRateLimit('POST', '/im/v1/messages', { perSecond: SEND_LIMIT_PER_SECOND, perMinute: 1000 });
    emulator.setRateLimit('GET', /\/drive\/v1\/files\/[^/]+\/statistics$/, {
      perSecond: STATISTICS_PER_SECOND,
    });

    const subscribedAt = Date.parse('2026-11-20T09:00:00+08:00');
    const store = new RedisStore(db.url);
    const subscriptions = new SubscriptionStore(store);
    for (let chat = 0; chat < CHATS; chat++) {
      const items: DigestItem[] = docsForChat(chat).map((d) => ({
        kind: 'doc',
        type: 'docx',
        token: docToken(d),
        url: `https://acme.feishu.cn/docx/${docToken(d)}`,
        title: `Doc ${d}`,
      }));
      await subscriptions.update(`oc_economy_${chat}`, () => ({
        chatId: `oc_economy_${chat}`,
        items,
        since: subscribedAt,
        updatedAt: subscribedAt,
      }));
    }

    const clock = { now: Date.parse('2026-11-20T10:00:00+08:00') };
    const bot = await startTestBot({
      emulator,
      store,
      clock: () => clock.now,
      digestTickMs: 200,
      env: { REDIS_URL: db.url },
      rateLimits: {
        ...FEISHU_RATE_LIMITS,
        'drive.v1.fileStatistics.get': [{ points: STATISTICS_PER_SECOND, durationSec: 1 }],
      },
    });
    try {
      await new Promise((resolve) => setTimeout(resolve, 500));
      expect(emulator.messages).toHaveLength(0);

      const started = Date.now();
      clock.now = Date.parse('2026-11-20T10:31:00+08:00');
      await emulator.waitForMessages(CHATS, 90_000);
      const elapsedMs = Date.now() - started;
      // A few more ticks: nothing else may go out.
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      const floorMs = (CHATS / SEND_LIMIT_PER_SECOND) * 1000;
      const statisticsCalls = emulator.callsTo('GET', /\/statistics$/).length;
      const refused = emulator.rateLimitedCount();
      console.log(
        `[figure] digest run: ${CHATS} chats x ${PER_CHAT} docs from ${DOCS}: ${(elapsedMs / 1000).toFixed(1)} s ` +
          `vs send-limit floor ${(floorMs / 1000).toFixed(1)} s (ratio ${(elapsedMs / floorMs).toFixed(3)}), ` +
          `${statisticsCalls} statistics calls, ${refused} rate-limit refusals`,
      );
      const chats = new Set(emulator.messages.map((m) => m.targetId));
      expect(emulator.messages).toHaveLength(CHATS);
      expect(chats.size).toBe(CHATS);
      expect(cardText(emulator.messages[0]?.content)).toContain('Daily digest');
      expect(statisticsCalls).toBe(DOCS);
      expect(refused).toBe(0);
      expect(elapsedMs / floorMs).toBeLessThanOrEqual(1.15);
    } finally {
      await bot.close();
      await store.close();
    }
  }, 150_000);
});
