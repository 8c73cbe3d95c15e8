/**
 * What the bot spends of the tenant's Feishu API call quota. On the free plan every custom app of a tenant shares
 * 10,000 calls a month, reset on the 1st (FEISHU.md; the platform notice has since named other figures, so the
 * budget is the operator's to set). Every request the transport sends is counted here, by month and endpoint, in
 * the store, so replicas on one Redis add up to one figure; the digest runner asks whether the budget is spent.
 * https://open.feishu.cn/document/platform-notices/platform-updates-/custom-app-api-call-limit
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { TZDate, tzOffset } from '@date-fns/tz';
import { format } from 'date-fns';
import type { FeishuAttempt } from '../feishu/transport.js';
import type { Store } from '../store/store.js';

/** `fsb:calls:month:<yyyy-MM>` → hash of endpoint → calls, plus {@link TOTAL_FIELD}. */
const MONTH_PREFIX = 'fsb:calls:month:';
/** `fsb:calls:run:<run id>` → hash `{calls}`: what one digest run spent. */
const RUN_PREFIX = 'fsb:calls:run:';
/** The last digest run's description (JSON {@link DigestRunStart}). */
const LAST_RUN_KEY = 'fsb:calls:last-run';
/** `fsb:calls:warned:<yyyy-MM>`: claimed by the replica that sends the month's 80 % warning. */
const WARNED_PREFIX = 'fsb:calls:warned:';
/** The month's sum, kept beside the endpoints so one HINCRBY answers "how far are we" without adding up. */
export const TOTAL_FIELD = '_total';

const DAY_MS = 86_400_000;
/** Renewed by every call: a month stays readable for about three months after its last call. */
export const MONTH_TTL_MS = 100 * DAY_MS;
/** A run is compared with this month's; a month and a few days is enough. */
export const RUN_TTL_MS = 35 * DAY_MS;
/** Outlives the month it claims, so a replica starting on the 31st does not warn a second time. */
const WARNED_TTL_MS = 62 * DAY_MS;

/**
 * Which requests count against the quota: those Feishu answered, whatever the answer (an error code, a rate-limit
 * 429, the tenant-token fetch): the gateway saw them, and counting more than Feishu might is the safe side of a
 * budget. A request that got no HTTP response (refused, reset, DNS, timed out) is not counted: a refused
 * connection never reached Feishu. A timeout may have, so it is the one way this undercounts.
 */
export function countsAgainstQuota(attempt: FeishuAttempt): boolean {
  return attempt.status !== undefined;
}

/**
 * The quota month of `now`: the calendar month in DIGEST_TZ. Feishu resets the quota on the 1st and publishes no
 * time zone for it; a Chinese platform presumably means Beijing time, which is DIGEST_TZ's default, and using the
 * bot's one time zone keeps "this month" in step with "today" in the digests and the once-a-day fetches below.
 */
export function quotaMonth(now: number, timeZone: string): string {
  return format(new TZDate(now, timeZone), 'yyyy-MM');
}

/** Reaching 80 % of the budget, in integers: `total / budget ≥ 0.8` without a rounding edge. */
export function reachesWarning(total: number, budget: number): boolean {
  return total * 5 >= budget * 4;
}

export interface MonthProjection {
  /** Days of the month gone by at `now`, fractional. */
  elapsedDays: number;
  /** Calendar days in the month. */
  daysInMonth: number;
  /** `total` extended linearly to the month's end. */
  projected: number;
}

/**
 * `total` calls so far, extended linearly over the month of `now` in `timeZone`. The month's length is measured
 * between its two midnights in that zone (a daylight-saving month is an hour shorter or longer). Less than a day
 * in, one day is assumed: a few calls at 00:05 on the 1st would otherwise project thousands.
 */
export function projectMonth(total: number, now: number, timeZone: string): MonthProjection {
  const [year = 1970, month = 1] = quotaMonth(now, timeZone).split('-').map(Number);
  const start = midnightOnThe1st(year, month, timeZone);
  const end = midnightOnThe1st(year, month + 1, timeZone);
  // Day 0 of the next month is the last day of this one.
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  const elapsedDays = ((now - start) / (end - start)) * daysInMonth;
  const projected = Math.round((total * daysInMonth) / Math.max(1, elapsedDays));
  return { elapsedDays, daysInMonth, projected };
}

