/**
 * End to end: the real app on a loopback port, Feishu played by the emulator. Requests are encrypted and signed
 * by test code written independently of src/ (test/emulator/fixtures.ts).
 */

import { describe, expect, it } from 'vitest';
import { messageUuid } from '../src/bot/context.js';
import { allMention, botMention, messageEvent, urlVerification, userMention } from './emulator/fixtures.js';
import { cardText, TEST_ENCRYPT_KEY } from './helper.js';
import { useE2e } from './support/e2e.js';

const DOC_TOKEN = 'doxcnStatsE2eAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}?from=from_copylink`;
const FORBIDDEN_TOKEN = 'doxcnForbiddenAbCdEfGhIjKlM';
const WIKI_NODE = 'wikcnNodeE2eAbCdEfGhIjKlMnO';
const WIKI_TARGET = 'doxcnWikiTargetAbCdEfGhIjKl';

const { emulator, bot } = useE2e({
  docs: [
    {
      token: DOC_TOKEN,
      type: 'docx',
      title: 'Quarterly planning',
      statistics: { uv: 1284, pv: 5730, like_count: 42, uv_today: 37, pv_today: 90, like_count_today: 2 },
    },
    {
      token: FORBIDDEN_TOKEN,
      type: 'docx',
      title: 'Secret plans',
      statisticsError: { httpStatus: 403, code: 1069603, msg: 'forbidden' },
    },
    {
      token: WIKI_TARGET,
      type: 'sheet',
      title: 'Wiki sheet',
      statistics: { uv: 7, pv: 11, like_count: -1, uv_today: 1, pv_today: 2, like_count_today: 0 },
    },
  ],
  arrange: (emu) =>
    emu.addWikiNode(WIKI_NODE, { objToken: WIKI_TARGET, objType: 'sheet', title: 'Team wiki sheet' }),
});

const statisticsCalls = (token: string) =>
  emulator.callsTo('GET', `/drive/v1/files/${token}/statistics`).length;

