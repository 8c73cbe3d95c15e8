/**
 * Finding 6 of issue 9: a Redis with neither AOF nor RDB lost 24 of 200 acknowledged events when killed, and an
 * evicting Redis may drop BullMQ jobs. Start-up reads the server's settings and warns once, naming what to set.
 *
 * The start-up cases run against redis-servers this file starts with the settings under test (the shared
 * throwaway server from global-setup has one fixed configuration); each is killed in afterAll.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  assessRedisSettings,
  type RedisSettings,
  type RedisSettingsAssessment,
  readRedisSettings,
} from '../src/store/redis-settings.js';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';
import { startTestBot } from './helper.js';
import { onFreePort, spawnRedisServer, startInTempDir, waitForServer } from './support/redis-process.js';

describe('assessRedisSettings', () => {
  const RDB_DEFAULT = '3600 1 300 100 60 10000';
  const cases: Array<[string, RedisSettings, RedisSettingsAssessment]> = [
    [
      'AOF on, noeviction: nothing to say',
      { appendonly: 'yes', save: '', maxmemoryPolicy: 'noeviction' },
      { risks: [], unchecked: [] },
    ],
    [
      'RDB snapshots alone are persistence enough',
      { appendonly: 'no', save: RDB_DEFAULT, maxmemoryPolicy: 'noeviction' },
      { risks: [], unchecked: [] },
    ],
    [
      'neither AOF nor RDB: names appendonly yes',
      { appendonly: 'no', save: '', maxmemoryPolicy: 'noeviction' },
      { risks: [expect.objectContaining({ code: 'NO_PERSISTENCE', set: 'appendonly yes' })], unchecked: [] },
    ],
    [
      'an evicting policy: names maxmemory-policy noeviction',
      { appendonly: 'yes', save: RDB_DEFAULT, maxmemoryPolicy: 'allkeys-lru' },
      {
        risks: [expect.objectContaining({ code: 'EVICTION', set: 'maxmemory-policy noeviction' })],
        unchecked: [],
      },
    ],
    [
      'volatile-lru evicts too (BullMQ locks have a TTL)',
      { appendonly: 'yes', save: '', maxmemoryPolicy: 'volatile-lru' },
      { risks: [expect.objectContaining({ code: 'EVICTION' })], unchecked: [] },
    ],
    [
      'both at once: two risks, persistence first',
      { appendonly: 'no', save: '  ', maxmemoryPolicy: 'allkeys-lru' },
      {
        risks: [
          expect.objectContaining({ set: 'appendonly yes' }),
          expect.objectContaining({ set: 'maxmemory-policy noeviction' }),
        ],
        unchecked: [],
      },
    ],
    [
      'CONFIG refused, INFO says AOF is on: persistence is known good',
      { appendonly: 'yes', save: undefined, maxmemoryPolicy: 'noeviction' },
      { risks: [], unchecked: [] },
    ],
    [
      'CONFIG refused, AOF off: the RDB schedule is unknown, so unchecked rather than a warning',
      { appendonly: 'no', save: undefined, maxmemoryPolicy: 'noeviction' },
      { risks: [], unchecked: ['persistence'] },
    ],
    [
      'CONFIG refused but INFO shows an evicting policy: still a risk',
      { appendonly: 'no', save: undefined, maxmemoryPolicy: 'allkeys-lru' },
      { risks: [expect.objectContaining({ code: 'EVICTION' })], unchecked: ['persistence'] },
    ],
    [
      'nothing readable: both unchecked, no warning',
      {},
      { risks: [], unchecked: ['persistence', 'eviction'] },
    ],
  ];

  it.each(cases)('%s', (_name, settings, expected) => {
    expect(assessRedisSettings(settings)).toEqual(expected);
  });
});

describe('at start-up with REDIS_URL', () => {
  let emulator: FeishuEmulator;
  const servers: OwnRedis[] = [];
  const own = async (args: string[]): Promise<OwnRedis> => {
    const server = await startOwnRedis(args);
    servers.push(server);
    return server;
  };

  beforeAll(async () => {
    emulator = await startFeishuEmulator();
  });
  afterAll(async () => {
    await Promise.allSettled(servers.map((s) => s.stop()));
    await emulator?.close();
  });

  /** Starts the real app on `url` (no injected store, so the app opens Redis itself) and returns its warnings. */
  async function startupLogs(url: string): Promise<Array<Record<string, unknown>>> {
    const bot = await startTestBot({ emulator, env: { REDIS_URL: url } });
    try {
      return bot.logs.records();
    } finally {
      await bot.close();
    }
  }
  const warnings = (records: Array<Record<string, unknown>>) => records.filter((r) => r.level === 40);
  const mentions = (record: Record<string, unknown>, text: string) => JSON.stringify(record).includes(text);

  it('warns once, naming appendonly yes and noeviction, on a Redis with no persistence that evicts', async () => {
    const redis = await own(['--save', '', '--appendonly', 'no', '--maxmemory-policy', 'allkeys-lru']);
    const records = await startupLogs(redis.url);

    const about = warnings(records).filter(
      (r) => mentions(r, 'appendonly') || mentions(r, 'noeviction') || 'redis_settings' in r,
    );
    expect(about).toHaveLength(1);
    const [warning] = about;
    expect(warning?.msg).toContain('appendonly yes');
    expect(warning?.msg).toContain('maxmemory-policy noeviction');
    expect(warning?.set).toEqual(['appendonly yes', 'maxmemory-policy noeviction']);
    expect(warning?.redis_settings).toEqual({ appendonly: 'no', save: '', maxmemory_policy: 'allkeys-lru' });
    // The URL may carry a password: the line shows the settings, never the connection string.
    expect(JSON.stringify(warning)).not.toContain(redis.url);
  });

  it('says nothing about settings on a Redis with AOF on and noeviction', async () => {
    const redis = await own(['--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction']);
    const records = await startupLogs(redis.url);

    expect(records.filter((r) => 'redis_settings' in r)).toEqual([]);
    expect(warnings(records).filter((r) => mentions(r, 'appendonly') || mentions(r, 'noeviction'))).toEqual(
      [],
    );
    // It did start on Redis: the check is silent because the settings are right, not because it was skipped.
    expect(records.some((r) => r.msg === 'state is kept in Redis')).toBe(true);
  });

  it('with CONFIG disabled (as on managed Redis) falls back to INFO and says at info level what it could not check', async () => {
    const redis = await own([
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      'noeviction',
      '--rename-command',
      'CONFIG',
      '',
    ]);
    const direct = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    try {
      // The server really refuses CONFIG, and INFO still supplies what it can.
      await expect(direct.config('GET', 'save')).rejects.toThrow(/unknown command/i);
      expect((await readRedisSettings(direct)).settings).toEqual({
        appendonly: 'no',
        save: undefined,
        maxmemoryPolicy: 'noeviction',
      });
    } finally {
      direct.disconnect();
    }

    const records = await startupLogs(redis.url);
    const about = records.filter((r) => 'redis_settings' in r);
    expect(about).toHaveLength(1);
    expect(about[0]).toMatchObject({ level: 30, unchecked: ['persistence'] });
    expect(about[0]?.msg).toContain('could not check Redis persistence');
    expect(about[0]?.msg).toContain('appendonly yes');
    expect(warnings(records).filter((r) => mentions(r, 'appendonly') || mentions(r, 'noeviction'))).toEqual(
      [],
    );
  });
});

interface OwnRedis {
  url: string;
  stop(): Promise<void>;
}

/** A redis-server of this file's own, with `settings` on top of a loopback port and a temp dir. */
function startOwnRedis(settings: string[]): Promise<OwnRedis> {
  return startInTempDir('fsb-redis-settings-', (dir) =>
    onFreePort(async (port) => {
      const url = `redis://127.0.0.1:${port}`;
      const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--loglevel', 'warning'];
      const child = await spawnRedisServer([...args, ...settings], () =>
        waitForServer(`redis-server at ${url}`, () => ping(url)),
      );
      return { child, handle: { url } };
    }),
  );
}

async function ping(url: string): Promise<boolean> {
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } finally {
    probe.disconnect();
  }
}
