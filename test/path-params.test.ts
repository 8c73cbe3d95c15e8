/**
 * Every path parameter reaches Feishu as one path segment (finding 8 of issue 9). The SDK puts `path` values into
 * its URL templates unencoded and the URL parser resolves `..`, so before the fix a message id `om_x/../../auth`
 * was sent to `POST /open-apis/im/v1/auth/reply`. Here each endpoint that takes a path parameter is called against
 * the emulator with hostile values, and every call it makes must land on that endpoint's own route.
 */
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createFeishuClient, type FeishuClient } from '../src/feishu/client.js';
import { InvalidPathParameterError } from '../src/feishu/path.js';
import { createRateLimiter, type RateLimiter } from '../src/feishu/rate-limits.js';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';

const HOSTILE = [
  'om_x/../../auth',
  'om_x/../../../auth/v3/tenant_access_token/internal',
  'om_%2e%2e',
  '%2e%2e',
  'om_x?receive_id_type=open_id',
  'om_x#fragment',
  'om_x\\..\\..\\auth',
  'om_x%2F..%2F..%2Fauth',
];
const TOKEN_PATH = '/open-apis/auth/v3/tenant_access_token/internal';

interface Endpoint {
  name: string;
  /** Route template; `{}` is where the parameter goes. */
  route: RegExp;
  call: (feishu: FeishuClient, value: string) => Promise<unknown>;
}

const ENDPOINTS: Endpoint[] = [
  {
    name: 'replyCard',
    route: /^\/open-apis\/im\/v1\/messages\/([^/]+)\/reply$/,
    call: (f, v) => f.replyCard(v, { schema: '2.0' }, 'uuid-1'),
  },
  {
    name: 'patchCard',
    route: /^\/open-apis\/im\/v1\/messages\/([^/]+)$/,
    call: (f, v) => f.patchCard(v, { schema: '2.0' }),
  },
  { name: 'getChatInfo', route: /^\/open-apis\/im\/v1\/chats\/([^/]+)$/, call: (f, v) => f.getChatInfo(v) },
  {
    name: 'listChatMembers',
    route: /^\/open-apis\/im\/v1\/chats\/([^/]+)\/members$/,
    call: (f, v) => f.listChatMembers(v),
  },
  {
    name: 'getFileStatistics',
    route: /^\/open-apis\/drive\/v1\/files\/([^/]+)\/statistics$/,
    call: (f, v) => f.getFileStatistics({ token: v, type: 'docx' }),
  },
  {
    name: 'listViewRecords',
    route: /^\/open-apis\/drive\/v1\/files\/([^/]+)\/view_records$/,
    call: (f, v) => f.listViewRecords({ token: v, type: 'docx' }),
  },
  {
    name: 'listLikes',
    route: /^\/open-apis\/drive\/v2\/files\/([^/]+)\/likes$/,
    call: (f, v) => f.listLikes({ token: v, type: 'docx' }),
  },
  {
    name: 'listPermissionMembers',
    route: /^\/open-apis\/drive\/v1\/permissions\/([^/]+)\/members$/,
    call: (f, v) => f.listPermissionMembers({ token: v, type: 'docx' }),
  },
  {
    name: 'getAppUsageOverview',
    route: /^\/open-apis\/application\/v6\/applications\/([^/]+)\/app_usage\/overview$/,
    call: (f, v) => f.getAppUsageOverview({ appId: v, date: '2026-01-05', cycle: 'day', ability: 'app' }),
  },
];

let emulator: FeishuEmulator;
let feishu: FeishuClient;
/** Every slot the client asked the (real, in-memory) limiter for. */
const slots: string[] = [];

beforeAll(async () => {
  emulator = await startFeishuEmulator();
  feishu = createFeishuClient({
    appId: emulator.appId,
    appSecret: emulator.appSecret,
    domain: emulator.url,
    logger: pino({ level: 'silent' }),
    sleep: async () => {},
    rateLimiter: countingLimiter(createRateLimiter()),
  });
});

function countingLimiter(limiter: RateLimiter): RateLimiter {
  return {
    acquire(endpoint, scope, maxWaitMs) {
      slots.push(endpoint);
      return limiter.acquire(endpoint, scope, maxWaitMs);
    },
  };
}
afterAll(async () => {
  feishu?.close();
  await emulator?.close();
});
beforeEach(() => {
  emulator.reset();
  slots.length = 0;
});

describe.each(ENDPOINTS)('$name', ({ call, route }) => {
  it.each(HOSTILE)('sends %j as one segment of its own route, nowhere else', async (value) => {
    // Feishu (the emulator) refuses these ids; only where the request went matters here.
    await call(feishu, value).catch(() => {});
    const calls = emulator.calls.filter((c) => c.path !== TOKEN_PATH);
    expect(calls.map((c) => c.path)).toHaveLength(1);
    expect(slots).toHaveLength(1);
    const [path] = calls.map((c) => c.path);
    expect(path).toMatch(route);
    expect(decodeURIComponent(route.exec(path ?? '')?.[1] ?? '')).toBe(value);
    // Nothing leaked into the query either.
    expect(Object.keys(calls[0]?.query ?? {})).not.toContain('receive_id_type');
  });

  it.each(['', '.', '..'])(
    'refuses %j, which no encoding keeps in one segment, without a call',
    async (value) => {
      await expect(call(feishu, value)).rejects.toBeInstanceOf(InvalidPathParameterError);
      expect(emulator.calls.filter((c) => c.path !== TOKEN_PATH)).toHaveLength(0);
      // Refused before the limiter: no slot of the endpoint's budget spent on a request never sent.
      expect(slots).toEqual([]);
    },
  );
});

it('leaves ordinary ids as they are', async () => {
  await feishu.getChatInfo('oc_a0553eda9014c201e6969b478895c230');
  expect(emulator.calls.at(-1)?.path).toBe('/open-apis/im/v1/chats/oc_a0553eda9014c201e6969b478895c230');
});