describe('webhook protocol', () => {
  it('answers an encrypted URL verification challenge', async () => {
    const res = await bot.deliver(urlVerification('challenge-e2e-1'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ challenge: 'challenge-e2e-1' });
  });

  it('rejects a request signed with another key with 401 and does no work', async () => {
    const envelope = messageEvent({ text: `stats ${DOC_URL}` });
    const { buildEncryptedRequest } = await import('./emulator/fixtures.js');
    const forged = buildEncryptedRequest(envelope, `${TEST_ENCRYPT_KEY}-wrong`);
    const res = await fetch(`${bot.url}/webhook/event`, {
      method: 'POST',
      headers: forged.headers,
      body: forged.body,
    });
    expect(res.status).toBe(401);
    await bot.settle();
    expect(emulator.calls).toHaveLength(0);
  });

  it('rejects a plain (unencrypted) event when an encrypt key is configured', async () => {
    const res = await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }), { plain: true });
    expect(res.status).toBe(401);
    await bot.settle();
    expect(emulator.calls).toHaveLength(0);
  });

  it('answers 400 to a body that is not JSON and 413 to an oversized one, dispatching nothing', async () => {
    const notJson = await fetch(`${bot.url}/webhook/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"encrypt": ',
    });
    expect(notJson.status).toBe(400);
    const huge = await fetch(`${bot.url}/webhook/event`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ encrypt: 'A'.repeat(300 * 1024) }),
    });
    expect(huge.status).toBe(413);
    await bot.settle();
    expect(emulator.calls).toHaveLength(0);
  });
});

describe('stats <link>', () => {
  it('acknowledges at once, then replies with a card holding the emulator figures', async () => {
    // Make Feishu slow: the ack must not wait for any API call.
    emulator.setLatency(400);
    const envelope = messageEvent({ text: `stats ${DOC_URL}` });
    const started = performance.now();
    const res = await bot.deliver(envelope);
    const ackMs = performance.now() - started;
    expect(res.status).toBe(200);
    // No reply yet when the 200 arrives (one needs a 400 ms statistics call first): the ack did not wait for
    // the work. How long the ack took is printed below, not asserted: a loaded CI machine is slow, not wrong.
    expect(emulator.messages).toHaveLength(0);

    const [message] = await emulator.waitForMessages(1, 10_000);
    expect(message?.kind).toBe('reply');
    expect(message?.targetId).toBe(envelope.event.message.message_id);
    expect(message?.msgType).toBe('interactive');
    const text = cardText(message?.content);
    expect(text).toContain('Quarterly planning');
    expect(text).toContain('1,284');
    expect(text).toContain('5,730');
    expect(text).toContain('42');
    // The message and the reply's position: a retry sending this reply again carries the same uuid, and Feishu
    // posts it once.
    expect(message?.uuid).toBe(messageUuid(envelope.event.message.message_id, 'r1'));
    expect(message?.uuid).toContain(envelope.event.message.message_id);
    console.info(`[figure] webhook ack with 400 ms Feishu latency: ${ackMs.toFixed(1)} ms`);
  });

  it('serves a second request within the TTL from the cache (no second statistics call)', async () => {
    const token = 'doxcnCacheE2eAbCdEfGhIjKlMn';
    emulator.addDoc({
      token,
      type: 'docx',
      statistics: { uv: 3, pv: 4321, like_count: 0, uv_today: 0, pv_today: 0, like_count_today: 0 },
    });
    await bot.deliver(messageEvent({ text: `stats https://acme.feishu.cn/docx/${token}` }));
    await emulator.waitForMessages(1);
    expect(statisticsCalls(token)).toBe(1);
    await bot.deliver(messageEvent({ text: `统计 https://acme.feishu.cn/docx/${token}#share` }));
    const messages = await emulator.waitForMessages(2);
    expect(statisticsCalls(token)).toBe(1);
    expect(cardText(messages[1]?.content)).toContain('4,321');
  });

  it('turns 1069603 into a card that says to add the bot as a document app', async () => {
    await bot.deliver(messageEvent({ text: `stats https://acme.feishu.cn/docx/${FORBIDDEN_TOKEN}` }));
    const [message] = await emulator.waitForMessages(1);
    const text = cardText(message?.content);
    expect(text).toContain('1069603');
    expect(text).toMatch(/Add document app/);
    expect(text).toMatch(/添加文档应用/);
  });

  it('resolves a wiki link to its document before asking for statistics', async () => {
    await bot.deliver(messageEvent({ text: `stats https://acme.feishu.cn/wiki/${WIKI_NODE}` }));
    const [message] = await emulator.waitForMessages(1);
    expect(emulator.callsTo('GET', '/wiki/v2/spaces/get_node')[0]?.query.token).toBe(WIKI_NODE);
    expect(emulator.callsTo('GET', `/drive/v1/files/${WIKI_TARGET}/statistics`)[0]?.query.file_type).toBe(
      'sheet',
    );
    const text = cardText(message?.content);
    expect(text).toContain('Team wiki sheet');
  });

  it('answers each of several links with its own card, in order', async () => {
    await bot.deliver(
      messageEvent({
        text: `stats https://acme.feishu.cn/docx/${FORBIDDEN_TOKEN} https://acme.feishu.cn/wiki/${WIKI_NODE}`,
      }),
    );
    const messages = await emulator.waitForMessages(2);
    expect(cardText(messages[0]?.content)).toContain('1069603');
    expect(cardText(messages[1]?.content)).toContain('Team wiki sheet');
    expect(new Set(messages.map((m) => m.uuid)).size).toBe(2);
  });

  it('says a folder link is not a document, without calling statistics', async () => {
    await bot.deliver(
      messageEvent({ text: 'stats https://acme.feishu.cn/drive/folder/fldcnAbCdEfGhIjKlMnOpQrStUv' }),
    );
    const [message] = await emulator.waitForMessages(1);
    expect(cardText(message?.content)).toMatch(/folder|文件夹/i);
    expect(emulator.callsTo('GET', /\/statistics$/)).toHaveLength(0);
  });

  it('answers a bare link in a private chat as stats, and a typo with "did you mean"', async () => {
    await bot.deliver(messageEvent({ text: DOC_URL }));
    await bot.deliver(messageEvent({ text: `stast ${DOC_URL}` }));
    const messages = await emulator.waitForMessages(2);
    const texts = messages.map((m) => cardText(m.content));
    expect(texts.some((t) => t.includes('5,730'))).toBe(true);
    expect(texts.some((t) => t.includes('stast') && t.includes('stats'))).toBe(true);
  });

  it('answers `stats` without a link with a usage card', async () => {
    await bot.deliver(messageEvent({ text: 'stats' }));
    const [message] = await emulator.waitForMessages(1);
    expect(cardText(message?.content)).toMatch(/link|链接/);
    expect(emulator.callsTo('GET', /\/statistics$/)).toHaveLength(0);
  });
});

