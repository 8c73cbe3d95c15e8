import { Writable } from 'node:stream';
import nock from 'nock';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FeishuApiError } from '../src/errors.js';
import { createFeishuClient, type FeishuClient, TENANT_TOKEN_ENDPOINT } from '../src/feishu/client.js';
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

function createHarness(overrides: { timeoutMs?: number; maxRateLimitWaitMs?: number } = {}): Harness {
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
  it('waits x-ogw-ratelimit-reset seconds after HTTP 429 / 99991400, then succeeds', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(429, RATE_LIMITED_BODY, { 'x-ogw-ratelimit-limit': '5', 'x-ogw-ratelimit-reset': '2' })
      .get(STATS_PATH)
      .query(true)
      .reply(200, STATISTICS_BODY);
    const { client, sleeps } = createHarness();

    await expect(client.getFileStatistics(DOC)).resolves.toMatchObject({ uv: 10 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(2_000);
    expect(sleeps[0]).toBeLessThan(2_500);
    scope.done();
  });

  it('reads the reset header from an HTTP 200 body with code 99991400', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(200, RATE_LIMITED_BODY, { 'x-ogw-ratelimit-reset': '4' })
      .get(STATS_PATH)
      .query(true)
      .reply(200, STATISTICS_BODY);
    const { client, sleeps } = createHarness();

    await expect(client.getFileStatistics(DOC)).resolves.toMatchObject({ uv: 10 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(4_000);
    expect(sleeps[0]).toBeLessThan(4_500);
    scope.done();
  });

  it('waits about one second when the reset header is absent', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(400, RATE_LIMITED_BODY)
      .get(STATS_PATH)
      .query(true)
      .reply(200, STATISTICS_BODY);
    const { client, sleeps } = createHarness();

    await expect(client.getFileStatistics(DOC)).resolves.toMatchObject({ uv: 10 });
    expect(sleeps).toHaveLength(1);
    expect(sleeps[0]).toBeGreaterThanOrEqual(1_000);
    expect(sleeps[0]).toBeLessThan(1_500);
    scope.done();
  });

  it('never waits longer than maxRateLimitWaitMs', async () => {
    const scope = nock(BASE)
      .post(TOKEN_PATH)
      .reply(200, tokenBody())
      .get(STATS_PATH)
      .query(true)
      .reply(429, RATE_LIMITED_BODY, { 'x-ogw-ratelimit-reset': '60' })
      .get(STATS_PATH)
      .query(true)
      .reply(200, STATISTICS_BODY);
    const { client, sleeps } = createHarness({ maxRateLimitWaitMs: 3_000 });

    await client.getFileStatistics(DOC);
    expect(sleeps).toEqual([3_000]);
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
