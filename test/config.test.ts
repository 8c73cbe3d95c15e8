import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { ConfigError } from '../src/errors.js';

const REQUIRED = {
  FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718',
  FEISHU_APP_SECRET: 'Sx9kq2LmN3pQ4rS5tU6vW7xY8zA9bC0d',
};

function problemsOf(env: Record<string, string>): readonly string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  throw new Error('expected loadConfig to fail');
}

describe('loadConfig', () => {
  it('applies the documented defaults when only the required values are set', () => {
    const config = loadConfig(REQUIRED);
    expect(config.feishu).toEqual({
      ...{ appId: REQUIRED.FEISHU_APP_ID, appSecret: REQUIRED.FEISHU_APP_SECRET },
      domain: 'https://open.feishu.cn',
    });
    expect(config.eventMode).toBe('webhook');
    expect(config.redisUrl).toBeUndefined();
    expect(config.port).toBe(3000);
    expect(config.host).toBe('0.0.0.0');
    expect(config.logLevel).toBe('info');
    expect(config.botAdmins).toEqual([]);
    expect(config.digest).toEqual({ hour: 10, minute: 30, timeZone: 'Asia/Shanghai' });
  });

  it('names both required variables, with where to find them in the console, when neither is set', () => {
    const problems = problemsOf({});
    expect(problems).toHaveLength(2);
    expect(problems[0]).toMatch(/^FEISHU_APP_ID is required.*Credentials & Basic Info/);
    expect(problems[1]).toMatch(/^FEISHU_APP_SECRET is required.*Credentials & Basic Info/);
  });

  it('takes the long connection as FEISHU_EVENT_MODE=websocket, in any case, and names both modes otherwise', () => {
    expect(loadConfig({ ...REQUIRED, FEISHU_EVENT_MODE: 'websocket' }).eventMode).toBe('websocket');
    expect(loadConfig({ ...REQUIRED, FEISHU_EVENT_MODE: ' WebSocket ' }).eventMode).toBe('websocket');
    expect(loadConfig({ ...REQUIRED, FEISHU_EVENT_MODE: 'webhook' }).eventMode).toBe('webhook');
    const [problem] = problemsOf({ ...REQUIRED, FEISHU_EVENT_MODE: 'ws' });
    expect(problem).toMatch(
      /^FEISHU_EVENT_MODE must be webhook .* or websocket .*got "ws".*Subscription mode/,
    );
  });

  it.each([
    ['too short', 'cli_123'],
    ['15 digits', 'cli_a1b2c3d4e5f6071'],
    ['17 digits', 'cli_a1b2c3d4e5f607189'],
    ['not hex', 'cli_a1b2c3d4e5f6071z'],
    ['no prefix', 'a1b2c3d4e5f60718'],
  ])('refuses an App ID the long connection would silently ignore (%s)', (_, appId) => {
    const [problem] = problemsOf({ ...REQUIRED, FEISHU_APP_ID: appId });
    expect(problem).toContain(`FEISHU_APP_ID must be cli_ followed by 16 hex digits`);
    expect(problem).toContain(appId);
  });

  it('treats blank values as missing', () => {
    expect(problemsOf({ FEISHU_APP_ID: '  ', FEISHU_APP_SECRET: '' })).toHaveLength(2);
  });

  it('collects every malformed variable in one error instead of stopping at the first', () => {
    const problems = problemsOf({
      FEISHU_APP_ID: 'app-123',
      FEISHU_APP_SECRET: 'has space',
      FEISHU_DOMAIN: 'ftp://example.com',
      FEISHU_MONTHLY_CALL_BUDGET: 'lots',
      FEISHU_EVENT_MODE: 'polling',
      REDIS_URL: 'localhost:6379',
      PORT: '70000',
      LOG_LEVEL: 'loud',
      BOT_ADMINS: 'ou_abc, bob',
      DIGEST_TIME: '24:00',
      DIGEST_TZ: 'Mars/Olympus',
    });
    const names = problems.map((p) => p.split(' ')[0]);
    expect(names).toEqual([
      'FEISHU_APP_ID',
      'FEISHU_APP_SECRET',
      'FEISHU_DOMAIN',
      'FEISHU_MONTHLY_CALL_BUDGET',
      'FEISHU_EVENT_MODE',
      'REDIS_URL',
      'PORT',
      'LOG_LEVEL',
      'BOT_ADMINS',
      'DIGEST_TIME',
      'DIGEST_TZ',
    ]);
    expect(problems.find((p) => p.startsWith('BOT_ADMINS'))).toContain('bob');
    expect(problems.find((p) => p.startsWith('BOT_ADMINS'))).not.toContain('ou_abc,');
  });

  it('never puts the secret values it rejects into the error text', () => {
    const error = (() => {
      try {
        loadConfig({
          ...REQUIRED,
          FEISHU_APP_SECRET: 'secret with-space',
          FEISHU_ENCRYPT_KEY: 'key with-space',
        });
      } catch (err) {
        return err as Error;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error?.message).not.toContain('secret with-space');
    expect(error?.message).not.toContain('key with-space');
  });

  it.each([
    ['feishu', 'https://open.feishu.cn'],
    ['lark', 'https://open.larksuite.com'],
    ['LARK', 'https://open.larksuite.com'],
    ['http://127.0.0.1:4010', 'http://127.0.0.1:4010'],
    ['http://127.0.0.1:4010/', 'http://127.0.0.1:4010'],
    ['https://open.feishu.cn', 'https://open.feishu.cn'],
  ])('resolves FEISHU_DOMAIN=%s to %s', (value, expected) => {
    expect(loadConfig({ ...REQUIRED, FEISHU_DOMAIN: value }).feishu.domain).toBe(expected);
  });

  it('has no call budget unless FEISHU_MONTHLY_CALL_BUDGET is set, and reads it as a whole number', () => {
    expect(loadConfig(REQUIRED).feishu.monthlyCallBudget).toBeUndefined();
    expect(
      loadConfig({ ...REQUIRED, FEISHU_MONTHLY_CALL_BUDGET: '' }).feishu.monthlyCallBudget,
    ).toBeUndefined();
    expect(loadConfig({ ...REQUIRED, FEISHU_MONTHLY_CALL_BUDGET: ' 8000 ' }).feishu.monthlyCallBudget).toBe(
      8000,
    );
    expect(loadConfig({ ...REQUIRED, FEISHU_MONTHLY_CALL_BUDGET: '1' }).feishu.monthlyCallBudget).toBe(1);
  });

  it.each([
    ['zero', '0'],
    ['negative', '-100'],
    ['a fraction', '8000.5'],
    ['a word', 'unlimited'],
    ['thousands separators', '10,000'],
    ['beyond a safe integer', '99999999999999999999'],
  ])('refuses a FEISHU_MONTHLY_CALL_BUDGET that is %s, saying what it should be', (_, value) => {
    const problems = problemsOf({ ...REQUIRED, FEISHU_MONTHLY_CALL_BUDGET: value });
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(
      /^FEISHU_MONTHLY_CALL_BUDGET must be a positive whole number of API calls a month/,
    );
    expect(problems[0]).toContain(`"${value}"`);
    expect(problems[0]).toContain('10,000 calls a month');
    expect(problems[0]).toContain('leave it unset');
  });

  it('rejects a FEISHU_DOMAIN with a path, since the SDK appends /open-apis itself', () => {
    expect(problemsOf({ ...REQUIRED, FEISHU_DOMAIN: 'https://open.feishu.cn/open-apis' })[0]).toMatch(
      /^FEISHU_DOMAIN/,
    );
  });

  it('reads optional values: keys, redis, admins, digest time and zone', () => {
    const config = loadConfig({
      ...REQUIRED,
      FEISHU_ENCRYPT_KEY: 'enc',
      FEISHU_VERIFICATION_TOKEN: 'tok',
      REDIS_URL: 'rediss://:pw@redis.internal:6380/2',
      PORT: '0',
      LOG_LEVEL: 'DEBUG',
      BOT_ADMINS: ' ou_1a2b , ou_3c4d ,',
      DIGEST_TIME: '07:05',
      DIGEST_TZ: 'Europe/Berlin',
    });
    expect(config.feishu.encryptKey).toBe('enc');
    expect(config.feishu.verificationToken).toBe('tok');
    expect(config.redisUrl).toBe('rediss://:pw@redis.internal:6380/2');
    expect(config.port).toBe(0);
    expect(config.logLevel).toBe('debug');
    expect(config.botAdmins).toEqual(['ou_1a2b', 'ou_3c4d']);
    expect(config.digest).toEqual({ hour: 7, minute: 5, timeZone: 'Europe/Berlin' });
  });
});
