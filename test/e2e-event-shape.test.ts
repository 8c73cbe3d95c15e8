/**
 * Malformed but signed events (finding 8 of issue 9), end to end: an authentic event whose fields the bot reads
 * have the wrong types is acknowledged with 200 (a 4xx would only make Feishu deliver it again for hours), makes no
 * Feishu call, and leaves exactly one warning naming the event type and the field, never the field's value. Before
 * the fix such events threw inside the handler (`mentions.some is not a function`), were answered with a help
 * card, or sent an id with `/../` in it into a request path.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { EventEnvelope } from '../src/feishu/events.js';
import {
  botMention,
  cardActionEvent,
  DEFAULT_VERIFICATION_TOKEN,
  messageEvent,
} from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { useE2e } from './support/e2e.js';

const OWNER = 'ou_owner0000000000000000000000e8';
const DOC = 'doxcnShapeE2eAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const WARN = 40;

const { emulator, bot } = useE2e({
  docs: [
    {
      token: DOC,
      type: 'docx',
      title: 'Shape plans',
      ownerId: OWNER,
      statistics: { uv: 12, pv: 34, like_count: 5, uv_today: 1, pv_today: 2, like_count_today: 0 },
    },
  ],
});

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

/** A copy of `envelope` with one field of `event` replaced (or removed, for `undefined`). */
function withEventField(envelope: EventEnvelope, path: string, value: unknown): Record<string, unknown> {
  const copy = structuredClone(envelope) as unknown as { event: Record<string, unknown> };
  const keys = path.split('.');
  let node = copy.event;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === undefined) delete node[last];
  else node[last] = value;
  return copy;
}

const groupMessage = () =>
  messageEvent({ chatType: 'group', text: '@_user_1 help', mentions: [botMention(emulator.botOpenId)] });
const privateMessage = () => messageEvent({ chatType: 'p2p', text: 'help' });
const botAdded = (chatId = `oc_${hex(16)}`): EventEnvelope => ({
  schema: '2.0',
  header: {
    event_id: hex(16),
    event_type: 'im.chat.member.bot.added_v1',
    create_time: String(Date.now()),
    token: DEFAULT_VERIFICATION_TOKEN,
    app_id: emulator.appId,
    tenant_key: emulator.tenantKey,
  },
  event: { chat_id: chatId, operator_id: { open_id: OWNER }, name: 'Team chat' },
});
/** A click on a private viewers card: with a well-formed event the bot checks access and the chat's type. */
const viewersClick = () =>
  cardActionEvent({
    operatorOpenId: OWNER,
    value: { v: 1, a: 'viewers', d: { t: DOC, y: 'docx', u: DOC_URL }, c: 'p' },
    openMessageId: `om_${hex(16)}`,
    openChatId: `oc_${hex(16)}`,
  });

/** Log records at warn or above written since `from` (an index into the captured lines). */
const warningsSince = (from: number) =>
  bot.logs
    .records()
    .slice(from)
    .filter((record) => (record.level as number) >= WARN);

type Case = [name: string, build: () => Record<string, unknown>, field: string, value: unknown];

const EVENT_CASES: Case[] = [
  // mentions: not an array, null, an array holding null; in a group and in a private chat.
  [
    'group: mentions a string',
    () => withEventField(groupMessage(), 'message.mentions', 'not-an-array-zq'),
    'event.message.mentions',
    'not-an-array-zq',
  ],
  [
    'group: mentions null',
    () => withEventField(groupMessage(), 'message.mentions', null),
    'event.message.mentions',
    null,
  ],
  [
    'group: a null mention',
    () => withEventField(groupMessage(), 'message.mentions', [null]),
    'event.message.mentions[0]',
    null,
  ],
  [
    'private: mentions an object',
    () => withEventField(privateMessage(), 'message.mentions', { key: '@_user_1' }),
    'event.message.mentions',
    {},
  ],
  [
    'private: mentions a string',
    () => withEventField(privateMessage(), 'message.mentions', 'mention-text-qz'),
    'event.message.mentions',
    'mention-text-qz',
  ],
  // Missing keys.
  ['no message', () => withEventField(privateMessage(), 'message', undefined), 'event.message', undefined],
  [
    'no sender_type',
    () => withEventField(privateMessage(), 'sender.sender_type', undefined),
    'event.sender.sender_type',
    undefined,
  ],
  [
    'no chat_id',
    () => withEventField(privateMessage(), 'message.chat_id', undefined),
    'event.message.chat_id',
    undefined,
  ],
  // Numeric keys.
  [
    'message_id: 123',
    () => withEventField(privateMessage(), 'message.message_id', 123),
    'event.message.message_id',
    123,
  ],
  [
    'message_type: 1',
    () => withEventField(privateMessage(), 'message.message_type', 1),
    'event.message.message_type',
    1,
  ],
  [
    'content an object',
    () => withEventField(privateMessage(), 'message.content', { text: 'help' }),
    'event.message.content',
    {},
  ],
  // Ids that would leave their path segment.
  [
    'message_id with /../',
    () => withEventField(privateMessage(), 'message.message_id', 'om_x/../../auth'),
    'event.message.message_id',
    'om_x/../../auth',
  ],
  [
    'message_id with %2e%2e',
    () => withEventField(privateMessage(), 'message.message_id', 'om_%2e%2e'),
    'event.message.message_id',
    'om_%2e%2e',
  ],
  ['bot added: chat_id 123', () => ({ ...botAdded(), event: { chat_id: 123 } }), 'event.chat_id', 123],
  [
    'bot added: chat_id with /../',
    () => ({ ...botAdded(), event: { chat_id: 'oc_x/../../../auth' } }),
    'event.chat_id',
    'oc_x/../../../auth',
  ],
];

