/**
 * Digest cadences as pure schedule arithmetic: which days a daily, weekly or monthly digest goes out, what counts as
 * "already sent this period", the same-day catch-up rule, the day a period digest compares with, when the next one
 * comes, and how a subscription without a cadence (every one stored before cadences) reads: daily.
 */
import { describe, expect, it } from 'vitest';
import { digestJobId, digestUuid, periodOf } from '../src/digest/runner.js';
import {
  addMonths,
  comparedWith,
  daysBetween,
  dueDate,
  isDigestCadence,
  isDigestDay,
  nextDigestAt,
  periodKey,
  periodKindOf,
  type ScheduleDefaults,
  sentInPeriod,
  snapshotDueDate,
  weekdayOf,
} from '../src/digest/schedule.js';
import { isChatSubscription, setCadence, setTime } from '../src/digest/subscriptions.js';
import type { ChatSubscription, DeliveryState, DigestCadence } from '../src/digest/types.js';

/** Wall time in Asia/Shanghai (UTC+8, no daylight saving) as epoch ms. */
const shanghai = (date: string, time: string): number => Date.parse(`${date}T${time}:00+08:00`);
const SHANGHAI: ScheduleDefaults = { time: { hour: 10, minute: 30 }, timeZone: 'Asia/Shanghai' };
const WEEKLY_MONDAY: DigestCadence = { kind: 'weekly', weekday: 1 };
const MONTHLY_FIRST: DigestCadence = { kind: 'monthly', day: 1 };

function subscription(overrides: Partial<ChatSubscription> = {}): ChatSubscription {
  return {
    chatId: 'oc_team',
    items: [{ kind: 'workplace' }],
    since: shanghai('2026-01-01', '00:00'),
    updatedAt: shanghai('2026-01-01', '00:00'),
    ...overrides,
  };
}

const sent = (lastSentDate: string): DeliveryState => ({ lastSentDate });

describe('calendar helpers', () => {
  it('names ISO weekdays: 2026-11-16 is a Monday, 2026-11-22 a Sunday', () => {
    expect(weekdayOf('2026-11-16')).toBe(1);
    expect(weekdayOf('2026-11-20')).toBe(5);
    expect(weekdayOf('2026-11-22')).toBe(7);
  });

  it('adds months on the calendar, a day the month lacks becoming its last', () => {
    expect(addMonths('2026-12-01', -1)).toBe('2026-11-01');
    expect(addMonths('2026-01-15', -1)).toBe('2025-12-15');
    expect(addMonths('2026-03-31', -1)).toBe('2026-02-28');
    expect(addMonths('2024-03-30', -1)).toBe('2024-02-29');
    expect(addMonths('2026-11-28', 2)).toBe('2027-01-28');
  });

  it('counts whole days between dates, across months and the year', () => {
    expect(daysBetween('2026-11-23', '2026-11-30')).toBe(7);
    expect(daysBetween('2026-11-01', '2026-12-01')).toBe(30);
    expect(daysBetween('2026-12-01', '2027-01-01')).toBe(31);
    expect(daysBetween('2026-02-01', '2026-03-01')).toBe(28);
    expect(daysBetween('2026-12-01', '2026-11-30')).toBe(-1);
  });

  it('compares a weekly digest with a week before and a monthly one with the same day last month', () => {
    expect(comparedWith('weekly', '2026-11-30')).toBe('2026-11-23');
    expect(comparedWith('monthly', '2026-12-01')).toBe('2026-11-01');
    expect(comparedWith('monthly', '2027-01-15')).toBe('2026-12-15');
    expect(comparedWith('daily', '2026-12-01')).toBe('2026-11-30');
  });
});

describe('isDigestDay', () => {
  it('is every day for daily, the weekday for weekly, the day of the month for monthly', () => {
    const days = ['2026-11-29', '2026-11-30', '2026-12-01', '2026-12-02', '2026-12-07', '2027-01-01'];
    expect(days.filter((d) => isDigestDay({ kind: 'daily' }, d))).toEqual(days);
    expect(days.filter((d) => isDigestDay(WEEKLY_MONDAY, d))).toEqual(['2026-11-30', '2026-12-07']);
    expect(days.filter((d) => isDigestDay({ kind: 'weekly', weekday: 7 }, d))).toEqual(['2026-11-29']);
    expect(days.filter((d) => isDigestDay(MONTHLY_FIRST, d))).toEqual(['2026-12-01', '2027-01-01']);
    expect(days.filter((d) => isDigestDay({ kind: 'monthly', day: 2 }, d))).toEqual(['2026-12-02']);
  });
});

