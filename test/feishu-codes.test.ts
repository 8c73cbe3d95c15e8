import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EXPLAINED_FEISHU_CODES } from '../cards/index.js';
import { SubscriptionBusyError } from '../src/digest/subscriptions.js';
import {
  classifyFeishuCode,
  classifyFeishuError,
  type FeishuCodeClass,
  isCacheableFailure,
  isChatGone,
  isTransient,
  KNOWN_FEISHU_CODES,
} from '../src/feishu/codes.js';
import { FeishuApiError, FeishuUnexpectedResponseError, TRANSPORT_FAILURE } from '../src/feishu/errors.js';
import { presentOrRetry } from '../src/present/present-error.js';
import { StoreUnavailableError } from '../src/store/redis-store.js';

/** What the bot does about each code it knows: a change here is a change of behaviour, made on purpose. */
const EXPECTED: Record<FeishuCodeClass, number[]> = {
  transient: [1069601, 1061001, 131001, 1628003, 1628004, 1066001, 1066002],
  rate_limited: [99991400, 230020, 11232, 11233, 1063006],
  token_rejected: [99991661, 99991663, 99991668],
  cacheable: [1069602, 1069604, 1061002, 1061003, 1061007, 131005],
  chat_gone: [230002, 232009],
  permission: [1069603, 1061004, 131006, 99991672, 1063002, 1063003, 1063004, 230013],
  permanent: [
    131002, 1628001, 1628002, 211004, 211005, 211006, 211007, 211008, 211009, 211010, 211011, 1063001,
    1063005, 230025, 230099,
  ],
};

const api = (code: number, httpStatus?: number) =>
  new FeishuApiError('test.endpoint', code, 'msg', httpStatus);

describe('the Feishu code table', () => {
  const rows = Object.entries(EXPECTED).flatMap(([kind, codes]) => codes.map((code) => ({ code, kind })));

  it.each(rows)('classifies $code as $kind', ({ code, kind }) => {
    expect(classifyFeishuCode(code)).toBe(kind);
  });

  it('lists exactly the codes above, each once', () => {
    expect([...KNOWN_FEISHU_CODES].sort()).toEqual(rows.map((r) => r.code).sort());
  });

  it('has words in cards/ for every code it classifies, and classifies every code with words', () => {
    const explained = EXPLAINED_FEISHU_CODES.filter((code) => code !== TRANSPORT_FAILURE);
    expect([...explained].sort()).toEqual([...KNOWN_FEISHU_CODES].sort());
  });

  it.each([
    { case: 'no Feishu body (transport failure)', err: api(TRANSPORT_FAILURE), kind: 'transient' },
    { case: 'an unknown code with HTTP 503', err: api(4242, 503), kind: 'transient' },
    { case: 'an unknown code with HTTP 400', err: api(4242, 400), kind: 'permanent' },
    { case: 'an unknown code in an HTTP 200', err: api(4242, 200), kind: 'permanent' },
    { case: 'a known permanent code with HTTP 500', err: api(1069604, 500), kind: 'cacheable' },
  ])('classifies $case as $kind', ({ err, kind }) => {
    expect(classifyFeishuError(err)).toBe(kind);
  });
});

describe('isTransient: the retry policy of queued jobs', () => {
  it.each([
    { case: 'a transient code (1069601)', err: api(1069601, 200), transient: true },
    { case: 'a rate limit (230020)', err: api(230020, 400), transient: true },
    { case: 'a token rejected twice (99991663)', err: api(99991663, 200), transient: true },
    { case: 'a permission code (1069603)', err: api(1069603, 403), transient: false },
    { case: 'a cacheable code (1069604)', err: api(1069604, 404), transient: false },
    { case: 'no data yet (211011)', err: api(211011, 200), transient: false },
    { case: 'the chat is gone (232009)', err: api(232009, 400), transient: false },
    {
      case: 'a body of the wrong shape',
      err: new FeishuUnexpectedResponseError('drive.v1.fileStatistics.get', 'data.statistics', 200),
      transient: false,
    },
    { case: 'Redis away', err: new StoreUnavailableError('get', 'connection closed'), transient: true },
    {
      case: 'a digest list locked by another edit',
      err: new SubscriptionBusyError('oc_1', 3000),
      transient: true,
    },
    { case: 'a bug', err: new TypeError('x is undefined'), transient: false },
  ])('$case → $transient', ({ err, transient }) => {
    expect(isTransient(err)).toBe(transient);
  });

  it('rethrows a transient failure while attempts remain, and presents it on the last attempt', () => {
    const log = pino({ level: 'silent' });
    const err = api(1069601, 200);
    expect(() => presentOrRetry(err, log, { finalAttempt: false })).toThrow(err);
    const card = presentOrRetry(err, log, { finalAttempt: true });
    expect(card.header.template).toBe('orange');
  });

  it('presents a permanent failure at once, even with attempts left', () => {
    const card = presentOrRetry(api(1069603, 403), pino({ level: 'silent' }), { finalAttempt: false });
    expect(card.header.template).toBe('red');
  });

  it('caches only cacheable failures and pauses only on chat-gone codes', () => {
    expect(isCacheableFailure(api(1069604))).toBe(true);
    expect(isCacheableFailure(api(1069603))).toBe(false);
    expect(isChatGone(api(230002))).toBe(true);
    expect(isChatGone(api(232009))).toBe(true);
    expect(isChatGone(api(230020))).toBe(false);
  });
});
