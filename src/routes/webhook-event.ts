import type { FastifyPluginAsync } from 'fastify';
import { MalformedRequestError, RequestVerificationError } from '../errors.js';
import { type OpenedRequest, openFeishuRequest } from '../ingress/verify-request.js';

/** Feishu event bodies are a few KB; anything near this is not Feishu. Larger bodies get 413 before parsing. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

export interface WebhookRouteOptions {
  /** Clock for the signature timestamp window; tests move it to sign "stale" requests. */
  now?: () => number;
}

/**
 * `POST /webhook/event`, thin on purpose: verify over the raw bytes, answer the URL check, hand the typed event
 * to the dispatcher and acknowledge. Nothing here waits for Feishu API calls, because Feishu retries any
 * delivery not answered within 3 s. https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
 */
export const webhookEventRoute: FastifyPluginAsync<WebhookRouteOptions> = async (app, opts) => {
  // Keep the body as raw bytes: the signature is over exactly what was sent, not over re-serialised JSON.
  // Scoped to this plugin, so other routes keep Fastify's JSON parser.
  app.addContentTypeParser(
    'application/json',
    { parseAs: 'buffer', bodyLimit: WEBHOOK_BODY_LIMIT },
    (_req, body, done) => done(null, body),
  );

  const { encryptKey, verificationToken } = app.config.feishu;
  const verifyOptions = {
    ...(encryptKey ? { encryptKey } : {}),
    ...(verificationToken ? { verificationToken } : {}),
    ...(opts.now ? { now: opts.now } : {}),
  };

  app.post('/webhook/event', async (req, reply) => {
    let opened: OpenedRequest;
    try {
      opened = openFeishuRequest({ rawBody: req.body as Buffer, headers: req.headers }, verifyOptions);
    } catch (err) {
      if (err instanceof RequestVerificationError) {
        app.metrics.inc('fsb_webhook_requests_total', { route: 'event', outcome: 'rejected' });
        req.log.warn({ reason: err.reason }, 'webhook request failed verification');
        // The reason stays in our log: telling the sender which check failed only helps a forger.
        return reply.code(401).send({ error: 'unauthorized' });
      }
      if (err instanceof MalformedRequestError) {
        app.metrics.inc('fsb_webhook_requests_total', { route: 'event', outcome: 'malformed' });
        req.log.warn({ detail: err.message }, 'malformed webhook request');
        return reply.code(400).send({ error: 'bad request' });
      }
      throw err;
    }

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

  app.addHook('onResponse', async (_req, reply) => {
    app.metrics.observe('fsb_webhook_ack_seconds', reply.elapsedTime / 1000);
  });
};