describe('periodKey', () => {
  it('is the date itself for daily: job ids, uuids and queued markers are what they were before cadences', () => {
    expect(periodKey('daily', '2026-11-20')).toBe('2026-11-20');
    expect(digestJobId({ chatId: 'oc_a', date: '2026-11-20', period: '2026-11-20' })).toBe(
      digestJobId({ chatId: 'oc_a', date: '2026-11-20' }),
    );
    expect(digestJobId({ chatId: 'oc_a', date: '2026-11-20' })).toBe('digest-oc_a-2026-11-20');
    expect(digestUuid({ chatId: 'oc_a', date: '2026-11-20', period: '2026-11-20' })).toBe(
      digestUuid({ chatId: 'oc_a', date: '2026-11-20' }),
    );
  });

  it('is the ISO week (its Monday) for weekly and the month for monthly, whatever day in it', () => {
    for (const date of ['2026-11-16', '2026-11-18', '2026-11-22']) {
      expect(periodKey('weekly', date)).toBe('week-2026-11-16');
    }
    expect(periodKey('weekly', '2026-11-23')).toBe('week-2026-11-23');
    // A week across the new year keeps its Monday.
    expect(periodKey('weekly', '2027-01-01')).toBe('week-2026-12-28');
    expect(periodKey('monthly', '2026-12-01')).toBe('month-2026-12');
    expect(periodKey('monthly', '2026-12-28')).toBe('month-2026-12');
    expect(periodKey('monthly', '2027-01-01')).toBe('month-2027-01');
  });

  it('reads its kind back, and gives weekly and monthly digests job ids and uuids of their own', () => {
    expect(periodKindOf('2026-11-20')).toBe('daily');
    expect(periodKindOf('week-2026-11-16')).toBe('weekly');
    expect(periodKindOf('month-2026-12')).toBe('monthly');
    const weekly = { chatId: 'oc_a', date: '2026-11-16', period: 'week-2026-11-16' };
    expect(digestJobId(weekly)).toBe('digest-oc_a-week-2026-11-16');
    expect(digestUuid(weekly)).not.toBe(digestUuid({ chatId: 'oc_a', date: '2026-11-16' }));
    expect(digestUuid(weekly).length).toBeLessThanOrEqual(50);
    // A job queued before cadences carries no period: it is its date's daily digest.
    expect(periodOf({ chatId: 'oc_a', date: '2026-11-16' })).toBe('2026-11-16');
  });

  it('sentInPeriod: a digest sent any day of the week or month covers it, and a bad stored date only itself', () => {
    expect(sentInPeriod('weekly', sent('2026-11-16'), '2026-11-20')).toBe(true);
    expect(sentInPeriod('weekly', sent('2026-11-15'), '2026-11-16')).toBe(false);
    expect(sentInPeriod('monthly', sent('2026-12-01'), '2026-12-28')).toBe(true);
    expect(sentInPeriod('monthly', sent('2026-11-30'), '2026-12-01')).toBe(false);
    expect(sentInPeriod('daily', sent('2026-11-16'), '2026-11-17')).toBe(false);
    expect(sentInPeriod('weekly', undefined, '2026-11-16')).toBe(false);
    expect(sentInPeriod('weekly', sent('not a date'), '2026-11-16')).toBe(false);
    expect(sentInPeriod('daily', sent('not a date'), 'not a date')).toBe(true);
  });

  it('sentInPeriod: a digest sent under another cadence does not cover the new cadence’s first period', () => {
    // Daily on Tuesday 12-01, then `digest weekly fri`: Friday's weekly digest is due.
    const daily = { lastSentDate: '2026-12-01', lastSentPeriod: '2026-12-01' };
    expect(sentInPeriod('weekly', daily, '2026-12-04')).toBe(false);
    expect(sentInPeriod('monthly', daily, '2026-12-15')).toBe(false);
    // Never two on one day, whatever the cadence.
    expect(sentInPeriod('weekly', daily, '2026-12-01')).toBe(true);
    // Weekly on Monday, moved to Friday the same week: still once that week.
    const weekly = { lastSentDate: '2026-11-30', lastSentPeriod: 'week-2026-11-30' };
    expect(sentInPeriod('weekly', weekly, '2026-12-04')).toBe(true);
    expect(sentInPeriod('weekly', weekly, '2026-12-07')).toBe(false);
  });

  it('dueDate: switching a daily digest to weekly on a Tuesday sends on that Friday, not a week later', () => {
    const friday = subscription({ cadence: { kind: 'weekly', weekday: 5 } });
    const state: DeliveryState = { lastSentDate: '2026-12-01', lastSentPeriod: '2026-12-01' };
    expect(dueDate(friday, state, shanghai('2026-12-04', '10:31'), SHANGHAI)).toBe('2026-12-04');
  });
});

