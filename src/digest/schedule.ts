/**
 * When a chat's digest is due: daily, weekly or monthly, at the chat's time. Pure: `now` and the time zone are
 * arguments, so every replica reaches the same answer and tests need no fake timers. Dates are local calendar days
 * (yyyy-MM-dd) in DIGEST_TZ; instants are epoch ms.
 */
import { TZDate, tzOffset } from '@date-fns/tz';
import { format } from 'date-fns';
import type { ChatSubscription, DeliveryState, DigestCadence, DigestTime } from './types.js';

/** DIGEST_TIME and DIGEST_TZ from config, for chats without a time of their own. */
export interface ScheduleDefaults {
  time: DigestTime;
  timeZone: string;
}

const DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;
const DAY_MS = 86_400_000;

/** The calendar day (yyyy-MM-dd) that `now` falls on in `timeZone`. */
export function localDate(now: number, timeZone: string): string {
  return format(new TZDate(now, timeZone), 'yyyy-MM-dd');
}

/** Calendar arithmetic on yyyy-MM-dd: no time of day is involved, so no time zone can shift the result. */
export function addDays(date: string, days: number): string {
  if (!Number.isInteger(days)) throw new RangeError(`days must be an integer, got ${days}`);
  const { year, month, day } = parseDate(date);
  return formatUtcDate(utcDate(year, month, day + days));
}

/**
 * The instant at which the wall time `time` occurs on `date` in `timeZone`.
 *
 * - A wall time that does not exist (the hour skipped when DST starts, e.g. 02:30 on 2025-03-09 in New York)
 *   moves forward to the first instant that does exist: the transition itself (03:00 EDT). The digest goes
 *   out as early as possible that day instead of being skipped.
 * - A wall time that occurs twice (the hour repeated when DST ends) means its first occurrence, so a chat
 *   never waits an extra hour; `lastSentDate` stops the second occurrence from sending again.
 */
export function scheduledAt(date: string, time: DigestTime, timeZone: string): number {
  const { year, month, day } = parseDate(date);
  assertDigestTime(time);
  const wall = utcDate(year, month, day, time.hour, time.minute).getTime();
  // Not `new TZDate(y, m, d, h, min, zone)`: where a wall time is ambiguous or missing, its answer depends on
  // the server's own time zone. Offsets a day either side cover the (at most one) transition near `wall`.
  const candidates = [wall - DAY_MS, wall + DAY_MS].map((probe) => wall - offsetMs(probe, timeZone));
  if (candidates.some((instant) => !Number.isFinite(instant))) {
    throw new RangeError(`unknown time zone "${timeZone}"`);
  }
  const valid = candidates.filter((instant) => wallClockAt(instant, timeZone) === wall);
  if (valid.length > 0) return Math.min(...valid);

  // A gap: the wall clock only moves forward between the two candidates, so a binary search finds the first
  // instant whose wall time is at or past the requested one: the transition.
  let before = Math.min(...candidates);
  let after = Math.max(...candidates);
  while (after - before > 1) {
    const mid = Math.floor((before + after) / 2);
    if (wallClockAt(mid, timeZone) >= wall) after = mid;
    else before = mid;
  }
  return after;
}

/** What a subscription without a cadence (every one stored before cadences existed) means. */
export const DAILY: DigestCadence = Object.freeze({ kind: 'daily' });

export function cadenceOf(sub: Pick<ChatSubscription, 'cadence'>): DigestCadence {
  return sub.cadence ?? DAILY;
}

export type PeriodKind = DigestCadence['kind'];

/** Only day 1 to 28 occur in every month, so a monthly digest never skips one. */
export const MAX_MONTHLY_DAY = 28;

/** The day of the week of `date`, ISO 8601: 1 = Monday … 7 = Sunday. */
export function weekdayOf(date: string): number {
  const { year, month, day } = parseDate(date);
  const weekday = utcDate(year, month, day).getUTCDay();
  return weekday === 0 ? 7 : weekday;
}

