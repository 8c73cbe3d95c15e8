/**
 * Anchor: a bare Fastify 5 route answering `{}`, with Fastify's defaults (its JSON body parser, no logger). What
 * HTTP on this machine costs before any webhook work. Run by `bench/run.ts` as a process of its own, on `PORT`.
 */
import Fastify from 'fastify';

const app = Fastify();
app.post('/webhook/event', async () => ({}));
await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
