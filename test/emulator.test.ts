import { createDecipheriv, createHash } from 'node:crypto';
import * as lark from '@larksuiteoapi/node-sdk';
import { isAxiosError } from 'axios';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';
import {
  allMention,
  botMention,
  buildEncryptedRequest,
  encryptForFeishu,
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
    expect((failed.headers as Record<string, string>)['x-tt-logid']).toBeTruthy();
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