const CARD_CASES: Case[] = [
  ['operator null', () => withEventField(viewersClick(), 'operator', null), 'event.operator', null],
  [
    'operator open_id 123',
    () => withEventField(viewersClick(), 'operator.open_id', 123),
    'event.operator.open_id',
    123,
  ],
  [
    'open_chat_id with /../',
    () => withEventField(viewersClick(), 'context.open_chat_id', 'oc_x/../../messages'),
    'event.context.open_chat_id',
    'oc_x/../../messages',
  ],
  [
    'open_message_id with a query',
    () => withEventField(viewersClick(), 'context.open_message_id', 'om_x?receive_id_type=chat_id'),
    'event.context.open_message_id',
    'om_x?receive_id_type=chat_id',
  ],
];

/** The one warning a dropped event leaves: names the type and the field, never the value. */
function expectOneDropWarning(
  from: number,
  envelope: Record<string, unknown>,
  field: string,
  value: unknown,
) {
  const warnings = warningsSince(from);
  expect(warnings).toHaveLength(1);
  const [line] = warnings;
  expect(line?.level).toBe(WARN);
  expect(line?.msg).toMatch(/shape/);
  expect(line?.event_type).toBe((envelope.header as { event_type: string }).event_type);
  expect(line?.field).toBe(field);
  if (typeof value === 'string') expect(JSON.stringify(line)).not.toContain(value);
}

describe('a malformed but signed event on /webhook/event', () => {
  it.each(EVENT_CASES)('%s: 200, no Feishu call, one warning', async (_name, build, field, value) => {
    const envelope = build();
    const from = bot.logs.lines.length;
    const res = await bot.deliver(envelope);
    expect(res.status).toBe(200);
    await bot.settle();
    expect(emulator.calls.map((c) => `${c.method} ${c.path}`)).toEqual([]);
    expectOneDropWarning(from, envelope, field, value);
  });

  it('is counted as dropped, not accepted', async () => {
    const before = await bot.app.metrics.value('fsb_webhook_requests_total', {
      route: 'event',
      outcome: 'dropped',
    });
    await bot.deliver(withEventField(privateMessage(), 'message.mentions', null));
    expect(
      await bot.app.metrics.value('fsb_webhook_requests_total', { route: 'event', outcome: 'dropped' }),
    ).toBe(before + 1);
  });
});

describe('a malformed but signed card callback on /webhook/card', () => {
  it.each(CARD_CASES)(
    '%s: 200 with an empty answer, no Feishu call, one warning',
    async (_n, build, field, value) => {
      const envelope = build();
      const from = bot.logs.lines.length;
      const { status, body } = await bot.click(envelope as unknown as EventEnvelope);
      expect(status).toBe(200);
      expect(body).toEqual({});
      await bot.settle();
      expect(emulator.calls.map((c) => `${c.method} ${c.path}`)).toEqual([]);
      expectOneDropWarning(from, envelope, field, value);
    },
  );
});

describe('well-formed events still work', () => {
  it('answers a private help message', async () => {
    const envelope = privateMessage();
    expect((await bot.deliver(envelope)).status).toBe(200);
    const [reply] = await emulator.waitForMessages(1);
    expect(reply?.targetId).toBe(envelope.event.message.message_id);
    expect(cardText(reply?.content)).toMatch(/stats/);
  });

  it('answers a group message that mentions the bot', async () => {
    await bot.deliver(
      messageEvent({
        chatType: 'group',
        text: `@_user_1 stats ${DOC_URL}`,
        mentions: [botMention(emulator.botOpenId)],
      }),
    );
    const [reply] = await emulator.waitForMessages(1);
    expect(cardText(reply?.content)).toContain('Shape plans');
  });

  it('welcomes the bot into a chat', async () => {
    const chatId = `oc_${hex(16)}`;
    await bot.deliver(botAdded(chatId));
    const [welcome] = await emulator.waitForMessages(1);
    expect(welcome?.targetId).toBe(chatId);
  });

  it('answers a card click', async () => {
    const click = cardActionEvent({
      operatorOpenId: OWNER,
      value: { v: 1, a: 'refresh', d: { t: DOC, y: 'docx', u: DOC_URL }, c: 'g' },
      openMessageId: `om_${hex(16)}`,
      openChatId: `oc_${hex(16)}`,
    });
    const { status, body } = await bot.click(click);
    expect(status).toBe(200);
    expect(cardText(body.card?.data)).toContain('Shape plans');
  });

  it('leaves no warning for any of them', async () => {
    const from = bot.logs.lines.length;
    await bot.deliver(privateMessage());
    await emulator.waitForMessages(1);
    await bot.settle();
    expect(warningsSince(from)).toEqual([]);
  });
});
