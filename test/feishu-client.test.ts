import { Writable } from 'node:stream';
import nock from 'nock';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createFeishuClient,
  type FeishuClient,
  type FeishuClientOptions,
  TENANT_TOKEN_ENDPOINT,
} from '../src/feishu/client.js';
import { isTransient } from '../src/feishu/codes.js';
import { FeishuApiError, FeishuUnexpectedResponseError } from '../src/feishu/errors.js';
import type { RateLimiter } from '../src/feishu/rate-limits.js';
import { createSdkLogger } from '../src/feishu/sdk-logger.js';

const BASE = 'http://feishu.test';
const APP_ID = 'cli_a5f3b2c1d0e9f8a7';
const APP_SECRET = 'Zq8mVw3LrT6yHc1NxK0pUeB4sJd7Gf2a';
const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';
const DOC = { token: 'doxcnfYZzTlvXqZIGTdAHKabcef', type: 'docx' } as const;
const STATS_PATH = `/open-apis/drive/v1/files/${DOC.token}/statistics`;

// Response bodies as printed in the Feishu docs (auth, drive statistics, wiki get_node, metas, im reply, bot info).
function tokenBody(token = 't-caecc734c2e3328a62489fe0648c4b98779515d3') {
  return { code: 0, msg: 'ok', tenant_access_token: token, expire: 7200 };
}
const STATISTICS_BODY = {
  code: 0,
  msg: 'success',
  data: {
    file_token: DOC.token,
    file_type: 'docx',
    statistics: {
      uv: 10,
      pv: 15,
      like_count: 2,
      timestamp: 1627367349,
      uv_today: 1,
      pv_today: 3,
      like_count_today: 4,
    },
  },
};
const RATE_LIMITED_BODY = { code: 99991400, msg: 'request trigger frequency limit' };
const TOKEN_INVALID_BODY = {
  code: 99991663,
  msg: 'Invalid access token for authorization. Please make a request with token attached.',
};

interface Harness {
  client: FeishuClient;
  sleeps: number[];
  logs: () => string;
}

const clients: FeishuClient[] = [];

function createHarness(
  overrides: Pick<
    FeishuClientOptions,
    'timeoutMs' | 'callBudgetMs' | 'rateLimiter' | 'onAttempt' | 'onWait'
  > = {},
): Harness {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  const sleeps: number[] = [];
  const client = createFeishuClient({
    appId: APP_ID,
    appSecret: APP_SECRET,
    domain: BASE,
    logger: pino({ level: 'trace' }, stream),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    ...overrides,
  });
  clients.push(client);
  return { client, sleeps, logs: () => chunks.join('') };
}

async function catchError(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to reject');
}

beforeAll(() => {
  nock.disableNetConnect();
});

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  nock.abortPendingRequests();
  nock.cleanAll();
});

afterAll(() => {
  nock.enableNetConnect();
});

