/**
 * The error path end to end: what a reader sees for each kind of failure, which failures a queued job retries,
 * late callback answers that are not cards, and a retried attempt that resends the same content under the same
 * uuid (Feishu drops a uuid it has seen, whatever the content).
 */
import { describe, expect, it } from 'vitest';
import { worstCaseCallMs } from '../src/feishu/client.js';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { botMention, cardActionEvent, makeViewers, messageEvent } from './emulator/fixtures.js';
import { buttonValue, cardText } from './helper.js';
import { type E2e, startE2e, useE2e } from './support/e2e.js';

const OWNER = 'ou_owner0000000000000000000000e1';
const STRANGER = 'ou_stranger000000000000000000e2';
const DOC = 'doxcnErrorPathAbCdEfGhIjKlM';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const SLIDES_URL = 'https://acme.feishu.cn/slides/sldcnErrorPathAbCdEfGhIjKl';
const STATS_PATH = `/drive/v1/files/${DOC}/statistics`;
const HANGING_DOC = 'doxcnHangingStatsAbCdEfGhIj';
const HANGING_PATH = `/drive/v1/files/${HANGING_DOC}/statistics`;
// A wiki page whose node names a document id no request path can carry.
const BAD_NODE_WIKI = 'wikcnBadNodeAbCdEfGhIjKlMnOp';
/** Feishu's answer to a private message for someone outside the app's availability range (FEISHU.md). */
const OUTSIDE_AVAILABILITY = { httpStatus: 400, code: 230013, msg: 'Bot has NO availability to this user.' };
// 45 viewers: the private list has a Next button, whose value names the paging session.
const docs = [
  { token: DOC, type: 'docx' as const, title: 'Launch plan', ownerId: OWNER, viewers: makeViewers(45) },
  // Never cached by another test: its statistics call is the one that hangs.
  { token: HANGING_DOC, type: 'docx' as const, title: 'Hanging', ownerId: OWNER },
];

function groupAsk(text: string, sender: string, emulatorBot: string) {
  return messageEvent({
    chatType: 'group',
    mentions: [botMention(emulatorBot)],
    text: `@_user_1 ${text}`,
    senderOpenId: sender,
  });
}

describe('in memory', () => {
  const { emulator, bot } = useE2e({ docs });

  async function ask(text: string): Promise<SentMessage[]> {
    const before = emulator.messages.length;
    await bot.deliver(messageEvent({ text, senderOpenId: OWNER }));
    await bot.settle();
    return emulator.messages.slice(before);
  }

  it("holds the cache's single-flight lock for as long as the slowest Feishu call can take", () => {
    // Rate-limit waits (up to the 60 s budget) plus one request: a shorter lock let a second replica load a key
    // the first was still waiting on.
    expect(worstCaseCallMs()).toBe(70_000);
    expect(bot.app.cache.lockTtlMs).toBe(worstCaseCallMs());
  });

  it('answers a slides link with "not supported by Feishu statistics yet", without asking Feishu', async () => {
    const [reply] = await ask(`stats ${SLIDES_URL}`);
    const text = cardText(reply?.content);
    expect(text).toContain('Not supported by Feishu statistics yet');
    expect(text).toContain('不支持');
    expect(text).not.toContain('1069602');
    expect(emulator.calls.filter((c) => c.path.includes('/drive/'))).toHaveLength(0);
  });

  it('shows a body of the wrong shape as such: not a timeout, and with the endpoint for the bug report', async () => {
    emulator.failNext('GET', STATS_PATH, { httpStatus: 200, code: 0, msg: 'success' });
    const [reply] = await ask(`stats ${DOC_URL}`);
    const text = cardText(reply?.content);
    expect(text).toContain('Feishu sent an answer the bot cannot read');
    expect(text).toContain('drive.v1.fileStatistics.get');
    expect(text).not.toContain('took too long');
    expect(bot.logs.text).toContain('Feishu answered in an undocumented shape');
  });

  it('answers a failed Refresh with an error toast and leaves the figures on the card, never "Updated"', async () => {
    const [card] = await ask(`stats ${DOC_URL}`);
    emulator.failNext('GET', STATS_PATH, { httpStatus: 403, code: 1069603, msg: 'forbidden' });
    const answer = await bot.click(
      cardActionEvent({
        operatorOpenId: OWNER,
        value: buttonValue(card?.content, /refresh/i),
        openMessageId: card?.messageId ?? '',
        openChatId: 'oc_p2p',
      }),
    );
    expect(answer.body.toast?.type).toBe('error');
    expect(answer.body.toast?.i18n?.en_us).toBe("No access to this document's statistics (1069603)");
    expect(answer.body.card).toBeUndefined();
  });

  it('answers a document id no request can carry with a card about the link, not an internal error', async () => {
    emulator.addWikiNode(BAD_NODE_WIKI, { objToken: '..', objType: 'docx' });
    const [reply] = await ask(`stats https://acme.feishu.cn/wiki/${BAD_NODE_WIKI}`);
    const text = cardText(reply?.content);
    expect(text).toContain('This link or id is not valid');
    expect(text).toContain('链接或 ID 无效');
    expect(text).not.toContain('Something went wrong');
    expect(bot.logs.text).not.toContain('internal error');
    // Refused before asking Feishu for figures.
    expect(emulator.calls.filter((c) => c.path.includes('/statistics'))).toHaveLength(0);
  });

  it('explains 230013 (outside the availability range) when a private list cannot be delivered', async () => {
    emulator.failNext('POST', '/im/v1/messages', {
      httpStatus: 400,
      code: 230013,
      msg: 'Bot has NO availability to this user.',
    });
    const before = emulator.messages.length;
    await bot.deliver(groupAsk(`viewers ${DOC_URL}`, OWNER, emulator.botOpenId));
    await bot.settle();
    const [reply] = emulator.messages.slice(before);
    expect(reply?.kind).toBe('reply');
    expect(cardText(reply?.content)).toContain('That person cannot use this bot');
    expect(cardText(reply?.content)).toContain('Availability');
  });
});

