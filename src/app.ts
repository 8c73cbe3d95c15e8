import Fastify from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import { botPlugin } from './plugins/bot.js';
import { configPlugin, feishuPlugin, type ServiceOverrides, storePlugin } from './plugins/services.js';
import { healthRoutes } from './routes/health.js';
import { webhookEventRoute } from './routes/webhook-event.js';

export interface BuildAppOptions extends ServiceOverrides {
  logger: Logger;
  /** Clock for webhook timestamp checks. */
  now?: () => number;
}

/** Assemble the service. `server.ts` listens on it; tests call `inject()` or listen on port 0. */
export async function buildApp(config: Config, opts: BuildAppOptions) {
  const app = Fastify({
    loggerInstance: opts.logger,
    return503OnClosing: true,
  });

  await app.register(configPlugin, { config, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  await app.register(storePlugin, opts.store ? { store: opts.store } : {});
  await app.register(feishuPlugin, opts.feishu ? { feishu: opts.feishu } : {});
  await app.register(botPlugin);
  await app.register(healthRoutes);
  await app.register(webhookEventRoute, opts.now ? { now: opts.now } : {});
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
