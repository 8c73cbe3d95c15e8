/**
 * The digest run at scale, shared by test/e2e-digest-economy.test.ts (which asserts what was sent and fetched)
 * and `npm run bench` (which reports how long it took): 1,000 chats subscribed to 5 documents each, drawn from 50,
 * against an emulator that enforces Feishu's message limits (50/s and 1000/min per app).
 * https://open.feishu.cn/document/server-docs/im-v1/message/create
 */
import { SubscriptionStore } from '../../src/digest/subscriptions.js';
import type { DigestItem } from '../../src/digest/types.js';
import { FEISHU_RATE_LIMITS } from '../../src/feishu/rate-limits.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { SentMessage } from '../emulator/feishu-emulator.js';
import { type E2eDoc, startE2e } from './e2e.js';

export const DIGEST_RUN = {
  chats: 1_000,
  docs: 50,
  perChat: 5,
  sendLimitPerSecond: 50,
  /** Statistics has an unpublished "special" limit; here both sides agree on 50/s so sending is what binds. */
  statisticsPerSecond: 50,
} as const;

export interface DigestRunResult {
  /** Messages out before the digest time came (the bot was up for several ticks): must be none. */
  sentBeforeDue: number;
  /** Every message the emulator holds once the run is over. */
  messages: SentMessage[];
  /** `POST /im/v1/messages` requests, refused ones included. */
  sendCalls: number;
  statisticsCalls: number;
  /** Calls the emulator's rate limits refused, on any endpoint. */
  refused: number;
  /** Of those, sends (`POST /im/v1/messages`). */
  refusedSends: number;
  /** From moving the clock past the digest time until the last digest arrived. */
  elapsedMs: number;
  /** The least time the send limit allows for all digests. */
  floorMs: number;
}

/**
 * Seeds the subscriptions on `redisUrl` (an empty database), starts a bot and an emulator of its own at 10:00
 * Shanghai time, moves the clock to 10:31 and waits for every digest, plus a second in which nothing else may go
 * out. Closes everything it opened; the database is the caller's to clean.
 */
export async function runDigestAtScale(redisUrl: string): Promise<DigestRunResult> {
  const { chats, docs, sendLimitPerSecond, statisticsPerSecond } = DIGEST_RUN;
  const store = new RedisStore(redisUrl);
  try {
    await subscribeChats(store);
    const clock = { now: Date.parse('2026-11-20T10:00:00+08:00') };
    const bot = await startE2e({
      redis: { url: redisUrl },
      store,
      docs: Array.from({ length: docs }, (_, i) => economyDoc(i)),
      arrange: (emulator) => {
        emulator.setRateLimit('POST', '/im/v1/messages', { perSecond: sendLimitPerSecond, perMinute: 1000 });
        emulator.setRateLimit('GET', /\/drive\/v1\/files\/[^/]+\/statistics$/, {
          perSecond: statisticsPerSecond,
        });
      },
      clock: () => clock.now,
      digestTickMs: 200,
      rateLimits: {
        ...FEISHU_RATE_LIMITS,
        'drive.v1.fileStatistics.get': [{ points: statisticsPerSecond, durationSec: 1 }],
      },
    });
    try {
      const { emulator } = bot;
      await new Promise((resolve) => setTimeout(resolve, 500));
      const sentBeforeDue = emulator.messages.length;

      const started = Date.now();
      clock.now = Date.parse('2026-11-20T10:31:00+08:00');
      await emulator.waitForMessages(chats, 90_000);
      const elapsedMs = Date.now() - started;
      // A few more ticks: nothing else may go out.
      await new Promise((resolve) => setTimeout(resolve, 1_000));

      return {
        sentBeforeDue,
        messages: [...emulator.messages],
        sendCalls: emulator.callsTo('POST', '/im/v1/messages').length,
        statisticsCalls: emulator.callsTo('GET', /\/statistics$/).length,
        refused: emulator.rateLimitedCount(),
        refusedSends: emulator.rateLimitedCount('POST', '/im/v1/messages'),
        elapsedMs,
        floorMs: (chats / sendLimitPerSecond) * 1000,
      };
    } finally {
      await bot.close();
    }
  } finally {
    await store.close();
  }
}

/** One line for the log: the time against the send-limit floor, and what it cost upstream. */
export function describeDigestRun(run: DigestRunResult): string {
  const { chats, docs, perChat } = DIGEST_RUN;
  return (
    `digest run: ${chats} chats x ${perChat} docs from ${docs}: ${(run.elapsedMs / 1000).toFixed(1)} s ` +
    `vs send-limit floor ${(run.floorMs / 1000).toFixed(1)} s (ratio ${(run.elapsedMs / run.floorMs).toFixed(3)}), ` +
    `${run.statisticsCalls} statistics calls, ${run.sendCalls} send calls, ${run.refused} rate-limit refusals`
  );
}

function docToken(i: number): string {
  return `doxcnEconomy${String(i).padStart(4, '0')}AbCdEfGhIjK`;
}

function economyDoc(i: number): E2eDoc {
  return {
    token: docToken(i),
    type: 'docx',
    statistics: { uv: i, pv: 10 * i, like_count: 1, uv_today: 0, pv_today: 0, like_count_today: 0 },
  };
}

/** Five distinct documents per chat, spread evenly over the 50 (deterministic, so runs compare). */
function docsForChat(chat: number): number[] {
  const picked = new Set<number>();
  for (let k = 0; picked.size < DIGEST_RUN.perChat; k++) {
    picked.add((chat * 7 + k * 11 + (chat % 13) * k) % DIGEST_RUN.docs);
  }
  return [...picked];
}

async function subscribeChats(store: RedisStore): Promise<void> {
  const subscribedAt = Date.parse('2026-11-20T09:00:00+08:00');
  const subscriptions = new SubscriptionStore(store);
  for (let chat = 0; chat < DIGEST_RUN.chats; chat++) {
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
}