describe('late card callbacks', () => {
  it('sends a denial that missed the deadline to the clicker privately, never leaving "Working on it…"', async () => {
    const slow = await startE2e({ docs, cardDeadlineMs: 50 });
    try {
      await slow.deliver(groupAsk(`stats ${DOC_URL}`, OWNER, slow.emulator.botOpenId));
      const [card] = await slow.emulator.waitForMessages(1);
      // The access check (owner, then collaborators) now takes 2 × 300 ms: far past the 50 ms deadline.
      slow.emulator.setLatency(300);
      const answer = await slow.click(
        cardActionEvent({
          operatorOpenId: STRANGER,
          value: buttonValue(card?.content, /viewers/i),
          openMessageId: card?.messageId ?? '',
          openChatId: 'oc_group_chat',
        }),
      );
      expect(answer.body.toast?.type).toBe('info');
      await slow.settle();
      const privates = slow.emulator.messages.filter((m) => m.kind === 'create' && m.targetId === STRANGER);
      expect(privates).toHaveLength(1);
      const text = cardText(privates[0]?.content);
      expect(text).toContain('Only the document owner, people with full access and bot admins');
      expect(text).toContain('只有文档所有者');
      // Nothing was patched onto the group's card, and nobody else was told anything.
      expect(slow.emulator.callsTo('PATCH', `/im/v1/messages/${card?.messageId}`)).toHaveLength(0);
      expect(slow.emulator.messages).toHaveLength(2);
    } finally {
      await slow.close();
    }
  });
});

describe('late card callbacks for someone the bot cannot message privately (230013)', () => {
  /** A Viewers click on a group card whose answer misses the 50 ms deadline (every Feishu answer 300 ms late). */
  async function lateViewersClick(slow: E2e, operatorOpenId: string) {
    await slow.deliver(groupAsk(`stats ${DOC_URL}`, OWNER, slow.emulator.botOpenId));
    const [card] = await slow.emulator.waitForMessages(1);
    slow.emulator.setLatency(300);
    const answer = await slow.click(
      cardActionEvent({
        operatorOpenId,
        value: buttonValue(card?.content, /viewers/i),
        openMessageId: card?.messageId ?? '',
        openChatId: 'oc_group_chat',
      }),
    );
    expect(answer.body.toast?.type).toBe('info');
    await slow.settle();
    return card;
  }

  it('tells the clicker under the card, never by a second private send Feishu refuses the same way', async () => {
    const slow = await startE2e({ docs, cardDeadlineMs: 50 });
    try {
      // Feishu refuses every private message to this person, not only the first.
      slow.emulator.failNext('POST', '/im/v1/messages', OUTSIDE_AVAILABILITY, 2);
      const card = await lateViewersClick(slow, OWNER);
      // One private send: the list, refused. None for a notice about it.
      expect(slow.emulator.callsTo('POST', '/im/v1/messages')).toHaveLength(1);
      // The answer went where the person clicked, as a reply to the card; the card itself is untouched.
      expect(slow.emulator.callsTo('POST', `/im/v1/messages/${card?.messageId}/reply`)).toHaveLength(1);
      const [reply] = slow.emulator.messages.filter(
        (m) => m.kind === 'reply' && m.targetId === card?.messageId,
      );
      expect(cardText(reply?.content)).toContain('That person cannot use this bot (230013)');
      expect(cardText(reply?.content)).toContain('对方不在应用的可用范围内');
      expect(slow.emulator.callsTo('PATCH', `/im/v1/messages/${card?.messageId}`)).toHaveLength(0);
      expect(slow.logs.text).not.toContain('late card update failed');
    } finally {
      await slow.close();
    }
  });

  it('answers under the card when the private notice itself meets 230013, once, without an error log', async () => {
    const slow = await startE2e({ docs, cardDeadlineMs: 50 });
    try {
      // A stranger is denied the list; the denial cannot reach them privately either.
      slow.emulator.failNext('POST', '/im/v1/messages', OUTSIDE_AVAILABILITY, 2);
      const card = await lateViewersClick(slow, STRANGER);
      expect(slow.emulator.callsTo('POST', '/im/v1/messages')).toHaveLength(1);
      const [reply] = slow.emulator.messages.filter(
        (m) => m.kind === 'reply' && m.targetId === card?.messageId,
      );
      expect(cardText(reply?.content)).toContain(
        'Only the document owner, people with full access and bot admins',
      );
      expect(slow.logs.text).not.toContain('late card update failed');
      const about = slow.logs.records().filter((r) => r.feishu_code === 230013);
      expect(about).toHaveLength(1);
    } finally {
      await slow.close();
    }
  });
});

