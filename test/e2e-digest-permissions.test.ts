/**
 * Who may change a chat's digest, end to end: documents are everyone's; workplace and app items are removed by bot
 * admins only (command and Remove button); `digest off`, `digest time` and the cadence (`digest daily | weekly |
 * monthly`) in a group, and removing the last item (which turns the digest off just the same), need whoever set the
 * digest up, the group's owner or a manager (`im/v1/chats/:chat_id`), or a bot admin; in a private chat the person
 * there owns their digest. Everyone else gets a card saying who can, and nothing changes.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { SUBSCRIPTIONS_KEY, SubscriptionStore } from '../src/digest/subscriptions.js';
import type { ChatSubscription } from '../src/digest/types.js';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { botMention, cardActionEvent, messageEvent } from './emulator/fixtures.js';
import { buttonValue, cardText } from './helper.js';
import { useE2e } from './support/e2e.js';

const ADMIN = 'ou_admin0000000000000000000000a1';
const SUBSCRIBER = 'ou_subscriber00000000000000000a2';
const OWNER = 'ou_groupowner00000000000000000a3';
const MANAGER = 'ou_groupmanager000000000000000a4';
const MEMBER = 'ou_member000000000000000000000a5';

const DOC = 'doxcnPermsE2eAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const DOC2 = 'doxcnPermsE2eOtherGhIjKlMnO';
const DOC2_URL = `https://acme.feishu.cn/docx/${DOC2}`;
const DOC3 = 'doxcnPermsE2eThirdGhIjKlMnO';
const DOC3_URL = `https://acme.feishu.cn/docx/${DOC3}`;
const CHAT_INFO = '/im/v1/chats/:chat_id';

const { emulator, bot } = useE2e({
  docs: [
    { token: DOC, type: 'docx', title: 'Roadmap' },
    { token: DOC2, type: 'docx', title: 'Budget notes' },
    { token: DOC3, type: 'docx', title: 'Hiring plan' },
  ],
  env: { BOT_ADMINS: ADMIN },
});

/** A group of its own per test (chat info is cached per chat): OWNER owns it, MANAGER manages it. */
function newGroup(): string {
  const chatId = `oc_${randomBytes(16).toString('hex')}`;
  emulator.addChat({ chatId, chatMode: 'group', ownerId: OWNER, managers: [MANAGER], name: 'Team' });
  return chatId;
}

/** Sends `text` as `sender` (an @mention in a group) and returns the bot's reply. */
async function say(chatId: string, sender: string, text: string, chatType: 'group' | 'p2p' = 'group') {
  const before = emulator.messages.length;
  await bot.deliver(
    chatType === 'group'
      ? messageEvent({
          chatId,
          chatType,
          mentions: [botMention(emulator.botOpenId)],
          text: `@_user_1 ${text}`,
          senderOpenId: sender,
        })
      : messageEvent({ chatId, chatType, text, senderOpenId: sender }),
  );
  await bot.settle();
  const replies = emulator.messages.slice(before);
  expect(replies).toHaveLength(1);
  return replies[0] as SentMessage;
}

function subscription(chatId: string): Promise<ChatSubscription | null> {
  return new SubscriptionStore(bot.app.store).get(chatId);
}

async function clickRemove(card: SentMessage, button: RegExp, operator: string, chatId: string) {
  return bot.click(
    cardActionEvent({
      operatorOpenId: operator,
      value: buttonValue(card.content, button),
      openMessageId: card.messageId,
      openChatId: chatId,
    }),
  );
}

/** A group whose digest SUBSCRIBER set up with a document, to which ADMIN added the workplace. */
async function adminAddedWorkplace(): Promise<{ chatId: string; list: SentMessage }> {
  const chatId = newGroup();
  await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
  const list = await say(chatId, ADMIN, 'digest add workplace');
  expect(cardText(list.content)).toMatch(/Added workplace/);
  return { chatId, list };
}

