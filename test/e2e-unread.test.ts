/**
 * `unread <link>` end to end: a group's members against a document's visitors, the viewers rule checked before
 * either list is read, the answer sent privately, and **Remind them**: one post in the group @mentioning exactly
 * those who have not opened it, only on an allowed member's click, once per card.
 */
import { describe, expect, it } from 'vitest';
import type { EmulatedChatMember, EmulatedViewer, SentMessage } from './emulator/feishu-emulator.js';
import { cardActionEvent, messageEvent } from './emulator/fixtures.js';
import { buttonValue, cardText } from './helper.js';
import { ask, useE2e } from './support/e2e.js';

const OWNER = 'ou_unreadowner000000000000000001';
const READER = 'ou_unreadreader00000000000000002';
const GROUP = 'oc_unreadgroup000000000000000001';
const DOC = 'doxcnUnreadE2eAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const BIG_DOC = 'doxcnUnreadBigAbCdEfGhIjKlMn';

const person = (i: number): string => `ou_unreadmember${String(i).padStart(17, '0')}`;
// 25 in the chat: the owner (who asks), the reader, 21 more people and two bots.
const people = [OWNER, READER, ...Array.from({ length: 21 }, (_, i) => person(i))];
const members: EmulatedChatMember[] = [
  ...people.slice(0, 10).map((openId) => ({ openId, name: openId.slice(3, 12) })),
  { openId: 'ou_somebot0000000000000000000001', name: 'Some Bot', bot: true },
  ...people.slice(10).map((openId) => ({ openId, name: openId.slice(3, 12) })),
  { openId: 'ou_otherbot000000000000000000002', name: 'Other Bot', bot: true },
];
// 18 of the 23 people opened it; these five did not.
const notOpened = [people[2], people[7], people[11], people[16], people[22]] as string[];
const opened = people.filter((id) => !notOpened.includes(id));
const newest = Math.floor(Date.now() / 1000) - 60;
const viewers: EmulatedViewer[] = opened.map((viewer_id, i) => ({
  viewer_id,
  name: `Viewer ${i}`,
  last_view_time: String(newest - i * 600),
}));

const { emulator, bot } = useE2e({
  docs: [
    // Pages of 7: the 18 visitors come over three pages.
    { token: DOC, type: 'docx', title: 'Launch plan', ownerId: OWNER, viewers, pageSizeCap: 7 },
  ],
  arrange: (e) => {
    // Pages of 10 with the bots inside them: Feishu leaves them out, so pages come short.
    e.addChat({ chatId: GROUP, ownerId: OWNER, members, pageSizeCap: 10 });
  },
});

const askInGroup = (text: string, sender: string, chatId = GROUP) =>
  ask(bot, text, { sender, group: chatId });

/** The open_ids a card renders as `<person>` tags. */
function personIds(card: unknown): string[] {
  return [...cardText(card).matchAll(/<person id='([^']+)'>/g)].map((m) => m[1] ?? '');
}

/** Each language's @mentions in a post message. */
function mentionsIn(message: SentMessage | undefined): Record<string, string[]> {
  const content = (message?.content ?? {}) as Record<
    string,
    { content: Array<Array<Record<string, string>>> }
  >;
  return Object.fromEntries(
    Object.entries(content).map(([locale, body]) => [
      locale,
      body.content.flat().flatMap((node) => (node.tag === 'at' ? [node.user_id ?? ''] : [])),
    ]),
  );
}

async function privateUnreadCard(): Promise<SentMessage> {
  const sent = await askInGroup(`unread ${DOC_URL}`, OWNER);
  const card = sent.find((m) => m.receiveIdType === 'open_id');
  if (!card) throw new Error(`no private card among ${sent.length} messages`);
  return card;
}

