/**
 * Redis over TLS (`rediss://`) against a redis-server that speaks only TLS (test/support/redis-tls.ts): the store's
 * operations, an event through the BullMQ queue with every connection sending SNI, the documented way to trust a
 * private CA (`NODE_EXTRA_CA_CERTS`, in a child process as operators run it), and certificates the bot must refuse.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX } from '../src/jobs/connections.js';
import { EVENT_QUEUE } from '../src/jobs/event-queue.js';
import { createStore } from '../src/store/create-store.js';
import { RedisStore, StoreUnavailableError } from '../src/store/redis-store.js';
import { docStatistics, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { childEnvFor, startChildServer } from './support/child-server.js';
import { deliverEvent } from './support/deliver.js';
import { startE2e, useEmulator } from './support/e2e.js';
import { startSniFront, startTlsRedisServer, type TlsRedisServer } from './support/redis-tls.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnTlsRedisAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
/** What Node reports for a chain it cannot verify, depending on whether the server sends its CA along. */
const UNTRUSTED =
  /^(SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_VERIFY_LEAF_SIGNATURE|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)$/;
const quietLogger = { info: () => undefined, warn: () => undefined };

// Registered first, so it stops last: after the child servers and the emulator.
let server: TlsRedisServer;
beforeAll(async () => {
  server = await startTlsRedisServer();
});
afterAll(async () => {
  await server?.stop();
});

const emulator = useEmulator({
  docs: [{ token: DOC_TOKEN, type: 'docx', statistics: docStatistics({ uv: 11, pv: 4321 }) }],
  childServers: true,
});
beforeEach(() => emulator.reset());

/** A plain client on `db`, straight to the server, for arranging and inspecting. */
function adminClient(db: number): Redis {
  return new Redis(server.url(db), { tls: { ca: server.ca }, maxRetriesPerRequest: 1 });
}

/** Why `promise` rejected; fails the test if it resolved. */
async function rejection(promise: Promise<unknown>): Promise<Error> {
  const outcome = await promise.then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(outcome instanceof Error)) throw new Error(`expected a rejection, got ${String(outcome)}`);
  return outcome;
}

function codeOf(err: Error): string | undefined {
  return (err.cause as NodeJS.ErrnoException | undefined)?.code;
}

describe('the store over rediss://', () => {
  it('does the contract’s operations over a verified TLS connection', async () => {
    const store = new RedisStore(server.url(1), { tls: { ca: server.ca } });
    const admin = adminClient(1);
    try {
      await store.ping();
      expect(await store.setIfAbsent('tls:claim', 'a', 60_000)).toBe(true);
      expect(await store.setIfAbsent('tls:claim', 'b', 60_000)).toBe(false);
      expect(await store.get('tls:claim')).toBe('a');
      await store.set('tls:other', 'v', 60_000);
      expect(await store.getMany(['tls:claim', 'tls:other', 'tls:missing'])).toEqual(['a', 'v', null]);
      // Lua goes over TLS too (EVAL), as BullMQ's scripts do.
      expect(await store.compareAndDelete('tls:claim', 'b')).toBe(false);
      expect(await store.compareAndDelete('tls:claim', 'a')).toBe(true);
      await store.hashSet('tls:hash', 'f', '1');
      expect(await store.hashGet('tls:hash', 'f')).toBe('1');
      expect(await store.hashGetAll('tls:hash')).toEqual({ f: '1' });
      await store.hashDelete('tls:hash', 'f');
      expect(await store.hashGetAll('tls:hash')).toEqual({});
      await store.delete('tls:other');
      expect(await store.get('tls:other')).toBeNull();
      // Written where we think: the server (TLS only, no plain port) holds what the store wrote.
      await store.set('tls:seen', 'yes', 60_000);
      expect(await admin.get('tls:seen')).toBe('yes');
      expect(await admin.pttl('tls:seen')).toBeGreaterThan(50_000);
    } finally {
      await store.close();
      admin.disconnect();
    }
  });

  it('refuses a server whose certificate is signed by a CA it does not trust', async () => {
    // No `ca`: Node's own CAs only, which never signed the throwaway one.
    const store = new RedisStore(server.url(1));
    try {
      const err = await rejection(store.ping());
      expect(err).toBeInstanceOf(StoreUnavailableError);
      expect(codeOf(err)).toMatch(UNTRUSTED);
      expect(err.message).not.toContain(server.password);
    } finally {
      await store.close();
    }
  });

  it('refuses a certificate that does not name the host it checks against', async () => {
    // A trusted CA, but the certificate names localhost and 127.0.0.1 only: host name verification is on.
    const store = new RedisStore(server.url(1), { tls: { ca: server.ca, servername: 'cache.example.com' } });
    try {
      const err = await rejection(store.ping());
      expect(codeOf(err)).toBe('ERR_TLS_CERT_ALTNAME_INVALID');
    } finally {
      await store.close();
    }
  });

  it('says to use rediss:// when a redis:// URL points at a TLS-only port, without the password', async () => {
    const plainUrl = server.url(1).replace(/^rediss:/, 'redis:');
    const err = await rejection(createStore({ redisUrl: plainUrl, logger: quietLogger }));
    expect(err).toBeInstanceOf(StoreUnavailableError);
    expect(err.message).toContain(`localhost:${server.port}`);
    expect(err.message).toContain('use a rediss:// URL');
    expect(err.message).not.toContain(server.password);
  });
});

