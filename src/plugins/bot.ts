import fp from 'fastify-plugin';
import { Bot } from '../bot/bot.js';
import { type EventDispatcher, InProcessDispatcher } from '../bot/dispatcher.js';
import { rootLogger } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    bot: Bot;
    dispatcher: EventDispatcher;
  }
}

/** How long shutdown waits for accepted events to be answered before giving up on them. */
export const DRAIN_TIMEOUT_MS = 10_000;

/**
 * The bot and the dispatcher that feeds it. Registered after the store and Feishu plugins, so its onClose runs
 * first (Fastify closes plugins in reverse order): in-flight work finishes while Redis and HTTP are still open.
 */
export const botPlugin = fp(
  async (app) => {
    const bot = new Bot({
      feishu: app.feishu,
      store: app.store,
      cache: app.cache,
      logger: rootLogger(app).child({ component: 'bot' }),
      metrics: app.metrics,
    });
    const dispatcher = new InProcessDispatcher((envelope) => bot.handleEvent(envelope), rootLogger(app));
    app.decorate('bot', bot);
    app.decorate('dispatcher', dispatcher);
    app.addHook('onClose', async () => dispatcher.drain(DRAIN_TIMEOUT_MS));
  },
  { name: 'bot', dependencies: ['config', 'store', 'feishu'] },
);