describe('with Redis (durable jobs, retries)', () => {
  const { emulator, bot } = useE2e({ docs, redis: true });

  it('does not retry a body of the wrong shape: one statistics call, one card', async () => {
    emulator.failNext('GET', STATS_PATH, { httpStatus: 200, code: 0, msg: 'success' });
    await bot.deliver(messageEvent({ text: `stats ${DOC_URL}`, senderOpenId: OWNER }));
    const [reply] = await emulator.waitForMessages(1);
    await bot.settle();
    expect(cardText(reply?.content)).toContain('Feishu sent an answer the bot cannot read');
    expect(emulator.callsTo('GET', STATS_PATH)).toHaveLength(1);
  });

  it('retries a transient code from the table (1069601) and answers with the figures, no error card', async () => {
    emulator.failNext('GET', STATS_PATH, { httpStatus: 200, code: 1069601, msg: 'internal error' });
    await bot.deliver(messageEvent({ text: `stats ${DOC_URL}`, senderOpenId: OWNER }));
    const [reply] = await emulator.waitForMessages(1, 15_000);
    await bot.settle();
    expect(emulator.callsTo('GET', STATS_PATH)).toHaveLength(2);
    expect(cardText(reply?.content)).toContain('Launch plan');
    expect(cardText(reply?.content)).not.toContain('1069601');
    expect(emulator.messages).toHaveLength(1);
  }, 20_000);

  it('bounds the whole command: a Feishu that hangs gets the reader one clear card within the 20 s budget', async () => {
    // Before: every attempt waited its own 10 s timeout and the backoffs in between, about 65 s in all.
    emulator.setLatency(120_000, { method: 'GET', path: HANGING_PATH });
    const started = Date.now();
    await bot.deliver(
      messageEvent({ text: `stats https://acme.feishu.cn/docx/${HANGING_DOC}`, senderOpenId: OWNER }),
    );
    const [reply] = await emulator.waitForMessages(1, 35_000);
    const elapsedMs = Date.now() - started;
    await bot.settle();
    expect(cardText(reply?.content)).toContain('Feishu took too long to answer');
    // The first attempt's 10 s timeout, then one more attempt cut short at the deadline: never a third.
    expect(emulator.callsTo('GET', HANGING_PATH).length).toBeLessThanOrEqual(2);
    expect(emulator.messages).toHaveLength(1);
    console.info(
      `[figure] a hanging statistics call: the timeout card after ${(elapsedMs / 1000).toFixed(1)} s`,
    );
  }, 45_000);

  it('resends the private list byte for byte under the same uuid when a retry follows a delivered send', async () => {
    // The private list goes out, then the group's "sent privately" reply fails with a 500: the job runs again.
    emulator.failNext('POST', /\/im\/v1\/messages\/[^/]+\/reply$/, { httpStatus: 500, code: 1, msg: 'oops' });
    await bot.deliver(groupAsk(`viewers ${DOC_URL}`, OWNER, emulator.botOpenId));
    await emulator.waitForMessages(2, 15_000);
    await bot.settle();

    const privateSends = emulator
      .callsTo('POST', '/im/v1/messages')
      .map((c) => c.body as Record<string, unknown>);
    expect(privateSends).toHaveLength(2);
    expect(privateSends[1]?.uuid).toBe(privateSends[0]?.uuid);
    expect(privateSends[1]?.content).toBe(privateSends[0]?.content);
    expect(String(privateSends[0]?.content)).toContain('nav_next');
    // Feishu kept one: the person has the list once, the group the note once.
    expect(emulator.messages.map((m) => m.kind).sort()).toEqual(['create', 'reply']);
  }, 20_000);
});
