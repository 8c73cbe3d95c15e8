/**
 * viewers / likes end to end: paging through card buttons, the privacy rule for the asker and for the clicker, and
 * lists never shown to a group.
 */
import { describe, expect, it } from 'vitest';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { cardActionEvent, makeLikes, makeViewers, messageEvent } from './emulator/fixtures.js';
import { buttons, buttonValue, cardText } from './helper.js';
import { ask as askBot, startE2e, useE2e } from './support/e2e.js';

const OWNER = 'ou_owner00000000000000000000001';
const EDITOR_FULL = 'ou_fullaccess0000000000000000002';
const READER = 'ou_reader000000000000000000000003';
const STRANGER = 'ou_stranger0000000000000000000004';
const ADMIN = 'ou_admin00000000000000000000000005';

const DOC = 'doxcnPeopleE2eAbCdEfGhIjKlM';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const SHEET = 'shtcnPeopleE2eAbCdEfGhIjKlM';

const viewers = makeViewers(45);
const likes = makeLikes(5, { desensitized: [1] });

const { emulator, bot } = useE2e({
  docs: [
    {
      token: DOC,
      type: 'docx',
      title: 'Roadmap',
      ownerId: OWNER,
      viewers,
      likes,
      members: [
        { member_type: 'openid', member_id: EDITOR_FULL, perm: 'full_access' },
        { member_type: 'openid', member_id: READER, perm: 'view' },
      ],
    },
    { token: SHEET, type: 'sheet', title: 'Budget', ownerId: OWNER },
  ],
  env: { BOT_ADMINS: ADMIN },
});

const ask = (text: string, sender: string, opts: { group?: boolean } = {}) =>
  askBot(bot, text, { sender, ...opts });

describe('viewers <link>', () => {
  it('shows the owner the 20 most recent viewers, newest first, with Next but no Previous', async () => {
    const [message] = await ask(`viewers ${DOC_URL}`, OWNER);
    const text = cardText(message?.content);
    expect(text).toContain(viewers[0]?.viewer_id);
    expect(text).toContain(viewers[19]?.viewer_id);
    expect(text).not.toContain(viewers[20]?.viewer_id);
    expect(text.indexOf(viewers[0]?.viewer_id ?? '?')).toBeLessThan(
      text.indexOf(viewers[1]?.viewer_id ?? '?'),
    );
    const ids = [...buttons(message?.content).keys()];
    expect(ids.some((id) => /next/i.test(id))).toBe(true);
    expect(ids.some((id) => /prev/i.test(id))).toBe(false);
  });

  it('pages Next to 21–40 and Previous back to 1–20, updating the card in place', async () => {
    const [first] = await ask(`viewers ${DOC_URL}`, OWNER);
    const next = await bot.click(
      cardActionEvent({
        operatorOpenId: OWNER,
        value: buttonValue(first?.content, /next/i),
        openMessageId: first?.messageId ?? '',
        openChatId: 'oc_p2p',
      }),
    );
    expect(next.status).toBe(200);
    const page2 = cardText(next.body.card?.data);
    expect(page2).toContain(viewers[20]?.viewer_id);
    expect(page2).toContain(viewers[39]?.viewer_id);
    expect(page2).not.toContain(viewers[0]?.viewer_id);

    const previous = await bot.click(
      cardActionEvent({
        operatorOpenId: OWNER,
        value: buttonValue(next.body.card?.data, /prev/i),
        openMessageId: first?.messageId ?? '',
        openChatId: 'oc_p2p',
      }),
    );
    const page1 = cardText(previous.body.card?.data);
    expect(page1).toContain(viewers[0]?.viewer_id);
    expect(page1).not.toContain(viewers[20]?.viewer_id);
    // The last page has no Next.
    const last = await bot.click(
      cardActionEvent({
        operatorOpenId: OWNER,
        value: buttonValue(
          (
            await bot.click(
              cardActionEvent({
                operatorOpenId: OWNER,
                value: buttonValue(next.body.card?.data, /next/i),
                openMessageId: first?.messageId ?? '',
                openChatId: 'oc_p2p',
              }),
            )
          ).body.card?.data,
          /prev/i,
        ),
        openMessageId: first?.messageId ?? '',
        openChatId: 'oc_p2p',
      }),
    );
    expect(cardText(last.body.card?.data)).toContain(viewers[20]?.viewer_id);
  });

  it.each([
    ['the owner', OWNER, true],
    ['a collaborator with full access', EDITOR_FULL, true],
    ['a bot admin', ADMIN, true],
    ['a reader', READER, false],
    ['a stranger', STRANGER, false],
  ])('%s: list shown = %s', async (_who, sender, allowed) => {
    const [message] = await ask(`viewers ${DOC_URL}`, sender);
    const text = cardText(message?.content);
    expect(text.includes(viewers[0]?.viewer_id ?? '?')).toBe(allowed);
    if (!allowed) expect(text).toMatch(/owner|所有者/i);
    // Denied people never cost a view-records call (allowed ones may be served from the list cache).
    if (!allowed) expect(emulator.callsTo('GET', `/drive/v1/files/${DOC}/view_records`)).toHaveLength(0);
  });

  it('denies and names the scope when the bot may not read the document’s members', async () => {
    // A document of its own: the members list of DOC is already cached by the tests above.
    const token = 'doxcnScopeE2eAbCdEfGhIjKlMn';
    emulator.addDoc({ token, type: 'docx', ownerId: OWNER, viewers });
    emulator.failNext('GET', `/drive/v1/permissions/${token}/members`, {
      httpStatus: 400,
      code: 99991672,
      msg: 'Access denied. One of the following scopes is required: [docs:permission.member:readonly, drive:drive].',
    });
    const [message] = await ask(`viewers https://acme.feishu.cn/docx/${token}`, READER);
    const text = cardText(message?.content);
    expect(text).toContain('docs:permission.member:readonly');
    expect(text).not.toContain(viewers[0]?.viewer_id);
  });

  it('in a group, sends the list to the asker privately and tells the group only that', async () => {
    const sent = await ask(`viewers ${DOC_URL}`, OWNER, { group: true });
    expect(sent).toHaveLength(2);
    const privateCopy = sent.find((m) => m.receiveIdType === 'open_id');
    const groupReply = sent.find((m) => m.kind === 'reply');
    expect(privateCopy?.targetId).toBe(OWNER);
    expect(cardText(privateCopy?.content)).toContain(viewers[0]?.viewer_id);
    expect(cardText(groupReply?.content)).not.toContain(viewers[0]?.viewer_id);
  });
});

