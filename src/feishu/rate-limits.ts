import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import { FeishuApiError } from '../errors.js';

/** One published limit: at most `points` calls in any `durationSec`. */
export interface RateTier {
  points: number;
  durationSec: number;
  /** Counted per `scope` (chat id, message id) instead of per app; skipped when the call names no scope. */
  perScope?: boolean;
  /** Counter shared by several endpoints (Feishu counts messages to one chat across send and reply). */
  shareKey?: string;
}

export type RateLimitTable = Record<string /* endpoint name, e.g. 'drive.v2.fileLike.list' */, RateTier[]>;

// Messages: https://open.feishu.cn/document/server-docs/im-v1/message/create (1000/min, 50/s per app,
// 5/s per user or group) and https://open.feishu.cn/document/server-docs/im-v1/message-card/patch (5/s per message).
const MESSAGE_APP_TIERS: RateTier[] = [
  { points: 50, durationSec: 1 },
  { points: 1000, durationSec: 60 },
];
const PER_RECIPIENT: RateTier = {
  points: 5,
  durationSec: 1,
  perScope: true,
  shareKey: 'im.message.recipient',
};

/**
 * The published numbers, as published: `createRateLimiter` takes its own margin below them (see `planTier`).
 * Frequency control in general: https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
 */
export const FEISHU_RATE_LIMITS: RateLimitTable = {
  // "Special" frequency control, never published: stay well below the common 50/s tier.
  'drive.v1.fileStatistics.get': [{ points: 10, durationSec: 1 }],
  'drive.v1.fileViewRecord.list': [
    { points: 50, durationSec: 1 },
    { points: 1000, durationSec: 60 },
  ],
  'drive.v2.fileLike.list': [{ points: 5, durationSec: 1 }],
  'workplace.v1.workplaceAccessData.search': [{ points: 20, durationSec: 1 }],
  'application.v6.applicationAppUsage.overview': [{ points: 100, durationSec: 60 }],
  'wiki.v2.space.getNode': [{ points: 100, durationSec: 60 }],
  'drive.v1.meta.batchQuery': [{ points: 5, durationSec: 1 }],
  // Published as 1000/min & 50/s; access checks only need a trickle, so leave the rest to other apps' calls.
  'drive.v1.permissionMember.list': [{ points: 10, durationSec: 1 }],
  'im.v1.message.create': [...MESSAGE_APP_TIERS, PER_RECIPIENT],
  'im.v1.message.reply': [...MESSAGE_APP_TIERS, PER_RECIPIENT],
  'im.v1.message.patch': [...MESSAGE_APP_TIERS, { points: 5, durationSec: 1, perScope: true }],
};

export interface RateLimiter {
  /** Resolves once every tier of `endpoint` has room for one call; endpoints not in the table pass at once. */
  acquire(endpoint: string, scope?: string): Promise<void>;
}

export interface RateLimiterOptions {
  /** Shared by every process on it. Pass a fail-fast client (no offline queue), like the store's. */
  redis?: Redis;
  keyPrefix?: string;
  table?: RateLimitTable;
  /** Longest `acquire` may wait before failing with 99991400; default 60 s. */
  maxWaitMs?: number;
  logger?: Logger;
}

/** How a tier is enforced: `pointsPerBucket` calls in each clock-aligned bucket of `bucketMs`. */
export interface TierPlan {
  bucketMs: number;
  pointsPerBucket: number;
}

const MAX_BUCKETS_PER_WINDOW = 9;

/**
 * Fixed windows (what rate-limiter-flexible counts in) let a full window's calls at its end be followed by a
 * full window's at the start of the next: 2N in a moment, which Feishu rejects whether it counts in its own
 * fixed windows or a sliding one. Shaving 10% off N does not fix that. Instead each window of D is cut into
 * k clock-aligned buckets of p = floor(N / (k + 1)) calls: any span of D touches at most k + 1 buckets, so it
 * holds at most N calls whatever Feishu's window phase. The k (≤ 9) with the best rate wins, which comes to
 * 80–90% of the published rate (5/s → 4/s, 50/s → 45/s, 1000/min → 900/min), spread evenly instead of in
 * bursts. N = 1 cannot be kept under any phase by fixed buckets; it gets one call per D.
 */
export function planTier(tier: Pick<RateTier, 'points' | 'durationSec'>): TierPlan {
  const windowMs = tier.durationSec * 1000;
  let best = { buckets: 1, perBucket: Math.max(1, Math.floor(tier.points / 2)) };
  for (let buckets = 2; buckets <= MAX_BUCKETS_PER_WINDOW; buckets += 1) {
    const perBucket = Math.floor(tier.points / (buckets + 1));
    if (perBucket >= 1 && buckets * perBucket > best.buckets * best.perBucket) best = { buckets, perBucket };
  }
  return { bucketMs: windowMs / best.buckets, pointsPerBucket: best.perBucket };
}

