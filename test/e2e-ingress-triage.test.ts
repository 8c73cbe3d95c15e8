/**
 * Events the bot would do nothing with are acknowledged at the door and never become work: no job in Redis (so no
 * chat text kept there for the 12 h a job lives), no claim in memory. Everything the bot might answer still goes
 * through the durable path, including a group message whose mentions cannot be judged before the bot knows its own
 * open_id.
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { deliveryIds, deliveryJobId } from '../src/bot/dedupe.js';
import type { EventEnvelope } from '../src/feishu/events.js';
import { RedisStore } from '../src/store/redis-store.js';
import {
  botMention,
  DEFAULT_VERIFICATION_TOKEN,
  docStatistics,
  messageEvent,
  userMention,
} from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { type E2e, startE2e, useEmulator } from './support/e2e.js';

const DOC_TOKEN = 'doxcnTriageAbCdEfGhIjKlMnOp';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const BOT_INFO = '/bot/v3/info';

const emulator = useEmulator({
  docs: [{ token: DOC_TOKEN, type: 'docx', statistics: docStatistics({ uv: 7, pv: 1234 }) }],
});

const colleague = () => userMention(`ou_${randomBytes(16).toString('hex')}`, '王芳', '@_user_1');
const chatter = () =>
  messageEvent({ chatType: 'group', mentions: [colleague()], text: '@_user_1 the Q3 numbers are in' });

function unhandledEvent(): EventEnvelope {
  return {
    schema: '2.0',
    header: {
      event_id: randomBytes(16).toString('hex'),
      event_type: 'im.chat.updated_v1',
      create_time: String(Date.now()),
      token: DEFAULT_VERIFICATION_TOKEN,
      app_id: emulator.appId,
      tenant_key: emulator.tenantKey,
    },
    event: { chat_id: 'oc_triage' },
  };
}

let bot: E2e | undefined;
afterEach(async () => {
  await bot?.close();
  bot = undefined;
});

const ignored = (b: E2e) =>
  b.app.metrics.value('fsb_events_total', { type: 'im.message.receive_v1', outcome: 'ignored' });

/**
 * Whether the event became work: a BullMQ job with Redis (completed jobs are kept 12 h, so a handled one is still
 * there), a delivery claim in memory (held as long).
 */
async function becameWork(b: E2e, envelope: EventEnvelope): Promise<boolean> {
  if (b.app.store instanceof RedisStore) {
    return (await b.app.store.client.exists(`fsb:events:${deliveryJobId(envelope)}`)) === 1;
  }
  const { eventId, messageId } = deliveryIds(envelope);
  const claim = messageId ? `fsb:seen:msg:${messageId}` : `fsb:seen:event:${eventId}`;
  return (await b.app.store.get(claim)) !== null;
}

describe.each([
  { mode: 'Redis', redis: true },
  { mode: 'memory', redis: false },
])('ingress triage ($mode)', ({ redis }) => {
  it('acknowledges chatter, other bots and unhandled event types without queueing them', async () => {
    emulator.reset();
    bot = await startE2e({ emulator, redis });
    // Before the bot knows its own open_id, a message mentioning someone might be for it: it is queued, and the
    // worker looks the bot up (once) to decide.
    const first = chatter();
    expect((await bot.deliver(first)).status).toBe(200);
    await bot.settle();
    expect(emulator.callsTo('GET', BOT_INFO)).toHaveLength(1);
    expect(await becameWork(bot, first)).toBe(true);
    expect(await ignored(bot)).toBe(1);

    const noWork = [
      chatter(),
      chatter(),
      messageEvent({ chatType: 'group', text: 'lunch?' }),
      messageEvent({
        chatType: 'group',
        mentions: [{ ...colleague(), key: '@_all', id: {} }],
        text: '@_all hi',
      }),
      messageEvent({ senderType: 'app', text: `stats ${DOC_URL}` }),
      unhandledEvent(),
    ];
    for (const envelope of noWork) expect((await bot.deliver(envelope)).status).toBe(200);
    expect(await bot.app.dispatcher.pending()).toBe(0);
    for (const envelope of noWork) expect(await becameWork(bot, envelope)).toBe(false);
    expect(await ignored(bot)).toBe(6);
    expect(
      await bot.app.metrics.value('fsb_events_total', { type: 'im.chat.updated_v1', outcome: 'ignored' }),
    ).toBe(1);
    // Nothing was looked up or sent for any of them.
    expect(emulator.callsTo('GET', BOT_INFO)).toHaveLength(1);
    expect(emulator.messages).toHaveLength(0);
  });

  it('still queues and answers everything addressed to the bot', async () => {
    emulator.reset();
    bot = await startE2e({ emulator, redis });
    await bot.deliver(chatter());
    await bot.settle();

    const addressed = [
      messageEvent({ mentions: [botMention(emulator.botOpenId)], text: `@_user_1 stats ${DOC_URL}` }),
      messageEvent({
        chatType: 'group',
        mentions: [colleague(), { ...botMention(emulator.botOpenId), key: '@_user_2' }],
        text: `@_user_1 @_user_2 stats ${DOC_URL}`,
      }),
      messageEvent({ text: `stats ${DOC_URL}` }),
    ];
    for (const envelope of addressed) expect((await bot.deliver(envelope)).status).toBe(200);
    await emulator.waitForMessages(3, 10_000);
    await bot.settle();
    for (const envelope of addressed) expect(await becameWork(bot, envelope)).toBe(true);
    expect(emulator.messages).toHaveLength(3);
    for (const message of emulator.messages) expect(cardText(message.content)).toContain('1,234');
    expect(await ignored(bot)).toBe(1);
    // Each command's lines name its event and message once (a second child logger used to repeat both keys).
    const lines = bot.logs.text.split('\n').filter((line) => line.includes('"stats answered"'));
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line.split('"event_id"')).toHaveLength(2);
      expect(line.split('"message_id"')).toHaveLength(2);
    }
  });
});