describe('buttons on a stats card in a group', () => {
  async function groupStatsCard(): Promise<SentMessage> {
    const [card] = await ask(`stats ${DOC_URL}`, STRANGER, { group: true });
    if (!card) throw new Error('no stats card');
    return card;
  }

  it('a Viewers click by someone not allowed gets an error toast and nothing is sent', async () => {
    const card = await groupStatsCard();
    const before = emulator.messages.length;
    const answer = await bot.click(
      cardActionEvent({
        operatorOpenId: READER,
        value: buttonValue(card.content, /viewers/i),
        openMessageId: card.messageId,
        openChatId: 'oc_group',
      }),
    );
    expect(answer.body.toast?.type).toBe('error');
    expect(answer.body.card).toBeUndefined();
    await bot.settle();
    expect(emulator.messages.length).toBe(before);
    expect(emulator.callsTo('GET', `/drive/v1/files/${DOC}/view_records`)).toHaveLength(0);
  });

  it('a Viewers click by the owner sends the list privately and leaves the group card alone', async () => {
    const card = await groupStatsCard();
    const answer = await bot.click(
      cardActionEvent({
        operatorOpenId: OWNER,
        value: buttonValue(card.content, /viewers/i),
        openMessageId: card.messageId,
        openChatId: 'oc_group',
      }),
    );
    expect(answer.body.toast?.type).toBe('success');
    expect(answer.body.card).toBeUndefined();
    const privateCopy = emulator.messages.find((m) => m.receiveIdType === 'open_id');
    expect(privateCopy?.targetId).toBe(OWNER);
    expect(cardText(privateCopy?.content)).toContain(viewers[0]?.viewer_id);
  });

  it('Refresh re-fetches statistics and answers with the updated card', async () => {
    const card = await groupStatsCard();
    const before = emulator.callsTo('GET', `/drive/v1/files/${DOC}/statistics`).length;
    const answer = await bot.click(
      cardActionEvent({
        operatorOpenId: READER,
        value: buttonValue(card.content, /refresh/i),
        openMessageId: card.messageId,
        openChatId: 'oc_group',
      }),
    );
    expect(answer.body.card?.type).toBe('raw');
    expect(emulator.callsTo('GET', `/drive/v1/files/${DOC}/statistics`).length).toBe(before + 1);
  });

  it('a forged or stale button value gets an error toast', async () => {
    const answer = await bot.click(
      cardActionEvent({
        operatorOpenId: OWNER,
        value: { v: 1, a: 'viewers', d: { t: DOC, y: 'docx', u: 'javascript:alert(1)' }, c: 'p' },
        openMessageId: 'om_x',
        openChatId: 'oc_x',
      }),
    );
    expect(answer.body.toast?.type).toBe('error');
    expect(answer.body.card).toBeUndefined();
  });
});

