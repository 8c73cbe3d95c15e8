/** "3 hours ago" / "3 小时前": how long ago something happened, in words a reader takes in at a glance. */

import type { Bilingual } from './i18n.js';

const MINUTE_MS = 60_000;
const HOUR_MS = 60 * MINUTE_MS;
const DAY_MS = 24 * HOUR_MS;
/** From this age on, a date says more than "9 days ago". */
const ABSOLUTE_AFTER_DAYS = 7;

export type Age =
  | { unit: 'just_now' }
  | { unit: 'minutes' | 'hours' | 'days'; count: number }
  | { unit: 'yesterday' }
  | { unit: 'date' }
  | { unit: 'unknown' };

/**
 * Elapsed-time buckets. "Yesterday" means 24–48 hours ago rather than the previous calendar day: the card
 * does not know the reader's time zone, and the absolute `<local_datetime>` beside it settles any doubt.
 * A time in the future (clock skew between Feishu and us) reads as "just now".
 */
export function describeAge(then: Date, now: Date): Age {
  const elapsed = now.getTime() - then.getTime();
  if (!Number.isFinite(elapsed)) return { unit: 'unknown' };
  if (elapsed < MINUTE_MS) return { unit: 'just_now' };
  if (elapsed < HOUR_MS) return { unit: 'minutes', count: Math.floor(elapsed / MINUTE_MS) };
  if (elapsed < DAY_MS) return { unit: 'hours', count: Math.floor(elapsed / HOUR_MS) };
  if (elapsed < 2 * DAY_MS) return { unit: 'yesterday' };
  const days = Math.floor(elapsed / DAY_MS);
  return days < ABSOLUTE_AFTER_DAYS ? { unit: 'days', count: days } : { unit: 'date' };
}

function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `yyyy-MM-dd` of `date` in `timeZone`. */
function formatDay(date: Date, timeZone: string): string {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
  }).formatToParts(date);
  const part = (type: Intl.DateTimeFormatPartTypes) => parts.find((p) => p.type === type)?.value ?? '';
  return `${part('year')}-${part('month')}-${part('day')}`;
}

/**
 * "just now" / "5 minutes ago" / "3 hours ago" / "yesterday" / "4 days ago", then the date itself
 * (`yyyy-MM-dd` in `timeZone`, UTC unless told). Plain text, so it also fits summaries and toasts.
 */
export function relativeTime(then: Date, now: Date, timeZone = 'UTC'): Bilingual {
  const age = describeAge(then, now);
  switch (age.unit) {
    case 'unknown':
      return { zh: '时间未知', en: 'unknown time' };
    case 'just_now':
      return { zh: '刚刚', en: 'just now' };
    case 'minutes':
      return { zh: `${age.count} 分钟前`, en: `${plural(age.count, 'minute')} ago` };
    case 'hours':
      return { zh: `${age.count} 小时前`, en: `${plural(age.count, 'hour')} ago` };
    case 'yesterday':
      return { zh: '昨天', en: 'yesterday' };
    case 'days':
      return { zh: `${age.count} 天前`, en: `${plural(age.count, 'day')} ago` };
    case 'date': {
      const day = formatDay(then, timeZone);
      return { zh: day, en: day };
    }
  }
}