describe('workplace and app items', () => {
  it('a member cannot remove an admin-added workplace item by command; the card says only bot admins can', async () => {
    const { chatId } = await adminAddedWorkplace();
    const reply = await say(chatId, MEMBER, 'digest remove 2');
    const text = cardText(reply.content);
    expect(text).toContain('Only bot admins can remove this item');
    expect(text).toContain('只有机器人管理员可以移除这一项');
    expect(text).not.toMatch(/Removed/);
    expect((await subscription(chatId))?.items.map((i) => i.kind)).toEqual(['doc', 'workplace']);
  });

  it('the group owner cannot remove it either: tenant items are for bot admins only', async () => {
    const { chatId } = await adminAddedWorkplace();
    const reply = await say(chatId, OWNER, 'digest remove 2');
    expect(cardText(reply.content)).toContain('Only bot admins can remove this item');
    expect((await subscription(chatId))?.items.map((i) => i.kind)).toEqual(['doc', 'workplace']);
  });

  it('a member’s Remove click on it gets an error toast and leaves the card and the digest as they were', async () => {
    const { chatId, list } = await adminAddedWorkplace();
    const answer = await clickRemove(list, /^rm_2$/, MEMBER, chatId);
    expect(answer.status).toBe(200);
    expect(answer.body.toast?.type).toBe('error');
    expect(answer.body.toast?.i18n?.en_us).toContain('only bot admins');
    expect(answer.body.toast?.i18n?.zh_cn).toContain('只有机器人管理员');
    expect(answer.body.card).toBeUndefined();
    expect((await subscription(chatId))?.items.map((i) => i.kind)).toEqual(['doc', 'workplace']);
  });

  it('a bot admin removes it, by button and by command', async () => {
    const { chatId, list } = await adminAddedWorkplace();
    const answer = await clickRemove(list, /^rm_2$/, ADMIN, chatId);
    expect(cardText(answer.body.card?.data)).toMatch(/Removed workplace/);
    expect((await subscription(chatId))?.items.map((i) => i.kind)).toEqual(['doc']);

    await say(chatId, ADMIN, 'digest add workplace');
    const removed = await say(chatId, ADMIN, 'digest remove 2');
    expect(cardText(removed.content)).toMatch(/Removed workplace/);
    expect((await subscription(chatId))?.items.map((i) => i.kind)).toEqual(['doc']);
  });
});

const tokens = (sub: ChatSubscription | null) => sub?.items.map((i) => (i.kind === 'doc' ? i.token : i.kind));

describe('documents', () => {
  it('a member adds and removes document items that are not the last, by command and by button', async () => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    const added = await say(chatId, MEMBER, `digest add ${DOC2_URL}`);
    expect(cardText(added.content)).toMatch(/Added “Budget notes”/);
    await say(chatId, MEMBER, `digest add ${DOC3_URL}`);

    const removed = await say(chatId, MEMBER, 'digest remove 1');
    expect(cardText(removed.content)).toMatch(/Removed “Roadmap”/);
    expect(tokens(await subscription(chatId))).toEqual([DOC2, DOC3]);

    const answer = await clickRemove(removed, /^rm_1$/, MEMBER, chatId);
    expect(cardText(answer.body.card?.data)).toMatch(/Removed “Budget notes”/);
    expect(tokens(await subscription(chatId))).toEqual([DOC3]);
    // Nobody needed checking: documents that are not the last never ask Feishu who runs the group.
    expect(emulator.callsTo('GET', CHAT_INFO)).toHaveLength(0);
  });
});

describe('the last item', () => {
  it('a member cannot remove it by command: that turns the digest off, and the card names who can', async () => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    const reply = await say(chatId, MEMBER, 'digest remove 1');
    const text = cardText(reply.content);
    expect(text).toContain("You can't remove the last item of this chat's daily digest");
    expect(text).toContain('你不能移除本群每日数据的最后一项');
    expect(text).toContain('the same as turning the digest off');
    expect(text).toContain(`<person id='${SUBSCRIBER}'></person>`);
    expect(text).not.toMatch(/Removed/);
    expect(tokens(await subscription(chatId))).toEqual([DOC]);
    // The member is not the subscriber, so the group's owner and managers were looked up: once.
    expect(emulator.callsTo('GET', CHAT_INFO)).toHaveLength(1);
  });

  it('a member’s Remove click on it gets an error toast, and the card and the digest stay as they were', async () => {
    const chatId = newGroup();
    const list = await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    const answer = await clickRemove(list, /^rm_1$/, MEMBER, chatId);
    expect(answer.status).toBe(200);
    expect(answer.body.toast?.type).toBe('error');
    expect(answer.body.toast?.i18n?.en_us).toContain('It is the only item left');
    expect(answer.body.toast?.i18n?.en_us).toContain("the group's owner and managers, and bot admins");
    expect(answer.body.toast?.i18n?.zh_cn).toContain('仅剩的一项');
    expect(answer.body.card).toBeUndefined();
    expect(tokens(await subscription(chatId))).toEqual([DOC]);
  });

  it('a member may remove a document while another item stays, even a workplace item it may not touch', async () => {
    const { chatId } = await adminAddedWorkplace();
    const reply = await say(chatId, MEMBER, 'digest remove 1');
    expect(cardText(reply.content)).toMatch(/Removed “Roadmap”/);
    expect(tokens(await subscription(chatId))).toEqual(['workplace']);
  });

  it.each([
    ['the person who set it up', SUBSCRIBER],
    ['the group owner', OWNER],
    ['a group manager', MANAGER],
    ['a bot admin', ADMIN],
  ])('%s may remove it, by command and by button', async (_who, sender) => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    const removed = await say(chatId, sender, 'digest remove 1');
    expect(cardText(removed.content)).toMatch(/Removed “Roadmap”/);
    expect(tokens(await subscription(chatId))).toEqual([]);

    const list = await say(chatId, MEMBER, `digest add ${DOC2_URL}`);
    const answer = await clickRemove(list, /^rm_1$/, sender, chatId);
    expect(cardText(answer.body.card?.data)).toMatch(/Removed “Budget notes”/);
    expect(tokens(await subscription(chatId))).toEqual([]);
  });

  it('a click is refused and says to try again when Feishu cannot say who runs the group', async () => {
    const chatId = newGroup();
    const list = await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    emulator.failNext(
      'GET',
      `/im/v1/chats/${chatId}`,
      { httpStatus: 500, code: 1, msg: 'internal error' },
      3,
    );
    const answer = await clickRemove(list, /^rm_1$/, OWNER, chatId);
    expect(answer.body.toast?.type).toBe('error');
    expect(answer.body.toast?.i18n?.en_us).toContain('Try again in a minute');
    expect(tokens(await subscription(chatId))).toEqual([DOC]);
  });
});