interface ResolvedTier {
  plan: TierPlan;
  perScope: boolean;
  shared?: RateLimiterAbstract;
  local: RateLimiterMemory;
}

const DEFAULT_MAX_WAIT_MS = 60_000;
/** After a Redis failure, count in memory for this long before trying Redis again. */
const REDIS_REST_MS = 5_000;
/** Spreads waiters (and processes) that would all wake at the same bucket edge. */
const MAX_JITTER_MS = 15;

export function createRateLimiter(opts: RateLimiterOptions = {}): RateLimiter {
  const table = opts.table ?? FEISHU_RATE_LIMITS;
  const keyPrefix = opts.keyPrefix ?? 'feishu-rl';
  const maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const log = opts.logger?.child({ component: 'rate-limiter' });
  const limiters = new Map<string, ResolvedTier>();
  const endpoints = new Map<string, ResolvedTier[]>();
  let redisRestingUntil = 0;
  let degraded = false;

  function resolveTier(endpoint: string, tier: RateTier): ResolvedTier {
    const name = `${tier.shareKey ?? endpoint}:${tier.points}per${tier.durationSec}s${tier.perScope ? ':scoped' : ''}`;
    const existing = limiters.get(name);
    if (existing) return existing;
    const plan = planTier(tier);
    // Keys carry the bucket number, so a key only has to outlive its bucket; Redis TTLs are whole seconds.
    const duration = Math.ceil(plan.bucketMs / 1000) + 1;
    const base = { keyPrefix: `${keyPrefix}:${name}`, points: plan.pointsPerBucket, duration };
    const resolved: ResolvedTier = {
      plan,
      perScope: tier.perScope === true,
      shared: opts.redis ? new RateLimiterRedis({ ...base, storeClient: opts.redis }) : undefined,
      local: new RateLimiterMemory(base),
    };
    limiters.set(name, resolved);
    return resolved;
  }

  for (const [endpoint, tiers] of Object.entries(table)) {
    endpoints.set(
      endpoint,
      tiers.map((tier) => resolveTier(endpoint, tier)),
    );
  }

  function noteRedisFailure(error: unknown): void {
    redisRestingUntil = Date.now() + REDIS_REST_MS;
    if (degraded) return;
    degraded = true;
    // The message only: ioredis errors carry the command and its arguments.
    const reason = error instanceof Error ? error.message : String(error);
    log?.warn({ reason }, 'rate limiter cannot reach Redis; counting in this process until it is back');
  }

  function noteRedisHealthy(): void {
    if (!degraded) return;
    degraded = false;
    log?.info('rate limiter reached Redis again; limits are shared across processes again');
  }

  /** True when the call fits; a Redis failure falls back to this process's own count instead of blocking. */
  async function take(tier: ResolvedTier, key: string): Promise<boolean> {
    if (tier.shared && Date.now() >= redisRestingUntil) {
      try {
        await tier.shared.consume(key);
        noteRedisHealthy();
        return true;
      } catch (error) {
        if (error instanceof RateLimiterRes) {
          noteRedisHealthy();
          return false;
        }
        noteRedisFailure(error);
      }
    }
    try {
      await tier.local.consume(key);
      return true;
    } catch (error) {
      if (error instanceof RateLimiterRes) return false;
      throw error;
    }
  }

  /** Gives back a point taken for a call that another tier then refused; best effort. */
  async function giveBack(tier: ResolvedTier, key: string): Promise<void> {
    const limiter = tier.shared && Date.now() >= redisRestingUntil ? tier.shared : tier.local;
    await limiter.reward(key, 1).catch(() => undefined);
  }

  /** 0 when every tier had room (and holds a point now); otherwise how long until the refusing tier's next bucket. */
  async function tryTakeAll(tiers: ResolvedTier[], scope: string | undefined): Promise<number> {
    const taken: { tier: ResolvedTier; key: string }[] = [];
    for (const tier of tiers) {
      const bucket = Math.floor(Date.now() / tier.plan.bucketMs);
      const key = `${tier.perScope ? scope : 'app'}:${bucket}`;
      if (await take(tier, key)) {
        taken.push({ tier, key });
        continue;
      }
      await Promise.all(taken.map((t) => giveBack(t.tier, t.key)));
      return Math.max(1, Math.ceil((bucket + 1) * tier.plan.bucketMs - Date.now()));
    }
    return 0;
  }

  return {
    async acquire(endpoint, scope) {
      const tiers = endpoints.get(endpoint)?.filter((tier) => !tier.perScope || scope !== undefined);
      if (!tiers?.length) return;
      const deadline = Date.now() + maxWaitMs;
      for (;;) {
        const waitMs = await tryTakeAll(tiers, scope);
        if (waitMs === 0) return;
        const jitter = Math.floor(Math.random() * MAX_JITTER_MS);
        if (Date.now() + waitMs > deadline) {
          throw new FeishuApiError(endpoint, 99991400, 'client-side rate limit wait exceeded');
        }
        await delay(waitMs + jitter);
      }
    },
  };
}