describe('unread <link> in a group', () => {
  it('counts the 23 people (not the two bots), lists exactly the 5 who have not opened it, privately', async () => {
    const sent = await askInGroup(`unread ${DOC_URL}`, OWNER);
    expect(sent).toHaveLength(2);
    const privateCard = sent.find((m) => m.receiveIdType === 'open_id');
    const groupReply = sent.find((m) => m.kind === 'reply');
    expect(privateCard?.targetId).toBe(OWNER);
    const text = cardText(privateCard?.content);
    expect(text).toContain('18 of 23 members have opened it');
    expect(text).toContain('群里 23 位成员中，18 位打开过');
    expect(personIds(privateCard?.content).sort()).toEqual([...notOpened].sort());
    // The group hears only that it was sent, and names nobody.
    expect(personIds(groupReply?.content)).toEqual([]);
    expect(cardText(groupReply?.content)).toMatch(/privately|私聊/);
    // Every page of both lists: 25 members in pages of 10, 18 visitors in pages of 7.
    expect(emulator.callsTo('GET', `/im/v1/chats/${GROUP}/members`)).toHaveLength(3);
    expect(emulator.callsTo('GET', `/drive/v1/files/${DOC}/view_records`)).toHaveLength(3);
  });

  it('ignores visitors who are not in the group (never were, or left)', async () => {
    const token = 'doxcnUnreadOutsidersAbCdEfGh';
    const outsiders = ['ou_outsider00000000000000000001', 'ou_leftthechat00000000000000002'];
    emulator.addDoc({
      token,
      type: 'docx',
      ownerId: OWNER,
      viewers: [
        ...outsiders.map((viewer_id, i) => ({ viewer_id, last_view_time: String(newest - i) })),
        ...viewers,
      ],
    });
    const sent = await askInGroup(`unread https://acme.feishu.cn/docx/${token}`, OWNER);
    const card = sent.find((m) => m.receiveIdType === 'open_id');
    expect(cardText(card?.content)).toContain('18 of 23 members have opened it');
    expect(personIds(card?.content).sort()).toEqual([...notOpened].sort());
  });

  it('stops reading visitors once every member has been found among them', async () => {
    const token = 'doxcnUnreadAllReadAbCdEfGhIj';
    emulator.addDoc({
      token,
      type: 'docx',
      ownerId: OWNER,
      // Everyone read it recently; 300 older visits from elsewhere follow.
      viewers: [
        ...people.map((viewer_id, i) => ({ viewer_id, last_view_time: String(newest - i) })),
        ...Array.from({ length: 300 }, (_, i) => ({
          viewer_id: `ou_elsewhere${String(i).padStart(20, '0')}`,
          last_view_time: String(newest - 10_000 - i),
        })),
      ],
    });
    const sent = await askInGroup(`unread https://acme.feishu.cn/docx/${token}`, OWNER);
    const card = sent.find((m) => m.receiveIdType === 'open_id');
    expect(cardText(card?.content)).toContain('23 of 23 members have opened it');
    expect(cardText(card?.content)).not.toContain('Remind them');
    expect(emulator.callsTo('GET', `/drive/v1/files/${token}/view_records`)).toHaveLength(1);
  });

  it('says so when the visitor list was cut at 2,000 before every member was found', async () => {
    emulator.addDoc({
      token: BIG_DOC,
      type: 'docx',
      ownerId: OWNER,
      viewers: Array.from({ length: 2_100 }, (_, i) => ({
        viewer_id: `ou_crowd${String(i).padStart(24, '0')}`,
        last_view_time: String(newest - i),
      })),
    });
    const sent = await askInGroup(`unread https://acme.feishu.cn/docx/${BIG_DOC}`, OWNER);
    const card = sent.find((m) => m.receiveIdType === 'open_id');
    expect(cardText(card?.content)).toContain('Only the 2,000 most recent visitors were checked');
    expect(cardText(card?.content)).toContain('0 of 23 members have opened it');
    expect(emulator.callsTo('GET', `/drive/v1/files/${BIG_DOC}/view_records`)).toHaveLength(40);
  });

  it('denies someone who may not see the visitors, before reading members or visitors', async () => {
    const sent = await askInGroup(`unread ${DOC_URL}`, READER);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.kind).toBe('reply');
    expect(cardText(sent[0]?.content)).toMatch(/owner|所有者/);
    expect(personIds(sent[0]?.content)).toEqual([]);
    expect(emulator.callsTo('GET', `/im/v1/chats/${GROUP}/members`)).toHaveLength(0);
    expect(emulator.callsTo('GET', `/drive/v1/files/${DOC}/view_records`)).toHaveLength(0);
  });

  it('names the scope when Feishu refuses the member list for a missing scope', async () => {
    emulator.failNext('GET', `/im/v1/chats/${GROUP}/members`, {
      httpStatus: 400,
      code: 99991672,
      msg: 'Access denied.',
    });
    const sent = await askInGroup(`unread ${DOC_URL}`, OWNER);
    expect(sent).toHaveLength(1);
    // Card markdown escapes `:` as an entity; Feishu shows it as the scope's name.
    expect(cardText(sent[0]?.content).replaceAll('&#58;', ':')).toContain('im:chat.members:read');
  });

  it('in a private chat explains that it works in a group, asking Feishu nothing', async () => {
    const before = emulator.messages.length;
    await bot.deliver(messageEvent({ text: `unread ${DOC_URL}`, senderOpenId: OWNER }));
    await bot.settle();
    const [card] = emulator.messages.slice(before);
    expect(cardText(card?.content)).toContain('works in a group');
    expect(cardText(card?.content)).toContain('只能在群里使用');
    expect(emulator.calls.filter((c) => !c.path.includes('/im/v1/messages'))).toEqual([]);
  });
});