describe('dueDate with a cadence', () => {
  const weekly = subscription({ cadence: WEEKLY_MONDAY });
  const monthly = subscription({ cadence: MONTHLY_FIRST });

  it('a weekly digest is due on its weekday from its time, and on no other day', () => {
    expect(dueDate(weekly, sent('2026-11-23'), shanghai('2026-11-30', '10:29'), SHANGHAI)).toBeNull();
    expect(dueDate(weekly, sent('2026-11-23'), shanghai('2026-11-30', '10:30'), SHANGHAI)).toBe('2026-11-30');
    for (const day of ['2026-12-01', '2026-12-02', '2026-12-05', '2026-12-06']) {
      expect(dueDate(weekly, sent('2026-11-30'), shanghai(day, '10:31'), SHANGHAI)).toBeNull();
    }
    expect(dueDate(weekly, sent('2026-11-30'), shanghai('2026-12-07', '10:31'), SHANGHAI)).toBe('2026-12-07');
  });

  it('a monthly digest is due on its day of the month', () => {
    expect(dueDate(monthly, sent('2026-11-01'), shanghai('2026-12-01', '10:31'), SHANGHAI)).toBe(
      '2026-12-01',
    );
    expect(dueDate(monthly, sent('2026-12-01'), shanghai('2026-12-15', '10:31'), SHANGHAI)).toBeNull();
    expect(dueDate(monthly, sent('2026-12-01'), shanghai('2027-01-01', '10:31'), SHANGHAI)).toBe(
      '2027-01-01',
    );
    const fifteenth = subscription({ cadence: { kind: 'monthly', day: 15 } });
    expect(dueDate(fifteenth, undefined, shanghai('2026-12-15', '10:31'), SHANGHAI)).toBe('2026-12-15');
    expect(dueDate(fifteenth, undefined, shanghai('2026-12-16', '10:31'), SHANGHAI)).toBeNull();
  });

  it('is not due again once it went out that day', () => {
    expect(dueDate(weekly, sent('2026-11-30'), shanghai('2026-11-30', '18:00'), SHANGHAI)).toBeNull();
    expect(dueDate(monthly, sent('2026-12-01'), shanghai('2026-12-01', '23:59'), SHANGHAI)).toBeNull();
  });

  it('catches up later on its day when nothing ran at its time, and not on a later day (as daily)', () => {
    expect(dueDate(weekly, sent('2026-11-23'), shanghai('2026-11-30', '23:59'), SHANGHAI)).toBe('2026-11-30');
    // Missed all Monday: Tuesday sends nothing, the next Monday does.
    expect(dueDate(weekly, sent('2026-11-23'), shanghai('2026-12-01', '00:01'), SHANGHAI)).toBeNull();
    expect(dueDate(weekly, sent('2026-11-23'), shanghai('2026-12-01', '10:31'), SHANGHAI)).toBeNull();
    expect(dueDate(weekly, sent('2026-11-23'), shanghai('2026-12-07', '10:30'), SHANGHAI)).toBe('2026-12-07');
    expect(dueDate(monthly, sent('2026-11-01'), shanghai('2026-12-02', '10:31'), SHANGHAI)).toBeNull();
  });

  it('sends at most once per week when the weekday moves after this week’s digest went out', () => {
    // Sent on Monday 11-30; moved to Fridays on Tuesday: Friday 12-04 is in the same week, so 12-11 is next.
    const friday = subscription({
      cadence: { kind: 'weekly', weekday: 5 },
      since: shanghai('2026-12-01', '09:00'),
    });
    expect(dueDate(friday, sent('2026-11-30'), shanghai('2026-12-04', '10:31'), SHANGHAI)).toBeNull();
    expect(dueDate(friday, sent('2026-11-30'), shanghai('2026-12-11', '10:31'), SHANGHAI)).toBe('2026-12-11');
    // From daily to weekly on a Monday whose daily digest already went out: none more that week.
    expect(dueDate(weekly, sent('2026-11-30'), shanghai('2026-11-30', '11:00'), SHANGHAI)).toBeNull();
  });

  it('a cadence set after today’s time starts at the next occurrence', () => {
    const late = subscription({ cadence: WEEKLY_MONDAY, since: shanghai('2026-11-30', '11:00') });
    expect(dueDate(late, sent('2026-11-23'), shanghai('2026-11-30', '11:01'), SHANGHAI)).toBeNull();
    expect(dueDate(late, sent('2026-11-23'), shanghai('2026-12-07', '10:30'), SHANGHAI)).toBe('2026-12-07');
  });

  it('a subscription without a cadence is daily', () => {
    const legacy = subscription();
    for (const day of ['2026-11-30', '2026-12-01', '2026-12-02']) {
      expect(dueDate(legacy, sent('2026-11-29'), shanghai(day, '10:31'), SHANGHAI)).toBe(day);
    }
  });
});