/** Whether `cadence` sends on `date`: every day, on its weekday, or on its day of the month. */
export function isDigestDay(cadence: DigestCadence, date: string): boolean {
  switch (cadence.kind) {
    case 'daily':
      parseDate(date);
      return true;
    case 'weekly':
      return weekdayOf(date) === cadence.weekday;
    case 'monthly':
      return parseDate(date).day === cadence.day;
  }
}

/**
 * The period `date` falls in, as the key that stands for "this chat's digest for this period" everywhere: the
 * BullMQ job id, the send uuid, the queued marker. Calendar periods: the day (`2026-11-20`, the same key a daily
 * digest always had), the ISO week (`week-2026-11-16`, its Monday) or the month (`month-2026-11`). Only
 * `[0-9a-z-]`, so it fits in job ids. A cadence changed within a period keeps its key: moving a weekly digest from
 * Monday to Friday after Monday's went out means next Friday, not a second digest that week.
 */
export function periodKey(kind: PeriodKind, date: string): string {
  const { year, month } = parseDate(date);
  switch (kind) {
    case 'daily':
      return date;
    case 'weekly':
      return `week-${addDays(date, 1 - weekdayOf(date))}`;
    case 'monthly':
      return `month-${String(year).padStart(4, '0')}-${String(month).padStart(2, '0')}`;
  }
}

/** Which kind of period a `periodKey` names. */
export function periodKindOf(key: string): PeriodKind {
  if (key.startsWith('week-')) return 'weekly';
  if (key.startsWith('month-')) return 'monthly';
  return 'daily';
}

/**
 * Whether the last digest sent (DeliveryState) already covers the period `date` is in. Never two on one day. Past
 * that, the period the last digest was sent *for* (`lastSentPeriod`) must be this one: a digest sent under another
 * cadence (daily on Tuesday, then `digest weekly fri`) does not count for the new cadence's first period. A state
 * recorded before periods were stored falls back to the date's own period. Never throws: a stored date that does
 * not parse only matches itself.
 */
export function sentInPeriod(
  kind: PeriodKind,
  state: Pick<DeliveryState, 'lastSentDate' | 'lastSentPeriod'> | undefined,
  date: string,
): boolean {
  const sentDate = state?.lastSentDate;
  if (sentDate === undefined) return false;
  if (sentDate === date) return true;
  if (state?.lastSentPeriod !== undefined) return state.lastSentPeriod === periodKey(kind, date);
  if (!isCalendarDate(sentDate)) return false;
  return periodKey(kind, sentDate) === periodKey(kind, date);
}

/**
 * The day a digest on `date` measures its change from: the day before (daily: only the trend uses it), a week
 * before, or the same day a month before.
 */
export function comparedWith(kind: PeriodKind, date: string): string {
  switch (kind) {
    case 'daily':
      return addDays(date, -1);
    case 'weekly':
      return addDays(date, -7);
    case 'monthly':
      return addMonths(date, -1);
  }
}

/** Calendar months on yyyy-MM-dd; a day the target month lacks becomes its last (03-31 minus one is 02-28). */
export function addMonths(date: string, months: number): string {
  if (!Number.isInteger(months)) throw new RangeError(`months must be an integer, got ${months}`);
  const { year, month, day } = parseDate(date);
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = index - targetYear * 12 + 1;
  // Day 0 of the next month is the last day of this one.
  const lastDay = utcDate(targetYear, targetMonth + 1, 0).getUTCDate();
  return formatUtcDate(utcDate(targetYear, targetMonth, Math.min(day, lastDay)));
}

/** Whole calendar days from `from` to `to` (negative when `to` is earlier). */
export function daysBetween(from: string, to: string): number {
  const a = parseDate(from);
  const b = parseDate(to);
  return Math.round(
    (utcDate(b.year, b.month, b.day).getTime() - utcDate(a.year, a.month, a.day).getTime()) / DAY_MS,
  );
}