describe('digest off and digest time in a group', () => {
  it('records who set the digest up', async () => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    expect((await subscription(chatId))?.subscriber).toBe(SUBSCRIBER);
    // Someone adding later does not take it over.
    await say(chatId, MEMBER, `digest add ${DOC2_URL}`);
    expect((await subscription(chatId))?.subscriber).toBe(SUBSCRIBER);
  });

  it('a member can neither turn the digest off nor change its time; the card names who can', async () => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);

    const off = await say(chatId, MEMBER, 'digest off');
    const offText = cardText(off.content);
    expect(offText).toContain("You can't turn off this chat's daily digest");
    expect(offText).toContain(
      "the group's owner and managers, and bot admins can turn this chat's daily digest off or change its time",
    );
    expect(offText).toContain('群主、群管理员和机器人管理员');
    // The subscriber is named (as a person the reader's client renders), so the member knows whom to ask.
    expect(offText).toContain(`<person id='${SUBSCRIBER}'></person>`);

    const time = await say(chatId, MEMBER, 'digest time 07:45');
    expect(cardText(time.content)).toContain("You can't change the time of this chat's daily digest");

    const sub = await subscription(chatId);
    expect(sub?.items).toHaveLength(1);
    expect(sub?.time).toBeUndefined();
  });

  it.each([
    ['the person who set it up', SUBSCRIBER, 0],
    ['the group owner', OWNER, 1],
    ['a group manager', MANAGER, 1],
    ['a bot admin', ADMIN, 0],
  ])('%s can change its time and turn it off', async (_who, sender, chatInfoCalls) => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);

    const time = await say(chatId, sender, 'digest time 07:45');
    expect(cardText(time.content)).toContain('07:45');
    expect((await subscription(chatId))?.time).toEqual({ hour: 7, minute: 45 });

    const off = await say(chatId, sender, 'digest off');
    expect(cardText(off.content)).toMatch(/daily digest is off/);
    expect(await subscription(chatId)).toBeNull();
    // The subscriber and admins are known without asking Feishu; the owner and managers cost one cached lookup.
    expect(emulator.callsTo('GET', CHAT_INFO)).toHaveLength(chatInfoCalls);
  });

  it('a subscription stored before subscribers were recorded still reads, and its owner can still turn it off', async () => {
    const chatId = newGroup();
    const legacy = {
      chatId,
      items: [{ kind: 'doc', token: DOC, type: 'docx', url: DOC_URL, title: 'Roadmap' }],
      since: Date.now() - 86_400_000,
      updatedAt: Date.now() - 86_400_000,
    };
    await bot.app.store.hashSet(SUBSCRIPTIONS_KEY, chatId, JSON.stringify(legacy));

    const list = await say(chatId, MEMBER, 'digest');
    expect(cardText(list.content)).toContain('Roadmap');
    const denied = await say(chatId, MEMBER, 'digest off');
    expect(cardText(denied.content)).toContain("You can't turn off this chat's daily digest");
    expect(await subscription(chatId)).not.toBeNull();

    await say(chatId, OWNER, 'digest off');
    expect(await subscription(chatId)).toBeNull();
  });

  it('refuses and says to try again when Feishu cannot say who runs the group', async () => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    emulator.failNext(
      'GET',
      `/im/v1/chats/${chatId}`,
      { httpStatus: 500, code: 1, msg: 'internal error' },
      3,
    );
    const reply = await say(chatId, OWNER, 'digest off');
    expect(cardText(reply.content)).toContain('Try again in a minute');
    expect(await subscription(chatId)).not.toBeNull();
  });

  it('names the scope to add when the bot may not read chat info', async () => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);
    emulator.failNext('GET', `/im/v1/chats/${chatId}`, {
      httpStatus: 400,
      code: 99991672,
      msg: 'Access denied. One of the following scopes is required: [im:chat, im:chat:readonly].',
    });
    const reply = await say(chatId, MANAGER, 'digest time 08:00');
    expect(cardText(reply.content)).toContain('im:chat:readonly');
    expect((await subscription(chatId))?.time).toBeUndefined();
  });
});

