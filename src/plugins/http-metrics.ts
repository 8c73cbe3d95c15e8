import type { FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';

declare module 'fastify' {
  interface FastifyRequest {
    /** What the route made of the request (the webhook outcome), for the duration histogram's `outcome` label. */
    outcome: string | undefined;
  }
}

/** `ok`, `client_error` or `server_error` for a route that names no outcome of its own. */
function statusOutcome(status: number): string {
  if (status >= 500) return 'server_error';
  return status >= 400 ? 'client_error' : 'ok';
}

/**
 * `fsb_http_request_duration_seconds{route,outcome}` for every request. The route is the matched pattern, or
 * `unmatched` for a 404, so a scan of random URLs cannot grow the series without bound.
 */
export const httpMetricsPlugin = fp(
  async (app) => {
    app.decorateRequest('outcome', undefined);
    const duration = app.metrics.httpRequestDuration;
    app.addHook('onResponse', (req: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const route = req.routeOptions.url ?? 'unmatched';
      duration.observe(
        { route, outcome: req.outcome ?? statusOutcome(reply.statusCode) },
        reply.elapsedTime / 1000,
      );
      done();
    });
  },
  { name: 'http-metrics', dependencies: ['config'] },
);