describe('the bot on rediss://', () => {
  it('answers an event through the BullMQ queue over TLS, and every connection it opens sends SNI', {
    timeout: 40_000,
  }, async () => {
    // Through a TLS front that records SNI, as a managed service's proxy routes on it.
    const front = await startSniFront(server);
    const url = server.url(2, { port: front.port });
    const store = new RedisStore(url, { tls: { ca: server.ca } });
    const admin = adminClient(2);
    const queue = new Queue(EVENT_QUEUE, { connection: admin, prefix: QUEUE_PREFIX });
    try {
      await store.ping();
      const bot = await startE2e({ emulator, redis: { url }, store });
      try {
        const res = await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }));
        expect(res.status).toBe(200);
        await bot.settle(20_000);
        expect(emulator.messages).toHaveLength(1);
        expect(emulator.messages[0]?.kind).toBe('reply');
        expect(cardText(emulator.messages[0]?.content)).toContain('4,321');
        // It ran as a BullMQ job, not in process.
        expect(await queue.getJobCounts('completed')).toEqual({ completed: 1 });

        // The store, the producer and worker duplicated from it, and BullMQ's own blocking duplicates of those: all
        // TLS (the server has no plain port), all through the front (the bot knows no other address), each with the
        // URL's host name as SNI. The admin client is the one without a name.
        const list = (await admin.client('LIST')) as string;
        const botClients = [...list.matchAll(/ name=(\S+)/g)].map((m) => m[1]);
        expect(botClients).toEqual(
          expect.arrayContaining([
            'feishu-stats-bot',
            'feishu-stats-bot:jobs:producer',
            'feishu-stats-bot:jobs:worker',
          ]),
        );
        expect(botClients.length).toBeGreaterThanOrEqual(5);
        expect(front.servernames.length).toBeGreaterThanOrEqual(botClients.length);
        expect(new Set(front.servernames)).toEqual(new Set(['localhost']));
      } finally {
        await bot.close();
      }
    } finally {
      await queue.close();
      await store.close();
      admin.disconnect();
      await front.close();
    }
  });
});

describe('src/server.ts on rediss:// (a child process, as operators run it)', () => {
  // A child starts in ~2 s alone, several times that beside other e2e files: bounds well past both.
  it('trusts a private CA given in NODE_EXTRA_CA_CERTS and answers an event over TLS', {
    timeout: 90_000,
  }, async () => {
    const child = await startChildServer({
      env: childEnvFor(emulator, { REDIS_URL: server.url(3), NODE_EXTRA_CA_CERTS: server.caFile }),
      name: 'tls-extra-ca',
      startTimeoutMs: 40_000,
    });
    try {
      const ready = await fetch(`${child.url}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready', store: 'redis' });
      const delivered = await deliverEvent(child.url, messageEvent({ text: `stats ${DOC_URL}` }));
      expect(delivered.status).toBe(200);
      await waitUntil(
        () => emulator.messages.length >= 1,
        20_000,
        () => `${emulator.messages.length} messages sent`,
      );
      expect(cardText(emulator.messages[0]?.content)).toContain('4,321');
      await child.stop();
      const output = JSON.stringify(child.logs) + child.stderr;
      expect(output).toContain('events and digests are durable jobs in Redis');
      expect(output).not.toContain(server.password);
    } finally {
      await child.kill();
    }
  });

  it('refuses to start on a server whose CA it does not trust, saying what to set and without the password', {
    timeout: 90_000,
  }, async () => {
    const child = spawnServer(childEnvFor(emulator, { REDIS_URL: server.url(3) }));
    const { code, output } = await exitOf(child, 40_000);
    expect(code).toBe(1);
    expect(output).toContain(`Cannot reach Redis at rediss://:***@localhost:${server.port}/3 (REDIS_URL)`);
    expect(output).toMatch(
      /self-signed certificate in certificate chain|unable to verify the first certificate/,
    );
    expect(output).toContain('NODE_EXTRA_CA_CERTS');
    expect(output).not.toContain(server.password);
  });
});

/** `src/server.ts` with only `env` (no NODE_EXTRA_CA_CERTS or NODE_TLS_* from the developer's shell). */
function spawnServer(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', 'src/server.ts'], {
    cwd: process.cwd(),
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** The exit code and everything the child printed; SIGKILLs it and rejects if it has not exited in time. */
function exitOf(child: ChildProcess, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the server was still running after ${timeoutMs} ms:\n${output}`));
    }, timeoutMs);
    // 'close' rather than 'exit': stdout and stderr are fully read by then.
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