describe('createFeishuClient: results', () => {
  it('returns file statistics camel-cased, sending the tenant token and file_type', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH, { app_id: APP_ID, app_secret: APP_SECRET })
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query({ file_type: 'docx' })
      .matchHeader('authorization', 'Bearer t-caecc734c2e3328a62489fe0648c4b98779515d3')
      .reply(200, STATISTICS_BODY);
    const { client } = createHarness();

    await expect(client.getFileStatistics(DOC)).resolves.toEqual({
      uv: 10,
      pv: 15,
      likeCount: 2,
      timestamp: 1627367349,
      uvToday: 1,
      pvToday: 3,
      likeCountToday: 4,
    });
    scope.done();
  });

  it('reads the bot identity from the top-level `bot` of /bot/v3/info', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get('/open-apis/bot/v3/info')
      .reply(200, {
        code: 0,
        msg: 'ok',
        bot: {
          activate_status: 2,
          app_name: 'Stats Bot',
          avatar_url: 'https://s1-imfile.feishucdn.com/static-resource/v1/da5xxxx_860b6a4f1c8a',
          ip_white_list: [],
          open_id: 'ou_e6e14f667cfe239d7b129b521dce0569',
        },
      });
    const { client } = createHarness();

    await expect(client.getBotInfo()).resolves.toEqual({
      openId: 'ou_e6e14f667cfe239d7b129b521dce0569',
      appName: 'Stats Bot',
    });
    scope.done();
  });

  it('maps a wiki node to the object token and type it points at', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get('/open-apis/wiki/v2/spaces/get_node')
      .query({ token: 'wikcnKQ1k3p8Vabcef' })
      .reply(200, {
        code: 0,
        msg: 'success',
        data: {
          node: {
            space_id: '6946843325487912356',
            node_token: 'wikcnKQ1k3p8Vabcef',
            obj_token: 'doxcnzAaODWabcdef',
            obj_type: 'docx',
            parent_node_token: 'wikcnKQ1k3p8Vabcef',
            node_type: 'origin',
            origin_node_token: 'wikcnKQ1k3p8Vabcef',
            origin_space_id: '6946843325487912356',
            has_child: false,
            title: '季度复盘',
            obj_create_time: '1642402428',
            obj_edit_time: '1642402428',
            node_create_time: '1642402428',
            creator: 'ou_0c5ee9b4b2fa6ea0a8ba3f6a13b5b2d4',
            owner: 'ou_0c5ee9b4b2fa6ea0a8ba3f6a13b5b2d4',
            node_creator: 'ou_0c5ee9b4b2fa6ea0a8ba3f6a13b5b2d4',
          },
        },
      });
    const { client } = createHarness();

    await expect(client.getWikiNode('wikcnKQ1k3p8Vabcef')).resolves.toEqual({
      objToken: 'doxcnzAaODWabcdef',
      objType: 'docx',
      title: '季度复盘',
    });
    scope.done();
  });

  it('queries metas 200 documents per request with with_url and ignores failed_list', async () => {
    const docs = Array.from({ length: 201 }, (_, i) => ({
      token: `doxcnMeta${String(i).padStart(4, '0')}`,
      type: 'docx' as const,
    }));
    const requestSizes: number[] = [];
    const metaFor = (token: string) => ({
      doc_token: token,
      doc_type: 'docx',
      title: `title ${token}`,
      owner_id: 'ou_b13d41c02edc52ce66aaae67bf1abcef',
      create_time: '1652066345',
      latest_modify_user: 'ou_b13d41c02edc52ce66aaae67bf1abcef',
      latest_modify_time: '1652066345',
      url: `https://sample.feishu.cn/docx/${token}`,
      sec_label_name: 'L2-内部',
    });
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post('/open-apis/drive/v1/metas/batch_query')
      .query({ user_id_type: 'open_id' })
      .times(2)
      // nock 15 hands reply functions the fetch Request, not (uri, body).
      .reply(200, async (request: Request) => {
        const { request_docs, with_url } = (await request.json()) as {
          request_docs: { doc_token: string }[];
          with_url: boolean;
        };
        requestSizes.push(request_docs.length);
        expect(with_url).toBe(true);
        // The first document of each chunk is reported as unreadable, the rest succeed.
        const [first, ...rest] = request_docs;
        return {
          code: 0,
          msg: 'success',
          data: {
            metas: rest.map((doc) => metaFor(doc.doc_token)),
            failed_list: first ? [{ token: first.doc_token, code: 970005 }] : [],
          },
        };
      });
    const { client } = createHarness();

    const metas = await client.batchQueryMetas(docs);

    expect(requestSizes).toEqual([200, 1]);
    expect(metas.size).toBe(199);
    expect(metas.has('doxcnMeta0000')).toBe(false);
    expect(metas.get('doxcnMeta0001')).toEqual({
      token: 'doxcnMeta0001',
      type: 'docx',
      title: 'title doxcnMeta0001',
      ownerId: 'ou_b13d41c02edc52ce66aaae67bf1abcef',
      url: 'https://sample.feishu.cn/docx/doxcnMeta0001',
    });
    scope.done();
  });

  it('replies with an interactive card, JSON content and the idempotency uuid', async () => {
    const card = {
      schema: '2.0',
      header: { title: { tag: 'plain_text', content: 'Stats' } },
      body: { elements: [] },
    };
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post('/open-apis/im/v1/messages/om_d4be107c616aed9c1da8ed8068570a9f/reply', (body) => {
        return (
          body.msg_type === 'interactive' &&
          body.uuid === 'stats-om_d4be107c616a' &&
          typeof body.content === 'string' &&
          JSON.stringify(JSON.parse(body.content)) === JSON.stringify(card)
        );
      })
      .reply(200, {
        code: 0,
        msg: 'success',
        data: {
          message_id: 'om_dc13264520392913993dd051dba21dcf',
          root_id: 'om_d4be107c616aed9c1da8ed8068570a9f',
          parent_id: 'om_d4be107c616aed9c1da8ed8068570a9f',
          msg_type: 'interactive',
          create_time: '1615380573411',
          update_time: '1615380573411',
          deleted: false,
          updated: false,
          chat_id: 'oc_5ad11d72b830411d72b836c20',
          sender: {
            id: 'cli_9f427eec54ae901b',
            id_type: 'app_id',
            sender_type: 'app',
            tenant_key: '736588c9260f175e',
          },
          body: { content: JSON.stringify(card) },
        },
      });
    const { client } = createHarness();

    await expect(
      client.replyCard('om_d4be107c616aed9c1da8ed8068570a9f', card, 'stats-om_d4be107c616a'),
    ).resolves.toEqual({
      messageId: 'om_dc13264520392913993dd051dba21dcf',
    });
    scope.done();
  });

  it('sends a card to a chat by chat_id', async () => {
    const card = { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'hi' }] } };
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post('/open-apis/im/v1/messages', {
        receive_id: 'oc_5ad11d72b830411d72b836c20',
        msg_type: 'interactive',
        content: JSON.stringify(card),
        uuid: 'welcome-oc_5ad11d72',
      })
      .query({ receive_id_type: 'chat_id' })
      .reply(200, { code: 0, msg: 'success', data: { message_id: 'om_a1b2c3d4e5f60718293a4b5c6d7e8f90' } });
    const { client } = createHarness();

    await expect(
      client.sendCard('oc_5ad11d72b830411d72b836c20', card, 'welcome-oc_5ad11d72'),
    ).resolves.toEqual({
      messageId: 'om_a1b2c3d4e5f60718293a4b5c6d7e8f90',
    });
    scope.done();
  });
});

