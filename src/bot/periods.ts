/**
 * Turns what a user asked for (`7d`, `last-month`, `app week 2026-11-05`) into the calendar days Feishu is
 * asked about. Pure: `now` and the tenant time zone (DIGEST_TZ) are arguments, so "today" is the tenant's
 * today, not the server's or UTC's. Weeks start on Monday (ISO), as Feishu's weekly app usage does.
 */
import { TZDate } from '@date-fns/tz';
import {
  addDays,
  differenceInCalendarDays,
  endOfMonth,
  format,
  startOfISOWeek,
  startOfMonth,
  subDays,
  subMonths,
} from 'date-fns';
import { CommandUsageError } from '../errors.js';
import type { AppUsageCycle } from '../feishu/types.js';
import { isCalendarDay } from './calendar-day.js';
import type { UsageProblem, WorkplaceRangeSpec } from './commands.js';

/**
 * Our cap; the workplace API documents none. A year (leap years included) is at most two pages of 200 days,
 * and one chart point per day stays far below the 30 KB card limit.
 * https://open.feishu.cn/document/workplace-v1/workplace_access_data/search
 */
export const MAX_WORKPLACE_RANGE_DAYS = 366;

/**
 * Feishu produces the previous day's usage data "around 10:00" (app usage overview doc); we wait until
 * 12:00 the next day before treating a period's figures as final, to leave margin for late runs.
 * https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
 */
const PUBLISHED_BY_HOUR = 12;

export interface Bilingual {
  zh: string;
  en: string;
}

export interface ResolvedRange {
  /** yyyy-MM-dd, inclusive. */
  from: string;
  /** yyyy-MM-dd, inclusive. */
  to: string;
  days: number;
  label: Bilingual;
  /** Every day in it has ended and its data has been published: safe to cache for long. */
  final: boolean;
}

export interface ResolvedAppPeriod {
  /** yyyy-MM-dd aligned to the cycle: a Monday for `week`, the 1st for `month`. */
  date: string;
  /** The date the user typed, present only when alignment moved it (the card says so). */
  requestedDate?: string;
  /** Last day of the period: the day itself, the Sunday, or the month's last day. */
  periodEnd: string;
  final: boolean;
  label: Bilingual;
}

export type PeriodProblem = Extract<
  UsageProblem,
  'bad_range' | 'bad_date' | 'from_after_to' | 'future_date' | 'range_too_long'
>;

/**
 * A `CommandUsageError` that also carries what the usage card needs to explain itself (the cap, the dates).
 * `errors.ts` has no slot for that, and it is a shared contract; `instanceof CommandUsageError` still holds.
 */
export class PeriodUsageError extends CommandUsageError {
  constructor(
    command: 'workplace' | 'app',
    override readonly problem: PeriodProblem,
    detail: Readonly<Record<string, string | number>> = {},
  ) {
    super(command, problem, detail);
  }
}

export function resolveWorkplaceRange(spec: WorkplaceRangeSpec, now: Date, timeZone: string): ResolvedRange {
  const today = startOfTenantDay(now, timeZone);
  const yesterday = subDays(today, 1);
  switch (spec.kind) {
    case 'last_days': {
      // Today is excluded: its figures are still growing, and Feishu publishes a day only the next morning.
      if (!Number.isInteger(spec.days) || spec.days < 1)
        throw new PeriodUsageError('workplace', 'bad_range', { input: `${spec.days}d` });
      checkLength(spec.days);
      const label: Bilingual =
        spec.days === 1
          ? { zh: '昨天', en: 'Yesterday' }
          : { zh: `最近 ${spec.days} 天`, en: `Last ${spec.days} days` };
      return buildRange(subDays(yesterday, spec.days - 1), yesterday, label, now);
    }
    case 'this_week': {
      const monday = startOfISOWeek(today);
      const label = { zh: '本周', en: 'This week' };
      // On a Monday no day of this week has ended; today alone (not final) beats an empty range.
      if (differenceInCalendarDays(today, monday) === 0) return buildRange(today, today, label, now);
      return buildRange(monday, yesterday, label, now);
    }
    case 'last_month': {
      const sameDayLastMonth = subMonths(today, 1);
      const first = startOfMonth(sameDayLastMonth);
      const label = {
        zh: `上月（${format(first, 'yyyy')} 年 ${format(first, 'M')} 月）`,
        en: `Last month (${format(first, 'MMMM yyyy')})`,
      };
      return buildRange(first, startOfDayOf(endOfMonth(first)), label, now);
    }
    case 'between': {
      if (!isCalendarDay(spec.from) || !isCalendarDay(spec.to))
        throw new PeriodUsageError('workplace', 'bad_range', { input: `${spec.from} ${spec.to}` });
      const from = parseDay(spec.from, timeZone);
      const to = parseDay(spec.to, timeZone);
      if (from > to)
        throw new PeriodUsageError('workplace', 'from_after_to', { from: spec.from, to: spec.to });
      // Today is allowed (figures so far, not final); a future day has nothing to show.
      if (to > today)
        throw new PeriodUsageError('workplace', 'future_date', { date: spec.to, today: formatDay(today) });
      checkLength(differenceInCalendarDays(to, from) + 1);
      return buildRange(from, to, labelBetween(spec.from, spec.to), now);
    }
  }
}

