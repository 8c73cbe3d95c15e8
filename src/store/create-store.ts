import { MemoryStore } from './memory-store.js';
import { RedisStore, redactRedisUrl, type StoreLogger, StoreUnavailableError } from './redis-store.js';
import type { Store } from './store.js';

export type { StoreLogger } from './redis-store.js';

export interface CreateStoreOptions {
  /** `REDIS_URL`; absent means in-memory state for a single instance. */
  redisUrl?: string;
  logger: StoreLogger;
}

/**
 * Picks the adapter at startup. With a Redis URL it connects and pings before returning, so a wrong URL
 * stops the process at boot rather than at the first webhook.
 */
export async function createStore(opts: CreateStoreOptions): Promise<Store> {
  const { redisUrl, logger } = opts;
  if (!redisUrl) {
    logger.warn(
      { store: 'memory' },
      'REDIS_URL is not set: state is kept in memory (single instance only, lost on restart)',
    );
    return new MemoryStore();
  }

  const where = redactRedisUrl(redisUrl);
  const store = new RedisStore(redisUrl, { logger });
  try {
    await store.ping();
  } catch (err) {
    await store.close();
    // Unwrap our own "Redis ping failed: …" so the message names the network problem once.
    const root = err instanceof StoreUnavailableError && err.cause instanceof Error ? err.cause : err;
    const reason = root instanceof Error ? root.message : String(root);
    throw new StoreUnavailableError('connect', `Cannot reach Redis at ${where} (REDIS_URL): ${reason}`, {
      cause: err,
    });
  }
  logger.info({ store: 'redis', url: where }, 'state is kept in Redis');
  return store;
}