describe('snapshotDueDate', () => {
  it('is every day at the chat’s time whatever the cadence, so a weekly digest has 7 days to compare with', () => {
    const weekly = subscription({ cadence: WEEKLY_MONDAY, time: { hour: 9, minute: 0 } });
    expect(snapshotDueDate(weekly, shanghai('2026-12-02', '08:59'), SHANGHAI)).toBeNull();
    for (const day of ['2026-12-01', '2026-12-02', '2026-12-06']) {
      expect(snapshotDueDate(weekly, shanghai(day, '09:00'), SHANGHAI)).toBe(day);
    }
  });

  it('counts a chat subscribed after its time today (history starts then), but no paused or empty chat', () => {
    const today = subscription({ cadence: MONTHLY_FIRST, since: shanghai('2026-12-02', '15:00') });
    expect(snapshotDueDate(today, shanghai('2026-12-02', '15:01'), SHANGHAI)).toBe('2026-12-02');
    const paused = subscription({ paused: { reason: 'bot_removed', at: 0 } });
    expect(snapshotDueDate(paused, shanghai('2026-12-02', '15:01'), SHANGHAI)).toBeNull();
    expect(
      snapshotDueDate(subscription({ items: [] }), shanghai('2026-12-02', '15:01'), SHANGHAI),
    ).toBeNull();
  });
});

describe('nextDigestAt with a cadence', () => {
  it('is the next weekday of a weekly digest, skipping this week once it went out', () => {
    const weekly = subscription({ cadence: { kind: 'weekly', weekday: 3 } });
    // Tuesday 12-01: Wednesday 12-02.
    expect(nextDigestAt(weekly, sent('2026-11-25'), shanghai('2026-12-01', '12:00'), SHANGHAI)).toBe(
      shanghai('2026-12-02', '10:30'),
    );
    // Wednesday after it went out: the Wednesday after.
    expect(nextDigestAt(weekly, sent('2026-12-02'), shanghai('2026-12-02', '12:00'), SHANGHAI)).toBe(
      shanghai('2026-12-09', '10:30'),
    );
    // Moved to Fridays after Monday's digest went out: not this Friday.
    const friday = subscription({ cadence: { kind: 'weekly', weekday: 5 } });
    expect(nextDigestAt(friday, sent('2026-11-30'), shanghai('2026-12-01', '12:00'), SHANGHAI)).toBe(
      shanghai('2026-12-11', '10:30'),
    );
  });

  it('is the next day of the month of a monthly digest, in the chat’s own time', () => {
    const monthly = subscription({ cadence: { kind: 'monthly', day: 28 }, time: { hour: 8, minute: 15 } });
    expect(nextDigestAt(monthly, sent('2026-11-28'), shanghai('2026-12-01', '12:00'), SHANGHAI)).toBe(
      shanghai('2026-12-28', '08:15'),
    );
    // Sent on the 1st, then moved to the 28th: the 28th of the next month.
    expect(nextDigestAt(monthly, sent('2026-12-01'), shanghai('2026-12-02', '12:00'), SHANGHAI)).toBe(
      shanghai('2027-01-28', '08:15'),
    );
  });

  it('is the cadence’s next occurrence after `since`', () => {
    const late = subscription({ cadence: MONTHLY_FIRST, since: shanghai('2026-12-01', '11:00') });
    expect(nextDigestAt(late, sent('2026-11-01'), shanghai('2026-12-01', '11:00'), SHANGHAI)).toBe(
      shanghai('2027-01-01', '10:30'),
    );
  });
});

