import { createHash, randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import { FeishuApiError } from './errors.js';

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
 * The published numbers, as published: `createRateLimiter` adds its own margin to each window.
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
  // https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get (1000/min, 50/s)
  'im.v1.chat.get': [
    { points: 50, durationSec: 1 },
    { points: 1000, durationSec: 60 },
  ],
  // https://open.feishu.cn/document/server-docs/group/chat-member/get (1000/min, 50/s)
  'im.v1.chatMembers.get': [
    { points: 50, durationSec: 1 },
    { points: 1000, durationSec: 60 },
  ],
  // https://open.feishu.cn/document/server-docs/im-v1/file/create: the number was not at hand when this was
  // written; one export uploads one file, so a trickle well under the common 50/s tier is plenty.
  'im.v1.file.create': [{ points: 5, durationSec: 1 }],
};

export interface RateLimiter {
  /**
   * Resolves once every tier of `endpoint` has room for one call; endpoints not in the table pass at once.
   * `maxWaitMs` shortens the limiter's own bound for a caller with less time left (the transport's call budget).
   */
  acquire(endpoint: string, scope?: string, maxWaitMs?: number): Promise<void>;
}

export interface RateLimiterOptions {
  /** Shared by every process on it. Pass a fail-fast client (no offline queue), like the store's. */
  redis?: Redis;
  keyPrefix?: string;
  table?: RateLimitTable;
  /** Longest `acquire` may wait before failing with 99991400; default 60 s. */
  maxWaitMs?: number;
  logger?: Logger;
  /** Clock (epoch ms) for the in-process logs, the wait deadline and the Redis rest; default `Date.now`. */
  now?: () => number;
}

/** A tier as enforced: at most `limit` grants in any trailing `windowMs` (the published D plus the margin). */
interface Window {
  name: string;
  limit: number;
  windowMs: number;
  perScope: boolean;
}

/** One tier's log for one call, with how many callers in this process queued on it first. */
interface Slot {
  key: string;
  limit: number;
  windowMs: number;
  ahead: number;
}

/**
 * 0/0 when the call was granted. Otherwise, how long until the refusing tiers have room for somebody
 * (`earliestMs`, what the deadline is judged by) and for this caller behind the ones ahead (`turnMs`).
 */
interface Verdict {
  earliestMs: number;
  turnMs: number;
}

const GRANTED: Verdict = { earliestMs: 0, turnMs: 0 };
const DEFAULT_MAX_WAIT_MS = 60_000;
/** After a Redis failure, count in memory for this long before trying Redis again. */
const REDIS_REST_MS = 5_000;
/** Spreads waiters (and processes) that would all wake at the same moment. */
const MAX_JITTER_MS = 15;
/** How often in-process logs nobody touched lately are dropped (per-chat keys would pile up otherwise). */
const SWEEP_EVERY_MS = 60_000;

/** Network jitter between our grant and Feishu's count: 25 ms, or 2.5% of long windows (1.5 s of a minute). */
function windowFor(name: string, tier: RateTier): Window {
  const durationMs = tier.durationSec * 1000;
  return {
    name,
    limit: tier.points,
    windowMs: Math.ceil(durationMs + Math.max(25, 0.025 * durationMs)),
    perScope: tier.perScope === true,
  };
}

/**
 * `MemoryLogs.tryTake` on Redis. KEYS: one sorted set per tier, members = granted calls scored by grant time
 * (ms). ARGV: a member unique to this call, then limit, window ms and waiters ahead for each key. Returns
 * {0, 0} or {earliest, turn} (see `Verdict`). TIME gives every process one clock; Redis 7 replicates a
 * script's effects, not the script, so reading TIME before writing is allowed.
 */
