/**
 * Builds the real app with test config, listening on a loopback port and talking to the Feishu emulator.
 * (fastify/demo `test/helper.ts` style: tests get the app back and drive it over HTTP or `inject()`.)
 */
import { randomBytes } from 'node:crypto';
import { type App, buildApp } from '../src/app.js';
import { type LogLevel, loadConfig } from '../src/config.js';
import type { EventEnvelope } from '../src/feishu/events.js';
import type { RateLimitTable } from '../src/feishu/rate-limits.js';
import type { EventRetryPolicy } from '../src/jobs/event-queue.js';
import { createLogger } from '../src/logger.js';
import type { LongConnectionPluginOptions } from '../src/plugins/long-connection.js';
import type { Store } from '../src/store/store.js';
import type { FeishuEmulator } from './emulator/feishu-emulator.js';
import { buildEncryptedRequest, DEFAULT_VERIFICATION_TOKEN } from './emulator/fixtures.js';

export const TEST_ENCRYPT_KEY = 'e2e-encrypt-key-7Yq2';

/** Collects pino's JSON lines so tests can assert on what was (not) logged. */
export class LogCapture {
  readonly lines: string[] = [];
  write(line: string): void {
    this.lines.push(line);
  }
  get text(): string {
    return this.lines.join('');
  }
  records(): Array<Record<string, unknown>> {
    return this.lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  }
}

export interface TestBot {
  app: App;
  url: string;
  logs: LogCapture;
  /** POST an envelope the way Feishu does: encrypted and signed (default) or plain with the token. */
  deliver(envelope: EventEnvelope | Record<string, unknown>, opts?: { plain?: boolean }): Promise<Response>;
  /** POST a card callback (encrypted, signed) to /webhook/card and return the parsed answer. */
  click(envelope: EventEnvelope): Promise<{ status: number; body: CardAnswer }>;
  /** Wait until every accepted event has been handled. */
  settle(timeoutMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** What /webhook/card answers: a toast and/or the replacement card. */
export interface CardAnswer {
  toast?: { type: string; content: string; i18n?: { zh_cn: string; en_us: string } };
  card?: { type: 'raw'; data: unknown };
}

export async function startTestBot(opts: {
  emulator: FeishuEmulator;
  env?: Record<string, string>;
  store?: Store;
  now?: () => number;
  /** The bot's own clock (dates, "3 hours ago"); signatures still use real time. */
  clock?: () => number;
  rateLimits?: RateLimitTable;
  cardDeadlineMs?: number;
  /** Digest scheduler interval; tests use a fraction of a second instead of a minute. */
  digestTickMs?: number;
  /** Default `debug`; the secrets test runs every level. */
  logLevel?: LogLevel;
  eventRetry?: EventRetryPolicy;
  /** With `FEISHU_EVENT_MODE=websocket` in `env`. */
  longConnection?: LongConnectionPluginOptions;
}): Promise<TestBot> {
  const { emulator } = opts;
  const config = loadConfig({
    FEISHU_APP_ID: emulator.appId,
    FEISHU_APP_SECRET: emulator.appSecret,
    FEISHU_ENCRYPT_KEY: TEST_ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: DEFAULT_VERIFICATION_TOKEN,
    FEISHU_DOMAIN: emulator.url,
    HOST: '127.0.0.1',
    PORT: '0',
    ...opts.env,
  });
  const logs = new LogCapture();
  const logger = createLogger({ level: opts.logLevel ?? 'debug', destination: logs });
  const app = await buildApp(config, {
    logger,
    ...(opts.store ? { store: opts.store } : {}),
    ...(opts.now ? { now: opts.now } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    ...(opts.cardDeadlineMs ? { cardDeadlineMs: opts.cardDeadlineMs } : {}),
    ...(opts.digestTickMs ? { digestTickMs: opts.digestTickMs } : {}),
    ...(opts.eventRetry ? { eventRetry: opts.eventRetry } : {}),
    ...(opts.longConnection ? { longConnection: opts.longConnection } : {}),
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });

  return {
    app,
    url,
    logs,
    async deliver(envelope, deliverOpts = {}) {
      if (deliverOpts.plain) {
        return fetch(`${url}/webhook/event`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(envelope),
        });
      }
      const { body, headers } = buildEncryptedRequest(envelope, TEST_ENCRYPT_KEY, {
        nonce: randomBytes(6).toString('hex'),
      });
      return fetch(`${url}/webhook/event`, { method: 'POST', headers, body });
    },
    async click(envelope) {
      const { body, headers } = buildEncryptedRequest(envelope, TEST_ENCRYPT_KEY, {
        nonce: randomBytes(6).toString('hex'),
      });
      const res = await fetch(`${url}/webhook/card`, { method: 'POST', headers, body });
      return { status: res.status, body: (await res.json()) as CardAnswer };
    },
    async settle(timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      // Two consecutive idle readings: a handler may enqueue nothing new, but a just-accepted event starts on
      // the next tick.
      let idle = 0;
      while (idle < 2) {
        if (Date.now() > deadline) throw new Error(`events still pending after ${timeoutMs} ms`);
        idle = (await app.dispatcher.pending()) === 0 ? idle + 1 : 0;
        if (idle === 1) await app.lateWork.drain();
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    close: () => app.close(),
  };
}

/** All user-visible text of a card (every `content` and `i18n_content` value), for "does it say X" checks. */
export function cardText(card: unknown): string {
  const parts: string[] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      for (const [key, value] of Object.entries(node)) {
        if ((key === 'content' || key === 'zh_cn' || key === 'en_us') && typeof value === 'string')
          parts.push(value);
        else walk(value);
      }
    }
  };
  walk(card);
  return parts.join('\n');
}

/** Every callback value on a card's buttons, by button element id. */
export function buttons(card: unknown): Map<string, Record<string, unknown>> {
  const found = new Map<string, Record<string, unknown>>();
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const el = node as Record<string, unknown>;
      if (el.tag === 'button' && Array.isArray(el.behaviors)) {
        for (const b of el.behaviors as Array<Record<string, unknown>>) {
          if (b.type === 'callback') found.set(String(el.element_id), b.value as Record<string, unknown>);
        }
      }
      Object.values(el).forEach(walk);
    }
  };
  walk(card);
  return found;
}

export function buttonValue(card: unknown, pattern: RegExp): Record<string, unknown> {
  for (const [id, value] of buttons(card)) if (pattern.test(id)) return value;
  throw new Error(`no button matching ${pattern} among ${[...buttons(card).keys()].join(', ')}`);
}