describe('createFeishuClient: errors', () => {
  it('turns HTTP 403 {code:1069603} into a FeishuApiError with status and x-tt-logid, without retrying', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(
        403,
        { code: 1069603, msg: 'forbidden' },
        { 'X-Tt-Logid': '202407011204125CE6A6B0A2B5E8C0FF12' },
      );
    const { client, sleeps } = createHarness();

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({
      endpoint: 'drive.v1.fileStatistics.get',
      feishuCode: 1069603,
      feishuMsg: 'forbidden',
      httpStatus: 403,
      logId: '202407011204125CE6A6B0A2B5E8C0FF12',
    });
    expect(sleeps).toEqual([]);
    scope.done();
  });

  it('turns HTTP 200 {code:1069604} into a FeishuApiError, log id taken from error.log_id', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(200, { code: 1069604, msg: 'document not found', error: { log_id: '20240701120412A1B2C3' } });
    const { client } = createHarness();

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({ feishuCode: 1069604, httpStatus: 200, logId: '20240701120412A1B2C3' });
    scope.done();
  });

  it('reports a refused token request as a FeishuApiError and never logs the app secret', async () => {
    const scope = nock(BASE).post(TOKEN_PATH).reply(400, { code: 10014, msg: 'app secret invalid' });
    const { client, logs } = createHarness();

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toMatchObject({ endpoint: TENANT_TOKEN_ENDPOINT, feishuCode: 10014, httpStatus: 400 });
    expect(JSON.stringify(error)).not.toContain(APP_SECRET);
    expect(String(error)).not.toContain(APP_SECRET);
    // The SDK did log the failed request (so the check below looked at something), just not the secret.
    expect(logs()).toContain(TOKEN_PATH);
    expect(logs()).not.toContain(APP_SECRET);
    scope.done();
  });

  it('reports a token refusal answered with HTTP 200 by its Feishu code', async () => {
    const scope = nock(BASE).post(TOKEN_PATH).reply(200, { code: 10003, msg: 'invalid param' });
    const { client, logs } = createHarness();

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({
      endpoint: TENANT_TOKEN_ENDPOINT,
      feishuCode: 10003,
      feishuMsg: 'invalid param',
    });
    expect(logs()).not.toContain(APP_SECRET);
    scope.done();
  });

  it('gives up with code -1 "timeout" when Feishu does not answer within timeoutMs', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .delay(2_000)
      .reply(200, STATISTICS_BODY);
    const { client } = createHarness({ timeoutMs: 150 });

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({
      endpoint: 'drive.v1.fileStatistics.get',
      feishuCode: -1,
      feishuMsg: 'timeout',
    });
    scope.done();
  });

  it('gives up with code -1 "connection refused" when the socket is refused', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .replyWithError(
        Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:80'), { code: 'ECONNREFUSED' }),
      );
    const { client } = createHarness();

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toMatchObject({ feishuCode: -1, feishuMsg: 'connection refused' });
    scope.done();
  });
});

describe('createFeishuClient: onAttempt and onWait', () => {
  it('reports every request with its code and status: token, 200 with code ≠ 0, rate limit, refusal', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(200, { code: 1069604, msg: 'document not found' })
      .get(STATS_PATH)
      .query(true)
      .reply(429, RATE_LIMITED_BODY, { 'x-ogw-ratelimit-reset': '2' })
      .get(STATS_PATH)
      .query(true)
      .reply(200, STATISTICS_BODY)
      .get(STATS_PATH)
      .query(true)
      .replyWithError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    const attempts: Array<{ endpoint: string; code: number; status?: number }> = [];
    const waits: Array<{ side: string; endpoint: string }> = [];
    const limiter: RateLimiter = { acquire: async () => undefined };
    const { client, sleeps } = createHarness({
      rateLimiter: limiter,
      onAttempt: ({ endpoint, code, status, seconds }) => {
        expect(seconds).toBeGreaterThanOrEqual(0);
        attempts.push(status === undefined ? { endpoint, code } : { endpoint, code, status });
      },
      onWait: ({ side, endpoint }) => waits.push({ side, endpoint }),
    });

    await catchError(client.getFileStatistics(DOC));
    await client.getFileStatistics(DOC);
    await catchError(client.getFileStatistics(DOC));

    const stats = 'drive.v1.fileStatistics.get';
    expect(attempts).toEqual([
      { endpoint: TENANT_TOKEN_ENDPOINT, code: 0, status: 200 },
      { endpoint: stats, code: 1069604, status: 200 },
      { endpoint: stats, code: 99991400, status: 429 },
      { endpoint: stats, code: 0, status: 200 },
      { endpoint: stats, code: -1 },
    ]);
    expect(sleeps).toHaveLength(1);
    expect(waits).toEqual([
      { side: 'client', endpoint: stats },
      { side: 'client', endpoint: stats },
      { side: 'feishu', endpoint: stats },
      { side: 'client', endpoint: stats },
      { side: 'client', endpoint: stats },
    ]);
    scope.done();
  });
});

