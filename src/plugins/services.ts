import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { CallUsage } from '../data/call-usage.js';
import { createFeishuClient, type FeishuClient, worstCaseCallMs } from '../feishu/client.js';
import { createRateLimiter, type RateLimitTable } from '../feishu/rate-limits.js';
import { Metrics } from '../metrics.js';
import { JsonCache } from '../store/cache.js';
import { createStore } from '../store/create-store.js';
import { checkRedisSettings } from '../store/redis-settings.js';
import { RedisStore } from '../store/redis-store.js';
import type { Store } from '../store/store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    metrics: Metrics;
    store: Store;
    cache: JsonCache;
    feishu: FeishuClient;
    /** This month's Feishu API calls, shared by the replicas on one store. */
    callUsage: CallUsage;
  }
}

export interface ServiceOverrides {
  /** Tests inject an already-open store (e.g. one Redis shared by several app instances). */
  store?: Store;
  feishu?: FeishuClient;
  metrics?: Metrics;
  /** Tests replace the documented Feishu limits with small ones. */
  rateLimits?: RateLimitTable;
}

/** Config and metrics: no dependencies, nothing to close. */
export const configPlugin = fp<{ config: Config; metrics?: Metrics }>(
  async (app, opts) => {
    app.decorate('config', opts.config);
    app.decorate('metrics', opts.metrics ?? new Metrics());
  },
  { name: 'config' },
);

/**
 * The store (Redis or in-memory) and the JSON cache over it. An injected store is the caller's to close;
 * one we open here we close in onClose.
 */
export const storePlugin = fp<{ store?: Store }>(
  async (app, opts) => {
    const store = opts.store ?? (await createStore({ redisUrl: app.config.redisUrl, logger: app.log }));
    app.decorate('store', store);
    // A load is one Feishu call through the transport (a page walk is a few): its lock must outlive the slowest
    // call, rate-limit waits included, or a second replica loads the same key while the first still waits.
    const lockTtlMs = worstCaseCallMs();
    app.decorate(
      'cache',
      new JsonCache(store, { lockTtlMs, logger: rootLogger(app).child({ component: 'cache' }) }),
    );
    if (!opts.store)
      app.addHook('onClose', () => app.shutdownSteps.run('closing the store', () => store.close()));
    // Once per start, on the Redis this process opened from REDIS_URL: warn if it would lose acknowledged work.
    if (!opts.store && store instanceof RedisStore) await checkRedisSettings(store.client, app.log);
  },
  { name: 'store', dependencies: ['config'] },
);

/** The Feishu Open Platform client (token cache, retries, shared rate limits, redacting logger). */
export const feishuPlugin = fp<{ feishu?: FeishuClient; rateLimits?: RateLimitTable; clock?: () => number }>(
  async (app, opts) => {
    const { appId, appSecret, domain, encryptKey, verificationToken } = app.config.feishu;
    const logger = rootLogger(app).child({ component: 'feishu' });
    const { feishuRequestDuration: feishuRequests, rateLimitWait } = app.metrics;
    // With Redis every replica draws from one budget per endpoint; in memory the budget is this process's.
    const rateLimiter = createRateLimiter({
      ...(app.store instanceof RedisStore ? { redis: app.store.client } : {}),
      ...(opts.rateLimits ? { table: opts.rateLimits } : {}),
      logger,
    });
    // Months in DIGEST_TZ, like every "today" of the bot; the clock is the bot's, so tests can turn a month.
    const callUsage = new CallUsage({
      store: app.store,
      timeZone: app.config.digest.timeZone,
      ...(app.config.feishu.monthlyCallBudget ? { budget: app.config.feishu.monthlyCallBudget } : {}),
      ...(opts.clock ? { now: opts.clock } : {}),
      logger: logger.child({ component: 'call-usage' }),
    });
    const feishu =
      opts.feishu ??
      createFeishuClient({
        appId,
        appSecret,
        domain,
        logger,
        rateLimiter,
        // Scrubbed from anything Feishu (or something in between) echoes back, with the app secret and token.
        redact: [encryptKey, verificationToken],
        onAttempt: (attempt) => {
          feishuRequests.observe({ endpoint: attempt.endpoint, code: String(attempt.code) }, attempt.seconds);
          // Counted against the monthly quota when Feishu answered (`countsAgainstQuota`); never awaited.
          callUsage.record(attempt);
        },
        onWait: ({ endpoint, side, seconds }) => rateLimitWait.observe({ endpoint, side }, seconds),
      });
    app.decorate('feishu', feishu);
    app.decorate('callUsage', callUsage);
    if (!opts.feishu) app.addHook('onClose', async () => feishu.close());
    // Before the store closes (plugins close in reverse order): the last calls' counts are still written.
    app.addHook('onClose', () => app.shutdownSteps.run('writing call counts', () => callUsage.flush()));
  },
  { name: 'feishu', dependencies: ['config', 'store'] },
);

/**
 * `app.log` is the pino instance `buildApp` passed as `loggerInstance`; Fastify only types it as its narrower
 * base logger, so services that take a full pino Logger get it through here.
 */
export function rootLogger(app: FastifyInstance): Logger {
  return app.log as Logger;
}
