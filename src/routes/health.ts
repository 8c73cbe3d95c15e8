import type { FastifyPluginAsync } from 'fastify';

/**
 * `/healthz` says the process is alive (for restarts), `/readyz` that it can do work (for load balancers): the
 * store answers. `/metrics` is Prometheus text.
 */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (req, reply) => {
    try {
      await app.store.ping();
      return { status: 'ready', store: app.store.kind };
    } catch (err) {
      req.log.warn({ err }, 'readiness check failed: store unreachable');
      return reply.code(503).send({ status: 'unavailable', store: app.store.kind });
    }
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8');
    return app.metrics.render();
  });
};