describe('createFeishuClient: a body of the wrong shape', () => {
  it.each([
    { case: 'code 0 without data', body: { code: 0, msg: 'success' } },
    { case: 'a body that is not JSON', body: '<html>gateway</html>' },
  ])('is a FeishuUnexpectedResponseError, sent once, never a timeout ($case)', async ({ body }) => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(200, body, { 'x-tt-logid': 'LOG-SHAPE' });
    const { client, sleeps } = createHarness();

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toBeInstanceOf(FeishuUnexpectedResponseError);
    expect(error).toMatchObject({ endpoint: 'drive.v1.fileStatistics.get', missing: 'data.statistics' });
    expect(error).not.toBeInstanceOf(FeishuApiError);
    expect(isTransient(error)).toBe(false);
    expect(sleeps).toEqual([]);
    scope.done();
  });
});

describe('createFeishuClient: tenant token', () => {
  it('drops a rejected token (99991663), fetches a new one and retries the call once', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody('t-g1044first0000000000000000000000000000'))
      .get(STATS_PATH)
      .query(true)
      .matchHeader('authorization', 'Bearer t-g1044first0000000000000000000000000000')
      .reply(200, TOKEN_INVALID_BODY)
      .post(TOKEN_PATH)
      .reply(200, tokenBody('t-g1044second000000000000000000000000000'))
      .get(STATS_PATH)
      .query(true)
      .matchHeader('authorization', 'Bearer t-g1044second000000000000000000000000000')
      .reply(200, STATISTICS_BODY);
    const { client, logs } = createHarness();

    await expect(client.getFileStatistics(DOC)).resolves.toMatchObject({ uv: 10, pv: 15 });
    scope.done();
    expect(logs()).not.toContain('t-g1044');
  });

  it('throws the second 99991663 instead of refreshing again', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .times(2)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .times(2)
      .reply(200, TOKEN_INVALID_BODY);
    const { client } = createHarness();

    // A third attempt would find no interceptor left and fail with nock's 501 (code -1), not 99991663.
    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toMatchObject({ feishuCode: 99991663, httpStatus: 200 });
    scope.done();
  });

  it('fetches exactly one token for 10 concurrent calls on a cold client', async () => {
    let tokenRequests = 0;
    // One token interceptor only: a second token request would find none and fail its call.
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, () => {
        tokenRequests += 1;
        return tokenBody();
      })
      .get(STATS_PATH)
      .query(true)
      .times(10)
      .reply(200, STATISTICS_BODY);
    const { client } = createHarness();

    const results = await Promise.all(Array.from({ length: 10 }, () => client.getFileStatistics(DOC)));

    expect(results).toHaveLength(10);
    expect(tokenRequests).toBe(1);
    scope.done();
  });
});

describe('createFeishuClient: rate limits', () => {
  it.each([
    {
      case: 'x-ogw-ratelimit-reset seconds after HTTP 429',
      status: 429,
      headers: { 'x-ogw-ratelimit-limit': '5', 'x-ogw-ratelimit-reset': '2' } as Record<string, string>,
      min: 2_000,
      max: 2_500,
    },
    {
      case: 'the reset header of an HTTP 200 body with code 99991400',
      status: 200,
      headers: { 'x-ogw-ratelimit-reset': '4' },
      min: 4_000,
      max: 4_500,
    },
    {
      case: 'about one second when the reset header is absent',
      status: 400,
      headers: {},
      min: 1_000,
      max: 1_500,
    },
    {
      case: "the whole 52 s of Feishu's own example, within the 60 s budget",
      status: 429,
      headers: { 'x-ogw-ratelimit-reset': '52' },
      min: 52_000,
      max: 52_250,
    },
  ])('on 99991400 waits $case, then succeeds', async ({ status, headers, min, max }) => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(status, RATE_LIMITED_BODY, headers)
      .get(STATS_PATH)
      .query(true)
      .reply(200, STATISTICS_BODY);
    const { client, sleeps } = createHarness();

    await expect(client.getFileStatistics(DOC)).resolves.toMatchObject({ uv: 10 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(min);
    expect(sleeps[0]).toBeLessThanOrEqual(max - 1);
    scope.done();
  });

  it('fails at once, without retrying inside the window, when the reset ends past the call budget', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(429, RATE_LIMITED_BODY, { 'x-ogw-ratelimit-reset': '52' });
    const { client, sleeps } = createHarness({ callBudgetMs: 30_000 });

    const error = await catchError(client.getFileStatistics(DOC));

    // The queue retries the job later; a retry before the reset would only meet the same refusal.
    expect(error).toMatchObject({ feishuCode: 99991400, httpStatus: 429 });
    expect(isTransient(error)).toBe(true);
    expect(sleeps).toEqual([]);
    scope.done();
  });

  it.each([
    { code: 230020, what: 'message rate limit' },
    { code: 11232, what: 'message create limit' },
    { code: 11233, what: 'chat trigger limit' },
  ])('waits and retries a send refused with $code ($what)', async ({ code }) => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post('/open-apis/im/v1/messages')
      .query({ receive_id_type: 'chat_id' })
      .reply(400, { code, msg: 'rate limited' }, { 'x-ogw-ratelimit-reset': '1' })
      .post('/open-apis/im/v1/messages')
      .query({ receive_id_type: 'chat_id' })
      .reply(200, { code: 0, msg: 'success', data: { message_id: 'om_after_wait' } });
    const { client, sleeps } = createHarness();

    await expect(client.sendCard('oc_chat', { schema: '2.0' }, 'uuid-1')).resolves.toEqual({
      messageId: 'om_after_wait',
    });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1_000);
    scope.done();
  });

  it('throws the rate-limit error after three rate-limited attempts', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .times(3)
      .reply(429, RATE_LIMITED_BODY, { 'x-ogw-ratelimit-reset': '1' });
    const { client, sleeps } = createHarness();

    const error = await catchError(client.getFileStatistics(DOC));

    expect(error).toMatchObject({ feishuCode: 99991400, httpStatus: 429 });
    expect(sleeps).toHaveLength(2);
    scope.done();
  });
});

