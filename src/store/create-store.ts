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
    const hint = tlsHint(redisUrl, (root as NodeJS.ErrnoException | undefined)?.code);
    throw new StoreUnavailableError(
      'connect',
      `Cannot reach Redis at ${where} (REDIS_URL): ${reason}${hint ? `; ${hint}` : ''}`,
      { cause: err },
    );
  }
  logger.info({ store: 'redis', url: where }, 'state is kept in Redis');
  return store;
}

/**
 * What to do about a certificate Node refused (OpenSSL's verify codes, plus Node's own for a host name mismatch),
 * or about a URL whose scheme looks wrong for the server: redis-server drops a plain connection to its TLS port,
 * and a plain port never answers a TLS handshake. https://nodejs.org/api/tls.html#x509-certificate-error-codes
 */
function tlsHint(url: string, code: string | undefined): string | undefined {
  const tls = url.toLowerCase().startsWith('rediss:');
  if (!tls && code === 'ECONNRESET') return 'if this server only accepts TLS, use a rediss:// URL';
  if (tls && code === 'ETIMEDOUT') return 'if this server does not speak TLS, use a redis:// URL';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID')
    return "the server's TLS certificate is not issued for this host: use the host name it names in REDIS_URL";
  if (code !== undefined && UNTRUSTED_CERT_CODES.has(code))
    return (
      "the server's TLS certificate is not signed by a CA this process trusts: for a private CA, point " +
      'NODE_EXTRA_CA_CERTS at its PEM file (README → Redis in production)'
    );
  return undefined;
}

const UNTRUSTED_CERT_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_UNTRUSTED',
]);
