import { createDecipheriv, createHash } from 'node:crypto';
import * as lark from '@larksuiteoapi/node-sdk';
import { isAxiosError } from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  type EmulatedAppUsageQuery,
  type EmulatedWorkplaceDay,
  type FeishuEmulator,
  startFeishuEmulator,
} from './emulator/feishu-emulator.js';
import {
  allMention,
  botMention,
  buildEncryptedRequest,
  cardActionEvent,
  encryptForFeishu,
  makeLikes,
  makeViewers,
  messageEvent,
  signFeishuRequest,
} from './emulator/fixtures.js';

const silentLogger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

function sdkClient(emu: FeishuEmulator): lark.Client {
  return new lark.Client({
    appId: emu.appId,
    appSecret: emu.appSecret,
    domain: emu.url,
    disableTokenCache: false,
    logger: silentLogger,
  });
}

/** What the SDK throws for HTTP 4xx/5xx: the Feishu body and status from the AxiosError. */
async function captureFailure(
  call: Promise<unknown>,
): Promise<{ status?: number; data: unknown; headers: unknown }> {
  try {
    await call;
  } catch (error) {
    if (!isAxiosError(error)) throw error;
    return { status: error.response?.status, data: error.response?.data, headers: error.response?.headers };
  }
  throw new Error('expected the call to fail');
}

async function fetchToken(emu: FeishuEmulator): Promise<string> {
  const res = await fetch(`${emu.url}/open-apis/auth/v3/tenant_access_token/internal`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app_id: emu.appId, app_secret: emu.appSecret }),
  });
  const body = (await res.json()) as { tenant_access_token: string };
  return body.tenant_access_token;
}

const card = {
  schema: '2.0',
  config: { update_multi: true },
  body: { elements: [{ tag: 'markdown', content: 'hi' }] },
};

let emu: FeishuEmulator;
let client: lark.Client;

beforeEach(async () => {
  emu = await startFeishuEmulator();
  client = sdkClient(emu);
});

afterEach(async () => {
  await emu.close();
});