describe('likes <link>', () => {
  it('lists likers and shows desensitised ones as hidden, without their id', async () => {
    const [message] = await ask(`likes ${DOC_URL}`, OWNER);
    const text = cardText(message?.content);
    expect(text).toContain(likes[0]?.user_id);
    expect(text).not.toContain(likes[1]?.user_id);
    expect(text).toMatch(/Hidden user|匿名用户/);
  });

  it('says likes are not available for a sheet, without calling the likes API', async () => {
    const [message] = await ask(`likes https://acme.feishu.cn/sheets/${SHEET}`, OWNER);
    expect(cardText(message?.content)).toMatch(/not available|不支持/);
    expect(emulator.callsTo('GET', /\/likes$/)).toHaveLength(0);
  });
});

describe('slow card callbacks', () => {
  it('answers with a toast within the deadline and updates the card by PATCH when the work is done', async () => {
    const slow = await startE2e({ emulator, env: { BOT_ADMINS: ADMIN }, cardDeadlineMs: 50 });
    try {
      await slow.deliver(messageEvent({ text: `stats ${DOC_URL}`, senderOpenId: OWNER }));
      const [card] = await emulator.waitForMessages(1);
      emulator.setLatency(300);
      const started = performance.now();
      const answer = await slow.click(
        cardActionEvent({
          operatorOpenId: OWNER,
          value: buttonValue(card?.content, /refresh/i),
          openMessageId: card?.messageId ?? '',
          openChatId: 'oc_p2p',
        }),
      );
      const answerMs = performance.now() - started;
      // The info toast and no PATCH yet (that waits on a 300 ms statistics call) say the answer did not wait
      // for the work; the time it took is a figure, not a gate.
      expect(answer.body.toast?.type).toBe('info');
      expect(answer.body.card).toBeUndefined();
      expect(emulator.callsTo('PATCH', `/im/v1/messages/${card?.messageId}`)).toHaveLength(0);
      console.info(
        `[figure] card callback answer with a 50 ms deadline and 300 ms Feishu latency: ${answerMs.toFixed(1)} ms`,
      );
      await slow.settle();
      const patches = emulator.callsTo('PATCH', `/im/v1/messages/${card?.messageId}`);
      expect(patches).toHaveLength(1);
      expect(emulator.messages[0]?.updatedAt).toBeDefined();
    } finally {
      emulator.setLatency(0);
      await slow.close();
    }
  });
});

describe('card callback verification', () => {
  it('rejects a callback signed with another key (401) and changes nothing', async () => {
    const { buildEncryptedRequest } = await import('./emulator/fixtures.js');
    const forged = buildEncryptedRequest(
      cardActionEvent({
        operatorOpenId: OWNER,
        value: { v: 1, a: 'viewers', d: { t: DOC, y: 'docx', u: DOC_URL }, c: 'g' },
        openMessageId: 'om_forged',
        openChatId: 'oc_group',
      }),
      'not-the-encrypt-key',
    );
    const res = await fetch(`${bot.url}/webhook/card`, {
      method: 'POST',
      headers: forged.headers,
      body: forged.body,
    });
    expect(res.status).toBe(401);
    await bot.settle();
    expect(emulator.calls).toHaveLength(0);
  });
});

describe('help', () => {
  it('lists every command with its permission, in both languages', async () => {
    const [message] = await ask('help', STRANGER);
    const text = cardText(message?.content);
    for (const word of ['stats', 'viewers', 'likes', 'workplace', 'app']) expect(text).toContain(word);
    expect(text).toContain('drive:file:view_record:readonly');
    expect(text).toContain('workplace:workplace_using_data:read');
    expect(text).toMatch(/[\u4e00-\u9fff]/);
  });
});
