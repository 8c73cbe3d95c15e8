/**
 * Events as durable BullMQ jobs on Redis: retries for transient Feishu failures (and only for those), the error card
 * exactly once, 503 while Redis is unreachable and recovery without loss once it is back, the welcome card.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { botMention, DEFAULT_VERIFICATION_TOKEN, docStatistics, messageEvent } from './emulator/fixtures.js';
import { cardText, type TestBot } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import { startE2e, useEmulator } from './support/e2e.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnQueueAbCdEfGhIjKlMnOp';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const STATISTICS = `/drive/v1/files/${DOC_TOKEN}/statistics`;

const emulator = useEmulator({
  docs: [{ token: DOC_TOKEN, type: 'docx', statistics: docStatistics({ uv: 11, pv: 4321 }) }],
});

/** A bot on a Redis DB of its own, so no cache or job carries over between tests. */
const startRedisBot = () => startE2e({ emulator, redis: true });

function botAddedEvent(chatId: string, eventId = randomBytes(16).toString('hex')) {
  return {
    schema: '2.0' as const,
    header: {
      event_id: eventId,
      event_type: 'im.chat.member.bot.added_v1',
      create_time: String(Date.now()),
      token: DEFAULT_VERIFICATION_TOKEN,
      app_id: emulator.appId,
      tenant_key: emulator.tenantKey,
    },
    event: { chat_id: chatId, operator_id: { open_id: 'ou_operator' }, name: 'Team chat' },
  };
}

describe('retries', () => {
  it('retries a transient Feishu failure and answers with the figures, not an error card', async () => {
    emulator.reset();
    const bot = await startRedisBot();
    try {
      emulator.failNext('GET', STATISTICS, { httpStatus: 500, code: 1069601, msg: 'internal error' }, 2);
      const res = await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
      expect(res.status).toBe(200);
      await bot.settle(20_000);
      expect(emulator.callsTo('GET', STATISTICS)).toHaveLength(3);
      expect(emulator.messages).toHaveLength(1);
      expect(cardText(emulator.messages[0]?.content)).toContain('4,321');
    } finally {
      await bot.close();
    }
  });

  it('answers a permanent error with the error card at once, without retrying', async () => {
    emulator.reset();
    const bot = await startRedisBot();
    try {
      emulator.failNext('GET', STATISTICS, { httpStatus: 403, code: 1069603, msg: 'forbidden' });
      await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
      await bot.settle();
      expect(emulator.callsTo('GET', STATISTICS)).toHaveLength(1);
      expect(emulator.messages).toHaveLength(1);
      expect(cardText(emulator.messages[0]?.content)).toContain('1069603');
    } finally {
      await bot.close();
    }
  });

  it('without Redis there is no queue to retry: a transient failure is the error card at once', async () => {
    emulator.reset();
    const bot = await startE2e({ emulator });
    try {
      emulator.failNext('GET', STATISTICS, { httpStatus: 500, code: 1069601, msg: 'internal error' });
      await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
      await bot.settle();
      expect(emulator.callsTo('GET', STATISTICS)).toHaveLength(1);
      expect(cardText(emulator.messages[0]?.content)).toContain('1069601');
      expect(bot.logs.text).toContain('single instance');
    } finally {
      await bot.close();
    }
  });
});

describe('Feishu takes no messages at all (its token endpoint down)', () => {
  const TOKEN = '/auth/v3/tenant_access_token/internal';
  // No Feishu body: a gateway in front of the token endpoint answering 503.
  const DOWN = { httpStatus: 503, code: 0, msg: '' } as const;
  /** The production schedule in miniature: two attempts, then later runs 500, 1000, 2000 … ms apart. */
  const retry = (windowMs: number) => ({
    attempts: 2,
    backoffMs: 50,
    runLater: { firstDelayMs: 500, maxDelayMs: 2_000, windowMs },
  });
  const laterRuns = (bot: TestBot) => bot.logs.text.split('the event runs again later').length - 1;

  it('keeps the event, and once Feishu is back the reader gets one card: the answer', async () => {
    emulator.reset();
    const bot = await startE2e({ emulator, redis: true, eventRetry: retry(60_000) });
    try {
      emulator.expireTokens();
      emulator.failNext('POST', TOKEN, DOWN, 10_000);
      await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
      // Both attempts and three later runs fail: the command and then its error card, each wanting a token.
      await waitUntil(
        () => laterRuns(bot) >= 3,
        30_000,
        () => `later runs so far: ${laterRuns(bot)}`,
      );
      expect(emulator.messages).toHaveLength(0);
      expect(emulator.callsTo('POST', TOKEN).length).toBeGreaterThanOrEqual(8);
      expect(await bot.app.dispatcher.pending()).toBe(1);

      emulator.reset(); // Feishu is back.
      await emulator.waitForMessages(1, 20_000);
      await bot.settle(20_000);
      expect(emulator.messages).toHaveLength(1);
      expect(cardText(emulator.messages[0]?.content)).toContain('4,321');
      expect(bot.logs.text).not.toContain('could not deliver the error card');
    } finally {
      await bot.close();
    }
  }, 60_000);

  it('runs a group message mentioning the bot again later too, though whether it is for the bot is not known yet', async () => {
    emulator.reset();
    const bot = await startE2e({ emulator, redis: true, eventRetry: retry(60_000) });
    try {
      emulator.expireTokens();
      emulator.failNext('POST', TOKEN, DOWN, 10_000);
      // A fresh process knows its own open_id only from /bot/v3/info, which needs a token too.
      await bot.deliver(
        messageEvent({ mentions: [botMention(emulator.botOpenId)], text: `@_user_1 stats ${DOC_URL}` }),
      );
      await waitUntil(
        () => laterRuns(bot) >= 2,
        30_000,
        () => `later runs so far: ${laterRuns(bot)}`,
      );
      expect(emulator.messages).toHaveLength(0);

      emulator.reset();
      await emulator.waitForMessages(1, 20_000);
      await bot.settle(20_000);
      expect(emulator.messages).toHaveLength(1);
      expect(cardText(emulator.messages[0]?.content)).toContain('4,321');
    } finally {
      await bot.close();
    }
  }, 60_000);

  it('stops once the next run would start past the window, and says so', async () => {
    emulator.reset();
    const bot = await startE2e({ emulator, redis: true, eventRetry: retry(2_500) });
    try {
      emulator.expireTokens();
      emulator.failNext('POST', TOKEN, DOWN, 10_000);
      await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
      await bot.settle(20_000);
      // Runs start about 0.5 and 1.5 s after the first attempt; a third would start about 3.5 s after it, past the
      // 2.5 s window. A whole second either side of the line: the count does not depend on the machine's speed.
      expect(laterRuns(bot)).toBe(2);
      expect(bot.logs.text).toContain('could not deliver the error card');
      expect(emulator.messages).toHaveLength(0);
      expect(await bot.app.dispatcher.pending()).toBe(0);
    } finally {
      await bot.close();
    }
  }, 60_000);
});