describe('setCadence and stored records', () => {
  const now = shanghai('2026-12-01', '11:00');

  it('sets the cadence, keeps the time, restarts the schedule from now', () => {
    const before = subscription({ time: { hour: 9, minute: 0 }, subscriber: 'ou_a' });
    const after = setCadence(before, 'oc_team', WEEKLY_MONDAY, now, 'ou_b');
    expect(after).toEqual({ ...before, cadence: WEEKLY_MONDAY, since: now, updatedAt: now });
    expect(before.cadence).toBeUndefined();
  });

  it('stores daily as no cadence at all, the form older subscriptions have', () => {
    const weekly = subscription({ cadence: WEEKLY_MONDAY });
    const daily = setCadence(weekly, 'oc_team', { kind: 'daily' }, now);
    expect('cadence' in daily).toBe(false);
    expect(daily.since).toBe(now);
  });

  it('changes nothing (the very same record) for the cadence the chat already has', () => {
    const weekly = subscription({ cadence: WEEKLY_MONDAY });
    expect(setCadence(weekly, 'oc_team', { kind: 'weekly', weekday: 1 }, now)).toBe(weekly);
    const legacy = subscription();
    expect(setCadence(legacy, 'oc_team', { kind: 'daily' }, now)).toBe(legacy);
    expect(setCadence(weekly, 'oc_team', { kind: 'weekly', weekday: 2 }, now)).not.toBe(weekly);
  });

  it('creates an empty subscription holding the cadence, set up by the sender, when the chat has none', () => {
    expect(setCadence(null, 'oc_new', MONTHLY_FIRST, now, 'ou_a')).toEqual({
      chatId: 'oc_new',
      items: [],
      cadence: MONTHLY_FIRST,
      since: now,
      updatedAt: now,
      subscriber: 'ou_a',
    });
  });

  it('keeps the cadence when the time changes', () => {
    const weekly = subscription({ cadence: WEEKLY_MONDAY });
    expect(setTime(weekly, 'oc_team', { hour: 7, minute: 0 }, now).cadence).toEqual(WEEKLY_MONDAY);
  });

  it('reads a record without a cadence (stored before cadences) and one with a valid cadence', () => {
    const legacy = JSON.parse(
      '{"chatId":"oc_team","items":[{"kind":"workplace"}],"since":1,"updatedAt":1,"time":{"hour":9,"minute":0}}',
    );
    expect(isChatSubscription(legacy)).toBe(true);
    for (const cadence of [
      { kind: 'daily' },
      WEEKLY_MONDAY,
      { kind: 'weekly', weekday: 7 },
      { kind: 'monthly', day: 28 },
    ]) {
      expect(isChatSubscription({ ...legacy, cadence })).toBe(true);
    }
  });

  it('refuses a cadence this release cannot schedule: the record is skipped, as any unreadable one', () => {
    for (const cadence of [
      { kind: 'weekly', weekday: 0 },
      { kind: 'weekly', weekday: 8 },
      { kind: 'weekly' },
      { kind: 'monthly', day: 29 },
      { kind: 'monthly', day: 0 },
      { kind: 'monthly', day: 1.5 },
      { kind: 'fortnightly' },
      'weekly',
      null,
    ]) {
      expect(isDigestCadence(cadence)).toBe(false);
      expect(isChatSubscription({ ...subscription(), cadence })).toBe(false);
    }
  });
});
