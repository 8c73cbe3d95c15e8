import fp from 'fastify-plugin';
import { AccessPolicy } from '../bot/access.js';
import { Bot } from '../bot/bot.js';
import { CardActions } from '../bot/card-actions.js';
import { type EventDispatcher, InProcessDispatcher } from '../bot/dispatcher.js';
import { DocumentService } from '../bot/documents.js';
import { LateWork } from '../bot/late-work.js';
import { PagingSessions } from '../bot/paging.js';
import { TenantData } from '../bot/tenant-data.js';
import { rootLogger } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    bot: Bot;
    dispatcher: EventDispatcher;
    cardActions: CardActions;
    lateWork: LateWork;
  }
}

/** How long shutdown waits for accepted events to be answered before giving up on them. */
export const DRAIN_TIMEOUT_MS = 10_000;

export interface BotPluginOptions {
  /** The bot's clock ("today" for ranges, "3 hours ago"); tests pin it. */
  clock?: () => number;
}

/**
 * The bot, the card-callback handler and the dispatcher that feeds the bot. Registered after the store and Feishu
 * plugins, so its onClose runs first (Fastify closes plugins in reverse order): in-flight work finishes while
 * Redis and HTTP are still open.
 */
export const botPlugin = fp<BotPluginOptions>(
  async (app, opts) => {
    const logger = rootLogger(app).child({ component: 'bot' });
    const now = opts.clock ?? Date.now;
    const documents = new DocumentService(app.feishu, app.cache, logger);
    const access = new AccessPolicy(app.config.botAdmins, app.feishu, app.cache, logger);
    const services = {
      feishu: app.feishu,
      store: app.store,
      logger,
      metrics: app.metrics,
      documents,
      access,
      paging: new PagingSessions(app.store),
      tenant: new TenantData(app.feishu, app.cache),
      ownAppId: app.config.feishu.appId,
      timeZone: app.config.digest.timeZone,
      now,
    };
    const bot = new Bot(services);
    const dispatcher = new InProcessDispatcher((envelope) => bot.handleEvent(envelope), logger);
    const lateWork = new LateWork();
    app.decorate('bot', bot);
    app.decorate('dispatcher', dispatcher);
    app.decorate('cardActions', new CardActions(services));
    app.decorate('lateWork', lateWork);
    app.addHook('onClose', async () => {
      await dispatcher.drain(DRAIN_TIMEOUT_MS);
      await lateWork.drain();
    });
  },
  { name: 'bot', dependencies: ['config', 'store', 'feishu'] },
);