/**
 * The instant the wall clock in `timeZone` reads 00:00 on the 1st of `month` (1–12; 13 is next January): the
 * offset at a first guess, then at that instant, as the offset may differ between the two. Where midnight itself is
 * skipped by a clock change (a few zones do that) it is off by that hour, which a projection can afford. Written here
 * rather than borrowed from src/digest/schedule.ts: data/ sits below digest/.
 */
function midnightOnThe1st(year: number, month: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, 1);
  const offsetAt = (instant: number) => tzOffset(timeZone, new Date(instant)) * 60_000;
  return wall - offsetAt(wall - offsetAt(wall));
}

export interface MonthUsage {
  month: string;
  total: number;
  /** Most calls first; ties by name. */
  byEndpoint: Array<{ endpoint: string; calls: number }>;
}

/** What the runner writes when a digest run starts: the run's calls are added up under its id as they happen. */
export interface DigestRunStart {
  id: string;
  /** The local date the run is for. */
  date: string;
  startedAt: number;
  /** Chats whose digest it queued, and the distinct items it fetched for them. */
  chats: number;
  items: number;
}

export interface DigestRunCost extends DigestRunStart {
  /** Calls counted so far under the run: its fetches and every chat's send (retries and token fetches included). */
  calls: number;
}

export interface BudgetWarning {
  month: string;
  total: number;
  budget: number;
}

export interface CallUsageLogger {
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
}

export interface CallUsageOptions {
  store: Store;
  /** DIGEST_TZ: which month and day a call falls on. */
  timeZone: string;
  /** FEISHU_MONTHLY_CALL_BUDGET; none → nothing is gated and nobody is warned. */
  budget?: number;
  /** The bot's clock; tests move it across a month's end. */
  now?: () => number;
  logger: CallUsageLogger;
}

/** The digest run the current async context works for, so its calls are added to that run's cost. */
const digestRun = new AsyncLocalStorage<{ id: string }>();

/**
 * Counts calls and answers for them. `record` is what the transport's `onAttempt` calls: synchronous, it never
 * throws and never waits: the store write (one MULTI: HINCRBY endpoint, HINCRBY total, PEXPIRE) runs on its own and
 * a failure is logged, once until writes work again. A call the store could not record is lost, not retried: the
 * figure is a guide, and Feishu's console has the authoritative one.
 */
export class CallUsage {
  readonly budget: number | undefined;
  readonly timeZone: string;
  readonly #store: Store;
  readonly #now: () => number;
  readonly #log: CallUsageLogger;
  readonly #pending = new Set<Promise<void>>();
  #onWarning: ((warning: BudgetWarning) => Promise<void>) | undefined;
  /** The month this process last tried to claim the warning for: one SET NX per month and process, not per call. */
  #warnedMonth: string | undefined;
  #failing = false;

  constructor(opts: CallUsageOptions) {
    this.#store = opts.store;
    this.timeZone = opts.timeZone;
    this.budget = opts.budget;
    this.#now = opts.now ?? Date.now;
    this.#log = opts.logger;
  }

  /** Who tells the admins when the month reaches 80 % of the budget (the bot, once it exists). */
  onBudgetWarning(listener: (warning: BudgetWarning) => Promise<void>): void {
    this.#onWarning = listener;
  }

  record(attempt: FeishuAttempt): void {
    if (!countsAgainstQuota(attempt)) return;
    try {
      const work = this.#count(this.month(), attempt.endpoint, digestRun.getStore()?.id);
      const tracked: Promise<void> = work
        .catch((err: unknown) => this.#writeFailed(err))
        .finally(() => this.#pending.delete(tracked));
      this.#pending.add(tracked);
    } catch (err) {
      this.#writeFailed(err);
    }
  }

  /** Resolves once every write `record` started (and any warning they sent) has settled; for tests and shutdown. */
  async flush(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending]);
  }

  month(now = this.#now()): string {
    return quotaMonth(now, this.timeZone);
  }

  async usage(month = this.month()): Promise<MonthUsage> {
    const raw = await this.#store.hashGetAll(monthKey(month));
    const byEndpoint = Object.entries(raw)
      .filter(([field]) => field !== TOTAL_FIELD)
      .map(([endpoint, calls]) => ({ endpoint, calls: toCount(calls) }))
      .sort((a, b) => b.calls - a.calls || a.endpoint.localeCompare(b.endpoint));
    return { month, total: toCount(raw[TOTAL_FIELD]), byEndpoint };
  }