describe('createFeishuClient: view records and likes', () => {
  const VIEW_RECORDS_PATH = `/open-apis/drive/v1/files/${DOC.token}/view_records`;
  const LIKES_PATH = `/open-apis/drive/v2/files/${DOC.token}/likes`;

  it('lists view records 20 at a time by open_id, with epoch-second strings turned into numbers', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(VIEW_RECORDS_PATH)
      .query({ file_type: 'docx', page_size: '20', viewer_id_type: 'open_id' })
      .reply(200, {
        code: 0,
        msg: 'success',
        data: {
          items: [
            {
              viewer_id: 'ou_cc19b2bfb93f8a44db4b4d6eababcef',
              name: 'zhangsan',
              avatar_url: 'https://foo.icon.com/xxxx',
              last_view_time: '1679284285',
            },
            { viewer_id: 'ou_0c5ee9b4b2fa6ea0a8ba3f6a13b5b2d4', last_view_time: '1679280000' },
          ],
          page_token: '1674037112--7189934631754563585',
          has_more: true,
        },
      });
    const { client } = createHarness();

    await expect(client.listViewRecords(DOC)).resolves.toEqual({
      items: [
        {
          viewerId: 'ou_cc19b2bfb93f8a44db4b4d6eababcef',
          name: 'zhangsan',
          avatarUrl: 'https://foo.icon.com/xxxx',
          lastViewTime: 1679284285,
        },
        { viewerId: 'ou_0c5ee9b4b2fa6ea0a8ba3f6a13b5b2d4', lastViewTime: 1679280000 },
      ],
      hasMore: true,
      pageToken: '1674037112--7189934631754563585',
    });
    scope.done();
  });

  it('passes the page token and size through and ends paging on the last page', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(VIEW_RECORDS_PATH)
      .query({
        file_type: 'docx',
        page_size: '50',
        viewer_id_type: 'open_id',
        page_token: '1674037112--7189934631754563585',
      })
      .reply(200, { code: 0, msg: 'success', data: { items: [], has_more: false } });
    const { client } = createHarness();

    await expect(
      client.listViewRecords(DOC, { pageToken: '1674037112--7189934631754563585', pageSize: 80 }),
    ).resolves.toEqual({ items: [], hasMore: false });
    scope.done();
  });

  it('reports 1069603 (no manage right, or access records off) as a FeishuApiError', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(VIEW_RECORDS_PATH)
      .query(true)
      .reply(403, { code: 1069603, msg: 'forbidden' });
    const { client } = createHarness();

    await expect(client.listViewRecords(DOC)).rejects.toMatchObject({
      endpoint: 'drive.v1.fileViewRecord.list',
      feishuCode: 1069603,
      httpStatus: 403,
    });
    scope.done();
  });

  it('lists likers by open_id and marks desensitised ones, whose names Feishu withholds', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(LIKES_PATH)
      .query({ file_type: 'docx', page_size: '20', user_id_type: 'open_id', page_token: 'aw7DoMKBFMOGwqHC' })
      .reply(200, {
        code: 0,
        msg: 'success',
        data: {
          items: [
            {
              user_id: 'ou_3bbe8a09c20e89cce9bff989ed840674',
              last_liked_time: '1690857821',
              user_name: '张三',
              user_en_name: 'San Zhang',
              user_avatar_url: 'https://foo.icon.com/xxxx',
              user_is_desensitized: false,
            },
            {
              user_id: 'ou_8e1fc9e2b5d3a4f6071829a3b4c5d6e7',
              last_liked_time: '1690850000',
              user_is_desensitized: true,
            },
          ],
          has_more: false,
        },
      });
    const { client } = createHarness();

    await expect(client.listLikes(DOC, { pageToken: 'aw7DoMKBFMOGwqHC' })).resolves.toEqual({
      items: [
        {
          userId: 'ou_3bbe8a09c20e89cce9bff989ed840674',
          name: '张三',
          enName: 'San Zhang',
          avatarUrl: 'https://foo.icon.com/xxxx',
          lastLikedTime: 1690857821,
          desensitized: false,
        },
        { userId: 'ou_8e1fc9e2b5d3a4f6071829a3b4c5d6e7', lastLikedTime: 1690850000, desensitized: true },
      ],
      hasMore: false,
    });
    scope.done();
  });

  it('reports a missing document (HTTP 404, 1061003) as a FeishuApiError without retrying', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(LIKES_PATH)
      .query(true)
      .reply(404, { code: 1061003, msg: 'file not found' });
    const { client, sleeps } = createHarness();

    const error = await catchError(client.listLikes(DOC));

    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({ endpoint: 'drive.v2.fileLike.list', feishuCode: 1061003, httpStatus: 404 });
    expect(sleeps).toEqual([]);
    scope.done();
  });
});

