import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { EventRefusedError } from '../bot/dispatcher.js';
import { MalformedRequestError, RequestVerificationError } from '../errors.js';
import type { EventEnvelope } from '../feishu/events.js';
import { checkEventShape } from '../ingress/event-shape.js';
import { type OpenedRequest, openFeishuRequest, type VerifyOptions } from '../ingress/verify-request.js';

/** Feishu event bodies are a few KB; anything near this is not Feishu. Larger bodies get 413 before parsing. */
export const WEBHOOK_BODY_LIMIT = 256 * 1024;

type WebhookOutcome = 'accepted' | 'challenge' | 'rejected' | 'malformed' | 'dropped' | 'refused';

export interface WebhookRouteOptions {
  /** Clock for the signature timestamp window; tests move it to sign "stale" requests. */
  now?: () => number;
}

/**
 * `POST /webhook/event` and `POST /webhook/card`, thin on purpose: verify over the raw bytes, answer the URL check,
 * check the shape of the fields the bot reads, hand the typed event on. Events are only *accepted* here (Feishu
 * retries anything not answered within 3 s); card callbacks go to their owner (`CardCallbacks`), which answers
 * within the deadline and follows up late.
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

  /** Counted, and kept on the request for `fsb_http_request_duration_seconds{outcome}`. */
  function countOutcome(req: FastifyRequest, route: 'event' | 'card', outcome: WebhookOutcome): void {
    req.outcome = outcome;
    app.metrics.webhookRequests.inc({ route, outcome });
  }

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
        countOutcome(req, route, 'rejected');
        req.log.warn({ reason: err.reason }, 'webhook request failed verification');
        // The reason stays in our log: telling the sender which check failed only helps a forger.
        void reply.code(401).send({ error: 'unauthorized' });
        return undefined;
      }
      if (err instanceof MalformedRequestError) {
        countOutcome(req, route, 'malformed');
        req.log.warn({ detail: err.message }, 'malformed webhook request');
        void reply.code(400).send({ error: 'bad request' });
        return undefined;
      }
      throw err;
    }
  }

  /**
   * The verified envelope when the fields the bot reads have the right types, else undefined after one log line.
   * Such an event is authentic, so it is acknowledged (200) and not processed: a 4xx would only make Feishu
   * deliver it again for hours. The line names the field and what was wrong with it, never its value.
   */
  function readableOrDropped(
    route: 'event' | 'card',
    envelope: EventEnvelope,
    req: FastifyRequest,
  ): EventEnvelope | undefined {
    const checked = checkEventShape(envelope);
    if (checked.ok) return checked.envelope;
    countOutcome(req, route, 'dropped');
    req.log.warn(
      {
        event_type: checked.eventType,
        ...(checked.eventId ? { event_id: checked.eventId } : {}),
        field: checked.field,
        problem: checked.problem,
      },
      'verified event not in the shape the bot reads; acknowledged and dropped',
    );
    return undefined;
  }

  app.post('/webhook/event', async (req, reply) => {
    const opened = openOrReject('event', req, reply);
    if (!opened) return reply;
    if (opened.kind === 'challenge') {
      countOutcome(req, 'event', 'challenge');
      return { challenge: opened.challenge };
    }
    const envelope = readableOrDropped('event', opened.envelope, req);
    if (!envelope) return {};
    const { header } = envelope;
    try {
      await app.dispatcher.dispatch(envelope);
    } catch (err) {
      // Not accepted (shutting down, backlog full, queue unreachable): 503 makes Feishu deliver it again later.
      // A refusal by design is one short line; anything else keeps its stack.
      if (err instanceof EventRefusedError) {
        req.log.info(
          { event_id: header.event_id, reason: err.reason },
          'event refused; asking Feishu to retry',
        );
      } else {
        req.log.warn({ err, event_id: header.event_id }, 'event not accepted; asking Feishu to retry');
      }
      countOutcome(req, 'event', 'refused');
      return reply.code(503).send({ error: 'unavailable' });
    }
    countOutcome(req, 'event', 'accepted');
    req.log.debug({ event_id: header.event_id, event_type: header.event_type }, 'event accepted');
    return {};
  });

  app.post('/webhook/card', async (req, reply) => {
    const opened = openOrReject('card', req, reply);
    if (!opened) return reply;
    if (opened.kind === 'challenge') {
      countOutcome(req, 'card', 'challenge');
      return { challenge: opened.challenge };
    }
    const envelope = readableOrDropped('card', opened.envelope, req);
    // An empty answer: no toast, and the card stays as it is.
    if (!envelope) return {};
    countOutcome(req, 'card', 'accepted');
    return app.cardCallbacks.answer(envelope);
  });

  // Fastify does not log these routes' requests (app.ts); at debug, one short line per answer stands in for its two.
  // Decided once: at info the hook would cost every request something for nothing.
  if (app.log.level === 'debug' || app.log.level === 'trace') {
    app.addHook('onResponse', async (req, reply) => {
      req.log.debug({ url: req.url, status: reply.statusCode, ms: reply.elapsedTime }, 'webhook answered');
    });
  }
};
