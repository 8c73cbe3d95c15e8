import { isIP } from 'node:net';
import type { ConnectionOptions } from 'node:tls';
import { Redis, type RedisOptions, ReplyError } from 'ioredis';
import { BotError } from '../errors.js';
import type { Store } from './store.js';

/** The subset of a pino logger the store layer uses, so tests can pass a plain spy. */
export interface StoreLogger {
  warn(obj: object | string, msg?: string): void;
  info(obj: object | string, msg?: string): void;
}

/**
 * The backing store could not be reached (or answered too slowly). Routes map it to a 5xx so Feishu
 * redelivers the event later instead of the bot silently dropping it.
 */
export class StoreUnavailableError extends BotError {
  readonly code = 'STORE_UNAVAILABLE';
  override get transient(): boolean {
    return true;
  }
  constructor(
    readonly operation: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}

/**
 * Tuned so a webhook fails within ~1.5 s while Redis is down (Feishu waits 3 s for the ack) and the client
 * heals by itself once Redis is back:
 * - no offline queue: a command issued while disconnected rejects at once instead of waiting for a
 *   reconnect that may never come; the bot answers 5xx and Feishu retries the delivery;
 * - `connectTimeout` bounds a blackholed host, `commandTimeout` bounds a hung server;
 * - commands whose caller already got an error are not replayed after a reconnect: a late `SET NX`
 *   would claim an event whose redelivery must still be processed;
 * - `retryStrategy` never gives up, so recovery needs no restart.
 */
const REDIS_OPTIONS: RedisOptions = {
  lazyConnect: true,
  connectTimeout: 1_000,
  commandTimeout: 1_500,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 1,
  autoResendUnfulfilledCommands: false,
  retryStrategy: (attempt) => Math.min(attempt * 200, 2_000),
  connectionName: 'feishu-stats-bot',
};

/**
 * GET and DEL in one script, so no other client can claim the key between the comparison and the delete.
 * https://redis.io/docs/latest/develop/use/patterns/distributed-locks/#correct-implementation-with-a-single-instance
 */
const COMPARE_AND_DELETE_LUA = `if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`;

export interface RedisStoreOptions {
  /** Connection loss and recovery are logged once each, not once per reconnect attempt. */
  logger?: StoreLogger;
  /**
   * Extra TLS settings for a `rediss://` URL, e.g. `ca` for a throwaway CA in tests. Operators trust a private CA
   * with `NODE_EXTRA_CA_CERTS` instead (README → Redis in production); never `rejectUnauthorized: false`.
   */
  tls?: ConnectionOptions;
}

/**
 * Store over Redis. Given a URL it owns the connection (settings above) and quits it on `close()`;
 * given an existing ioredis client it uses that client's settings and leaves closing it to the caller.
 */
export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly #client: Redis;
  readonly #ownsClient: boolean;
  readonly #logger: StoreLogger | undefined;
  #connecting: Promise<void> | undefined;
  #wasReady = false;
  #degraded = false;
  /** The socket error behind a failed first connect: ioredis itself rejects with a bare "Connection is closed." */
  #connectError: Error | undefined;

  constructor(clientOrUrl: Redis | string, opts: RedisStoreOptions = {}) {
    this.#ownsClient = typeof clientOrUrl === 'string';
    this.#client =
      typeof clientOrUrl === 'string'
        ? new Redis(clientOrUrl, redisOptionsFor(clientOrUrl, opts.tls))
        : clientOrUrl;
    this.#logger = opts.logger;
    // Without an 'error' listener ioredis prints every reconnect failure to stderr by itself.
    this.#client.on('error', this.#onError);
    this.#client.on('ready', this.#onReady);
    if (this.#client.status === 'ready') this.#wasReady = true;
  }

  async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    const ttl = toTtl(ttlMs);
    // One command, so the check and the write are atomic across every bot instance.
    const reply = await this.#run('setIfAbsent', (c) => c.set(key, value, 'PX', ttl, 'NX'));
    return reply === 'OK';
  }

  get(key: string): Promise<string | null> {
    return this.#run('get', (c) => c.get(key));
  }

  async set(key: string, value: string, ttlMs: number): Promise<void> {
    const ttl = toTtl(ttlMs);
    await this.#run('set', (c) => c.set(key, value, 'PX', ttl));
  }

  async delete(key: string): Promise<void> {
    await this.#run('delete', (c) => c.del(key));
  }