describe('createFeishuClient: workplace and app usage', () => {
  const WORKPLACE_PATH = '/open-apis/workplace/v1/workplace_access_data/search';
  const APP_USAGE_PATH = '/open-apis/application/v6/applications/cli_9f115af860f7901b/app_usage/overview';

  it('searches workplace access data with every parameter in the query of the POST', async () => {
    let requestBody: string | undefined;
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post(WORKPLACE_PATH)
      .query({ from_date: '2023-03-01', to_date: '2023-03-22', page_size: '200', page_token: 'ddowkdkl9w2d' })
      .reply(200, async (request: Request) => {
        requestBody = await request.text();
        return {
          code: 0,
          msg: 'success',
          data: {
            items: [
              {
                date: '2023-03-12',
                all_workplace: { pv: 100, uv: 30 },
                default_workplace: { pv: 80, uv: 25 },
              },
            ],
            has_more: true,
            page_token: 'ddowkdkl9w2e',
          },
        };
      });
    const { client } = createHarness();

    const page = await client.searchWorkplaceAccessData({
      fromDate: '2023-03-01',
      toDate: '2023-03-22',
      pageToken: 'ddowkdkl9w2d',
    });

    expect(page).toEqual({
      items: [
        { date: '2023-03-12', allWorkplace: { pv: 100, uv: 30 }, defaultWorkplace: { pv: 80, uv: 25 } },
      ],
      hasMore: true,
      pageToken: 'ddowkdkl9w2e',
    });
    expect(requestBody ?? '').not.toContain('from_date');
    scope.done();
  });

  it('reports 1628002 (from after to) as a FeishuApiError', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post(WORKPLACE_PATH)
      .query(true)
      .reply(400, { code: 1628002, msg: "from_date can't be greater than to_date" });
    const { client } = createHarness();

    await expect(
      client.searchWorkplaceAccessData({ fromDate: '2023-03-22', toDate: '2023-03-01' }),
    ).rejects.toMatchObject({ endpoint: 'workplace.v1.workplaceAccessData.search', feishuCode: 1628002 });
    scope.done();
  });

  it('asks for an app week overview with cycle_type 2 and returns the metrics by name', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post(APP_USAGE_PATH, {
        date: '2021-07-05',
        cycle_type: 2,
        ability: 'app',
        department_id: 'od-4e6ac4d14bcd5071a37a39de902c7141',
      })
      .query({ department_id_type: 'open_department_id' })
      .reply(200, {
        code: 0,
        data: {
          items: [
            { metric_name: 'uv', metric_value: 0 },
            { metric_name: 'total_users', metric_value: 2 },
            { metric_name: 'new_users', metric_value: 0 },
            { metric_name: 'pv', metric_value: 0 },
            { metric_name: 'lifecycle', metric_value: 7 },
          ],
        },
        msg: 'success',
      });
    const { client } = createHarness();

    await expect(
      client.getAppUsageOverview({
        appId: 'cli_9f115af860f7901b',
        date: '2021-07-05',
        cycle: 'week',
        ability: 'app',
        departmentId: 'od-4e6ac4d14bcd5071a37a39de902c7141',
      }),
    ).resolves.toEqual({ metrics: { uv: 0, total_users: 2, new_users: 0, pv: 0, lifecycle: 7 } });
    scope.done();
  });

  it('sends cycle_type 3 for a month and keeps only what the API returns for a bot', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post(APP_USAGE_PATH, { date: '2021-07-01', cycle_type: 3, ability: 'bot' })
      .query(true)
      .reply(200, { code: 0, data: { items: [{ metric_name: 'uv', metric_value: 12 }] }, msg: 'success' });
    const { client } = createHarness();

    const overview = await client.getAppUsageOverview({
      appId: 'cli_9f115af860f7901b',
      date: '2021-07-01',
      cycle: 'month',
      ability: 'bot',
    });

    expect(overview.metrics).toEqual({ uv: 12 });
    scope.done();
  });

  it('turns 211011 "data not found", answered with HTTP 200, into a FeishuApiError', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post(APP_USAGE_PATH)
      .query(true)
      .reply(200, { code: 211011, msg: 'data not found' });
    const { client } = createHarness();

    const error = await catchError(
      client.getAppUsageOverview({
        appId: 'cli_9f115af860f7901b',
        date: '2021-07-08',
        cycle: 'day',
        ability: 'app',
      }),
    );

    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({
      endpoint: 'application.v6.applicationAppUsage.overview',
      feishuCode: 211011,
      httpStatus: 200,
    });
    scope.done();
  });

  it('reports 211004 (tenant edition without app statistics) with its HTTP 403', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post(APP_USAGE_PATH)
      .query(true)
      .reply(403, { code: 211004, msg: 'no authority for quota limit' });
    const { client } = createHarness();

    await expect(
      client.getAppUsageOverview({
        appId: 'cli_9f115af860f7901b',
        date: '2021-07-08',
        cycle: 'day',
        ability: 'app',
      }),
    ).rejects.toMatchObject({ feishuCode: 211004, httpStatus: 403 });
    scope.done();
  });
});

