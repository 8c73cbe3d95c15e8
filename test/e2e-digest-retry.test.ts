/**
 * `digest remove <n>` as a durable job on Redis whose reply fails: the queue runs the whole command again, and by
 * then item n is another item. The second attempt must remove nothing more and answer as the first did.
 */
import { describe, expect, it } from 'vitest';
import { SubscriptionStore } from '../src/digest/subscriptions.js';
import { messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { useE2e } from './support/e2e.js';

const MEMBER = 'ou_member000000000000000000000c1';
const DOCS = [
  { token: 'doxcnRetryE2eAAAAAAAAAAAAAAAA', type: 'docx' as const, title: 'Alpha' },
  { token: 'doxcnRetryE2eBBBBBBBBBBBBBBBB', type: 'docx' as const, title: 'Beta' },
  { token: 'doxcnRetryE2eCCCCCCCCCCCCCCCC', type: 'docx' as const, title: 'Gamma' },
];
const REPLY = '/im/v1/messages/:message_id/reply';
/** A fixed bot clock, so both attempts render the same "next digest" time. */
const NOW = Date.parse('2026-11-20T09:00:00+08:00');

const { emulator, bot } = useE2e({ docs: DOCS, redis: true, clock: () => NOW });

async function say(chatId: string, text: string): Promise<void> {
  const before = emulator.messages.length;
  await bot.deliver(messageEvent({ chatId, chatType: 'p2p', text, senderOpenId: MEMBER }));
  await bot.settle(20_000);
  expect(emulator.messages).toHaveLength(before + 1);
}

describe('digest remove retried after its reply failed', () => {
  it('removes one item however many attempts run, and every attempt answers with the same card', async () => {
    const chatId = 'oc_digest_retry_00000000000000001';
    for (const doc of DOCS) await say(chatId, `digest add https://acme.feishu.cn/docx/${doc.token}`);

    // The first attempt removes Beta, then its reply fails with a transient error: the job runs again.
    emulator.failNext('POST', REPLY, { httpStatus: 500, code: 1, msg: 'internal error' });
    const event = messageEvent({ chatId, chatType: 'p2p', text: 'digest remove 2', senderOpenId: MEMBER });
    await bot.deliver(event);
    await bot.settle(20_000);

    const messageId = event.event.message.message_id;
    const attempts = emulator.callsTo('POST', REPLY).filter((call) => call.path.includes(messageId));
    expect(attempts.map((call) => call.status)).toEqual([500, 200]);
    const [first, second] = attempts.map((call) => call.body as { content: string; uuid: string });
    expect(second?.content).toBe(first?.content);
    expect(second?.uuid).toBe(first?.uuid);
    expect(cardText(JSON.parse(second?.content ?? '{}'))).toContain('Removed “Beta”');

    const sub = await new SubscriptionStore(bot.app.store).get(chatId);
    expect(sub?.items.map((item) => (item.kind === 'doc' ? item.title : item.kind))).toEqual([
      'Alpha',
      'Gamma',
    ]);
  });
});