  /**
   * Whether this month's calls have reached the budget. Never throws: when the store cannot say, the answer is
   * no, and digests stay as fresh as they were without a budget.
   */
  async budgetSpent(): Promise<boolean> {
    if (this.budget === undefined) return false;
    try {
      const total = await this.#store.hashGet(monthKey(this.month()), TOTAL_FIELD);
      return toCount(total) >= this.budget;
    } catch (err) {
      this.#log.warn({ err }, 'cannot read this month’s Feishu call count; treating the budget as not spent');
      return false;
    }
  }

  /** Runs `work` with every call it makes (however deep, on whatever replica runs it) added to run `id`. */
  measureDigestRun<T>(id: string | undefined, work: () => Promise<T>): Promise<T> {
    return id === undefined ? work() : digestRun.run({ id }, work);
  }

  /** Remembers `run` as the last digest run; its calls are counted under its id by `measureDigestRun`. */
  async beginDigestRun(run: DigestRunStart): Promise<void> {
    await this.#store.set(LAST_RUN_KEY, JSON.stringify(run), RUN_TTL_MS);
  }

  async lastDigestRun(): Promise<DigestRunCost | undefined> {
    const raw = await this.#store.get(LAST_RUN_KEY);
    const run = raw === null ? undefined : parseRun(raw);
    if (!run) return undefined;
    const calls = await this.#store.hashGet(runKey(run.id), 'calls');
    return { ...run, calls: toCount(calls) };
  }

  async #count(month: string, endpoint: string, runId: string | undefined): Promise<void> {
    const [counts] = await Promise.all([
      this.#store.hashIncrement(monthKey(month), { [endpoint]: 1, [TOTAL_FIELD]: 1 }, MONTH_TTL_MS),
      runId === undefined ? undefined : this.#store.hashIncrement(runKey(runId), { calls: 1 }, RUN_TTL_MS),
    ]);
    if (this.#failing) {
      this.#failing = false;
      this.#log.info({}, 'Feishu call accounting recovered');
    }
    await this.#checkBudget(month, counts[TOTAL_FIELD] ?? 0);
  }

  /**
   * Each replica sees the total its own increment returned, so the first call at or past 80 % is noticed wherever
   * it was made; SET NX on the month's key lets exactly one replica send the warning. A claim that fails (the store
   * is down) is tried again on the next call; a warning whose send fails is not: its own failed calls would be
   * counted and could claim it again forever. The admins can still ask `usage`.
   */
  async #checkBudget(month: string, total: number): Promise<void> {
    const { budget } = this;
    if (budget === undefined || !reachesWarning(total, budget) || this.#warnedMonth === month) return;
    this.#warnedMonth = month;
    let claimed: boolean;
    try {
      claimed = await this.#store.setIfAbsent(warnedKey(month), String(total), WARNED_TTL_MS);
    } catch (err) {
      this.#warnedMonth = undefined;
      throw err;
    }
    if (!claimed) return;
    this.#log.warn(
      { month, calls: total, budget },
      'Feishu API calls reached 80 % of FEISHU_MONTHLY_CALL_BUDGET; warning the bot admins',
    );
    const listener = this.#onWarning;
    if (!listener) return;
    // Outside any digest run: the warning's own messages are not what that run cost.
    await digestRun.exit(() => listener({ month, total, budget }));
  }

  #writeFailed(err: unknown): void {
    if (this.#failing) return;
    this.#failing = true;
    this.#log.warn(
      { err },
      'Feishu call not counted (store write failed); counting resumes when the store does',
    );
  }
}

export function monthKey(month: string): string {
  return MONTH_PREFIX + month;
}

function runKey(id: string): string {
  return RUN_PREFIX + id;
}

function warnedKey(month: string): string {
  return WARNED_PREFIX + month;
}

function toCount(raw: string | null | undefined): number {
  const n = Number(raw ?? 0);
  return Number.isSafeInteger(n) && n > 0 ? n : 0;
}

function parseRun(raw: string): DigestRunStart | undefined {
  try {
    const value = JSON.parse(raw) as Partial<DigestRunStart>;
    const ok =
      typeof value.id === 'string' &&
      typeof value.date === 'string' &&
      typeof value.startedAt === 'number' &&
      typeof value.chats === 'number' &&
      typeof value.items === 'number';
    return ok ? (value as DigestRunStart) : undefined;
  } catch {
    return undefined;
  }
}