describe('tenant access token', () => {
  it('issues a top-level token with expire, and refuses a wrong secret with 10014 in an HTTP 200', async () => {
    const good = await fetch(`${emu.url}/open-apis/auth/v3/tenant_access_token/internal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app_id: emu.appId, app_secret: emu.appSecret }),
    });
    const goodBody = (await good.json()) as Record<string, unknown>;
    expect(goodBody).toMatchObject({ code: 0, msg: 'ok', expire: 7200 });
    expect(goodBody.tenant_access_token).toMatch(/^t-/);
    expect(goodBody).not.toHaveProperty('data');

    const bad = await fetch(`${emu.url}/open-apis/auth/v3/tenant_access_token/internal`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ app_id: emu.appId, app_secret: 'wrong' }),
    });
    expect(bad.status).toBe(200);
    expect(await bad.json()).toMatchObject({ code: 10014, msg: 'app secret invalid' });
  });

  it('returns the same token while more than 30 minutes remain, a new one when the TTL is shorter', async () => {
    expect(await fetchToken(emu)).toBe(await fetchToken(emu));

    const shortLived = await startFeishuEmulator({ tokenTtlSeconds: 600 });
    try {
      expect(await fetchToken(shortLived)).not.toBe(await fetchToken(shortLived));
    } finally {
      await shortLived.close();
    }
  });

  it('answers a call without Authorization with HTTP 400 and 99991661', async () => {
    const res = await fetch(`${emu.url}/open-apis/bot/v3/info`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ code: 99991661 });
  });

  it('makes every issued token invalid after expireTokens(), so the SDK cached token gets 99991663', async () => {
    emu.addDoc({ token: 'doxExpired1', type: 'docx' });
    const get = () =>
      client.drive.v1.fileStatistics.get({
        path: { file_token: 'doxExpired1' },
        params: { file_type: 'docx' },
      });
    await get();

    emu.expireTokens();
    const failed = await captureFailure(get());
    expect(failed.status).toBe(400);
    expect(failed.data).toMatchObject({ code: 99991663 });
    // The SDK does not refetch on 99991663: only the cached-token call was made after expiry.
    expect(emu.callsTo('POST', '/auth/v3/tenant_access_token/internal')).toHaveLength(1);

    const fresh = await fetchToken(emu);
    const res = await fetch(`${emu.url}/open-apis/bot/v3/info`, {
      headers: { authorization: `Bearer ${fresh}` },
    });
    expect(res.status).toBe(200);
  });

  it('uses the configured HTTP status for token errors', async () => {
    const lenient = await startFeishuEmulator({ authErrorStatus: 200 });
    try {
      const res = await fetch(`${lenient.url}/open-apis/bot/v3/info`, {
        headers: { authorization: 'Bearer t-nope' },
      });
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ code: 99991663 });
    } finally {
      await lenient.close();
    }
  });
});

describe('file statistics', () => {
  it('returns the doc figures through the typed SDK call, with timestamp defaulting to now', async () => {
    emu.addDoc({
      token: 'doxStats1',
      type: 'docx',
      statistics: { uv: 42, pv: 99, like_count: 3, uv_today: 4, pv_today: 7, like_count_today: 1 },
    });
    const before = Math.floor(Date.now() / 1000);

    const res = await client.drive.v1.fileStatistics.get({
      path: { file_token: 'doxStats1' },
      params: { file_type: 'docx' },
    });

    expect(res.code).toBe(0);
    expect(res.data).toMatchObject({
      file_token: 'doxStats1',
      file_type: 'docx',
      statistics: { uv: 42, pv: 99, like_count: 3, uv_today: 4, pv_today: 7, like_count_today: 1 },
    });
    expect(res.data?.statistics?.timestamp).toBeGreaterThanOrEqual(before);
  });

  it('defaults like_count to -1 for types without likes', async () => {
    emu.addDoc({ token: 'shtNoLikes', type: 'sheet' });
    const res = await client.drive.v1.fileStatistics.get({
      path: { file_token: 'shtNoLikes' },
      params: { file_type: 'sheet' },
    });
    expect(res.data?.statistics?.like_count).toBe(-1);
  });

  it('makes the SDK throw with HTTP 400 and 1069604 for an unknown document', async () => {
    const failed = await captureFailure(
      client.drive.v1.fileStatistics.get({
        path: { file_token: 'doxMissing' },
        params: { file_type: 'docx' },
      }),
    );
    expect(failed.status).toBe(400);
    expect(failed.data).toMatchObject({ code: 1069604, msg: 'document not found' });
  });

  it('answers a file_type that does not match the document with 1069602', async () => {
    emu.addDoc({ token: 'doxTyped', type: 'docx' });
    const failed = await captureFailure(
      client.drive.v1.fileStatistics.get({
        path: { file_token: 'doxTyped' },
        params: { file_type: 'sheet' },
      }),
    );
    expect(failed.status).toBe(400);
    expect(failed.data).toMatchObject({ code: 1069602 });
  });

  it('serves a per-document statisticsError, with the log id Feishu attaches to failures', async () => {
    emu.addDoc({
      token: 'doxLocked',
      type: 'doc',
      statisticsError: { httpStatus: 403, code: 1069603, msg: 'forbidden' },
    });
    const failed = await captureFailure(
      client.drive.v1.fileStatistics.get({ path: { file_token: 'doxLocked' }, params: { file_type: 'doc' } }),
    );
    expect(failed.status).toBe(403);
    expect(failed.data).toMatchObject({
      code: 1069603,
      msg: 'forbidden',
      error: { log_id: expect.any(String) },
    });
    expect((failed.headers as Record<string, string>)['x-tt-logid']).toMatch(/^\w{10,}$/);
  });
});

describe('injected failures and latency', () => {
  it('consumes failNext once, with its headers, then serves the real answer', async () => {
    emu.addDoc({ token: 'doxBusy', type: 'docx' });
    emu.failNext('GET', '/drive/v1/files/:file_token/statistics', {
      httpStatus: 429,
      code: 99991400,
      msg: 'request trigger frequency limit',
      headers: { 'x-ogw-ratelimit-limit': '5', 'x-ogw-ratelimit-reset': '1' },
    });
    const get = () =>
      client.drive.v1.fileStatistics.get({ path: { file_token: 'doxBusy' }, params: { file_type: 'docx' } });

    const failed = await captureFailure(get());
    expect(failed.status).toBe(429);
    expect(failed.data).toMatchObject({ code: 99991400 });
    expect((failed.headers as Record<string, string>)['x-ogw-ratelimit-reset']).toBe('1');

    await expect(get()).resolves.toMatchObject({ code: 0 });
  });

  it('consumes several injected failures in the order they were added', async () => {
    emu.failNext('GET', /\/bot\/v3\/info$/, { httpStatus: 500, code: 1, msg: 'first' });
    emu.failNext('GET', '/open-apis/bot/v3/info', { httpStatus: 503, code: 2, msg: 'second' });
    const info = () => client.request({ url: '/open-apis/bot/v3/info', method: 'GET' });

    expect((await captureFailure(info())).data).toMatchObject({ msg: 'first' });
    expect((await captureFailure(info())).data).toMatchObject({ msg: 'second' });
    await expect(info()).resolves.toMatchObject({ code: 0 });
  });

  it('delays responses by the configured latency', async () => {
    emu.setLatency(150);
    const started = Date.now();
    await fetchToken(emu);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });
});

describe('recorded calls', () => {
  it('records query and body of every call but never a token or the app secret', async () => {
    emu.addDoc({ token: 'doxRec', type: 'docx' });
    await client.drive.v1.fileStatistics.get({
      path: { file_token: 'doxRec' },
      params: { file_type: 'docx' },
    });
    await client.im.v1.message.reply({
      path: { message_id: 'om_inbound1' },
      data: { msg_type: 'interactive', content: JSON.stringify(card), uuid: 'u-rec-1' },
    });
    const token = await fetchToken(emu);

    const [statsCall] = emu.callsTo('GET', '/drive/v1/files/doxRec/statistics');
    expect(statsCall).toMatchObject({ query: { file_type: 'docx' }, status: 200 });
    expect(statsCall?.headers.authorization).toBe('[redacted]');
    const [replyCall] = emu.callsTo('POST', '/im/v1/messages/:message_id/reply');
    expect(replyCall?.body).toMatchObject({ msg_type: 'interactive', uuid: 'u-rec-1' });
    const [tokenCall] = emu.callsTo('POST', '/auth/v3/tenant_access_token/internal');
    expect(tokenCall?.body).toMatchObject({ app_id: emu.appId, app_secret: '[redacted]' });

    const everything = JSON.stringify(emu.calls);
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(emu.appSecret);
  });

  it('answers an unknown route with HTTP 404 and records it', async () => {
    const res = await fetch(`${emu.url}/open-apis/drive/v9/nothing`);
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ code: 404, msg: '404 page not found' });
    expect(emu.callsTo('GET', '/drive/v9/nothing')).toHaveLength(1);
  });

  it('reset() clears calls, messages and failures but keeps documents', async () => {
    emu.addDoc({ token: 'doxKept', type: 'docx' });
    emu.failNext('GET', '/drive/v1/files/:file_token/statistics', { httpStatus: 500, code: 1, msg: 'x' });
    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_1', msg_type: 'text', content: JSON.stringify({ text: 'hi' }) },
    });

    emu.reset();

    expect(emu.calls).toHaveLength(0);
    expect(emu.messages).toHaveLength(0);
    await expect(
      client.drive.v1.fileStatistics.get({ path: { file_token: 'doxKept' }, params: { file_type: 'docx' } }),
    ).resolves.toMatchObject({ code: 0 });
  });
});

describe('messages', () => {
  it('returns the same message for a repeated uuid and stores it once', async () => {
    const reply = () =>
      client.im.v1.message.reply({
        path: { message_id: 'om_user_msg' },
        data: { msg_type: 'interactive', content: JSON.stringify(card), uuid: 'reply-om_user_msg' },
      });
    const first = await reply();
    const second = await reply();

    expect(second.data?.message_id).toBe(first.data?.message_id);
    expect(emu.messages).toHaveLength(1);
    expect(emu.messages[0]).toMatchObject({
      kind: 'reply',
      targetId: 'om_user_msg',
      uuid: 'reply-om_user_msg',
    });
    expect(emu.messages[0]?.content).toEqual(card);
    expect(first.data).toMatchObject({
      parent_id: 'om_user_msg',
      root_id: 'om_user_msg',
      msg_type: 'interactive',
    });
    expect(first.data?.sender).toMatchObject({ id: emu.appId, id_type: 'app_id', sender_type: 'app' });
  });

  it('stores two replies without uuid as two messages', async () => {
    for (let i = 0; i < 2; i += 1) {
      await client.im.v1.message.reply({
        path: { message_id: 'om_user_msg' },
        data: { msg_type: 'text', content: JSON.stringify({ text: `hi ${i}` }) },
      });
    }
    expect(emu.messages).toHaveLength(2);
  });

  it('sends to a chat with create, and waitForMessages resolves once it arrives', async () => {
    const waiting = emu.waitForMessages(1, 2000);
    const res = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_group1', msg_type: 'interactive', content: JSON.stringify(card), uuid: 'c-1' },
    });
    const [sent] = await waiting;

    expect(res.data).toMatchObject({ chat_id: 'oc_group1', message_id: expect.stringMatching(/^om_/) });
    expect(sent).toMatchObject({
      kind: 'create',
      targetId: 'oc_group1',
      msgType: 'interactive',
      messageId: res.data?.message_id,
    });
  });

  it('rejects waitForMessages after the timeout when nothing was sent', async () => {
    await expect(emu.waitForMessages(1, 50)).rejects.toThrow(/expected 1 message/);
  });

  it('refuses content that is not JSON, a 1.0 card, an oversized card and an unsupported msg_type', async () => {
    const send = (msgType: string, content: string) =>
      captureFailure(
        client.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: 'oc_1', msg_type: msgType, content },
        }),
      );

    expect((await send('interactive', '{not json')).data).toMatchObject({ code: 230099 });
    expect((await send('interactive', JSON.stringify({ elements: [] }))).data).toMatchObject({
      code: 230099,
    });
    const huge = { ...card, body: { elements: [{ tag: 'markdown', content: 'x'.repeat(31 * 1024) }] } };
    const tooLong = await send('interactive', JSON.stringify(huge));
    expect(tooLong.status).toBe(400);
    expect(tooLong.data).toMatchObject({ code: 230025 });
    expect((await send('post', JSON.stringify({ zh_cn: { content: [] } }))).data).toMatchObject({
      code: 230001,
    });
    expect(emu.messages).toHaveLength(0);
  });

  it('updates a sent card with PATCH and refuses to patch an unknown message', async () => {
    const sent = await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_1', msg_type: 'interactive', content: JSON.stringify(card) },
    });
    const messageId = sent.data?.message_id ?? '';
    const updated = { ...card, body: { elements: [{ tag: 'markdown', content: 'updated' }] } };

    await client.im.v1.message.patch({
      path: { message_id: messageId },
      data: { content: JSON.stringify(updated) },
    });

    expect(emu.messages[0]?.content).toEqual(updated);
    expect(emu.messages[0]?.updatedAt).toBeGreaterThan(0);
    const unknown = await captureFailure(
      client.im.v1.message.patch({
        path: { message_id: 'om_unknown' },
        data: { content: JSON.stringify(updated) },
      }),
    );
    expect(unknown.data).toMatchObject({ code: 230001 });
  });
});

describe('bot info, metas and wiki', () => {
  it('serves bot info at the top level through client.request', async () => {
    const res = await client.request<{ code: number; bot: { open_id: string; app_name: string } }>({
      url: '/open-apis/bot/v3/info',
      method: 'GET',
    });
    expect(res.code).toBe(0);
    expect(res.bot).toMatchObject({ open_id: emu.botOpenId, app_name: 'Stats Bot', activate_status: 2 });
  });

  it('returns metas for known docs and failed_list entries for the rest', async () => {
    emu.addDoc({ token: 'doxMeta1', type: 'docx', title: 'Quarterly plan', ownerId: 'ou_owner1' });

    const res = await client.drive.v1.meta.batchQuery({
      data: {
        request_docs: [
          { doc_token: 'doxMeta1', doc_type: 'docx' },
          { doc_token: 'doxMissing', doc_type: 'docx' },
          { doc_token: 'doxMeta1', doc_type: 'sheet' },
        ],
        with_url: true,
      },
    });

    expect(res.data?.metas).toEqual([
      expect.objectContaining({
        doc_token: 'doxMeta1',
        doc_type: 'docx',
        title: 'Quarterly plan',
        owner_id: 'ou_owner1',
        url: expect.stringContaining('/docx/doxMeta1'),
      }),
    ]);
    expect(res.data?.failed_list).toEqual([
      { token: 'doxMissing', code: 970005 },
      { token: 'doxMeta1', code: 970005 },
    ]);
  });

  it('resolves a wiki node to its document and answers an unknown node with HTTP 400 and 131005', async () => {
    emu.addWikiNode('wikNode1', { objToken: 'doxInWiki', objType: 'docx', title: 'Wiki page' });

    const res = await client.wiki.v2.space.getNode({ params: { token: 'wikNode1' } });
    expect(res.data?.node).toMatchObject({
      node_token: 'wikNode1',
      obj_token: 'doxInWiki',
      obj_type: 'docx',
      title: 'Wiki page',
      node_type: 'origin',
      has_child: false,
    });

    const byDocToken = await client.wiki.v2.space.getNode({
      params: { token: 'doxInWiki', obj_type: 'docx' },
    });
    expect(byDocToken.data?.node?.node_token).toBe('wikNode1');

    const failed = await captureFailure(client.wiki.v2.space.getNode({ params: { token: 'wikNope' } }));
    expect(failed.status).toBe(400);
    expect(failed.data).toMatchObject({ code: 131005 });
  });
});

describe('event fixtures', () => {
  it('builds a v2 im.message.receive_v1 envelope with content as a JSON string, like Feishu', () => {
    const mention = botMention('ou_bot');
    const event = messageEvent({
      text: '@_user_1 stats https://x.feishu.cn/docx/T',
      mentions: [mention],
      chatId: 'oc_g',
    });

    expect(event.schema).toBe('2.0');
    expect(event.header.event_type).toBe('im.message.receive_v1');
    expect(event.event.message).toMatchObject({ chat_id: 'oc_g', chat_type: 'group', message_type: 'text' });
    expect(typeof event.event.message.content).toBe('string');
    expect(JSON.parse(event.event.message.content)).toEqual({
      text: '@_user_1 stats https://x.feishu.cn/docx/T',
    });
    expect(event.event.message.mentions).toEqual([
      {
        key: '@_user_1',
        id: { open_id: 'ou_bot', union_id: expect.stringMatching(/^on_/), user_id: '' },
        name: 'Stats Bot',
        tenant_key: expect.any(String),
      },
    ]);
    expect(allMention().id).toEqual({ open_id: '', union_id: '', user_id: '' });
  });

  it('builds a post message when post content is given, and a p2p chat when nobody is mentioned', () => {
    const post = { title: 't', content: [[{ tag: 'a', href: 'https://x.feishu.cn/docx/T', text: 'doc' }]] };
    const event = messageEvent({ post });
    expect(event.event.message).toMatchObject({ message_type: 'post', chat_type: 'p2p' });
    expect(JSON.parse(event.event.message.content)).toEqual(post);
  });

  it('encrypts so that the SDK AESCipher (and a by-hand decipher) recover the plaintext', () => {
    const plain = JSON.stringify(messageEvent());
    const encrypted = encryptForFeishu(plain, 'test-encrypt-key');

    expect(new lark.AESCipher('test-encrypt-key').decrypt(encrypted)).toBe(plain);
    const raw = Buffer.from(encrypted, 'base64');
    const key = createHash('sha256').update('test-encrypt-key').digest();
    const decipher = createDecipheriv('aes-256-cbc', key, raw.subarray(0, 16));
    expect(Buffer.concat([decipher.update(raw.subarray(16)), decipher.final()]).toString('utf8')).toBe(plain);
  });

  it('signs so that the SDK verifier accepts the request, and a changed body no longer matches', () => {
    const { body, headers } = buildEncryptedRequest(messageEvent(), 'k3y', {
      timestampSec: 1700000000,
      nonce: 'n0nce',
    });
    // Reaching into the SDK's request handler: the only public place its signature check lives.
    const dispatcher = new lark.EventDispatcher({ encryptKey: 'k3y', logger: silentLogger }) as unknown as {
      requestHandle: { checkIsEventValidated(data: unknown): boolean };
    };
    const withHeaders = (json: string, h: Record<string, string>) =>
      Object.assign(Object.create({ headers: h }), JSON.parse(json));

    expect(dispatcher.requestHandle.checkIsEventValidated(withHeaders(body, headers))).toBe(true);
    const tampered = signFeishuRequest(`${body} `, 'k3y', 1700000000, 'n0nce');
    expect(tampered['x-lark-signature']).not.toBe(headers['x-lark-signature']);
    expect(headers['x-lark-request-timestamp']).toBe('1700000000');
  });
});

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('view records', () => {
  const listViews = (
    token: string,
    params: { page_size: number; page_token?: string; file_type?: 'docx' | 'sheet' },
  ) =>
    client.drive.v1.fileViewRecord.list({
      path: { file_token: token },
      params: { file_type: 'docx', ...params },
    });

  it('walks every viewer exactly once over the pages, most recent first, times as strings', async () => {
    const viewers = makeViewers(120);
    // Stored oldest first and interleaved: the order must come from last_view_time, not from insertion.
    const scrambled = [...viewers].reverse().sort((_, b) => (viewers.indexOf(b) % 2 === 0 ? -1 : 1));
    emu.addDoc({ token: 'doxViews', type: 'docx', viewers: scrambled });

    const seen: Array<{ viewer_id?: string; last_view_time?: string }> = [];
    let pageToken: string | undefined;
    let pages = 0;
    let hasMore = true;
    while (hasMore) {
      const res = await listViews('doxViews', {
        page_size: 50,
        ...(pageToken ? { page_token: pageToken } : {}),
      });
      expect(res.code).toBe(0);
      seen.push(...(res.data?.items ?? []));
      hasMore = res.data?.has_more === true;
      pageToken = res.data?.page_token;
      pages += 1;
      if (hasMore) expect(pageToken).toMatch(/^\d{10}--\d{19}$/);
      else expect(pageToken).toBeUndefined();
    }

    expect(pages).toBe(3);
    expect(seen.map((v) => v.viewer_id)).toEqual(viewers.map((v) => v.viewer_id));
    const times = seen.map((v) => v.last_view_time);
    expect(times.every((t) => typeof t === 'string' && /^\d{10}$/.test(t))).toBe(true);
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('serves the same page again for a reused token, and hands out one token per position (Previous buttons)', async () => {
    emu.addDoc({ token: 'doxAgain', type: 'docx', viewers: makeViewers(30) });
    const first = await listViews('doxAgain', { page_size: 10 });
    const firstAgain = await listViews('doxAgain', { page_size: 10 });
    expect(firstAgain.data?.page_token).toBe(first.data?.page_token);

    const token = first.data?.page_token ?? '';
    const second = await listViews('doxAgain', { page_size: 10, page_token: token });
    const secondAgain = await listViews('doxAgain', { page_size: 10, page_token: token });
    expect(secondAgain.data?.items).toEqual(second.data?.items);
    expect(second.data?.items?.[0]?.viewer_id).not.toBe(first.data?.items?.[0]?.viewer_id);
  });

  it('answers bad page sizes, a mismatched type and foreign or made-up tokens with 400 1069602', async () => {
    emu.addDoc({ token: 'doxCheck', type: 'docx', viewers: makeViewers(5) });
    emu.addDoc({ token: 'doxOther', type: 'docx', viewers: makeViewers(5) });
    const foreign = (await listViews('doxOther', { page_size: 2 })).data?.page_token ?? '';
    expect(foreign).not.toBe('');

    const attempts = [
      listViews('doxCheck', { page_size: 0 }),
      listViews('doxCheck', { page_size: 51 }),
      listViews('doxCheck', { page_size: 10, file_type: 'sheet' }),
      listViews('doxCheck', { page_size: 2, page_token: foreign }),
      listViews('doxCheck', { page_size: 2, page_token: '1674037112--7189934631754563585' }),
      // page_size is required: the typed call cannot omit it, a raw request can.
      client.request({
        url: '/open-apis/drive/v1/files/doxCheck/view_records',
        method: 'GET',
        params: { file_type: 'docx' },
      }),
    ];
    for (const attempt of attempts) {
      const failed = await captureFailure(attempt);
      expect(failed.status).toBe(400);
      expect(failed.data).toMatchObject({ code: 1069602 });
    }
  });

  it('answers an unknown document with HTTP 404 1069604 and serves a per-document viewRecordsError', async () => {
    const missing = await captureFailure(listViews('doxNowhere', { page_size: 10 }));
    expect(missing.status).toBe(404);
    expect(missing.data).toMatchObject({ code: 1069604 });

    emu.addDoc({
      token: 'doxNoRecords',
      type: 'docx',
      viewRecordsError: { httpStatus: 403, code: 1069603, msg: 'forbidden' },
    });
    const forbidden = await captureFailure(listViews('doxNoRecords', { page_size: 10 }));
    expect(forbidden.status).toBe(403);
    expect(forbidden.data).toMatchObject({ code: 1069603, msg: 'forbidden' });
  });
});

describe('likes', () => {
  const listLikes = (
    token: string,
    params: { file_type?: 'doc' | 'docx' | 'file'; page_size?: number; page_token?: string } = {},
  ) =>
    client.drive.v2.fileLike.list({ path: { file_token: token }, params: { file_type: 'docx', ...params } });

  it('pages by 10 by default, most recent first, and hides names and avatars of desensitised likers', async () => {
    const likes = makeLikes(25, { desensitized: [1, 17] });
    emu.addDoc({ token: 'doxLiked', type: 'docx', likes: [...likes].reverse() });

    const pages: Array<NonNullable<Awaited<ReturnType<typeof listLikes>>['data']>> = [];
    let pageToken: string | undefined;
    do {
      const res = await listLikes('doxLiked', pageToken ? { page_token: pageToken } : {});
      if (!res.data) throw new Error('no data');
      pages.push(res.data);
      pageToken = res.data.has_more ? res.data.page_token : undefined;
    } while (pageToken);

    expect(pages.map((p) => p.items?.length)).toEqual([10, 10, 5]);
    const items = pages.flatMap((p) => p.items ?? []);
    expect(items.map((i) => i.user_id)).toEqual(likes.map((l) => l.user_id));
    expect(items[1]).toEqual({
      user_id: likes[1]?.user_id,
      last_liked_time: likes[1]?.last_liked_time,
      user_is_desensitized: true,
    });
    expect(items[0]).toMatchObject({
      user_name: expect.any(String),
      user_en_name: expect.any(String),
      user_avatar_url: expect.stringMatching(/^https:\/\//),
      user_is_desensitized: false,
    });
    expect(items.filter((i) => i.user_is_desensitized)).toHaveLength(2);
  });

  it('refuses types without likes, a mismatched type and a page size over 50 with 400 1061002', async () => {
    emu.addDoc({ token: 'shtLikes', type: 'sheet' });
    emu.addDoc({ token: 'doxLikes', type: 'docx', likes: makeLikes(3) });
    const attempts = [
      client.request({
        url: '/open-apis/drive/v2/files/shtLikes/likes',
        method: 'GET',
        params: { file_type: 'sheet' },
      }),
      listLikes('doxLikes', { file_type: 'doc' }),
      listLikes('doxLikes', { page_size: 51 }),
      listLikes('doxLikes', { page_token: 'aw7DoMKBFMOGwqHCrcO8w6jCmMOvw6ILeADCvsKNw57Di8O5XGV3LG4' }),
    ];
    for (const attempt of attempts) {
      const failed = await captureFailure(attempt);
      expect(failed.status).toBe(400);
      expect(failed.data).toMatchObject({ code: 1061002 });
    }
  });

  it('answers an unknown document with HTTP 404 1061003 and serves a per-document likesError', async () => {
    const missing = await captureFailure(listLikes('doxGone'));
    expect(missing.status).toBe(404);
    expect(missing.data).toMatchObject({ code: 1061003 });

    emu.addDoc({
      token: 'doxHidden',
      type: 'doc',
      likesError: { httpStatus: 403, code: 1061004, msg: 'no file permission' },
    });
    const hidden = await captureFailure(listLikes('doxHidden', { file_type: 'doc' }));
    expect(hidden.status).toBe(403);
    expect(hidden.data).toMatchObject({ code: 1061004 });
  });
});

describe('permission members', () => {
  const owner = {
    member_type: 'openid',
    member_id: 'ou_manager',
    perm: 'full_access',
    type: 'user',
    name: 'Manager',
  } as const;
  const reader = {
    member_type: 'openchat',
    member_id: 'oc_readers',
    perm: 'view',
    type: 'chat',
    name: 'Readers',
  } as const;

  it('lists collaborators in one page, with type and name only when fields asks for them', async () => {
    emu.addDoc({ token: 'doxShared', type: 'docx', members: [owner, reader] });
    const list = (fields?: string) =>
      client.drive.v1.permissionMember.list({
        path: { token: 'doxShared' },
        params: { type: 'docx', ...(fields ? { fields } : {}) },
      });

    const bare = await list();
    expect(bare.data?.items).toEqual([
      { member_type: 'openid', member_id: 'ou_manager', perm: 'full_access', perm_type: 'container' },
      { member_type: 'openchat', member_id: 'oc_readers', perm: 'view', perm_type: 'container' },
    ]);
    expect(bare.data).not.toHaveProperty('has_more');
    expect((await list('*')).data?.items?.[0]).toMatchObject({ type: 'user', name: 'Manager' });
    const typeOnly = (await list('type')).data?.items?.[1];
    expect(typeOnly).toMatchObject({ type: 'chat' });
    expect(typeOnly).not.toHaveProperty('name');
  });

  it('resolves a wiki node token with type=wiki to the members of its document', async () => {
    emu.addDoc({ token: 'doxUnderWiki', type: 'docx', members: [owner] });
    emu.addWikiNode('wikMembers', { objToken: 'doxUnderWiki', objType: 'docx' });
    const res = await client.drive.v1.permissionMember.list({
      path: { token: 'wikMembers' },
      params: { type: 'wiki' },
    });
    expect(res.data?.items?.map((m) => m.member_id)).toEqual(['ou_manager']);
  });

  it('answers a mismatched type and an unknown document with 400 1063001, and serves membersError', async () => {
    emu.addDoc({ token: 'doxPerm', type: 'docx', members: [owner] });
    for (const attempt of [
      client.drive.v1.permissionMember.list({ path: { token: 'doxPerm' }, params: { type: 'sheet' } }),
      client.drive.v1.permissionMember.list({ path: { token: 'doxNoSuch' }, params: { type: 'docx' } }),
    ]) {
      const failed = await captureFailure(attempt);
      expect(failed.status).toBe(400);
      expect(failed.data).toMatchObject({ code: 1063001 });
    }

    emu.addDoc({
      token: 'doxClosed',
      type: 'docx',
      membersError: { httpStatus: 403, code: 1063002, msg: 'Permission denied' },
    });
    const denied = await captureFailure(
      client.drive.v1.permissionMember.list({ path: { token: 'doxClosed' }, params: { type: 'docx' } }),
    );
    expect(denied.status).toBe(403);
    expect(denied.data).toMatchObject({ code: 1063002 });
  });
});

describe('workplace access data', () => {
  const day = (date: string, n: number): EmulatedWorkplaceDay => ({
    date,
    all_workplace: { pv: 100 + n, uv: 30 + n },
    default_workplace: { pv: 60 + n, uv: 20 + n },
  });
  const march = Array.from({ length: 10 }, (_, i) => day(`2024-03-${String(i + 1).padStart(2, '0')}`, i));
  const inRange = march.slice(1, 9).map((d) => d.date); // 2024-03-02 … 2024-03-09

  async function searchAll(from: string, to: string, pageSize: number) {
    const dates: string[] = [];
    const sizes: number[] = [];
    let pageToken: string | undefined;
    do {
      const res = await client.workplace.v1.workplaceAccessData.search({
        params: {
          from_date: from,
          to_date: to,
          page_size: pageSize,
          ...(pageToken ? { page_token: pageToken } : {}),
        },
      });
      expect(res.code).toBe(0);
      const items = res.data?.items ?? [];
      dates.push(...items.map((i) => i.date ?? ''));
      sizes.push(items.length);
      pageToken = res.data?.has_more ? res.data.page_token : undefined;
      if (res.data?.has_more) expect(pageToken).toMatch(/^[a-z0-9]{12}$/);
    } while (pageToken);
    return { dates, sizes };
  }

  it('serves the days inside the range over several pages, with query parameters on an empty POST', async () => {
    emu.setWorkplaceDays(march);
    const { dates, sizes } = await searchAll('2024-03-02', '2024-03-09', 3);

    expect(sizes).toEqual([3, 3, 2]);
    expect(dates).toEqual(inRange);
    const [call] = emu.callsTo('POST', '/workplace/v1/workplace_access_data/search');
    expect(call?.query).toMatchObject({ from_date: '2024-03-02', to_date: '2024-03-09', page_size: '3' });
    expect(call?.body ?? {}).toEqual({});

    // Dates in the body, where a POST suggests they go, are not where the API reads them.
    const misplaced = await captureFailure(
      client.request({
        url: '/open-apis/workplace/v1/workplace_access_data/search',
        method: 'POST',
        data: { from_date: '2024-03-02', to_date: '2024-03-09', page_size: 3 },
      }),
    );
    expect(misplaced.status).toBe(400);
    expect(misplaced.data).toMatchObject({ code: 99992402 });
  });

  it('returns the figures of each day as stored', async () => {
    emu.setWorkplaceDays(march);
    const res = await client.workplace.v1.workplaceAccessData.search({
      params: { from_date: '2024-03-05', to_date: '2024-03-05', page_size: 20 },
    });
    expect(res.data).toEqual({
      items: [
        { date: '2024-03-05', all_workplace: { pv: 104, uv: 34 }, default_workplace: { pv: 64, uv: 24 } },
      ],
      has_more: false,
    });
  });

  it('hands days out newest first or in a fixed shuffle when told, still each exactly once', async () => {
    emu.setWorkplaceDays(march);
    emu.setWorkplaceOrder('desc');
    expect((await searchAll('2024-03-02', '2024-03-09', 3)).dates).toEqual([...inRange].reverse());

    emu.setWorkplaceOrder('shuffled');
    const shuffled = (await searchAll('2024-03-02', '2024-03-09', 3)).dates;
    expect([...shuffled].sort()).toEqual(inRange);
    expect(shuffled).not.toEqual(inRange);
    expect(shuffled).not.toEqual([...inRange].reverse());
  });

  it('answers bad dates with 1628001, from > to with 1628002, a bad token with 1628004, page size out of 1–200 with 400', async () => {
    emu.setWorkplaceDays(march);
    const search = (from: string, to: string, extra: { page_size?: number; page_token?: string } = {}) =>
      captureFailure(
        client.workplace.v1.workplaceAccessData.search({
          params: { from_date: from, to_date: to, page_size: 20, ...extra },
        }),
      );

    for (const [from, to] of [
      ['2024/03/01', '2024-03-05'],
      ['2024-02-30', '2024-03-05'],
      ['2024-03-01', '20240305'],
    ] as const) {
      const failed = await search(from, to);
      expect(failed.status).toBe(400);
      expect(failed.data).toMatchObject({ code: 1628001 });
    }
    expect((await search('2024-03-09', '2024-03-02')).data).toMatchObject({ code: 1628002 });
    expect((await search('2024-03-01', '2024-03-09', { page_token: 'ddowkdkl9w2d' })).data).toMatchObject({
      code: 1628004,
    });
    for (const pageSize of [0, 201]) {
      const failed = await search('2024-03-01', '2024-03-09', { page_size: pageSize });
      expect(failed.status).toBe(400);
      expect(failed.data).toMatchObject({ code: 99992402 });
    }
  });
});

describe('app usage overview', () => {
  const target = 'cli_9f115af860f7901b';
  const full = { uv: 10, total_users: 200, new_users: 3, pv: 55, lifecycle: 12 };
  type Ability = 'app' | 'mp' | 'h5' | 'bot';
  const overview = (
    data: { date: string; cycle_type: number; ability: Ability; department_id?: string },
    appId = target,
  ) => client.application.v6.applicationAppUsage.overview({ path: { app_id: appId }, data });
  const names = (res: Awaited<ReturnType<typeof overview>>) => res.data?.items?.map((i) => i.metric_name);

  it('returns the metrics each ability and cycle has, as [{metric_name, metric_value}]', async () => {
    const queries: EmulatedAppUsageQuery[] = [];
    emu.setAppUsage(target, (q) => {
      queries.push(q);
      return full;
    });

    const day = await overview({ date: '2024-03-05', cycle_type: 1, ability: 'app' });
    expect(day.data?.items).toEqual([
      { metric_name: 'uv', metric_value: 10 },
      { metric_name: 'total_users', metric_value: 200 },
      { metric_name: 'new_users', metric_value: 3 },
      { metric_name: 'pv', metric_value: 55 },
      { metric_name: 'lifecycle', metric_value: 12 },
    ]);
    expect(names(await overview({ date: '2024-03-04', cycle_type: 2, ability: 'app' }))).toEqual([
      'uv',
      'new_users',
      'pv',
      'lifecycle',
    ]);
    expect(names(await overview({ date: '2024-03-01', cycle_type: 3, ability: 'mp' }))).toEqual([
      'uv',
      'pv',
      'lifecycle',
    ]);
    expect(names(await overview({ date: '2024-03-05', cycle_type: 1, ability: 'bot' }))).toEqual(['uv']);

    await overview({
      date: '2024-03-05',
      cycle_type: 1,
      ability: 'h5',
      department_id: 'od-4e6ac4d14bcd5071a37a39de902c7141',
    });
    expect(queries.at(-1)).toEqual({
      appId: target,
      date: '2024-03-05',
      cycleType: 1,
      ability: 'h5',
      departmentId: 'od-4e6ac4d14bcd5071a37a39de902c7141',
      departmentIdType: 'open_department_id',
    });
  });

  it('refuses a week not starting on Monday and a month not starting on the 1st with 211010', async () => {
    emu.setAppUsage(target, full);
    for (const data of [
      { date: '2024-03-05', cycle_type: 2, ability: 'app' as const }, // a Tuesday
      { date: '2024-03-03', cycle_type: 2, ability: 'app' as const }, // a Sunday
      { date: '2024-03-02', cycle_type: 3, ability: 'app' as const },
    ]) {
      const failed = await captureFailure(overview(data));
      expect(failed.status).toBe(400);
      expect(failed.data).toMatchObject({ code: 211010, msg: 'invalid date range' });
    }
  });

  it('answers format, cycle, ability, app and department errors with their 2110xx codes', async () => {
    emu.setAppUsage(target, full);
    emu.setDepartments(['od-4e6ac4d14bcd5071a37a39de902c7141']);
    const cases: Array<[Promise<unknown>, number]> = [
      [overview({ date: '2024-3-5', cycle_type: 1, ability: 'app' }), 211007],
      [overview({ date: '2024-03-05', cycle_type: 4, ability: 'app' }), 211009],
      [overview({ date: '2024-03-05', cycle_type: 1, ability: 'web' as Ability }), 211008],
      [overview({ date: '2024-03-05', cycle_type: 1, ability: 'app' }, 'cli_unknown00000000'), 211005],
      [
        overview({ date: '2024-03-05', cycle_type: 1, ability: 'app', department_id: 'od-somewhereelse' }),
        211006,
      ],
      [overview({ date: '2024-03-05', cycle_type: 1, ability: 'app', department_id: 'sales' }), 211006],
    ];
    for (const [call, code] of cases) {
      const failed = await captureFailure(call);
      expect(failed.status).toBe(400);
      expect(failed.data).toMatchObject({ code });
    }
  });

  it('answers every call with HTTP 403 211004 when the tenant plan has no usage data', async () => {
    emu.setAppUsage(target, full);
    emu.setAppUsagePlan(false);
    const failed = await captureFailure(overview({ date: '2024-03-05', cycle_type: 1, ability: 'app' }));
    expect(failed.status).toBe(403);
    expect(failed.data).toMatchObject({ code: 211004, msg: 'no authority for quota limit' });
  });

  it('answers a query without data with HTTP 200 and 211011, which the SDK resolves instead of throwing', async () => {
    emu.setAppUsage(target, (q) => (q.date === '2024-03-05' ? full : undefined));
    const res = await overview({ date: '2024-03-06', cycle_type: 1, ability: 'app' });
    expect(res).toMatchObject({ code: 211011, msg: 'data not found' });
    expect(res.data).toBeUndefined();
    expect(
      emu.callsTo('POST', '/application/v6/applications/:app_id/app_usage/overview').at(-1)?.status,
    ).toBe(200);

    // The bot's own app is known without any setup, and has no data until some is set.
    const own = await overview({ date: '2024-03-05', cycle_type: 1, ability: 'app' }, emu.appId);
    expect(own.code).toBe(211011);
  });
});

describe('private messages', () => {
  it('creates a message to a person with receive_id_type=open_id, in one p2p chat per person', async () => {
    const send = () =>
      client.im.v1.message.create({
        params: { receive_id_type: 'open_id' },
        data: { receive_id: 'ou_requester', msg_type: 'interactive', content: JSON.stringify(card) },
      });
    const first = await send();
    const second = await send();

    expect(emu.messages[0]).toMatchObject({
      kind: 'create',
      targetId: 'ou_requester',
      receiveIdType: 'open_id',
    });
    expect(second.data?.chat_id).toBe(first.data?.chat_id);
    expect(first.data?.chat_id).toMatch(/^oc_/);

    await client.im.v1.message.create({
      params: { receive_id_type: 'chat_id' },
      data: { receive_id: 'oc_group', msg_type: 'text', content: JSON.stringify({ text: 'hi' }) },
    });
    expect(emu.messages[2]?.receiveIdType).toBe('chat_id');
  });

  it('refuses an open_id that is not one', async () => {
    const failed = await captureFailure(
      client.im.v1.message.create({
        params: { receive_id_type: 'open_id' },
        data: { receive_id: '8a1b2c3d', msg_type: 'text', content: JSON.stringify({ text: 'hi' }) },
      }),
    );
    expect(failed.status).toBe(400);
    expect(emu.messages).toHaveLength(0);
  });
});

describe('rate limits', () => {
  const SECOND_START = 1_700_000_040_000; // a whole minute, so second and minute windows start together
  let now = SECOND_START;
  let limited: FeishuEmulator;
  let limitedClient: lark.Client;
  const likesPath = '/drive/v2/files/:file_token/likes';
  const likes = () =>
    limitedClient.drive.v2.fileLike.list({ path: { file_token: 'doxRate' }, params: { file_type: 'docx' } });

  beforeEach(async () => {
    now = SECOND_START;
    limited = await startFeishuEmulator({ rateLimitClock: () => now });
    limitedClient = sdkClient(limited);
    limited.addDoc({ token: 'doxRate', type: 'docx', likes: makeLikes(2) });
  });

  afterEach(async () => {
    await limited.close();
  });

  it('refuses calls over the per-second limit with 429 99991400 and the ogw headers, then recovers next second', async () => {
    limited.setRateLimit('GET', likesPath, { perSecond: 5 });
    now = SECOND_START + 250;

    const results = await Promise.all(
      Array.from({ length: 7 }, () =>
        likes().then(
          () => undefined,
          (e) => e,
        ),
      ),
    );
    const refusals = results.filter((r) => r !== undefined);
    expect(refusals).toHaveLength(2);
    const failed = await captureFailure(Promise.reject(refusals[0]));
    expect(failed.status).toBe(429);
    expect(failed.data).toMatchObject({ code: 99991400, msg: 'request trigger frequency limit' });
    expect(failed.headers).toMatchObject({ 'x-ogw-ratelimit-limit': '5', 'x-ogw-ratelimit-reset': '1' });

    expect(limited.rateLimitedCount()).toBe(2);
    expect(limited.rateLimitedCount('GET', likesPath)).toBe(2);
    expect(limited.rateLimitedCount('GET', '/drive/v1/files/:file_token/statistics')).toBe(0);
    expect(limited.callsTo('GET', likesPath).filter((c) => c.status === 429)).toHaveLength(2);

    // Other APIs have their own budget.
    await expect(
      limitedClient.drive.v1.fileStatistics.get({
        path: { file_token: 'doxRate' },
        params: { file_type: 'docx' },
      }),
    ).resolves.toMatchObject({ code: 0 });

    now = SECOND_START + 1000;
    await expect(likes()).resolves.toMatchObject({ code: 0 });
    expect(limited.rateLimitedCount()).toBe(2);
  });

  it('counts a per-minute limit across seconds and says how many seconds remain in the minute', async () => {
    limited.setRateLimit('GET', likesPath, { perSecond: 50, perMinute: 3 });
    for (const offset of [0, 10_000, 20_000]) {
      now = SECOND_START + offset;
      await likes();
    }
    now = SECOND_START + 45_200;
    const failed = await captureFailure(likes());
    expect(failed.status).toBe(429);
    // 60 − 45.2 = 14.8 s left in the minute, rounded up to whole seconds.
    expect(failed.headers).toMatchObject({ 'x-ogw-ratelimit-limit': '3', 'x-ogw-ratelimit-reset': '15' });

    now = SECOND_START + 60_000;
    await expect(likes()).resolves.toMatchObject({ code: 0 });
  });

  it('spends no capacity on refused calls, so a per-second refusal does not eat the minute budget', async () => {
    limited.setRateLimit('GET', likesPath, { perSecond: 1, perMinute: 3 });
    await likes();
    await captureFailure(likes());
    for (const offset of [1000, 2000]) {
      now = SECOND_START + offset;
      await expect(likes()).resolves.toMatchObject({ code: 0 });
    }
    now = SECOND_START + 3000;
    expect((await captureFailure(likes())).headers).toMatchObject({ 'x-ogw-ratelimit-limit': '3' });
  });

  it('serves the legacy HTTP 400 variant when asked, and never counts injected failures', async () => {
    limited.setRateLimit('GET', likesPath, { perSecond: 1, httpStatus: 400 });
    limited.failNext('GET', '/drive/v1/files/:file_token/statistics', {
      httpStatus: 429,
      code: 99991400,
      msg: 'request trigger frequency limit',
    });
    await captureFailure(
      limitedClient.drive.v1.fileStatistics.get({
        path: { file_token: 'doxRate' },
        params: { file_type: 'docx' },
      }),
    );
    await likes();
    const failed = await captureFailure(likes());
    expect(failed.status).toBe(400);
    expect(failed.data).toMatchObject({ code: 99991400 });
    expect(limited.rateLimitedCount()).toBe(1);
  });

  it('keeps limits across reset() but clears the counters; clearRateLimits() lifts them', async () => {
    limited.setRateLimit('GET', likesPath, { perSecond: 1 });
    await likes();
    await captureFailure(likes());
    expect(limited.rateLimitedCount()).toBe(1);

    limited.reset();
    expect(limited.rateLimitedCount()).toBe(0);
    await likes();
    await captureFailure(likes());
    expect(limited.rateLimitedCount()).toBe(1);

    limited.clearRateLimits();
    await expect(likes()).resolves.toMatchObject({ code: 0 });
    expect(limited.rateLimitedCount()).toBe(0);
  });

  it('aligns windows to the real clock by default', async () => {
    emu.addDoc({ token: 'doxWall', type: 'docx' });
    emu.setRateLimit('GET', '/drive/v1/files/:file_token/statistics', { perSecond: 1 });
    const stats = () =>
      client.drive.v1.fileStatistics.get({ path: { file_token: 'doxWall' }, params: { file_type: 'docx' } });
    await fetchToken(emu);
    // Start just after a second boundary so both calls fall into the same window.
    await sleep(1000 - (Date.now() % 1000) + 5);
    await stats();
    const failed = await captureFailure(stats());
    expect(failed.headers).toMatchObject({ 'x-ogw-ratelimit-reset': '1' });

    await sleep(1000 - (Date.now() % 1000) + 5);
    await expect(stats()).resolves.toMatchObject({ code: 0 });
  });
});

describe('people fixtures', () => {
  it('makes viewers with distinct ou_ ids, names and avatars, and strictly decreasing epoch-second strings', () => {
    const viewers = makeViewers(300, { newest: 1_700_000_000, stepSeconds: 60 });
    expect(new Set(viewers.map((v) => v.viewer_id)).size).toBe(300);
    expect(new Set(viewers.map((v) => v.name)).size).toBe(300);
    expect(new Set(viewers.map((v) => v.avatar_url)).size).toBe(300);
    expect(viewers.every((v) => /^ou_[0-9a-f]{32}$/.test(v.viewer_id))).toBe(true);
    expect(viewers[0]?.last_view_time).toBe('1700000000');
    expect(viewers[299]?.last_view_time).toBe(String(1_700_000_000 - 299 * 60));
  });

  it('makes likers, leaving out name, English name and avatar of the desensitised ones', () => {
    const likes = makeLikes(6, { desensitized: (i) => i % 3 === 0 });
    expect(likes.filter((l) => l.user_is_desensitized).map((l) => likes.indexOf(l))).toEqual([0, 3]);
    expect(Object.keys(likes[0] ?? {}).sort()).toEqual([
      'last_liked_time',
      'user_id',
      'user_is_desensitized',
    ]);
    expect(likes[1]).toMatchObject({
      user_name: expect.any(String),
      user_en_name: expect.stringMatching(/ /),
    });
  });

  it('builds a card.action.trigger envelope shaped like the card callback doc', () => {
    const event = cardActionEvent({
      operatorOpenId: 'ou_clicker',
      value: { action: 'viewers_next', page_token: '1674037112--7189934631754563585' },
      openMessageId: 'om_card',
      openChatId: 'oc_chat',
      eventId: 'evt-1',
    });

    expect(event.schema).toBe('2.0');
    expect(event.header).toMatchObject({ event_id: 'evt-1', event_type: 'card.action.trigger' });
    // Microseconds in the callback doc.
    expect(event.header.create_time).toMatch(/^\d{16}$/);
    expect(event.event.operator).toMatchObject({
      open_id: 'ou_clicker',
      union_id: expect.stringMatching(/^on_/),
      tenant_key: event.header.tenant_key,
    });
    expect(event.event.token).toMatch(/^c-[0-9a-f]+$/);
    expect(event.event.action).toEqual({
      value: { action: 'viewers_next', page_token: '1674037112--7189934631754563585' },
      tag: 'button',
    });
    expect(event.event.host).toBe('im_message');
    expect(event.event.context).toEqual({ open_message_id: 'om_card', open_chat_id: 'oc_chat' });
  });
});
