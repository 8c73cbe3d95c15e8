/**
 * When a chat's daily digest is due. Pure: `now` and the time zone are arguments, so every replica reaches the
 * same answer and tests need no fake timers. Dates are local calendar days (yyyy-MM-dd) in DIGEST_TZ;
 * instants are epoch ms.
 */
import { TZDate, tzOffset } from '@date-fns/tz';
import { format } from 'date-fns';
import type { ChatSubscription, DeliveryState, DigestTime } from './types.js';

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

/**
 * The local date whose digest `sub` should receive now, or null. Due once `today`'s scheduled time has
 * passed and nothing was sent today, so a replica starting at 11:30 still sends the 10:30 digest (catch-up);
 * after midnight the missed one is not due any more. A scheduled time before `since` does not count:
 * subscribing, or changing the time, at 15:00 to a 10:30 digest starts tomorrow.
 */
export function dueDate(
  sub: ChatSubscription,
  state: DeliveryState | undefined,
  now: number,
  defaults: ScheduleDefaults,
): string | null {
  if (sub.paused || sub.items.length === 0) return null;
  const today = localDate(now, defaults.timeZone);
  if (state?.lastSentDate === today) return null;
  const at = scheduledAt(today, sub.time ?? defaults.time, defaults.timeZone);
  return now >= at && at >= sub.since ? today : null;
}

/**
 * When the next digest goes out, for the subscription card: today's scheduled instant if today's digest is
 * still to come (or due and about to be sent, in which case the instant may be a little in the past), else
 * tomorrow's. Null when nothing will be sent (paused or no items).
 */
export function nextDigestAt(
  sub: ChatSubscription,
  state: DeliveryState | undefined,
  now: number,
  defaults: ScheduleDefaults,
): number | null {
  if (sub.paused || sub.items.length === 0) return null;
  const time = sub.time ?? defaults.time;
  const today = localDate(now, defaults.timeZone);
  // `since` is normally in the past; starting from its day keeps a clock skewed into the future correct too.
  const sinceDate = localDate(sub.since, defaults.timeZone);
  let date = sinceDate > today ? sinceDate : today;
  if (date === today && state?.lastSentDate === today) date = addDays(date, 1);
  let at = scheduledAt(date, time, defaults.timeZone);
  if (at < sub.since) {
    date = addDays(date, 1);
    at = scheduledAt(date, time, defaults.timeZone);
  }
  return at;
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
