import fp from 'fastify-plugin';
import { LongConnection, type LongConnectionOptions } from '../ingress/long-connection.js';
import { rootLogger } from './services.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Present in `FEISHU_EVENT_MODE=websocket` only. */
    longConnection?: LongConnection;
  }
}

/** Tests shorten the waits; production uses the defaults in `ingress/long-connection.ts`. */
export type LongConnectionPluginOptions = Pick<
  LongConnectionOptions,
  'pingTimeoutS' | 'startWaitMs' | 'restartDelayMs'
>;

/**
 * The long connection as the ingress (`FEISHU_EVENT_MODE=websocket`), in place of the webhook routes. Registered
 * before the bot plugin so that, of the two, its hooks run first: the connection is open before anything else is
 * ready, and at shutdown it closes first (no new events) while the bot's preClose finishes what was accepted.
 * The dispatcher and the callback owner are the bot plugin's, looked up per frame.
 */
export const longConnectionPlugin = fp<LongConnectionPluginOptions>(
  async (app, opts) => {
    const { appId, appSecret, domain, encryptKey, verificationToken } = app.config.feishu;
    const connection = new LongConnection({
      ...opts,
      appId,
      appSecret,
      domain,
      logger: rootLogger(app),
      metrics: app.metrics,
      redact: [encryptKey, verificationToken].filter((v): v is string => Boolean(v)),
      accept: (envelope) => app.dispatcher.dispatch(envelope),
      answerCard: (envelope) => app.cardCallbacks.answer(envelope),
    });
    app.decorate('longConnection', connection);
    app.addHook('onReady', () => connection.start());
    app.addHook('preClose', async () => {
      await app.shutdownSteps.run('closing the long connection', async () => connection.close());
    });
  },
  { name: 'long-connection', dependencies: ['config'] },
);
