/**
 * The tools multi-process tests stand on (test/support/): a cuttable TCP proxy in front of Redis, the bot as
 * a child process that can be SIGKILLed and restarted, a replica entry with a movable clock, and deliveries
 * that report failures instead of throwing. If these lie, every test built on them does too.
 */
import { once } from 'node:events';
import { connect } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { docStatistics, messageEvent } from './emulator/fixtures.js';
import { type FreshRedisDb, freshRedisDb, redisUrlForTest } from './redis.js';
import { childEnvFor, killAllChildServers, startChildServer } from './support/child-server.js';
import { deliverEvent, deliverMany } from './support/deliver.js';
import { useEmulator } from './support/e2e.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const DOC_TOKEN = 'doxcnSupportAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;

/** Rejects if `promise` has not settled within `ms`: "quickly" is part of what these tools promise. */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** Opens a raw TCP connection and reports whether the far end closed it within `ms`. */
async function closedWithin(port: number, ms: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1');
  // A reset arrives as 'error' (ECONNRESET) and then 'close'; only the close matters here.
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  try {
    await within(closed, ms, 'close');
    return true;
  } catch {
    return false;
  } finally {
    socket.destroy();
  }
}

let db: FreshRedisDb;

beforeAll(async () => {
  db = await freshRedisDb();
});

afterAll(async () => {
  await db?.cleanup();
});

describe('startTcpProxy', () => {
  let proxy: TcpProxy;
  let proxiedUrl: string;

  beforeAll(async () => {
    const target = new URL(redisUrlForTest());
    proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    proxiedUrl = `redis://127.0.0.1:${proxy.port}${new URL(db.url).pathname}`;
  });

  afterAll(async () => {
    await proxy?.close();
  });

  it('forwards Redis traffic to the target, into the logical DB named in the URL', async () => {
    const client = new Redis(proxiedUrl, { maxRetriesPerRequest: 1 });
    try {
      expect(await client.ping()).toBe('PONG');
      await client.set('support:via-proxy', 'yes');
      expect(await db.redis.get('support:via-proxy')).toBe('yes');
      expect(proxy.connections).toBe(1);
    } finally {
      client.disconnect();
    }
  });

  it('cut() errors a connected client within 2 s and resets new connections; restore() lets it reconnect', async () => {
    const client = new Redis(proxiedUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    const errors: Error[] = [];
    client.on('error', (err: Error) => errors.push(err));
    try {
      expect(await client.ping()).toBe('PONG');
      expect(proxy.connections).toBe(1);

      const firstError = once(client, 'error');
      proxy.cut();
      const [err] = (await within(firstError, 2_000, 'client error after cut')) as [NodeJS.ErrnoException];
      expect(err.code).toBe('ECONNRESET');
      expect(proxy.connections).toBe(0);
      // Commands fail fast rather than hang while Redis is "unreachable".
      await within(
        expect(client.ping()).rejects.toThrow(/Reached the max retries|ECONNRESET|Connection is closed/),
        2_000,
        'ping during cut',
      );
      expect(await closedWithin(proxy.port, 500)).toBe(true);

      proxy.restore();
      expect(await within(client.ping(), 3_000, 'ping after restore')).toBe('PONG');
      expect(proxy.connections).toBe(1);
      expect(await closedWithin(proxy.port, 300)).toBe(false);
    } finally {
      client.disconnect();
    }
  });
});

describe('child servers', () => {
  const emulator = useEmulator({
    docs: [{ token: DOC_TOKEN, type: 'docx', statistics: docStatistics({ uv: 10, pv: 20 }) }],
    childServers: true,
  });

  it('runs src/server.ts on Redis and the emulator, dies to SIGKILL, and starts again on the same env', async () => {
    emulator.reset();
    const env = childEnvFor(emulator, { REDIS_URL: db.url });
    const first = await startChildServer({ env, name: 'first' });
    expect(first.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${first.url}/readyz`)).json()).toMatchObject({ store: 'redis' });

    const event = messageEvent({ text: `stats ${DOC_URL}` });
    expect(await deliverEvent(first.url, event)).toMatchObject({ status: 200 });
    const [reply] = await emulator.waitForMessages(1);
    expect(reply).toMatchObject({ kind: 'reply', targetId: event.event.message.message_id });
    // stdout was parsed as pino JSON, request logs included.
    expect(first.logs.some((line) => line.msg === 'request completed')).toBe(true);
    await expect(first.send({ type: 'clock', offsetMs: 0 })).rejects.toThrow(/no IPC channel/);

    expect(await first.kill()).toEqual({ code: null, signal: 'SIGKILL' });
    expect(first.running).toBe(false);
    const refused = await deliverEvent(first.url, messageEvent({ text: `stats ${DOC_URL}` }));
    expect(refused).toMatchObject({
      status: 'error',
      error: expect.stringMatching(/ECONNREFUSED|ECONNRESET/),
    });

    const second = await startChildServer({ env, name: 'second' });
    expect(second.pid).not.toBe(first.pid);
    // Feishu redelivering the first event to the restarted server: same Redis, so it is not answered twice.
    const later = messageEvent({ text: `stats ${DOC_URL}` });
    const outcomes = await deliverMany(second.url, [event, later], { concurrency: 1 });
    expect(outcomes.map((o) => o.status)).toEqual([200, 200]);
    const messages = await emulator.waitForMessages(2);
    expect(messages[1]).toMatchObject({ kind: 'reply', targetId: later.event.message.message_id });

    expect(await second.stop()).toEqual({ code: 0, signal: null });
    expect(second.logs.some((line) => line.msg === 'shutdown complete')).toBe(true);
    // Two cold starts of tsx under a loaded full run can pass the 20 s default.
  }, 40_000);

  it('rejects with the child’s own output when it exits before listening', async () => {
    await expect(
      startChildServer({ env: { FEISHU_APP_SECRET: 'some-secret' }, name: 'misconfigured' }),
    ).rejects.toThrow(/misconfigured \(pid \d+\) exited \(code 1[\s\S]*FEISHU_APP_ID is required/);
  });

  it('replica entry: takes its clock offset from env and moves it on an IPC message', async () => {
    const replica = await startChildServer({
      entry: 'replica',
      env: childEnvFor(emulator, { TEST_CLOCK_OFFSET_MS: '1000', TEST_DIGEST_TICK_MS: '250' }),
    });
    const starting = await replica.waitForLog((line) => line.msg === 'test replica starting');
    expect(starting).toMatchObject({ offsetMs: 1000, digestTickMs: 250 });
    expect((await fetch(`${replica.url}/healthz`)).status).toBe(200);

    const offsetMs = 3 * 86_400_000;
    const before = Date.now();
    await replica.send({ type: 'clock', offsetMs });
    const moved = await replica.waitForLog((line) => line.msg === 'test clock moved', 5_000);
    expect(moved.offsetMs).toBe(offsetMs);
    // The clock the bot reads, not only the number it was sent.
    const botNow = Date.parse(String(moved.now)) - offsetMs;
    expect(botNow).toBeGreaterThanOrEqual(before);
    expect(botNow).toBeLessThanOrEqual(Date.now());
    await expect(replica.waitForLog(() => false, 100)).rejects.toThrow(/within 100 ms/);

    await killAllChildServers();
    expect(await replica.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(() => process.kill(replica.pid, 0)).toThrow(/ESRCH/);
  });
});