describe('group conversations', () => {
  it('replies when the bot itself is mentioned', async () => {
    const envelope = messageEvent({
      chatType: 'group',
      mentions: [botMention(emulator.botOpenId)],
      text: `@_user_1 stats ${DOC_URL}`,
    });
    await bot.deliver(envelope);
    const [message] = await emulator.waitForMessages(1);
    expect(message?.targetId).toBe(envelope.event.message.message_id);
  });

  it('makes no API call for a group message that does not mention the bot', async () => {
    await bot.deliver(messageEvent({ chatType: 'group', text: `stats ${DOC_URL}` }));
    await bot.settle();
    expect(emulator.calls).toHaveLength(0);
  });

  it('does not answer @all, nor a person who shares the bot’s display name', async () => {
    await bot.deliver(
      messageEvent({ chatType: 'group', mentions: [allMention()], text: `@_all stats ${DOC_URL}` }),
    );
    await bot.deliver(
      messageEvent({
        chatType: 'group',
        mentions: [userMention('ou_0000000000000000impostor', 'Stats Bot', '@_user_1')],
        text: `@_user_1 stats ${DOC_URL}`,
      }),
    );
    await bot.settle();
    expect(emulator.messages).toHaveLength(0);
  });

  it('ignores messages sent by apps and bots', async () => {
    await bot.deliver(messageEvent({ senderType: 'app', text: `stats ${DOC_URL}` }));
    await bot.settle();
    expect(emulator.calls).toHaveLength(0);
  });
});

describe('dedupe of retried deliveries', () => {
  it('answers one event delivered four times exactly once', async () => {
    const envelope = messageEvent({ text: `stats ${DOC_URL}` });
    const responses = await Promise.all([1, 2, 3, 4].map(() => bot.deliver(envelope)));
    expect(responses.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    await bot.settle();
    expect(emulator.messages).toHaveLength(1);
  });

  it('answers the same message_id under two event_ids once', async () => {
    const first = messageEvent({ text: `stats ${DOC_URL}` });
    const second = messageEvent({ text: `stats ${DOC_URL}`, messageId: first.event.message.message_id });
    expect(second.header.event_id).not.toBe(first.header.event_id);
    await bot.deliver(first);
    await bot.deliver(second);
    await bot.settle();
    expect(emulator.messages).toHaveLength(1);
  });
});

describe('operations routes', () => {
  it('reports liveness, readiness with the store kind, and Prometheus metrics', async () => {
    expect((await fetch(`${bot.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${bot.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', store: 'memory' });
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    expect(metrics).toMatch(/fsb_webhook_requests_total\{route="event",outcome="accepted"\} [1-9]/);
    expect(metrics).toMatch(
      /fsb_http_request_duration_seconds_count\{route="\/webhook\/event",outcome="accepted"\} [1-9]/,
    );
  });

  it('never logs the app secret, encrypt key or verification token', () => {
    const text = bot.logs.text;
    expect(text.length).toBeGreaterThan(0);
    expect(text).not.toContain(emulator.appSecret);
    expect(text).not.toContain(TEST_ENCRYPT_KEY);
    expect(text).not.toContain('rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV');
  });
});