  async compareAndDelete(key: string, expected: string): Promise<boolean> {
    const reply = await this.#run('compareAndDelete', (c) =>
      c.eval(COMPARE_AND_DELETE_LUA, 1, key, expected),
    );
    return reply === 1;
  }

  async getMany(keys: readonly string[]): Promise<(string | null)[]> {
    // MGET with no keys is a syntax error in Redis; nothing to fetch is not worth a round-trip anyway.
    if (keys.length === 0) return [];
    return this.#run('getMany', (c) => c.mget(...keys));
  }

  hashGet(key: string, field: string): Promise<string | null> {
    return this.#run('hashGet', (c) => c.hget(key, field));
  }

  async hashSet(key: string, field: string, value: string): Promise<void> {
    await this.#run('hashSet', (c) => c.hset(key, field, value));
  }

  async hashDelete(key: string, field: string): Promise<void> {
    await this.#run('hashDelete', (c) => c.hdel(key, field));
  }

  hashGetAll(key: string): Promise<Record<string, string>> {
    return this.#run('hashGetAll', (c) => c.hgetall(key));
  }

  async hashIncrement(
    key: string,
    increments: Readonly<Record<string, number>>,
    ttlMs: number,
  ): Promise<Record<string, number>> {
    const ttl = toTtl(ttlMs);
    const entries = Object.entries(increments);
    for (const [, by] of entries) {
      if (!Number.isSafeInteger(by)) throw new RangeError(`increment must be a safe integer, got ${by}`);
    }
    if (entries.length === 0) return {};
    // MULTI/EXEC: no other client's command runs between the increments and the expiry.
    const replies = await this.#run('hashIncrement', (c) => {
      const multi = c.multi();
      for (const [field, by] of entries) multi.hincrby(key, field, by);
      multi.pexpire(key, ttl);
      return multi.exec();
    });
    if (!replies)
      throw new StoreUnavailableError('hashIncrement', 'Redis hashIncrement: transaction aborted');
    const updated: Record<string, number> = {};
    entries.forEach(([field], i) => {
      const [err, value] = replies[i] ?? [];
      // A command that failed inside the transaction (WRONGTYPE, not an integer) comes back as its ReplyError.
      if (err) throw err;
      updated[field] = Number(value);
    });
    return updated;
  }

  async ping(): Promise<void> {
    await this.#run('ping', (c) => c.ping());
  }

  /**
   * The store's own ioredis connection, lent to components that speak Redis directly (rate limiter, queues)
   * so a process keeps one connection. Borrowers must not `quit`/`disconnect` it, `SELECT` another database
   * or subscribe on it: the store closes it in `close()` (when it opened it). The connection is lazy and has
   * no offline queue, so it is usable once the store has served a command (`createStore` pings first).
   */
  get client(): Redis {
    return this.#client;
  }

  async close(): Promise<void> {
    this.#client.off('error', this.#onError);
    this.#client.off('ready', this.#onReady);
    if (!this.#ownsClient) return;
    // A noop listener stays on: a late socket error during shutdown must not reach ioredis' stderr fallback.
    this.#client.on('error', () => {});
    if (this.#client.status === 'ready') {
      try {
        await this.#client.quit();
        return;
      } catch {
        // The server went away mid-quit; dropping the socket below is all that is left to do.
      }
    }
    if (this.#client.status !== 'end') this.#client.disconnect();
  }

  async #run<R>(operation: string, command: (client: Redis) => Promise<R>): Promise<R> {
    try {
      await this.#connect();
      return await command(this.#client);
    } catch (err) {
      // A ReplyError means Redis is up and refused the command: a bug, not an outage.
      if (err instanceof ReplyError) throw err;
      const reason = err instanceof Error ? err.message : String(err);
      throw new StoreUnavailableError(operation, `Redis ${operation} failed: ${reason}`, { cause: err });
    }
  }

  /** `lazyConnect` keeps construction free of I/O; the first command (or `createStore`'s ping) connects. */
  #connect(): Promise<void> {
    if (this.#client.status === 'wait') {
      this.#connecting = this.#client
        .connect()
        .catch((err: unknown) => {
          throw this.#connectError ?? err;
        })
        .finally(() => {
          this.#connecting = undefined;
        });
    }
    return this.#connecting ?? Promise.resolve();
  }

  readonly #onError = (err: Error): void => {
    // Before the first 'ready' the failure surfaces through the rejected command; logging it too is noise.
    // Keep the first: the socket's own error. Later ones are ioredis's handshake commands failing after it.
    if (!this.#wasReady) this.#connectError ??= err;
    if (!this.#wasReady || this.#degraded) return;
    this.#degraded = true;
    this.#logger?.warn(
      { store: 'redis', err: { message: err.message, code: (err as NodeJS.ErrnoException).code } },
      'redis connection lost; commands fail until it reconnects',
    );
  };

  readonly #onReady = (): void => {
    this.#wasReady = true;
    if (!this.#degraded) return;
    this.#degraded = false;
    this.#logger?.info({ store: 'redis' }, 'redis connection restored');
  };
}

/**
 * The client settings for a URL. `rediss://` (in any case: ioredis only spots it in lower case) means TLS with
 * Node's defaults: the certificate chain and host name are verified against Node's CAs plus `NODE_EXTRA_CA_CERTS`.
 * ioredis sends no SNI by itself (https://github.com/redis/ioredis/pull/2105), yet endpoints behind a TLS proxy
 * pick the certificate or the database by it, so the URL's host name goes along; an IP literal does not, as SNI
 * allows host names only (RFC 6066 §3). Connections duplicated from the client inherit all of this.
 */
function redisOptionsFor(url: string, tls: ConnectionOptions | undefined): RedisOptions {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return REDIS_OPTIONS; // ioredis reports the malformed URL when it connects.
  }
  if (parsed.protocol !== 'rediss:') return REDIS_OPTIONS;
  const host = parsed.hostname.replace(/^\[|\]$/g, '');
  const servername = host !== '' && isIP(host) === 0 ? { servername: host } : {};
  return { ...REDIS_OPTIONS, tls: { ...servername, ...tls } };
}

/** The URL with its password masked, for logs and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    // An unparseable URL may still hold a password somewhere; print none of it.
    return '<unparseable redis url>';
  }
}

/** Redis `PX` takes a positive integer; reject what it would refuse before a round-trip. */
function toTtl(ttlMs: number): number {
  if (!Number.isFinite(ttlMs) || ttlMs <= 0)
    throw new RangeError(`ttlMs must be a positive number, got ${ttlMs}`);
  return Math.ceil(ttlMs);
}