const SLIDING_LOG_SCRIPT = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local refused, earliest, turn = false, 0, 0
for i, key in ipairs(KEYS) do
  local limit = tonumber(ARGV[3 * i - 1])
  local window = tonumber(ARGV[3 * i])
  local ahead = tonumber(ARGV[3 * i + 1])
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  local count = redis.call('ZCARD', key)
  if count >= limit then
    refused = true
    local first = count - limit
    local entries = redis.call('ZRANGE', key, first, first + ahead % limit, 'WITHSCORES')
    earliest = math.max(earliest, tonumber(entries[2]) + window - now)
    turn = math.max(turn, tonumber(entries[#entries]) + window * (1 + math.floor(ahead / limit)) - now)
  end
end
if refused then
  return {math.max(1, math.ceil(earliest)), math.max(1, math.ceil(turn))}
end
for i, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[1])
  redis.call('PEXPIRE', key, ARGV[3 * i])
end
return {0, 0}
`;
const SLIDING_LOG_SHA = createHash('sha1').update(SLIDING_LOG_SCRIPT).digest('hex');

/**
 * The wait a full log imposes: the slot the oldest entry holds frees when it leaves the window. The caller
 * with `ahead` others queued before it gets the slot of the entry `ahead` places later, or, past a full
 * window's worth of callers, the one the waiters ahead will have taken by then.
 */
function memoryRefusal(times: number[], slot: Slot, now: number): Verdict {
  const first = times.length - slot.limit;
  const oldest = times[first] ?? now;
  const turnAt = times[first + (slot.ahead % slot.limit)] ?? oldest;
  const rounds = 1 + Math.floor(slot.ahead / slot.limit);
  return {
    earliestMs: Math.max(1, Math.ceil(oldest + slot.windowMs - now)),
    turnMs: Math.max(1, Math.ceil(turnAt + slot.windowMs * rounds - now)),
  };
}

/** The same log kept in this process: with no Redis, and while Redis is unreachable. */
class MemoryLogs {
  private readonly logs = new Map<string, { windowMs: number; times: number[] }>();
  private lastSweep = Number.NEGATIVE_INFINITY;

  /** Grants all slots (one entry each) or none. */
  tryTake(slots: Slot[], now: number): Verdict {
    this.sweep(now);
    let refused = false;
    const verdict = { ...GRANTED };
    for (const slot of slots) {
      const times = this.liveTimes(slot, now);
      if (times.length < slot.limit) continue;
      refused = true;
      const refusal = memoryRefusal(times, slot, now);
      verdict.earliestMs = Math.max(verdict.earliestMs, refusal.earliestMs);
      verdict.turnMs = Math.max(verdict.turnMs, refusal.turnMs);
    }
    if (refused) return verdict;
    for (const slot of slots) insertSorted(this.liveTimes(slot, now), now);
    return GRANTED;
  }

  /** Notes a call Redis granted, so falling back to this count does not start from an empty window. */
  record(slots: Slot[], now: number): void {
    for (const slot of slots) {
      const times = this.liveTimes(slot, now);
      insertSorted(times, now);
      // Redis, not this log, decided the call: never let the copy hold more than a full window.
      if (times.length > slot.limit) times.splice(0, times.length - slot.limit);
    }
  }

  /** The slot's entries still inside its window, oldest first. */
  private liveTimes(slot: Slot, now: number): number[] {
    let log = this.logs.get(slot.key);
    if (!log) {
      log = { windowMs: slot.windowMs, times: [] };
      this.logs.set(slot.key, log);
    }
    const expired = log.times.findIndex((time) => time > now - slot.windowMs);
    log.times.splice(0, expired === -1 ? log.times.length : expired);
    return log.times;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < SWEEP_EVERY_MS) return;
    this.lastSweep = now;
    for (const [key, log] of this.logs) {
      const newest = log.times.at(-1);
      if (newest === undefined || newest <= now - log.windowMs) this.logs.delete(key);
    }
  }
}

/** Keeps the log ordered even if the wall clock steps back. */
function insertSorted(times: number[], time: number): void {
  let at = times.length;
  while (at > 0 && (times[at - 1] ?? 0) > time) at -= 1;
  times.splice(at, 0, time);
}

/**
 * Who in this process was refused on which log, in order, so each waiter can sleep until its own turn.
 * Callers join only once refused: one still on its first try may well be granted and must not count.
 */
class WaitingLine {
  private readonly lines = new Map<string, Set<symbol>>();

  join(keys: string[], ticket: symbol): void {
    for (const key of keys) {
      const line = this.lines.get(key) ?? new Set<symbol>();
      line.add(ticket);
      this.lines.set(key, line);
    }
  }

  /** Waiters before `ticket`, or all of them for a caller not in line yet. */
  ahead(key: string, ticket: symbol): number {
    let ahead = 0;
    for (const other of this.lines.get(key) ?? []) {
      if (other === ticket) break;
      ahead += 1;
    }
    return ahead;
  }

  leave(keys: string[], ticket: symbol): void {
    for (const key of keys) {
      const line = this.lines.get(key);
      line?.delete(ticket);
      if (line?.size === 0) this.lines.delete(key);
    }
  }
}

/** Global `setTimeout` rather than `node:timers/promises`, so fake timers in tests drive the waits too. */
function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Client-side limiter holding every tier to "at most N calls in any span of D", whatever phase Feishu's own
 * windows have (the emulator counts fixed windows aligned to the second and minute; Feishu may slide).
 *
 * It keeps a sliding-window log per tier: the times of the last N grants, and a call is granted while fewer
 * than N fall in the trailing window W = D + margin. Any span of D then holds at most N calls, at ~100% of
 * the published rate, and an idle tier lets a whole window's calls through at once. Fixed buckets cut below
 * N cannot do both: to be safe under any phase they lose 10–20% of the rate and never burst, so 1,000 digest
 * cards took 66 s where 1000/min & 50/s allow 20 s. GCRA (token bucket) spaces calls evenly, but after idling
 * it lets a full burst through followed by the steady rate, up to ~2N in one window. The margin,
 * max(25 ms, 2.5% of D), covers network jitter between our grant and Feishu's count.
 *
 * All tiers of an endpoint are checked and taken together (every log gets an entry or none), in one Lua script
 * on Redis (one clock for all processes: Redis's TIME) or in this process without Redis and while Redis is
 * unreachable. A refused caller sleeps until its own turn, counting the waiters ahead of it in this process,
 * instead of every waiter waking each time one slot frees.
 */
export function createRateLimiter(opts: RateLimiterOptions = {}): RateLimiter {
  const table = opts.table ?? FEISHU_RATE_LIMITS;
  const keyPrefix = `${opts.keyPrefix ?? 'feishu-rl'}:v2`;
  const maxWaitMs = opts.maxWaitMs ?? DEFAULT_MAX_WAIT_MS;
  const now = opts.now ?? (() => Date.now());
  const redis = opts.redis;
  const log = opts.logger?.child({ component: 'rate-limiter' });
  const memory = new MemoryLogs();
  const waiting = new WaitingLine();
  // Log members only need to be unique per call across processes.
  const instanceId = randomBytes(6).toString('base64url');
  let sequence = 0;
  let redisRestingUntil = 0;
  let degraded = false;

  const endpoints = new Map<string, Window[]>();
  for (const [endpoint, tiers] of Object.entries(table)) {
    endpoints.set(
      endpoint,
      tiers.map((tier) =>
        windowFor(
          `${keyPrefix}:${tier.shareKey ?? endpoint}:${tier.points}per${tier.durationSec}s${tier.perScope ? ':scoped' : ''}`,
          tier,
        ),
      ),
    );
  }

  function noteRedisFailure(error: unknown): void {
    redisRestingUntil = now() + REDIS_REST_MS;
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

  async function runScript(client: Redis, slots: Slot[]): Promise<unknown> {
    sequence += 1;
    const args = [`${instanceId}:${sequence}`, ...slots.flatMap((s) => [s.limit, s.windowMs, s.ahead])];
    const keys = slots.map((slot) => slot.key);
    try {
      return await client.evalsha(SLIDING_LOG_SHA, keys.length, ...keys, ...args);
    } catch (error) {
      // First use on this server (or after SCRIPT FLUSH / a restart): EVAL loads it.
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return client.eval(SLIDING_LOG_SCRIPT, keys.length, ...keys, ...args);
    }
  }

  /** Redis when it answers; a Redis failure falls back to this process's own count instead of blocking. */
  async function tryTake(slots: Slot[]): Promise<Verdict> {
    if (redis && now() >= redisRestingUntil) {
      try {
        const reply = await runScript(redis, slots);
        if (!Array.isArray(reply) || typeof reply[0] !== 'number' || typeof reply[1] !== 'number') {
          throw new Error(`unexpected rate limit script reply: ${JSON.stringify(reply)}`);
        }
        noteRedisHealthy();
        if (reply[0] === 0) memory.record(slots, now());
        return { earliestMs: reply[0], turnMs: reply[1] };
      } catch (error) {
        noteRedisFailure(error);
      }
    }
    return memory.tryTake(slots, now());
  }

  return {
    async acquire(endpoint, scope, callerMaxWaitMs) {
      const windows = endpoints.get(endpoint)?.filter((w) => !w.perScope || scope !== undefined);
      if (!windows?.length) return;
      const keys = windows.map((w) => `${w.name}:${w.perScope ? scope : 'app'}`);
      const ticket = Symbol(endpoint);
      try {
        const deadline = now() + Math.min(maxWaitMs, callerMaxWaitMs ?? maxWaitMs);
        for (;;) {
          const slots = windows.map((w, i) => {
            const key = keys[i] ?? '';
            return { key, limit: w.limit, windowMs: w.windowMs, ahead: waiting.ahead(key, ticket) };
          });
          const verdict = await tryTake(slots);
          if (verdict.earliestMs === 0) return;
          const remainingMs = deadline - now();
          if (verdict.earliestMs > remainingMs) {
            throw new FeishuApiError(endpoint, 99991400, 'client-side rate limit wait exceeded');
          }
          waiting.join(keys, ticket);
          // Up to our turn, but no further than the deadline: the waiters ahead may give up or go elsewhere.
          const jitter = Math.floor(Math.random() * MAX_JITTER_MS);
          await sleep(Math.min(verdict.turnMs, remainingMs) + jitter);
        }
      } finally {
        waiting.leave(keys, ticket);
      }
    },
  };
}
