import Fastify, { LogController } from 'fastify';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { EventRetryPolicy } from './jobs/event-queue.js';
import { ShutdownSteps } from './lifecycle.js';
import { botPlugin } from './plugins/bot.js';
import { httpMetricsPlugin } from './plugins/http-metrics.js';
import { type LongConnectionPluginOptions, longConnectionPlugin } from './plugins/long-connection.js';
import { configPlugin, feishuPlugin, type ServiceOverrides, storePlugin } from './plugins/services.js';
import { healthRoutes } from './routes/health.js';
import { webhookRoutes } from './routes/webhooks.js';

export interface BuildAppOptions extends ServiceOverrides {
  logger: Logger;
  /** Clock for webhook timestamp checks. */
  now?: () => number;
  /** The bot's clock ("today", "3 hours ago"); separate so tests can pin dates and still sign with real time. */
  clock?: () => number;
  /** Tests shorten the card-callback deadline to exercise the late-update path. */
  cardDeadlineMs?: number;
  /** How often the digest scheduler looks for chats that are due (default one minute); tests shorten it. */
  digestTickMs?: number;
  /** The event jobs' retry schedule (default `EVENT_RETRY`); tests shorten it. */
  eventRetry?: EventRetryPolicy;
  /** Long-connection waits (`FEISHU_EVENT_MODE=websocket`); tests shorten them. */
  longConnection?: LongConnectionPluginOptions;
}

/** Assemble the service. `server.ts` listens on it; tests call `inject()` or listen on port 0. */
export async function buildApp(config: Config, opts: BuildAppOptions) {
  const app = Fastify({
    loggerInstance: opts.logger,
    return503OnClosing: true,
    // Fastify's two info lines per request ("incoming request", "request completed") were a tenth of the
    // webhook's CPU under load (npm run bench, bench/profile.ts). Feishu's pushes are counted by the metrics and
    // logged by the routes where something happens (rejected, dropped, refused), and answered ones at debug;
    // every other route keeps Fastify's lines.
    logController: new LogController({ disableRequestLogging: (req) => req.url.startsWith('/webhook/') }),
  });
  // Before the plugins, whose close steps record themselves in it.
  app.decorate('shutdownSteps', new ShutdownSteps());

  await app.register(configPlugin, { config, ...(opts.metrics ? { metrics: opts.metrics } : {}) });
  await app.register(httpMetricsPlugin);
  await app.register(storePlugin, opts.store ? { store: opts.store } : {});
  await app.register(feishuPlugin, {
    ...(opts.feishu ? { feishu: opts.feishu } : {}),
    ...(opts.rateLimits ? { rateLimits: opts.rateLimits } : {}),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  // One ingress: the long connection, or the webhook routes (which then answer 404 in websocket mode).
  if (config.eventMode === 'websocket') await app.register(longConnectionPlugin, opts.longConnection ?? {});
  await app.register(botPlugin, {
    ...(opts.clock ? { clock: opts.clock } : {}),
    ...(opts.digestTickMs ? { digestTickMs: opts.digestTickMs } : {}),
    ...(opts.cardDeadlineMs ? { cardDeadlineMs: opts.cardDeadlineMs } : {}),
    ...(opts.eventRetry ? { eventRetry: opts.eventRetry } : {}),
  });
  await app.register(healthRoutes);
  if (config.eventMode === 'webhook') await app.register(webhookRoutes, opts.now ? { now: opts.now } : {});
  return app;
}

export type App = Awaited<ReturnType<typeof buildApp>>;
