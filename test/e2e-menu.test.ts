/**
 * The bot menu (`application.bot.menu_v6`, issue 11) end to end: each key answers with exactly the card the typed
 * command gives in the person's private chat, sent to that person by open_id (there is no message to reply to);
 * admin keys follow the admin rule; an unknown key gets help; a click Feishu delivers again, or whose job runs again,
 * posts one card; a malformed click is dropped at the edge; and the long connection carries clicks as the webhook
 * does. The bot's clock is pinned, so a card built twice is the same JSON twice.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messageUuid } from '../src/bot/context.js';
import { deliveryJobId } from '../src/bot/dedupe.js';
import { type FeishuEmulator, type SentMessage, startFeishuEmulator } from './emulator/feishu-emulator.js';
import { botMention, docStatistics, menuEvent, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { type E2e, startE2e, useE2e } from './support/e2e.js';

const ADMIN = 'ou_menuadmin000000000000000000a1';
const MEMBER = 'ou_menumember00000000000000000b2';
const DOC = 'doxcnMenuE2eAbCdEfGhIjKlMnOp';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const GROUP_DOC = 'doxcnMenuE2eGroupAbCdEfGhIjK';
const NOW = Date.parse('2026-11-21T12:00:00+08:00');
const WARN = 40;

const hex = (bytes: number) => randomBytes(bytes).toString('hex');
const newOpenId = () => `ou_${hex(16)}`;
const newChatId = () => `oc_${hex(16)}`;

/** Every day from 2026-11-01 for three weeks: `workplace` (the last 7 full days) sums 113 … 119 = 812 views. */
const WORKPLACE_DAYS = Array.from({ length: 21 }, (_, i) => ({
  date: `2026-11-${String(i + 1).padStart(2, '0')}`,
  all_workplace: { pv: 100 + i, uv: 40 + (i % 7) },
  default_workplace: { pv: 60 + i, uv: 30 + (i % 5) },
}));

const { emulator, bot } = useE2e({
  docs: [
    { token: DOC, type: 'docx', title: 'Menu launch plan', statistics: docStatistics({ uv: 9, pv: 765 }) },
    { token: GROUP_DOC, type: 'docx', title: 'Team roadmap', statistics: docStatistics({ uv: 3, pv: 45 }) },
  ],
  env: { BOT_ADMINS: ADMIN },
  clock: () => NOW,
  arrange: (emu) => {
    emu.setWorkplaceDays(WORKPLACE_DAYS);
    emu.setAppUsage(emu.appId, { uv: 321, total_users: 999, new_users: 12, pv: 4567, lifecycle: 890 });
  },
});

/** The one card a typed private message got back. */
async function typed(text: string, sender: string, chatId: string): Promise<SentMessage> {
  const before = emulator.messages.length;
  await bot.deliver(messageEvent({ text, senderOpenId: sender, chatId, chatType: 'p2p' }));
  await bot.settle();
  expect(emulator.messages).toHaveLength(before + 1);
  return emulator.messages[before] as SentMessage;
}

/** The one card a menu click got back. */
async function clicked(eventKey: string, operator: string): Promise<SentMessage> {
  const before = emulator.messages.length;
  const res = await bot.deliver(menuEvent({ eventKey, operatorOpenId: operator }));
  expect(res.status).toBe(200);
  await bot.settle();
  expect(emulator.messages).toHaveLength(before + 1);
  return emulator.messages[before] as SentMessage;
}

/** Sent to the person who clicked, privately: a create by open_id, not a reply and not to a chat. */
function expectSentPrivatelyTo(message: SentMessage, openId: string): void {
  expect(message).toMatchObject({ kind: 'create', targetId: openId, receiveIdType: 'open_id' });
}