/**
 * The local date whose digest `sub` should receive now, or null. Due on a day of its cadence (every day, its
 * weekday, its day of the month) once that day's scheduled time has passed and nothing was sent in the current
 * period (day, week or month), so a replica starting at 11:30 still sends the 10:30 digest (catch-up); after
 * midnight the missed one is not due any more, whatever the cadence: a weekly digest missed on its Monday waits
 * for the next Monday rather than arriving on a Tuesday. A scheduled time before `since` does not count:
 * subscribing, or changing the time or cadence, at 15:00 to a 10:30 digest starts at the next occurrence.
 */
export function dueDate(
  sub: ChatSubscription,
  state: DeliveryState | undefined,
  now: number,
  defaults: ScheduleDefaults,
): string | null {
  if (sub.paused || sub.items.length === 0) return null;
  const cadence = cadenceOf(sub);
  const today = localDate(now, defaults.timeZone);
  if (!isDigestDay(cadence, today)) return null;
  if (sentInPeriod(cadence.kind, state, today)) return null;
  const at = scheduledAt(today, sub.time ?? defaults.time, defaults.timeZone);
  return now >= at && at >= sub.since ? today : null;
}

/**
 * The local date whose daily snapshot of `sub`'s items is due now, or null: every day at the chat's time,
 * whatever its cadence, so a weekly digest has the seven days before it to compare with and draw. Unlike the
 * digest itself it ignores `since` (a snapshot taken on the day of subscribing only adds history) and catches up
 * any time later that day.
 */
export function snapshotDueDate(
  sub: ChatSubscription,
  now: number,
  defaults: ScheduleDefaults,
): string | null {
  if (sub.paused || sub.items.length === 0) return null;
  const today = localDate(now, defaults.timeZone);
  return now >= scheduledAt(today, sub.time ?? defaults.time, defaults.timeZone) ? today : null;
}

/** Enough days to pass one skipped month (sent on the 1st, moved to the 28th) and reach the next occurrence. */
const NEXT_DIGEST_SEARCH_DAYS = 70;

/**
 * When the next digest goes out, for the subscription card: today's scheduled instant if today's digest is
 * still to come (or due and about to be sent, in which case the instant may be a little in the past), else
 * that of the next day of the cadence whose period has had no digest yet. Null when nothing will be sent
 * (paused or no items).
 */
export function nextDigestAt(
  sub: ChatSubscription,
  state: DeliveryState | undefined,
  now: number,
  defaults: ScheduleDefaults,
): number | null {
  if (sub.paused || sub.items.length === 0) return null;
  const cadence = cadenceOf(sub);
  const time = sub.time ?? defaults.time;
  const today = localDate(now, defaults.timeZone);
  // `since` is normally in the past; starting from its day keeps a clock skewed into the future correct too.
  const sinceDate = localDate(sub.since, defaults.timeZone);
  let date = sinceDate > today ? sinceDate : today;
  for (let i = 0; i < NEXT_DIGEST_SEARCH_DAYS; i++, date = addDays(date, 1)) {
    if (!isDigestDay(cadence, date) || sentInPeriod(cadence.kind, state, date)) continue;
    const at = scheduledAt(date, time, defaults.timeZone);
    if (at >= sub.since) return at;
  }
  return null;
}

/** A weekday, ISO 8601 (1 = Monday … 7 = Sunday), and a monthly day within 1…MAX_MONTHLY_DAY. */
export function isDigestCadence(value: unknown): value is DigestCadence {
  if (typeof value !== 'object' || value === null) return false;
  const { kind, weekday, day } = value as Record<string, unknown>;
  switch (kind) {
    case 'daily':
      return true;
    case 'weekly':
      return Number.isInteger(weekday) && (weekday as number) >= 1 && (weekday as number) <= 7;
    case 'monthly':
      return Number.isInteger(day) && (day as number) >= 1 && (day as number) <= MAX_MONTHLY_DAY;
    default:
      return false;
  }
}

