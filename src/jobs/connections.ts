import type { Redis } from 'ioredis';

/** Every BullMQ key lives under `fsb:<queue>:…`, beside the bot's own `fsb:…` keys in the same database. */
export const QUEUE_PREFIX = 'fsb';

/** The two kinds of connection BullMQ needs, derived from the store's client (same server, db and TLS). */
export interface QueueConnections {
  /**
   * For `Queue.add` on the webhook path: fails fast like the store's client (no offline queue, one retry), so an
   * unreachable Redis turns into a 503 within the ack budget instead of a request hanging on a reconnect.
   */
  producer: Redis;
  /**
   * For workers: BullMQ's blocking reads must wait as long as they like (no command timeout) and a worker must
   * ride out a Redis restart (unlimited retries, offline queue on), so it resumes by itself when Redis is back.
   * Commands in flight when the connection drops are sent again on reconnect: the store's client drops them
   * (its callers already got an error), but here nobody would ever settle them, and the worker would hang.
   * https://docs.bullmq.io/guide/going-to-production#maxretriesperrequest
   */
  consumer: Redis;
  close(): Promise<void>;
}

export function createQueueConnections(base: Redis, name: string): QueueConnections {
  const producer = base.duplicate({
    connectionName: `feishu-stats-bot:${name}:producer`,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    lazyConnect: false,
  });
  const consumer = base.duplicate({
    connectionName: `feishu-stats-bot:${name}:worker`,
    enableOfflineQueue: true,
    maxRetriesPerRequest: null,
    commandTimeout: undefined,
    autoResendUnfulfilledCommands: true,
    lazyConnect: false,
  });
  // Connection failures surface as job or enqueue errors, which are logged where they happen; without a
  // listener ioredis would also print each reconnect attempt to stderr.
  for (const client of [producer, consumer]) client.on('error', () => undefined);
  return {
    producer,
    consumer,
    async close() {
      // QUIT only where it can be answered: on the worker connection (offline queue on) a QUIT sent while Redis is
      // away would wait for a reconnect that may never come.
      await Promise.allSettled(
        [producer, consumer].filter((client) => client.status === 'ready').map((client) => client.quit()),
      );
      producer.disconnect();
      consumer.disconnect();
    },
  };
}

/** Rejects with `message` when `promise` has not settled within `ms`. */
export async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