describe('createFeishuClient: permission members and card updates', () => {
  it('lists the collaborators of a document by its type, asking for the member type field', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(`/open-apis/drive/v1/permissions/${DOC.token}/members`)
      .query({ type: 'docx', fields: 'type' })
      .reply(200, {
        code: 0,
        msg: 'Success',
        data: {
          items: [
            {
              member_type: 'openid',
              member_id: 'ou_7dab8a3d3cdcc9da365777c7ad535d62',
              perm: 'full_access',
              perm_type: 'container',
              type: 'user',
            },
            { member_type: 'openchat', member_id: 'oc_b962e8debbb8ea4ba5b4ad4b3e5ab6b4', perm: 'view' },
          ],
        },
      });
    const { client } = createHarness();

    await expect(client.listPermissionMembers(DOC)).resolves.toEqual([
      {
        memberType: 'openid',
        memberId: 'ou_7dab8a3d3cdcc9da365777c7ad535d62',
        perm: 'full_access',
        type: 'user',
      },
      { memberType: 'openchat', memberId: 'oc_b962e8debbb8ea4ba5b4ad4b3e5ab6b4', perm: 'view' },
    ]);
    scope.done();
  });

  it('updates a sent card with PATCH {content}', async () => {
    const card = { schema: '2.0', config: { update_multi: true }, body: { elements: [] } };
    let patched: unknown;
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .patch('/open-apis/im/v1/messages/om_dc13264520392913993dd051dba21dcf', (body) => {
        patched = body;
        return true;
      })
      .reply(200, { code: 0, msg: 'success', data: {} });
    const { client } = createHarness();

    await expect(client.patchCard('om_dc13264520392913993dd051dba21dcf', card)).resolves.toBeUndefined();
    expect(patched).toEqual({ content: JSON.stringify(card) });
    scope.done();
  });

  it('sends a card to a person with receive_id_type=open_id when asked', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post('/open-apis/im/v1/messages', (body) => body.receive_id === 'ou_7dab8a3d3cdcc9da365777c7ad535d62')
      .query({ receive_id_type: 'open_id' })
      .reply(200, { code: 0, msg: 'success', data: { message_id: 'om_a1b2c3d4e5f60718293a4b5c6d7e8f91' } });
    const { client } = createHarness();

    await expect(
      client.sendCard('ou_7dab8a3d3cdcc9da365777c7ad535d62', { schema: '2.0' }, 'private-om_a1', {
        receiveIdType: 'open_id',
      }),
    ).resolves.toEqual({ messageId: 'om_a1b2c3d4e5f60718293a4b5c6d7e8f91' });
    scope.done();
  });
});