/**
 * Feishu wants a Monday for weekly and a 1st for monthly figures (211010 otherwise), so a given date is moved
 * to the start of its period rather than rejected.
 * https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
 */
export function resolveAppPeriod(
  cycle: AppUsageCycle,
  date: string | undefined,
  now: Date,
  timeZone: string,
): ResolvedAppPeriod {
  const today = startOfTenantDay(now, timeZone);
  let start: TZDate;
  if (date === undefined) {
    // A day defaults to yesterday (today is not published yet); a week or month to the current one so far.
    start = cycle === 'day' ? subDays(today, 1) : alignToCycle(cycle, today);
  } else {
    if (!isCalendarDay(date)) throw new PeriodUsageError('app', 'bad_date', { input: date });
    const requested = parseDay(date, timeZone);
    if (requested > today)
      throw new PeriodUsageError('app', 'future_date', { date, today: formatDay(today) });
    start = alignToCycle(cycle, requested);
  }
  const end =
    cycle === 'day' ? start : cycle === 'week' ? addDays(start, 6) : startOfDayOf(endOfMonth(start));
  const aligned = formatDay(start);
  const periodEnd = formatDay(end);
  return {
    date: aligned,
    ...(date !== undefined && date !== aligned ? { requestedDate: date } : {}),
    periodEnd,
    final: isPublished(end, now),
    label: labelAppPeriod(cycle, start, end, end >= today),
  };
}

function alignToCycle(cycle: AppUsageCycle, day: TZDate): TZDate {
  if (cycle === 'week') return startOfISOWeek(day);
  if (cycle === 'month') return startOfMonth(day);
  return day;
}

function labelAppPeriod(cycle: AppUsageCycle, start: TZDate, end: TZDate, ongoing: boolean): Bilingual {
  // Feishu answers a period that has not ended with its figures so far; the label must not promise more.
  const soFar: Bilingual = ongoing ? { zh: '（截至目前）', en: ' (so far)' } : { zh: '', en: '' };
  if (cycle === 'month') {
    return {
      zh: `${format(start, 'yyyy')} 年 ${format(start, 'M')} 月${soFar.zh}`,
      en: `${format(start, 'MMMM yyyy')}${soFar.en}`,
    };
  }
  if (cycle === 'week') {
    const range = labelBetween(formatDay(start), formatDay(end));
    return { zh: `${range.zh} 这一周${soFar.zh}`, en: `Week of ${range.en}${soFar.en}` };
  }
  const day = formatDay(start);
  return { zh: `${day}${soFar.zh}`, en: `${day}${soFar.en}` };
}

function labelBetween(from: string, to: string): Bilingual {
  if (from === to) return { zh: from, en: from };
  return { zh: `${from} 至 ${to}`, en: `${from} – ${to}` };
}

function buildRange(from: TZDate, to: TZDate, label: Bilingual, now: Date): ResolvedRange {
  return {
    from: formatDay(from),
    to: formatDay(to),
    days: differenceInCalendarDays(to, from) + 1,
    label,
    // A day that has ended may still be unpublished: the same margin as app usage keeps it out of long caches.
    final: isPublished(to, now),
  };
}

function checkLength(days: number): void {
  if (days > MAX_WORKPLACE_RANGE_DAYS)
    throw new PeriodUsageError('workplace', 'range_too_long', { max: MAX_WORKPLACE_RANGE_DAYS, days });
}

/** Whether `now` is at or past 12:00 (tenant time) on the day after `lastDay`. */
function isPublished(lastDay: TZDate, now: Date): boolean {
  const publishedAt = addDays(lastDay, 1);
  publishedAt.setHours(PUBLISHED_BY_HOUR, 0, 0, 0);
  return now.getTime() >= publishedAt.getTime();
}

function startOfTenantDay(now: Date, timeZone: string): TZDate {
  const local = new TZDate(now.getTime(), timeZone);
  return new TZDate(local.getFullYear(), local.getMonth(), local.getDate(), timeZone);
}

/** Midnight of a yyyy-MM-dd already checked by `isCalendarDay`, in the tenant's zone. */
function parseDay(day: string, timeZone: string): TZDate {
  const [year, month, date] = day.split('-').map(Number);
  return new TZDate(year ?? 0, (month ?? 1) - 1, date ?? 1, timeZone);
}

/** `endOfMonth` lands on 23:59:59.999; dates compare and format more simply at midnight. */
function startOfDayOf(day: TZDate): TZDate {
  return new TZDate(day.getFullYear(), day.getMonth(), day.getDate(), day.timeZone ?? 'UTC');
}

function formatDay(day: TZDate): string {
  return format(day, 'yyyy-MM-dd');
}
