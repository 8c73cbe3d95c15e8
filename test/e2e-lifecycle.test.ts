/**
 * End to end across app lifecycles: graceful shutdown finishes acknowledged work, and several instances sharing
 * one Redis answer a delivery once.
 */
import { describe, expect, it } from 'vitest';
import { botMention, docStatistics, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { freshRedisDb } from './redis.js';
import { startE2e, useEmulator } from './support/e2e.js';

const DOC_TOKEN = 'doxcnLifecycleAbCdEfGhIjKlM';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;

const emulator = useEmulator({
  docs: [{ token: DOC_TOKEN, type: 'docx', statistics: docStatistics({ uv: 10, pv: 20 }) }],
});

describe('graceful shutdown', () => {
  it('finishes an acknowledged event before closing, even when Feishu is slow', async () => {
    emulator.reset();
    const bot = await startE2e({ emulator });
    emulator.setLatency(300);
    const res = await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
    expect(res.status).toBe(200);
    // Close right after the ack: the reply must still go out.
    await bot.close();
    expect(emulator.messages).toHaveLength(1);
    expect(cardText(emulator.messages[0]?.content)).toContain('20');
  });
});

describe('instances sharing one Redis', () => {
  it('answers a delivery that reaches two instances once, and shares the statistics cache', async () => {
    emulator.reset();
    const db = await freshRedisDb();
    const a = await startE2e({ emulator, redis: db });
    const b = await startE2e({ emulator, redis: db });
    try {
      const envelope = messageEvent({ text: `stats ${DOC_URL}` });
      // Feishu retries a delivery it thinks failed; behind a load balancer the retry may land elsewhere.
      await Promise.all([a.deliver(envelope), b.deliver(envelope), a.deliver(envelope), b.deliver(envelope)]);
      await Promise.all([a.settle(), b.settle()]);
      expect(emulator.messages).toHaveLength(1);

      // A different message on the other instance is served from the cache the first one filled.
      await b.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
      await emulator.waitForMessages(2);
      expect(emulator.callsTo('GET', `/drive/v1/files/${DOC_TOKEN}/statistics`)).toHaveLength(1);
      const ready = await fetch(`${a.url}/readyz`);
      expect(await ready.json()).toMatchObject({ store: 'redis' });
    } finally {
      await a.close();
      await b.close();
      await db.cleanup();
    }
  });
});

describe('bot identity', () => {
  it('fetches the bot’s open_id once, however many group messages arrive', async () => {
    emulator.reset();
    const bot = await startE2e({ emulator });
    try {
      for (let i = 0; i < 3; i++) {
        await bot.deliver(
          messageEvent({
            chatType: 'group',
            mentions: [botMention(emulator.botOpenId)],
            text: `@_user_1 stats ${DOC_URL}`,
          }),
        );
      }
      await emulator.waitForMessages(3);
      expect(emulator.callsTo('GET', '/bot/v3/info')).toHaveLength(1);
    } finally {
      await bot.close();
    }
  });
});