describe('Remind them', () => {
  it('posts one message in the group @mentioning exactly the 5, with the link; a second click posts nothing', async () => {
    const card = await privateUnreadCard();
    const before = emulator.messages.length;
    const click = () =>
      bot.click(
        cardActionEvent({
          operatorOpenId: OWNER,
          value: buttonValue(card.content, /remind/i),
          openMessageId: card.messageId,
          openChatId: 'oc_ownersprivatechat0000000001',
        }),
      );
    const first = await click();
    await bot.settle();
    expect(first.body.toast?.type).toBe('success');
    expect(first.body.card).toBeUndefined();
    const posted = emulator.messages.slice(before);
    expect(posted).toHaveLength(1);
    const [reminder] = posted;
    expect(reminder?.targetId).toBe(GROUP);
    expect(reminder?.receiveIdType).toBe('chat_id');
    expect(reminder?.msgType).toBe('post');
    const mentions = mentionsIn(reminder);
    expect(mentions.zh_cn?.sort()).toEqual([...notOpened].sort());
    expect(mentions.en_us?.sort()).toEqual([...notOpened].sort());
    expect(JSON.stringify(reminder?.content)).toContain(DOC_URL);

    const second = await click();
    await bot.settle();
    expect(second.body.toast?.type).toBe('info');
    expect(emulator.messages.slice(before)).toHaveLength(1);
  });

  it('refuses a member of the group who may not see the visitors, reading neither list', async () => {
    const card = await privateUnreadCard();
    const before = emulator.messages.length;
    const callsBefore = emulator.calls.length;
    const answer = await bot.click(
      cardActionEvent({
        operatorOpenId: READER,
        value: buttonValue(card.content, /remind/i),
        openMessageId: card.messageId,
        openChatId: 'oc_forwardedsomewhere000000001',
      }),
    );
    await bot.settle();
    expect(answer.body.toast?.type).toBe('error');
    expect(emulator.messages.length).toBe(before);
    const during = emulator.calls.slice(callsBefore);
    expect(during.filter((c) => c.path.includes('/members') && c.path.includes('/chats/'))).toEqual([]);
    expect(during.filter((c) => c.path.endsWith('/view_records'))).toEqual([]);
  });

  it('refuses an allowed person who is not in that group', async () => {
    const outsiderOwner = 'ou_unreadcoowner0000000000000003';
    const token = 'doxcnUnreadCoOwnedAbCdEfGhIj';
    emulator.addDoc({
      token,
      type: 'docx',
      ownerId: OWNER,
      viewers,
      members: [{ member_type: 'openid', member_id: outsiderOwner, perm: 'full_access' }],
    });
    const sent = await askInGroup(`unread https://acme.feishu.cn/docx/${token}`, OWNER);
    const card = sent.find((m) => m.receiveIdType === 'open_id');
    const before = emulator.messages.length;
    const viewerCalls = emulator.callsTo('GET', `/drive/v1/files/${token}/view_records`).length;
    const answer = await bot.click(
      cardActionEvent({
        operatorOpenId: outsiderOwner,
        value: buttonValue(card?.content, /remind/i),
        openMessageId: card?.messageId ?? '',
        openChatId: 'oc_coownersprivatechat00000001',
      }),
    );
    await bot.settle();
    expect(answer.body.toast?.type).toBe('error');
    expect(answer.body.toast?.content).toMatch(/members of that group/);
    expect(emulator.messages.length).toBe(before);
    // Refused on the member list alone: no visitor was read for the click.
    expect(emulator.callsTo('GET', `/drive/v1/files/${token}/view_records`)).toHaveLength(viewerCalls);
  });
});
