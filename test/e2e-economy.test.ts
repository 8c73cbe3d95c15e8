/**
 * Upstream economy and rate limits: identical requests share one Feishu call (in one process and across replicas
 * on one Redis), and a burst far above an endpoint's limit is absorbed by waiting, not by errors.
 */
import { describe, expect, it } from 'vitest';
import { cardActionEvent, makeLikes, messageEvent } from './emulator/fixtures.js';
import { buttonValue, cardText } from './helper.js';
import { freshRedisDb } from './redis.js';
import { type E2e, startE2e, useEmulator } from './support/e2e.js';

const ADMIN = 'ou_admin00000000000000000000000005';

const emulator = useEmulator();

const statisticsCalls = (token: string) =>
  emulator.callsTo('GET', `/drive/v1/files/${token}/statistics`).length;

describe('identical requests share one upstream call', () => {
  it('50 concurrent `stats` for one document in one process → 1 statistics call', async () => {
    emulator.reset();
    const token = 'doxcnEconomyOneAbCdEfGhIjKl';
    emulator.addDoc({ token, type: 'docx' });
    emulator.setLatency(100); // keep the first call in flight while the others arrive
    const bot = await startE2e({ emulator });
    try {
      await Promise.all(
        Array.from({ length: 50 }, () =>
          bot.deliver(messageEvent({ text: `stats https://acme.feishu.cn/docx/${token}` })),
        ),
      );
      await emulator.waitForMessages(50, 15_000);
      expect(statisticsCalls(token)).toBe(1);
    } finally {
      emulator.setLatency(0);
      await bot.close();
    }
  });

  it('the same across 3 instances sharing one Redis; Refresh costs exactly 1 more', async () => {
    emulator.reset();
    const token = 'doxcnEconomyThreeAbCdEfGhIj';
    emulator.addDoc({ token, type: 'docx' });
    emulator.setLatency(100);
    const db = await freshRedisDb();
    const bots: E2e[] = [];
    try {
      for (let i = 0; i < 3; i++) bots.push(await startE2e({ emulator, redis: db }));
      await Promise.all(
        Array.from({ length: 51 }, (_, i) =>
          bots[i % 3]?.deliver(messageEvent({ text: `stats https://acme.feishu.cn/docx/${token}` })),
        ),
      );
      const messages = await emulator.waitForMessages(51, 20_000);
      expect(statisticsCalls(token)).toBe(1);
      console.info(`[figure] 51 stats requests over 3 replicas → ${statisticsCalls(token)} statistics call`);

      const card = messages[0];
      const answer = await bots[1]?.click(
        cardActionEvent({
          operatorOpenId: 'ou_clicker000000000000000000000',
          value: buttonValue(card?.content, /refresh/),
          openMessageId: card?.messageId ?? '',
          openChatId: 'oc_chat',
        }),
      );
      expect(answer?.body.card?.type).toBe('raw');
      expect(statisticsCalls(token)).toBe(2);
    } finally {
      emulator.setLatency(0);
      for (const bot of bots) await bot.close();
      await db.cleanup();
    }
  });
});

describe('rate limits', () => {
  it('200 `likes` requests in a burst against 5/s: all answered with the list, no rate-limit error shown', async () => {
    emulator.reset();
    const docs = Array.from({ length: 200 }, (_, i) => `doxcnBurst${String(i).padStart(4, '0')}AbCdEfGhIjKl`);
    for (const token of docs) emulator.addDoc({ token, type: 'docx', ownerId: ADMIN, likes: makeLikes(2) });
    emulator.setRateLimit('GET', /\/likes$/, { perSecond: 5 });
    const bot = await startE2e({ emulator, env: { BOT_ADMINS: ADMIN } });
    try {
      const started = performance.now();
      const events = docs.map((token) =>
        messageEvent({ text: `likes https://acme.feishu.cn/docx/${token}`, senderOpenId: ADMIN }),
      );
      // In memory the bot accepts only the backlog it can finish within its shutdown budget and answers 503 for
      // the rest; like Feishu, deliver those again until they are accepted.
      let refusals = 0;
      let waiting = events;
      while (waiting.length > 0) {
        const statuses = await Promise.all(waiting.map((event) => bot.deliver(event).then((r) => r.status)));
        expect(statuses.every((status) => status === 200 || status === 503)).toBe(true);
        const refused = waiting.filter((_, i) => statuses[i] === 503);
        refusals += refused.length;
        waiting = refused;
        if (waiting.length > 0) await new Promise((resolve) => setTimeout(resolve, 1_000));
      }
      const messages = await emulator.waitForMessages(200, 120_000);
      const seconds = (performance.now() - started) / 1000;
      expect(messages).toHaveLength(200);
      // Every answer is a likes list, not an error card: any refusal Feishu made was waited out and retried.
      expect(messages.filter((m) => !cardText(m.content).includes('Who liked'))).toHaveLength(0);
      console.info(
        `[figure] 200 likes at a 5/s limit: ${seconds.toFixed(1)} s (floor 40 s, ratio ${(seconds / 40).toFixed(2)}), ` +
          `${emulator.rateLimitedCount()} rate-limited responses (0 on a calm machine), ${refusals} deliveries ` +
          'answered 503 and delivered again',
      );
    } finally {
      emulator.clearRateLimits();
      await bot.close();
    }
  }, 150_000);
});