export function sameCadence(a: DigestCadence, b: DigestCadence): boolean {
  if (a.kind === 'weekly' && b.kind === 'weekly') return a.weekday === b.weekday;
  if (a.kind === 'monthly' && b.kind === 'monthly') return a.day === b.day;
  return a.kind === b.kind;
}

const COLON_TIME = /^(\d{1,2}):(\d{2})$/;
// 10点, 10点30, 10点30分, 10点05分, 10点半, 10点整.
const CHINESE_TIME = /^(\d{1,2})[点點](?:(\d{1,2})分?|(半)|整)?$/;

/**
 * A time of day as people type it in chat: `10:30`, `9:05`, full-width `１０：３０`, or Chinese `10点30`,
 * `10点`, `10点半`. 00:00–23:59 only; anything else is null so the command can answer with usage.
 */
export function parseDigestTime(text: string): DigestTime | null {
  // NFKC folds full-width digits and the full-width colon `：` into their ASCII forms.
  const input = text.normalize('NFKC').replace(/\s+/g, '');
  let hour: number;
  let minute: number;
  const colon = COLON_TIME.exec(input);
  const chinese = colon ? null : CHINESE_TIME.exec(input);
  if (colon) {
    hour = Number(colon[1]);
    minute = Number(colon[2]);
  } else if (chinese) {
    hour = Number(chinese[1]);
    minute = chinese[3] ? 30 : Number(chinese[2] ?? 0);
  } else {
    return null;
  }
  return isDigestTime({ hour, minute }) ? { hour, minute } : null;
}

/** `09:05`: the form the cards show and `parseDigestTime` reads back. */
export function formatDigestTime(time: DigestTime): string {
  return `${String(time.hour).padStart(2, '0')}:${String(time.minute).padStart(2, '0')}`;
}

export function isDigestTime(value: unknown): value is DigestTime {
  if (typeof value !== 'object' || value === null) return false;
  const { hour, minute } = value as Record<string, unknown>;
  return (
    Number.isInteger(hour) &&
    Number.isInteger(minute) &&
    (hour as number) >= 0 &&
    (hour as number) <= 23 &&
    (minute as number) >= 0 &&
    (minute as number) <= 59
  );
}

function assertDigestTime(time: DigestTime): void {
  if (!isDigestTime(time)) throw new RangeError(`not a time of day: ${JSON.stringify(time)}`);
}

function offsetMs(instant: number, timeZone: string): number {
  return tzOffset(timeZone, new Date(instant)) * 60_000;
}

/** The local wall-clock reading at `instant`, expressed as if that reading were UTC. */
function wallClockAt(instant: number, timeZone: string): number {
  return instant + offsetMs(instant, timeZone);
}

function isCalendarDate(date: string): boolean {
  try {
    parseDate(date);
    return true;
  } catch {
    return false;
  }
}

function parseDate(date: string): { year: number; month: number; day: number } {
  const match = DATE_PATTERN.exec(date);
  const year = Number(match?.[1]);
  const month = Number(match?.[2]);
  const day = Number(match?.[3]);
  // The round trip rejects dates that roll over, such as 2025-02-30.
  if (!match || formatUtcDate(utcDate(year, month, day)) !== date) {
    throw new RangeError(`not a yyyy-MM-dd date: "${date}"`);
  }
  return { year, month, day };
}

/** `Date.UTC` would read years 0–99 as 1900–1999; `setUTCFullYear` does not. */
function utcDate(year: number, month: number, day: number, hour = 0, minute = 0): Date {
  const date = new Date(0);
  date.setUTCFullYear(year, month - 1, day);
  date.setUTCHours(hour, minute, 0, 0);
  return date;
}

function formatUtcDate(date: Date): string {
  const year = String(date.getUTCFullYear()).padStart(4, '0');
  const month = String(date.getUTCMonth() + 1).padStart(2, '0');
  const day = String(date.getUTCDate()).padStart(2, '0');
  return `${year}-${month}-${day}`;
}