describe('Redis unreachable mid-run', () => {
  let proxy: TcpProxy;
  let db: FreshRedisDb;

  beforeAll(async () => {
    db = await freshRedisDb();
    const target = new URL(db.url);
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
  });

  afterAll(async () => {
    await proxy?.close();
    await db?.cleanup();
  });

  it('answers 503 while Redis is away, does not crash, and loses nothing once it is back', async () => {
    emulator.reset();
    const dbNumber = new URL(db.url).pathname;
    const bot = await startE2e({ emulator, redis: { url: `redis://127.0.0.1:${proxy.port}${dbNumber}` } });
    try {
      const events = Array.from({ length: 30 }, (_, i) => messageEvent({ text: `stats ${DOC_URL} #${i}` }));
      // Slow replies keep jobs running when the connection drops: they must still finish exactly once.
      emulator.setLatency(200);
      const before = await Promise.all(events.slice(0, 10).map((e) => bot.deliver(e)));
      expect(before.map((r) => r.status)).toEqual(Array(10).fill(200));

      proxy.cut();
      const started = Date.now();
      const during = await Promise.all(events.slice(10, 20).map((e) => bot.deliver(e)));
      // Feishu waits 3 s for an answer; a 503 within that makes it deliver again later. How long the 503s took is
      // a figure, not a gate: a loaded CI machine is slow, not wrong.
      console.info(`[figure] 10 deliveries while Redis is away: all answered in ${Date.now() - started} ms`);
      expect(during.map((r) => r.status)).toEqual(Array(10).fill(503));
      expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${bot.url}/readyz`)).status).toBe(503);

      proxy.restore();
      // Feishu's retries of the refused ones, and ten new events.
      const retried = await deliverUntilAccepted(bot, events.slice(10, 30));
      expect(retried).toBe(20);
      emulator.setLatency(0);
      await emulator.waitForMessages(30, 40_000).catch((err: unknown) => {
        // Say what the bot saw, so a failure here can be read from CI's output alone.
        const seen = bot.logs.text.split('\n').filter((line) => /"level":(40|50)/.test(line));
        throw new Error(`${String(err)}\nbot warnings and errors:\n${seen.slice(-30).join('\n')}`);
      });
      await bot.settle(40_000);
      const answered = emulator.messages.map((m) => m.targetId);
      expect(new Set(answered).size).toBe(30);
      expect(answered).toHaveLength(30);
    } finally {
      emulator.setLatency(0);
      await bot.close();
    }
  }, 90_000);
});

/** Redelivers each event until it gets a 200 (the reconnect takes a moment), as Feishu's retry schedule would. */
async function deliverUntilAccepted(
  bot: TestBot,
  events: ReturnType<typeof messageEvent>[],
): Promise<number> {
  let accepted = 0;
  for (const event of events) {
    for (let tries = 0; tries < 50; tries++) {
      if ((await bot.deliver(event)).status === 200) {
        accepted += 1;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  return accepted;
}

describe('added to a group', () => {
  it('posts the help card once, however often the event is delivered', async () => {
    emulator.reset();
    const bot = await startRedisBot();
    try {
      const event = botAddedEvent('oc_welcome_chat');
      await Promise.all([bot.deliver(event), bot.deliver(event), bot.deliver(event)]);
      await bot.settle();
      expect(emulator.messages).toHaveLength(1);
      expect(emulator.messages[0]).toMatchObject({ kind: 'create', targetId: 'oc_welcome_chat' });
      expect(cardText(emulator.messages[0]?.content)).toContain('stats');
    } finally {
      await bot.close();
    }
  });
});
