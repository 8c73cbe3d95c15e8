import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { createFeishuClient, type FeishuClient } from '../feishu/client.js';
import { Metrics } from '../metrics.js';
import { JsonCache } from '../store/cache.js';
import { createStore } from '../store/create-store.js';
import type { Store } from '../store/store.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    metrics: Metrics;
    store: Store;
    cache: JsonCache;
    feishu: FeishuClient;
  }
}

export interface ServiceOverrides {
  /** Tests inject an already-open store (e.g. one Redis shared by several app instances). */
  store?: Store;
  feishu?: FeishuClient;
  metrics?: Metrics;
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
    app.decorate('cache', new JsonCache(store));
    if (!opts.store) app.addHook('onClose', async () => store.close());
  },
  { name: 'store', dependencies: ['config'] },
);

/** The Feishu Open Platform client (token cache, retries, redacting logger). */
export const feishuPlugin = fp<{ feishu?: FeishuClient }>(
  async (app, opts) => {
    const { appId, appSecret, domain } = app.config.feishu;
    const feishu =
      opts.feishu ??
      createFeishuClient({
        appId,
        appSecret,
        domain,
        logger: rootLogger(app).child({ component: 'feishu' }),
      });
    app.decorate('feishu', feishu);
    if (!opts.feishu) app.addHook('onClose', async () => feishu.close());
  },
  { name: 'feishu', dependencies: ['config'] },
);

/**
 * `app.log` is the pino instance `buildApp` passed as `loggerInstance`; Fastify only types it as its narrower
 * base logger, so services that take a full pino Logger get it through here.
 */
export function rootLogger(app: FastifyInstance): Logger {
  return app.log as Logger;
}
