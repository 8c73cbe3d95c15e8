import type { Logger } from 'pino';
import type { App } from './app.js';

/**
 * Listen, and on SIGTERM/SIGINT close the app (which drains accepted work, then closes Redis and HTTP) before
 * exiting: 0 when the close finished, 1 when it failed. Shared by `server.ts` and the test replica entry.
 */
export async function serveUntilSignalled(
  app: App,
  logger: Logger,
  listen: { port: number; host: string },
): Promise<void> {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight work');
    try {
      await app.close();
      logger.info('shutdown complete');
      process.exit(0);
    } catch (err) {
      logger.error({ err }, 'shutdown failed');
      process.exit(1);
    }
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen(listen);
}
