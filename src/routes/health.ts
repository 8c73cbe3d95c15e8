import type { FastifyPluginAsync } from 'fastify';

/**
 * `/healthz` says the process is alive (for restarts), `/readyz` that it can do work (for load balancers): the
 * store answers and, in websocket mode, the long connection is open. `/metrics` is Prometheus text (prom-client).
 */
export const healthRoutes: FastifyPluginAsync = async (app) => {
  app.get('/healthz', async () => ({ status: 'ok' }));

  app.get('/readyz', async (req, reply) => {
    // In websocket mode events arrive only while the long connection is open.
    const connection = app.longConnection;
    const ingress = connection ? { long_connection: connection.state } : {};
    try {
      await app.store.ping();
    } catch (err) {
      req.log.warn({ err }, 'readiness check failed: store unreachable');
      return reply.code(503).send({ status: 'unavailable', store: app.store.kind, ...ingress });
    }
    if (connection && !connection.connected) {
      return reply.code(503).send({ status: 'unavailable', store: app.store.kind, ...ingress });
    }
    return { status: 'ready', store: app.store.kind, ...ingress };
  });

  app.get('/metrics', async (_req, reply) => {
    reply.type(app.metrics.contentType);
    return app.metrics.render();
  });
};
