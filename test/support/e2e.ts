/**
 * The end-to-end set-up every in-process e2e file shares: a Feishu emulator with the documents a test needs, the
 * bot's store (in memory, or a Redis database on the throwaway server), the real app listening on loopback against
 * both, and closing all of it in reverse order.
 *
 * - `startE2e(opts)`: one bot, for one test or several side by side; `close()` closes what it opened.
 * - `useE2e(opts)`: one bot for a whole file (or describe block), idle and with a clean emulator between tests.
 * - `useEmulator(opts)`: only the emulator, for files that start their bots (or child servers) per test.
 * - `ask(bot, text, opts)`: one command, privately or @mentioned in a group, and what the bot sent for it.
 */
import { afterAll, afterEach, beforeAll } from 'vitest';
import type { LogLevel } from '../../src/config.js';
import type { RateLimitTable } from '../../src/feishu/rate-limits.js';
import type { EventRetryPolicy } from '../../src/jobs/event-queue.js';
import type { LongConnectionPluginOptions } from '../../src/plugins/long-connection.js';
import { RedisStore } from '../../src/store/redis-store.js';
import type { Store } from '../../src/store/store.js';
import {
  type EmulatedDoc,
  type FeishuEmulator,
  type SentMessage,
  startFeishuEmulator,
} from '../emulator/feishu-emulator.js';
import { botMention, messageEvent } from '../emulator/fixtures.js';
import { startTestBot, type TestBot } from '../helper.js';
import { freshRedisDb } from '../redis.js';
import { killAllChildServers } from './child-server.js';
import { closeDeliveryAgent } from './deliver.js';

export type E2eDoc = Partial<EmulatedDoc> & { token: string };

/** What the emulator holds before any bot talks to it. */
export interface EmulatorSetup {
  docs?: E2eDoc[];
  /** Anything else to arrange first: wiki nodes, workplace days, rate limits … */
  arrange?: (emulator: FeishuEmulator) => void | Promise<void>;
}

export interface E2eOptions extends EmulatorSetup {
  /** The emulator to talk to, left open by `close()`; default: a new one of its own, closed by `close()`. */
  emulator?: FeishuEmulator;
  /**
   * Where the bot keeps its state. Default: in memory. `true`: a fresh database on the throwaway redis-server,
   * emptied and handed back by `close()`. `{ url }`: that database as it is, e.g. one several bots share, or a
   * TCP proxy in front of one; whoever holds it cleans it up.
   */
  redis?: boolean | { url: string };
  /** A store the caller opened (and closes), e.g. one seeded before the bot starts; default: one opened here. */
  store?: Store;
  /** Config overrides such as `BOT_ADMINS` or `DIGEST_TIME`; `REDIS_URL` comes from `redis`. */
  env?: Record<string, string>;
  /** Clock for webhook signature checks. */
  now?: () => number;
  /** The bot's own clock (dates, "3 hours ago"); signatures still use real time. */
  clock?: () => number;
  rateLimits?: RateLimitTable;
  cardDeadlineMs?: number;
  /** Digest scheduler interval; tests use a fraction of a second instead of a minute. */
  digestTickMs?: number;
  /** The bot's log level; default `debug`. */
  logLevel?: LogLevel;
  /** The event jobs' retry schedule with Redis; default the production one. */
  eventRetry?: EventRetryPolicy;
  /** Long-connection waits, with `FEISHU_EVENT_MODE=websocket` in `env`. */
  longConnection?: LongConnectionPluginOptions;
}

export interface E2e extends TestBot {
  readonly emulator: FeishuEmulator;
  /** Closes the bot, then whatever was opened for it here: store, Redis database, emulator. */
  close(): Promise<void>;
}

export async function startE2e(opts: E2eOptions = {}): Promise<E2e> {
  const closers: Array<() => Promise<void>> = [];
  try {
    let emulator = opts.emulator;
    if (!emulator) {
      const own = await startFeishuEmulator();
      closers.unshift(() => own.close());
      emulator = own;
    }
    await arrangeEmulator(emulator, opts);

    let redisUrl: string | undefined;
    if (opts.redis === true) {
      const db = await freshRedisDb();
      closers.unshift(() => db.cleanup());
      redisUrl = db.url;
    } else if (opts.redis) {
      redisUrl = opts.redis.url;
    }
    let store = opts.store;
    if (!store && redisUrl) {
      const own = new RedisStore(redisUrl);
      closers.unshift(() => own.close());
      // Connected before the app starts, so a Redis that is not there fails here rather than mid-test.
      await own.ping();
      store = own;
    }

    const bot = await startTestBot({
      emulator,
      ...(store ? { store } : {}),
      env: { ...(redisUrl ? { REDIS_URL: redisUrl } : {}), ...opts.env },
      ...(opts.now ? { now: opts.now } : {}),
      ...(opts.clock ? { clock: opts.clock } : {}),
      ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
      ...(opts.cardDeadlineMs ? { cardDeadlineMs: opts.cardDeadlineMs } : {}),
      ...(opts.digestTickMs ? { digestTickMs: opts.digestTickMs } : {}),
      ...(opts.logLevel ? { logLevel: opts.logLevel } : {}),
      ...(opts.eventRetry ? { eventRetry: opts.eventRetry } : {}),
      ...(opts.longConnection ? { longConnection: opts.longConnection } : {}),
    });
    closers.unshift(() => bot.close());
    return { ...bot, emulator, close: () => closeInOrder(closers) };
  } catch (err) {
    await closeInOrder(closers).catch(() => {});
    throw err;
  }
}

