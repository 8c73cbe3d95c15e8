import fp from 'fastify-plugin';
import { AccessPolicy } from '../bot/access.js';
import { Bot } from '../bot/bot.js';
import { CardActions } from '../bot/card-actions.js';
import { CardCallbacks } from '../bot/card-callbacks.js';
import { claimDelivery, deliveryIds } from '../bot/dedupe.js';
import { acknowledgingIgnored, type EventDispatcher, InProcessDispatcher } from '../bot/dispatcher.js';
import { warnAdminsOfBudget } from '../bot/handlers/usage.js';
import { LateWork } from '../bot/late-work.js';
import { PagingSessions } from '../bot/paging.js';
import { ChatDirectory } from '../data/chats.js';
import { DocumentService } from '../data/documents.js';
import { TenantData } from '../data/tenant-data.js';
import { DigestRunner } from '../digest/runner.js';
import { createStatisticsRecorder } from '../digest/snapshot-recorder.js';
import { SnapshotStore } from '../digest/snapshots.js';
import { SubscriptionStore } from '../digest/subscriptions.js';
import { createQueueConnections } from '../jobs/connections.js';
import {
  DIGEST_TICK_MS,
  type DigestScheduler,
  InProcessDigestScheduler,
  QueueDigestScheduler,
} from '../jobs/digest-queue.js';
import { type EventRetryPolicy, QueueDispatcher } from '../jobs/event-queue.js';
import { DRAIN_BUDGET_MS } from '../lifecycle.js';
import { RedisStore } from '../store/redis-store.js';
import { rootLogger } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    bot: Bot;
    dispatcher: EventDispatcher;
    cardCallbacks: CardCallbacks;
    lateWork: LateWork;
  }
}

export interface BotPluginOptions {
  /** The bot's clock ("today" for ranges, "3 hours ago"); tests pin it. */
  clock?: () => number;
  /** How often the digest scheduler looks for due chats; tests shorten it. */
  digestTickMs?: number;
  /** Tests shorten the card-callback deadline to exercise the late path. */
  cardDeadlineMs?: number;
  /** Tests shorten the event jobs' retry schedule (Redis only). */
  eventRetry?: EventRetryPolicy;
}

/**
 * The bot, the card-callback handler and the dispatcher that feeds the bot. Accepted work finishes in preClose,
 * before any onClose: Redis and the Feishu client are still open (Fastify closes plugins in reverse order).
 */
export const botPlugin = fp<BotPluginOptions>(
  async (app, opts) => {
    const logger = rootLogger(app).child({ component: 'bot' });
    const now = opts.clock ?? Date.now;
    const snapshots = new SnapshotStore(app.store, { logger });
    // Every statistics answer (stats, Refresh, trend, digest add) keeps the day's figures if the day has none, so
    // documents in no digest get a trend too; the digest's own snapshot, written with `put`, still wins.
    const documents = new DocumentService(app.feishu, app.cache, logger, {
      onStatistics: createStatisticsRecorder({ snapshots, timeZone: app.config.digest.timeZone, now }),
    });
    const access = new AccessPolicy(app.config.botAdmins, app.feishu, app.cache, logger);
    const subscriptions = new SubscriptionStore(app.store, { logger });
    const digest = {
      time: { hour: app.config.digest.hour, minute: app.config.digest.minute },
      timeZone: app.config.digest.timeZone,
    };
    const tenant = new TenantData(app.feishu, app.cache);
    const services = {
      feishu: app.feishu,
      store: app.store,
      logger,
      metrics: app.metrics,
      documents,
      access,
      chats: new ChatDirectory(app.feishu, app.cache, logger),
      paging: new PagingSessions(app.store),
      tenant,
      ownAppId: app.config.feishu.appId,
      timeZone: app.config.digest.timeZone,
      subscriptions,
      snapshots,
      digest,
      now,
      callUsage: app.callUsage,
    };
    // At 80 % of FEISHU_MONTHLY_CALL_BUDGET (once a month across replicas) each admin hears it privately.
    app.callUsage.onBudgetWarning((warning) =>
      warnAdminsOfBudget(warning, { feishu: app.feishu, admins: app.config.botAdmins, logger }),
    );
    const runner = new DigestRunner({
      ...services,
      settings: digest,
    });
    const bot = new Bot({ ...services, onAddedToChat: (chatId) => runner.resumeChat(chatId) });
    const handle = bot.handleEvent.bind(bot);
    const tickMs = opts.digestTickMs ?? DIGEST_TICK_MS;
    let dispatcher: EventDispatcher;
    let scheduler: DigestScheduler;
    let closeConnections = async (): Promise<void> => undefined;
    if (app.store instanceof RedisStore) {
      const connections = createQueueConnections(app.store.client, 'jobs');
      const queued = new QueueDispatcher({
        ...connections,
        handle,
        logger,
        metrics: app.metrics,
        ...(opts.eventRetry ? { retry: opts.eventRetry } : {}),
      });
      scheduler = new QueueDigestScheduler({ ...connections, runner, logger, metrics: app.metrics, tickMs });
      app.addHook('onReady', async () => {
        queued.start();
        await scheduler.start();
      });
      closeConnections = () => connections.close();
      dispatcher = queued;
      logger.info('events and digests are durable jobs in Redis (BullMQ), shared by every replica on it');
    } else {
      dispatcher = new InProcessDispatcher(
        handle,
        (envelope) => claimDelivery(app.store, deliveryIds(envelope)),
        logger,
      );
      scheduler = new InProcessDigestScheduler({ runner, logger, tickMs });
      app.addHook('onReady', async () => scheduler.start());
      logger.warn(
        'events and digests run in this process only: single instance, and work accepted but not finished is ' +
          'lost if the process dies; set REDIS_URL for durable jobs shared by replicas',
      );
    }
    const lateWork = new LateWork();
    app.decorate('bot', bot);
    app.decorate(
      'dispatcher',
      acknowledgingIgnored(
        dispatcher,
        (envelope) => bot.ignoresAtOnce(envelope),
        ({ header }) => app.metrics.events.inc({ type: header.event_type, outcome: 'ignored' }),
      ),
    );
    app.decorate(
      'cardCallbacks',
      new CardCallbacks({
        actions: new CardActions(services),
        feishu: app.feishu,
        lateWork,
        logger,
        ...(opts.cardDeadlineMs ? { deadlineMs: opts.cardDeadlineMs } : {}),
      }),
    );
    app.decorate('lateWork', lateWork);
    // preClose runs before Fastify stops listening, and from its start Fastify answers every request with 503 and
    // `Connection: close` (`return503OnClosing`): Feishu gets an answer it redelivers on instead of a refused or
    // reset connection, and keep-alive sockets wind down before the listener closes.
    app.addHook('preClose', async () => {
      const steps = app.shutdownSteps;
      await Promise.all([
        steps.run('finishing accepted events', () => dispatcher.drain(DRAIN_BUDGET_MS)),
        steps.run('stopping digests', () => scheduler.stop()),
        steps.run('finishing late card updates', () => lateWork.drain()),
      ]);
    });
    app.addHook('onClose', async () => {
      await app.shutdownSteps.run('closing queue connections', () => closeConnections());
    });
  },
  { name: 'bot', dependencies: ['config', 'store', 'feishu'] },
);