describe('each menu key answers with the card the typed command gives in the private chat', () => {
  it.each([
    // key, typed command, who clicks, what the card must say
    ['help', 'help', MEMBER, 'digest add'],
    // A menu cannot carry a link: `stats` answers with the usage card that says how to ask.
    ['stats', 'stats', MEMBER, 'stats'],
    ['workplace', 'workplace', ADMIN, '812'],
    ['app', 'app', ADMIN, '4,567'],
  ])('%s (typed `%s`)', async (key, command, who, expected) => {
    const mine = await typed(command, who, newChatId());
    const menu = await clicked(key, who);
    expectSentPrivatelyTo(menu, who);
    expect(menu.content).toEqual(mine.content);
    expect(cardText(menu.content)).toContain(expected);
  });

  it('tells the usage card (stats) from the help card: the keys do not all answer alike', async () => {
    const stats = await clicked('stats', MEMBER);
    const help = await clicked('help', MEMBER);
    expect(stats.content).not.toEqual(help.content);
  });

  it('digest: that person’s private digest list, with the item they added there', async () => {
    const person = newOpenId();
    const privateChat = newChatId();
    await typed(`digest add ${DOC_URL}`, person, privateChat);
    await typed('digest time 09:30', person, privateChat);
    const mine = await typed('digest', person, privateChat);
    const calls = emulator.calls.length;
    const menu = await clicked('digest', person);
    expectSentPrivatelyTo(menu, person);
    expect(menu.content).toEqual(mine.content);
    expect(cardText(menu.content)).toContain('Menu launch plan');
    expect(cardText(menu.content)).toContain('09:30');
    // The chat was remembered from their messages: the click asked Feishu nothing but to send the card.
    expect(emulator.calls.slice(calls).map((c) => `${c.method} ${c.path}`)).toEqual([
      'POST /open-apis/im/v1/messages',
    ]);
  });

  it('digest: not anyone else’s list: another person gets their own (empty) one', async () => {
    const owner = newOpenId();
    await typed(`digest add ${DOC_URL}`, owner, newChatId());
    const other = newOpenId();
    const otherTyped = await typed('digest', other, newChatId());
    const otherMenu = await clicked('digest', other);
    expect(otherMenu.content).toEqual(otherTyped.content);
    expect(cardText(otherMenu.content)).not.toContain('Menu launch plan');
  });

  it('digest from someone who never wrote to the bot: the empty list typed `digest` gives in a new chat', async () => {
    const stranger = newOpenId();
    const menu = await clicked('digest', stranger);
    expectSentPrivatelyTo(menu, stranger);
    const fresh = await typed('digest', newOpenId(), newChatId());
    expect(menu.content).toEqual(fresh.content);
  });

  it('digest set up before the bot remembered private chats: found by its subscriber, the group one passed over', async () => {
    const person = newOpenId();
    const privateChat = newChatId();
    const group = newChatId();
    emulator.addChat({ chatId: group, chatMode: 'group', name: 'Team', managers: [] });
    const before = emulator.messages.length;
    await bot.deliver(
      messageEvent({
        chatId: group,
        chatType: 'group',
        senderOpenId: person,
        mentions: [botMention(emulator.botOpenId)],
        text: `@_user_1 digest add https://acme.feishu.cn/docx/${GROUP_DOC}`,
      }),
    );
    await bot.settle();
    // The group's digest is theirs too (they set it up), with another document.
    expect(cardText(emulator.messages[before]?.content)).toContain('Team roadmap');
    await typed(`digest add ${DOC_URL}`, person, privateChat);
    const mine = await typed('digest', person, privateChat);
    // As a deployment from before the menu has it: the subscription, and no private chat remembered.
    await bot.app.store.delete(`fsb:p2p:${person}`);

    const chatLookupsBefore = emulator.callsTo('GET', '/im/v1/chats/:chat_id').length;
    const menu = await clicked('digest', person);
    expect(menu.content).toEqual(mine.content);
    expect(cardText(menu.content)).toContain('Menu launch plan');
    expect(cardText(menu.content)).not.toContain('Team roadmap');
    // Each of their digests' chats was asked about (cached), until the private one.
    expect(emulator.callsTo('GET', '/im/v1/chats/:chat_id').length).toBeGreaterThan(chatLookupsBefore);
    // Remembered now: the next click asks Feishu nothing about chats.
    const chatLookups = emulator.callsTo('GET', '/im/v1/chats/:chat_id').length;
    expect(await bot.app.store.get(`fsb:p2p:${person}`)).toBe(privateChat);
    await clicked('digest', person);
    expect(emulator.callsTo('GET', '/im/v1/chats/:chat_id')).toHaveLength(chatLookups);
  });

  it.each([
    ['workplace', 'workplace'],
    ['app', 'app'],
  ])(
    '%s for someone who is not an admin: the denied card, as typed, and no tenant call',
    async (key, command) => {
      const mine = await typed(command, MEMBER, newChatId());
      const calls = emulator.calls.length;
      const menu = await clicked(key, MEMBER);
      expectSentPrivatelyTo(menu, MEMBER);
      expect(menu.content).toEqual(mine.content);
      expect(cardText(mine.content)).not.toContain('812');
      expect(
        emulator.calls
          .slice(calls)
          .filter((c) => c.path.includes('workplace') || c.path.includes('app_usage')),
      ).toEqual([]);
      // The same key gets an admin the figures: it is the person that is refused, not the key that is broken.
      expect(cardText((await clicked(key, ADMIN)).content)).not.toEqual(cardText(menu.content));
    },
  );

  it('an unknown key (a typo in the console) gets the help card, and the log names the key', async () => {
    const help = await typed('help', MEMBER, newChatId());
    const from = bot.logs.lines.length;
    const menu = await clicked('halp', MEMBER);
    expectSentPrivatelyTo(menu, MEMBER);
    expect(menu.content).toEqual(help.content);
    const line = bot.logs
      .records()
      .slice(from)
      .find((r) => r.msg === 'unknown menu key; answering with the help card');
    expect(line?.event_key).toBe('halp');
  });

  it('forgives case and spaces in a key', async () => {
    const workplace = await clicked('workplace', ADMIN);
    expect((await clicked(' Workplace ', ADMIN)).content).toEqual(workplace.content);
  });
});