describe('createFeishuClient: client-side rate limiter', () => {
  /** Records acquires and HTTP attempts in one timeline, so the order between them is visible. */
  function spyLimiter(timeline: string[], fail?: FeishuApiError): RateLimiter {
    return {
      async acquire(endpoint, scope) {
        timeline.push(`acquire ${endpoint}${scope ? ` ${scope}` : ''}`);
        if (fail) throw fail;
      },
    };
  }

  it('acquires before every attempt, the retry after 99991400 included, never for the token', async () => {
    const timeline: string[] = [];
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, () => {
        timeline.push('token');
        return tokenBody();
      })
      .get(STATS_PATH)
      .query(true)
      .reply(429, () => {
        timeline.push('http');
        return RATE_LIMITED_BODY;
      })
      .get(STATS_PATH)
      .query(true)
      .reply(200, () => {
        timeline.push('http');
        return STATISTICS_BODY;
      });
    const { client } = createHarness({ rateLimiter: spyLimiter(timeline) });

    await client.getFileStatistics(DOC);

    expect(timeline).toEqual([
      'token',
      'acquire drive.v1.fileStatistics.get',
      'http',
      'acquire drive.v1.fileStatistics.get',
      'http',
    ]);
    scope.done();
  });

  it('acquires again for the retry after a rejected token (99991663)', async () => {
    const timeline: string[] = [];
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .times(2)
      .reply(200, () => {
        timeline.push('token');
        return tokenBody();
      })
      .get(STATS_PATH)
      .query(true)
      .reply(200, TOKEN_INVALID_BODY)
      .get(STATS_PATH)
      .query(true)
      .reply(200, STATISTICS_BODY);
    const { client } = createHarness({ rateLimiter: spyLimiter(timeline) });

    await client.getFileStatistics(DOC);

    expect(timeline).toEqual([
      'token',
      'acquire drive.v1.fileStatistics.get',
      'token',
      'acquire drive.v1.fileStatistics.get',
    ]);
    scope.done();
  });

  it('scopes replies by chat, direct sends by recipient and patches by message', async () => {
    const timeline: string[] = [];
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .post('/open-apis/im/v1/messages/om_d4be107c616aed9c1da8ed8068570a9f/reply')
      .reply(200, { code: 0, msg: 'success', data: { message_id: 'om_dc13264520392913993dd051dba21dcf' } })
      .post('/open-apis/im/v1/messages')
      .query({ receive_id_type: 'chat_id' })
      .reply(200, { code: 0, msg: 'success', data: { message_id: 'om_a1b2c3d4e5f60718293a4b5c6d7e8f90' } })
      .patch('/open-apis/im/v1/messages/om_dc13264520392913993dd051dba21dcf')
      .reply(200, { code: 0, msg: 'success', data: {} })
      .post('/open-apis/im/v1/messages/om_d4be107c616aed9c1da8ed8068570a9f/reply')
      .reply(200, { code: 0, msg: 'success', data: { message_id: 'om_0f0e0d0c0b0a09080706050403020100' } });
    const { client } = createHarness({ rateLimiter: spyLimiter(timeline) });
    const card = { schema: '2.0' };

    await client.replyCard('om_d4be107c616aed9c1da8ed8068570a9f', card, 'u1', {
      chatId: 'oc_5ad11d72b830411d72b836c20',
    });
    await client.sendCard('oc_5ad11d72b830411d72b836c20', card, 'u2');
    await client.patchCard('om_dc13264520392913993dd051dba21dcf', card);
    await client.replyCard('om_d4be107c616aed9c1da8ed8068570a9f', card, 'u3');

    expect(timeline).toEqual([
      'acquire im.v1.message.reply oc_5ad11d72b830411d72b836c20',
      'acquire im.v1.message.create oc_5ad11d72b830411d72b836c20',
      'acquire im.v1.message.patch om_dc13264520392913993dd051dba21dcf',
      'acquire im.v1.message.reply',
    ]);
    scope.done();
  });

  it('throws a client-side wait that ran out as it is: no Feishu backoff, no request', async () => {
    const ranOut = new FeishuApiError(
      'drive.v2.fileLike.list',
      99991400,
      'client-side rate limit wait exceeded',
    );
    const scope = nock(BASE).post(TOKEN_PATH).reply(200, tokenBody());
    const { client, sleeps } = createHarness({ rateLimiter: spyLimiter([], ranOut) });

    const error = await catchError(client.listLikes(DOC));

    expect(error).toBe(ranOut);
    expect(sleeps).toEqual([]);
    // No likes interceptor was set up: a request would have failed differently (nock 501, code -1).
    scope.done();
  });
});

describe('createSdkLogger', () => {
  function captureSdkLogger() {
    const chunks: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        chunks.push(String(chunk));
        done();
      },
    });
    return { sdkLogger: createSdkLogger(pino({ level: 'trace' }, stream)), output: () => chunks.join('') };
  }

  it('redacts secrets and tokens from what the SDK formatErrors() hands over', () => {
    const { sdkLogger, output } = captureSdkLogger();
    // LoggerProxy packs its arguments into one array; formatErrors returns another.
    sdkLogger.error([
      [
        {
          message: 'Request failed with status code 400',
          config: {
            data: JSON.stringify({ app_id: APP_ID, app_secret: APP_SECRET }),
            url: `${BASE}${TOKEN_PATH}`,
            method: 'post',
          },
          headers: { Authorization: 'Bearer t-g1044ghJIQ3QBP6EHMW4BCYDEFGHIJK' },
          response: { data: { code: 10014, msg: 'app secret invalid' }, status: 400 },
        },
        { code: 10014, msg: 'app secret invalid', note: 'retry with u-7f1bcd13fc57d46bac21793a18e560' },
      ],
    ]);

    const written = output();
    expect(written).toContain('app secret invalid');
    expect(written).not.toContain(APP_SECRET);
    expect(written).not.toContain('t-g1044ghJIQ3QBP6EHMW4BCYDEFGHIJK');
    expect(written).not.toContain('u-7f1bcd13fc57d46bac21793a18e560');
    expect(JSON.parse(written).level).toBe(50);
  });

  it('sends SDK info chatter to pino debug, not info', () => {
    const { sdkLogger, output } = captureSdkLogger();
    sdkLogger.info(['client ready']);

    expect(JSON.parse(output())).toMatchObject({ level: 20, msg: 'client ready' });
  });
});