/**
 * One bot for the calling file or describe block, started in `beforeAll` and closed in `afterAll`; after each
 * test it waits for the bot to go idle and resets the emulator (calls, messages, failures, latency).
 *
 * The returned `emulator` and `bot` can be used by module-level helpers and tests as they are: each stands for
 * the one the hooks started (touching them outside tests and hooks throws).
 */
export function useE2e(opts: Omit<E2eOptions, 'emulator'> = {}): { emulator: FeishuEmulator; bot: E2e } {
  let started: E2e | undefined;
  beforeAll(async () => {
    started = await startE2e(opts);
  });
  afterEach(async () => {
    if (!started) return;
    await started.settle();
    started.emulator.reset();
  });
  afterAll(async () => {
    await started?.close();
    started = undefined;
  });
  return {
    emulator: lateBound('the e2e emulator', () => started?.emulator),
    bot: lateBound('the e2e bot', () => started),
  };
}

/**
 * The emulator alone for the calling file or describe block, started (and arranged) in `beforeAll` and closed in
 * `afterAll`. `childServers`: the block runs bots as child processes (test/support/child-server.ts); they are
 * killed, and the delivery agent closed, before the emulator they talk to goes away.
 */
export function useEmulator(opts: EmulatorSetup & { childServers?: boolean } = {}): FeishuEmulator {
  let emulator: FeishuEmulator | undefined;
  beforeAll(async () => {
    emulator = await startFeishuEmulator();
    await arrangeEmulator(emulator, opts);
  });
  afterAll(async () => {
    if (opts.childServers) {
      await killAllChildServers();
      closeDeliveryAgent();
    }
    await emulator?.close();
    emulator = undefined;
  });
  return lateBound('the emulator', () => emulator);
}

async function arrangeEmulator(emulator: FeishuEmulator, setup: EmulatorSetup): Promise<void> {
  for (const doc of setup.docs ?? []) emulator.addDoc(doc);
  await setup.arrange?.(emulator);
}

/** Runs every closer even when one fails, then throws the first failure. */
async function closeInOrder(closers: ReadonlyArray<() => Promise<void>>): Promise<void> {
  let first: unknown;
  for (const close of closers) {
    try {
      await close();
    } catch (err) {
      first ??= err;
    }
  }
  if (first !== undefined) throw first;
}

/**
 * Stands for whatever `current()` returns when a property is read: test files bind `emulator` and `bot` once
 * at load time, and `beforeAll` starts them later. Methods are bound to the real object, so its getters and
 * private fields work as usual.
 */
function lateBound<T extends object>(what: string, current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_target, property) {
      const target = current();
      if (!target) throw new Error(`${what} only exists inside tests and hooks (it starts in beforeAll)`);
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}

export interface AskOptions {
  /** The asker's open_id; default a new one. */
  sender?: string;
  /** In a group, @mentioning the bot: `true` for a chat of its own, or that chat's id. Default: privately. */
  group?: boolean | string;
}

/** Sends `text` as a message to the bot and returns every message the bot sent while handling it. */
export async function ask(bot: E2e, text: string, opts: AskOptions = {}): Promise<SentMessage[]> {
  const { emulator } = bot;
  const before = emulator.messages.length;
  const sender = opts.sender !== undefined ? { senderOpenId: opts.sender } : {};
  await bot.deliver(
    opts.group
      ? messageEvent({
          chatType: 'group',
          ...(typeof opts.group === 'string' ? { chatId: opts.group } : {}),
          mentions: [botMention(emulator.botOpenId)],
          text: `@_user_1 ${text}`,
          ...sender,
        })
      : messageEvent({ text, ...sender }),
  );
  await bot.settle();
  return emulator.messages.slice(before);
}
