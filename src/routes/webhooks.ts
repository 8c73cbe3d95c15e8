import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { toast } from '../bot/card-actions.js';
import { MalformedRequestError, RequestVerificationError } from '../errors.js';
import { EVENT_CARD_ACTION } from '../feishu/events.js';
import { type OpenedRequest, openFeishuRequest, type VerifyOptions } from '../ingress/verify-request.js';

/** Feishu event bodies are a few KB; anything near this is not Feishu. Larger bodies get 413 before parsing. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

/**
 * Feishu shows the clicker an error when a callback is not answered within 3 s; past this point the route answers
 * with a toast and the updated card follows by PATCH.
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 */
export const CARD_CALLBACK_DEADLINE_MS = 2_500;

export interface WebhookRouteOptions {
  /** Clock for the signature timestamp window; tests move it to sign "stale" requests. */
  now?: () => number;
  /** Tests shorten the callback deadline to exercise the late path. */
  cardDeadlineMs?: number;
}

/**
 * `POST /webhook/event` and `POST /webhook/card`, thin on purpose: verify over the raw bytes, answer the URL check,
 * hand the typed event on. Events are only *accepted* here (Feishu retries anything not answered within 3 s);
 * card callbacks are answered with the updated card when that is quick, a toast otherwise.
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
 */
export const webhookRoutes: FastifyPluginAsync<WebhookRouteOptions> = async (app, opts) => {
  // Keep the body as raw bytes: the signature is over exactly what was sent, not over re-serialised JSON.
  // Scoped to this plugin, so other routes keep Fastify's JSON parser.
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );

  const { encryptKey, verificationToken } = app.config.feishu;
  const verifyOptions: VerifyOptions = {
    ...(encryptKey ? { encryptKey } : {}),
    ...(verificationToken ? { verificationToken } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  };
  const deadlineMs = opts.cardDeadlineMs ?? CARD_CALLBACK_DEADLINE_MS;

  /** Verify, or answer 401/400 and return undefined: nothing unverified goes further. */
  function openOrReject(
    route: 'event' | 'card',
    req: FastifyRequest,
    reply: FastifyReply,
  ): OpenedRequest | undefined {
    try {
      return openFeishuRequest({ rawBody: req.body as Buffer, headers: req.headers }, verifyOptions);
    } catch (err) {
      if (err instanceof RequestVerificationError) {
        app.metrics.inc('fsb_webhook_requests_total', { route, outcome: 'rejected' });
        req.log.warn({ reason: err.reason }, 'webhook request failed verification');
        // The reason stays in our log: telling the sender which check failed only helps a forger.
        void reply.code(401).send({ error: 'unauthorized' });
        return undefined;
      }
      if (err instanceof MalformedRequestError) {
        app.metrics.inc('fsb_webhook_requests_total', { route, outcome: 'malformed' });
        req.log.warn({ detail: err.message }, 'malformed webhook request');
        void reply.code(400).send({ error: 'bad request' });
        return undefined;
      }
      throw err;
    }
  }

  app.post('/webhook/event', async (req, reply) => {
    const opened = openOrReject('event', req, reply);
    if (!opened) return reply;
    if (opened.kind === 'challenge') {
      app.metrics.inc('fsb_webhook_requests_total', { route: 'event', outcome: 'challenge' });
      return { challenge: opened.challenge };
    }
    const { header } = opened.envelope;
    try {
      await app.dispatcher.dispatch(opened.envelope);
    } catch (err) {
      // Not accepted (shutting down, queue unreachable): 503 makes Feishu deliver it again later.
      req.log.warn({ err, event_id: header.event_id }, 'event not accepted; asking Feishu to retry');
      return reply.code(503).send({ error: 'unavailable' });
    }
    app.metrics.inc('fsb_webhook_requests_total', { route: 'event', outcome: 'accepted' });
    req.log.debug({ event_id: header.event_id, event_type: header.event_type }, 'event accepted');
    return {};
  });

  app.post('/webhook/card', async (req, reply) => {
    const opened = openOrReject('card', req, reply);
    if (!opened) return reply;
    if (opened.kind === 'challenge') {
      app.metrics.inc('fsb_webhook_requests_total', { route: 'card', outcome: 'challenge' });
      return { challenge: opened.challenge };
    }
    const { envelope } = opened;
    if (envelope.header.event_type !== EVENT_CARD_ACTION) {
      req.log.warn(
        { event_type: envelope.header.event_type },
        'non-card event on the card callback URL; ignored',
      );
      return {};
    }
    app.metrics.inc('fsb_webhook_requests_total', { route: 'card', outcome: 'accepted' });
    const work = app.cardActions.handle(envelope);
    const answer = await app.lateWork.within(work, deadlineMs);
    if (answer) return answer;

    // Too slow for the callback: acknowledge now, update the card in place when the work is done.
    const messageId = (envelope.event as { context?: { open_message_id?: string } }).context?.open_message_id;
    app.lateWork.track(
      work.then(async (late) => {
        if (late.card && messageId) await app.feishu.patchCard(messageId, late.card.data);
      }),
      req.log,
    );
    return toast('info', { en: 'Working on it…', zh: '正在处理…' });
  });

  app.addHook('onResponse', async (_req, reply) => {
    app.metrics.observe('fsb_webhook_ack_seconds', reply.elapsedTime / 1000);
  });
};