describe('digest daily | weekly | monthly in a group', () => {
  it('a member cannot change how often a digest someone else set up goes out; the card names who can', async () => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);

    const weekly = await say(chatId, MEMBER, 'digest weekly fri');
    const text = cardText(weekly.content);
    expect(text).toContain("You can't change how often this chat's daily digest goes out");
    expect(text).toContain('你不能修改本群每日数据的推送频率');
    expect(text).toContain(
      "the group's owner and managers, and bot admins can turn this chat's daily digest off or change its time or how often it goes out",
    );
    expect(text).toContain(`<person id='${SUBSCRIBER}'></person>`);
    const monthly = await say(chatId, MEMBER, '订阅 每月 15号');
    expect(cardText(monthly.content)).toContain(
      "You can't change how often this chat's daily digest goes out",
    );
    expect((await subscription(chatId))?.cadence).toBeUndefined();

    // Once the subscriber made it weekly, a member cannot make it daily again either; the card names it weekly.
    await say(chatId, SUBSCRIBER, 'digest weekly');
    const daily = await say(chatId, MEMBER, 'digest daily');
    expect(cardText(daily.content)).toContain(
      "You can't change how often this chat's weekly digest goes out",
    );
    expect(cardText(daily.content)).toContain('你不能修改本群每周数据的推送频率');
    expect((await subscription(chatId))?.cadence).toEqual({ kind: 'weekly', weekday: 1 });
  });

  it.each([
    ['the person who set it up', SUBSCRIBER, 0],
    ['the group owner', OWNER, 1],
    ['a group manager', MANAGER, 1],
    ['a bot admin', ADMIN, 0],
  ])('%s can change how often it goes out', async (_who, sender, chatInfoCalls) => {
    const chatId = newGroup();
    await say(chatId, SUBSCRIBER, `digest add ${DOC_URL}`);

    const weekly = await say(chatId, sender, 'digest weekly fri');
    expect(cardText(weekly.content)).toContain('This chat now gets a weekly digest: on Fridays at');
    expect((await subscription(chatId))?.cadence).toEqual({ kind: 'weekly', weekday: 5 });

    const monthly = await say(chatId, sender, '订阅 每月 15号');
    expect(cardText(monthly.content)).toContain(
      'This chat now gets a monthly digest: on the 15th of every month',
    );
    expect((await subscription(chatId))?.cadence).toEqual({ kind: 'monthly', day: 15 });
    // Still the subscriber's digest: changing how often does not take it over.
    expect((await subscription(chatId))?.subscriber).toBe(SUBSCRIBER);
    expect(emulator.callsTo('GET', CHAT_INFO)).toHaveLength(chatInfoCalls);
  });

  it('a member of a group without a digest may choose how often the one they set up goes out', async () => {
    const chatId = newGroup();
    const reply = await say(chatId, MEMBER, 'digest weekly');
    expect(cardText(reply.content)).toContain('This chat now gets a weekly digest');
    expect(await subscription(chatId)).toMatchObject({ subscriber: MEMBER, items: [] });
    expect(emulator.callsTo('GET', CHAT_INFO)).toHaveLength(0);
  });
});

describe('a private chat', () => {
  it('the person there owns their digest, even one stored without a subscriber', async () => {
    const chatId = `oc_${randomBytes(16).toString('hex')}`;
    const legacy = {
      chatId,
      items: [{ kind: 'doc', token: DOC, type: 'docx', url: DOC_URL }],
      since: Date.now(),
      updatedAt: Date.now(),
    };
    await bot.app.store.hashSet(SUBSCRIPTIONS_KEY, chatId, JSON.stringify(legacy));

    const time = await say(chatId, MEMBER, 'digest time 06:30', 'p2p');
    expect(cardText(time.content)).toContain('06:30');
    await say(chatId, MEMBER, `digest add ${DOC2_URL}`, 'p2p');
    await say(chatId, MEMBER, 'digest remove 2', 'p2p');
    const last = await say(chatId, MEMBER, 'digest remove 1', 'p2p');
    expect(cardText(last.content)).toMatch(/Removed/);
    expect((await subscription(chatId))?.items).toEqual([]);
    const off = await say(chatId, MEMBER, 'digest off', 'p2p');
    expect(cardText(off.content)).toMatch(/daily digest is off/);
    expect(await subscription(chatId)).toBeNull();
    expect(emulator.callsTo('GET', CHAT_INFO)).toHaveLength(0);
  });
});
