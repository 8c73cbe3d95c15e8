import { Redis } from 'ioredis';
import { afterAll, beforeAll, inject } from 'vitest';
import { MemoryStore } from '../src/store/memory-store.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { Store } from '../src/store/store.js';
import { DATABASE_COUNT, FREE_DBS_KEY, THROWAWAY_MARKER_KEY } from './global-setup.js';

/** Base URL of the throwaway redis-server from `global-setup.ts` (DB 0, which is bookkeeping: do not use it). */
export function redisUrlForTest(): string {
  return inject('redisUrl');
}

export interface FreshRedisDb {
  /** URL including the logical DB, e.g. `redis://127.0.0.1:41234/7`; pass it to `RedisStore`/`createStore`. */
  url: string;
  /** A plain client on that DB for arranging and inspecting state. */
  redis: Redis;
  /** Empties the DB and closes `redis`; the DB is not handed out again this run. Call it in `afterAll`. */
  cleanup(): Promise<void>;
}

/**
 * Hands out a logical database of its own on the throwaway server.
 *
 * Why a database rather than a key prefix: the store adapters add no prefix of their own, and the code under
 * test writes fixed keys (`keys.ts`), so two test files running in parallel would otherwise claim each
 * other's event ids. A database isolates them with no change to production code, and FLUSHDB clears
 * exactly one file's keys. Numbers come from a list in DB 0 that `LPOP` hands out atomically across workers.
 */
export async function freshRedisDb(): Promise<FreshRedisDb> {
  const baseUrl = redisUrlForTest();
  const admin = new Redis(baseUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
  let db: number;
  try {
    await assertThrowaway(admin);
    const taken = await admin.lpop(FREE_DBS_KEY);
    if (taken === null) {
      throw new Error(
        `all ${DATABASE_COUNT - 1} throwaway Redis databases were handed out: raise DATABASE_COUNT`,
      );
    }
    db = Number(taken);
  } finally {
    admin.disconnect();
  }

  const url = `${baseUrl}/${db}`;
  const redis = new Redis(url, { maxRetriesPerRequest: 1 });
  // A previous holder that crashed before cleanup may have left keys behind.
  await redis.flushdb();

  let cleaned = false;
  return {
    url,
    redis,
    cleanup: async () => {
      if (cleaned) return;
      cleaned = true;
      if (redis.status !== 'end') redis.disconnect();
      const janitor = new Redis(baseUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
      try {
        await assertThrowaway(janitor);
        await janitor.select(db);
        await janitor.flushdb();
        // Not returned to the pool: a database is used by one holder per run (see DATABASE_COUNT).
      } finally {
        janitor.disconnect();
      }
    },
  };
}

/** Flushing is only allowed on the server global-setup started; anything else is somebody's data. */
async function assertThrowaway(client: Redis): Promise<void> {
  if ((await client.exists(THROWAWAY_MARKER_KEY)) !== 1) {
    throw new Error(
      `refusing to touch ${client.options.host}:${client.options.port}: not the throwaway test server`,
    );
  }
}

/**
 * A fresh DB for the calling test file, opened in `beforeAll` and cleaned up in `afterAll`; read it through the
 * returned accessor inside tests and hooks.
 */
export function useFreshRedisDb(): () => FreshRedisDb {
  let db: FreshRedisDb | undefined;
  beforeAll(async () => {
    db = await freshRedisDb();
  });
  afterAll(async () => {
    await db?.cleanup();
  });
  return () => {
    if (!db) throw new Error('the Redis DB is only open inside tests and hooks');
    return db;
  };
}

/** Both store adapters, for `describe.each`: the same behaviour must hold in memory and on Redis. */
export function storeAdapters(db: () => FreshRedisDb): Array<{ name: string; open: () => Store }> {
  return [
    { name: 'MemoryStore', open: () => new MemoryStore() },
    { name: 'RedisStore', open: () => new RedisStore(db().url) },
  ];
}