describe('a click is answered once', () => {
  it('sends under a uuid made of the event id, and dedupes the job by event id', async () => {
    const event = menuEvent({ eventKey: 'help', operatorOpenId: MEMBER });
    await bot.deliver(event);
    const [card] = await emulator.waitForMessages(1);
    expect(card?.uuid).toBe(messageUuid(event.header.event_id, 'm1'));
    expect(deliveryJobId(event)).toBe(`evt-${event.header.event_id}`);
  });

  it('a click Feishu delivers again (same event id) posts one card', async () => {
    const event = menuEvent({ eventKey: 'help', operatorOpenId: MEMBER });
    const statuses = await Promise.all([bot.deliver(event), bot.deliver(event)]);
    await bot.deliver(event);
    await bot.settle();
    expect(statuses.map((r) => r.status)).toEqual([200, 200]);
    expect(emulator.messages).toHaveLength(1);
    expect(emulator.callsTo('POST', '/im/v1/messages')).toHaveLength(1);
  });

  it('two clicks (two event ids) post two cards', async () => {
    await bot.deliver(menuEvent({ eventKey: 'help', operatorOpenId: MEMBER }));
    await bot.deliver(menuEvent({ eventKey: 'help', operatorOpenId: MEMBER }));
    await bot.settle();
    expect(emulator.messages).toHaveLength(2);
  });
});

describe('a malformed click is dropped at the edge', () => {
  const click = () => menuEvent({ eventKey: 'help', operatorOpenId: MEMBER });
  it.each([
    ['no operator', () => ({ ...click(), event: { event_key: 'help' } }), 'event.operator'],
    [
      'no operator_id',
      () => ({ ...click(), event: { operator: { operator_name: 'x' }, event_key: 'help' } }),
      'event.operator.operator_id',
    ],
    [
      'an open_id with /../',
      () => ({
        ...click(),
        event: { operator: { operator_id: { open_id: 'ou_x/../../auth' } }, event_key: 'help' },
      }),
      'event.operator.operator_id.open_id',
    ],
    [
      'event_key a number',
      () => ({ ...click(), event: { ...click().event, event_key: 7 } }),
      'event.event_key',
    ],
    ['no event_key', () => ({ ...click(), event: { operator: click().event.operator } }), 'event.event_key'],
  ])('%s: 200, no Feishu call, one warning naming the field', async (_name, build, field) => {
    const from = bot.logs.lines.length;
    const res = await bot.deliver(build());
    expect(res.status).toBe(200);
    await bot.settle();
    expect(emulator.calls).toEqual([]);
    const warnings = bot.logs
      .records()
      .slice(from)
      .filter((r) => (r.level as number) >= WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ event_type: 'application.bot.menu_v6', field });
    expect(JSON.stringify(warnings[0])).not.toContain('/../');
  });
});

describe('with Redis: durable jobs', () => {
  let redisEmulator: FeishuEmulator;
  let redisBot: E2e;
  beforeAll(async () => {
    redisEmulator = await startFeishuEmulator();
    redisBot = await startE2e({
      emulator: redisEmulator,
      redis: true,
      clock: () => NOW,
      eventRetry: {
        attempts: 3,
        backoffMs: 50,
        runLater: { firstDelayMs: 500, maxDelayMs: 2_000, windowMs: 2_500 },
      },
    });
  });
  afterAll(async () => {
    await redisBot?.close();
    await redisEmulator?.close();
  });

  it('a click delivered again is refused by its job id: one card', async () => {
    redisEmulator.reset();
    const event = menuEvent({ eventKey: 'help', operatorOpenId: MEMBER });
    await Promise.all([redisBot.deliver(event), redisBot.deliver(event)]);
    await redisBot.deliver(event);
    await redisBot.settle();
    expect(redisEmulator.callsTo('POST', '/im/v1/messages')).toHaveLength(1);
    expect(redisEmulator.messages).toHaveLength(1);
  });

  it('a job run again after its card went out (the answer lost) posts the card once, under the same uuid', async () => {
    redisEmulator.reset();
    // Feishu stores the message and the answer is lost: the bot sees a 500, and the job runs again.
    redisEmulator.failNext(
      'POST',
      '/im/v1/messages',
      { httpStatus: 500, code: 1, msg: 'internal error', afterEffect: true },
      1,
    );
    await redisBot.deliver(menuEvent({ eventKey: 'help', operatorOpenId: MEMBER }));
    await redisBot.settle(20_000);
    const sends = redisEmulator.callsTo('POST', '/im/v1/messages');
    expect(sends.map((c) => c.status)).toEqual([500, 200]);
    const uuids = sends.map((c) => (c.body as { uuid?: string }).uuid);
    expect(uuids[1]).toBe(uuids[0]);
    expect(redisEmulator.messages).toHaveLength(1);
    expect(cardText(redisEmulator.messages[0]?.content)).toContain('digest add');
  });
});

describe('over the long connection', () => {
  let wsEmulator: FeishuEmulator;
  let wsBot: E2e;
  beforeAll(async () => {
    wsEmulator = await startFeishuEmulator();
    wsEmulator.ws.setClientConfig({
      PingInterval: 1,
      ReconnectCount: -1,
      ReconnectInterval: 0.2,
      ReconnectNonce: 0,
    });
    wsBot = await startE2e({
      emulator: wsEmulator,
      env: { FEISHU_EVENT_MODE: 'websocket' },
      longConnection: { restartDelayMs: { first: 100, max: 400 } },
    });
  });
  afterAll(async () => {
    await wsBot?.close();
    await wsEmulator?.close();
  });

  it('answers a click with the help card, sent privately, once however often the frame comes', async () => {
    wsEmulator.reset();
    const event = menuEvent({ eventKey: 'help', operatorOpenId: MEMBER });
    expect((await wsEmulator.ws.sendEvent(event)).code).toBe(200);
    expect((await wsEmulator.ws.sendEvent(event)).code).toBe(200);
    await wsEmulator.waitForMessages(1);
    await wsBot.settle();
    // One send, not two that Feishu's uuid folded into one: the second frame was dropped by its event id.
    expect(wsEmulator.callsTo('POST', '/im/v1/messages')).toHaveLength(1);
    expect(wsEmulator.messages).toHaveLength(1);
    expectSentPrivatelyTo(wsEmulator.messages[0] as SentMessage, MEMBER);
    expect(cardText(wsEmulator.messages[0]?.content)).toContain('digest add');
  });

  it('drops a click without an operator with one line, and acknowledges it', async () => {
    wsEmulator.reset();
    const event = menuEvent({ eventKey: 'help', operatorOpenId: MEMBER });
    const from = wsBot.logs.lines.length;
    const answer = await wsEmulator.ws.sendEvent({ ...event, event: { event_key: 'help' } });
    expect(answer.code).toBe(200);
    await wsBot.settle();
    const warnings = wsBot.logs
      .records()
      .slice(from)
      .filter((r) => (r.level as number) >= WARN);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ event_type: 'application.bot.menu_v6', field: 'event.operator' });
    expect(wsEmulator.calls.filter((c) => c.path.includes('/im/v1/messages'))).toEqual([]);
  });
});
