import { describe, expect, it } from 'vitest';
import { isCalendarDay } from '../src/bot/calendar-day.js';
import type { WorkplaceRangeSpec } from '../src/bot/commands.js';
import {
  MAX_WORKPLACE_RANGE_DAYS,
  PeriodUsageError,
  resolveAppPeriod,
  resolveWorkplaceRange,
} from '../src/bot/periods.js';
import { CommandUsageError } from '../src/errors.js';

const SHANGHAI = 'Asia/Shanghai'; // UTC+8, no DST
const LOS_ANGELES = 'America/Los_Angeles'; // UTC-8 in November after DST ends on 2026-11-01

/** Thursday 2026-11-12 14:00 in Shanghai: yesterday (Wed 11-11) is published, this week began Mon 11-09. */
const THU_AFTERNOON = new Date('2026-11-12T06:00:00Z');

function workplace(spec: WorkplaceRangeSpec, now = THU_AFTERNOON, timeZone = SHANGHAI) {
  return resolveWorkplaceRange(spec, now, timeZone);
}

/** The usage error a call throws, so tests can assert command, problem and detail together. */
function usageErrorOf(run: () => unknown): PeriodUsageError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(CommandUsageError);
    expect(err).toBeInstanceOf(PeriodUsageError);
    return err as PeriodUsageError;
  }
  throw new Error('expected a usage error, got a result');
}

describe('isCalendarDay', () => {
  it.each(['2026-11-07', '2028-02-29', '2026-12-31'])('accepts the real day %s', (day) => {
    expect(isCalendarDay(day)).toBe(true);
  });

  it.each(['2026-02-29', '2026-02-30', '2026-13-01', '2026-00-10', '2026-1-5', '2026/11/07', '20261107'])(
    'rejects %s',
    (day) => {
      expect(isCalendarDay(day)).toBe(false);
    },
  );
});

describe('resolveWorkplaceRange: last N days', () => {
  it('covers the 7 full days before today, excluding today', () => {
    expect(workplace({ kind: 'last_days', days: 7 })).toEqual({
      from: '2026-11-05',
      to: '2026-11-11',
      days: 7,
      label: { zh: '最近 7 天', en: 'Last 7 days' },
      final: true,
    });
  });

  it('calls a one-day range "yesterday"', () => {
    const range = workplace({ kind: 'last_days', days: 1 });
    expect([range.from, range.to, range.days]).toEqual(['2026-11-11', '2026-11-11', 1]);
    expect(range.label).toEqual({ zh: '昨天', en: 'Yesterday' });
  });

  it('takes "today" from the tenant time zone, not UTC: 01:30 in Shanghai is still the previous day in UTC and LA', () => {
    // 2026-11-11T17:30Z = Thu 11-12 01:30 in Shanghai = Wed 11-11 09:30 in Los Angeles.
    const now = new Date('2026-11-11T17:30:00Z');
    expect(workplace({ kind: 'last_days', days: 1 }, now, SHANGHAI)).toMatchObject({
      from: '2026-11-11',
      to: '2026-11-11',
    });
    expect(workplace({ kind: 'last_days', days: 1 }, now, LOS_ANGELES)).toMatchObject({
      from: '2026-11-10',
      to: '2026-11-10',
    });
  });

  it('moves to the next day exactly at midnight in the tenant zone', () => {
    const before = workplace({ kind: 'last_days', days: 1 }, new Date('2026-11-12T15:59:59Z'));
    const after = workplace({ kind: 'last_days', days: 1 }, new Date('2026-11-12T16:00:00Z'));
    expect(before.to).toBe('2026-11-11');
    expect(after.to).toBe('2026-11-12');
  });

  it('counts 7 calendar days across the end of daylight saving time in Los Angeles', () => {
    // Tue 2026-11-03 12:00 PST; DST ended Sun 11-01, so one of these days lasted 25 hours.
    const range = workplace({ kind: 'last_days', days: 7 }, new Date('2026-11-03T20:00:00Z'), LOS_ANGELES);
    expect([range.from, range.to, range.days]).toEqual(['2026-10-27', '2026-11-02', 7]);
  });

  it('is not final before yesterday has been published (12:00 today)', () => {
    const morning = new Date('2026-11-12T01:00:00Z'); // 09:00 in Shanghai
    expect(workplace({ kind: 'last_days', days: 7 }, morning).final).toBe(false);
    expect(workplace({ kind: 'last_days', days: 7 }, THU_AFTERNOON).final).toBe(true);
  });

  it(`accepts ${MAX_WORKPLACE_RANGE_DAYS} days and refuses one more with the cap in the detail`, () => {
    expect(workplace({ kind: 'last_days', days: MAX_WORKPLACE_RANGE_DAYS }).days).toBe(
      MAX_WORKPLACE_RANGE_DAYS,
    );
    const err = usageErrorOf(() => workplace({ kind: 'last_days', days: MAX_WORKPLACE_RANGE_DAYS + 1 }));
    expect([err.command, err.problem, err.detail]).toEqual([
      'workplace',
      'range_too_long',
      { max: MAX_WORKPLACE_RANGE_DAYS, days: MAX_WORKPLACE_RANGE_DAYS + 1 },
    ]);
  });

  it.each([0, -3, 2.5])('refuses %s days as a bad range', (days) => {
    expect(usageErrorOf(() => workplace({ kind: 'last_days', days })).problem).toBe('bad_range');
  });
});

describe('resolveWorkplaceRange: this week and last month', () => {
  it('runs this week from Monday through yesterday', () => {
    expect(workplace({ kind: 'this_week' })).toEqual({
      from: '2026-11-09',
      to: '2026-11-11',
      days: 3,
      label: { zh: '本周', en: 'This week' },
      final: true,
    });
  });

  it('is today only, and not final, on a Monday (never an empty range)', () => {
    const mondayMorning = new Date('2026-11-09T02:00:00Z'); // Mon 10:00 in Shanghai
    expect(workplace({ kind: 'this_week' }, mondayMorning)).toMatchObject({
      from: '2026-11-09',
      to: '2026-11-09',
      days: 1,
      final: false,
    });
  });

  it('treats Sunday as the last day of the ISO week, not the first', () => {
    const sunday = new Date('2026-11-08T06:00:00Z');
    expect(workplace({ kind: 'this_week' }, sunday)).toMatchObject({ from: '2026-11-02', to: '2026-11-07' });
  });

  it('takes the whole previous calendar month, named in both languages', () => {
    expect(workplace({ kind: 'last_month' })).toEqual({
      from: '2026-10-01',
      to: '2026-10-31',
      days: 31,
      label: { zh: '上月（2026 年 10 月）', en: 'Last month (October 2026)' },
      final: true,
    });
  });

  it('crosses the year boundary in January', () => {
    const january = new Date('2027-01-05T06:00:00Z');
    expect(workplace({ kind: 'last_month' }, january)).toMatchObject({
      from: '2026-12-01',
      to: '2026-12-31',
      days: 31,
      label: { zh: '上月（2026 年 12 月）', en: 'Last month (December 2026)' },
    });
  });

  it('knows February of a leap year has 29 days', () => {
    const march = new Date('2028-03-10T06:00:00Z');
    expect(workplace({ kind: 'last_month' }, march)).toMatchObject({
      from: '2028-02-01',
      to: '2028-02-29',
      days: 29,
    });
  });

  it('keeps last month open until 12:00 on the 1st, when its last day is published', () => {
    expect(workplace({ kind: 'last_month' }, new Date('2026-11-01T03:59:59Z')).final).toBe(false);
    expect(workplace({ kind: 'last_month' }, new Date('2026-11-01T04:00:00Z')).final).toBe(true);
  });
});

describe('resolveWorkplaceRange: between two dates', () => {
  it('resolves an explicit range with an inclusive day count and a dated label', () => {
    expect(workplace({ kind: 'between', from: '2026-11-01', to: '2026-11-07' })).toEqual({
      from: '2026-11-01',
      to: '2026-11-07',
      days: 7,
      label: { zh: '2026-11-01 至 2026-11-07', en: '2026-11-01 – 2026-11-07' },
      final: true,
    });
  });

  it('labels a single day once', () => {
    const range = workplace({ kind: 'between', from: '2026-11-03', to: '2026-11-03' });
    expect([range.days, range.label]).toEqual([1, { zh: '2026-11-03', en: '2026-11-03' }]);
  });

  it('allows a range ending today, but not as final', () => {
    expect(workplace({ kind: 'between', from: '2026-11-09', to: '2026-11-12' })).toMatchObject({
      days: 4,
      final: false,
    });
  });

  it('refuses from after to, naming both', () => {
    const err = usageErrorOf(() => workplace({ kind: 'between', from: '2026-11-07', to: '2026-11-01' }));
    expect([err.problem, err.detail]).toEqual(['from_after_to', { from: '2026-11-07', to: '2026-11-01' }]);
  });

  it("refuses an end after the tenant's today, and says what today is", () => {
    const err = usageErrorOf(() => workplace({ kind: 'between', from: '2026-11-01', to: '2026-11-13' }));
    expect([err.problem, err.detail]).toEqual(['future_date', { date: '2026-11-13', today: '2026-11-12' }]);
  });

  it("judges the future by the tenant's zone: 11-12 is today in Shanghai but tomorrow in Los Angeles", () => {
    const now = new Date('2026-11-11T17:30:00Z');
    expect(workplace({ kind: 'between', from: '2026-11-10', to: '2026-11-12' }, now, SHANGHAI).days).toBe(3);
    expect(
      usageErrorOf(() =>
        workplace({ kind: 'between', from: '2026-11-10', to: '2026-11-12' }, now, LOS_ANGELES),
      ).problem,
    ).toBe('future_date');
  });

  it(`allows exactly ${MAX_WORKPLACE_RANGE_DAYS} days (a leap year) and refuses ${MAX_WORKPLACE_RANGE_DAYS + 1}`, () => {
    const leapYear = workplace(
      { kind: 'between', from: '2028-01-01', to: '2028-12-31' },
      new Date('2029-01-02T06:00:00Z'),
    );
    expect(leapYear.days).toBe(MAX_WORKPLACE_RANGE_DAYS);
    const err = usageErrorOf(() => workplace({ kind: 'between', from: '2025-11-10', to: '2026-11-11' }));
    expect([err.problem, err.detail]).toEqual([
      'range_too_long',
      { max: MAX_WORKPLACE_RANGE_DAYS, days: MAX_WORKPLACE_RANGE_DAYS + 1 },
    ]);
  });

  it('refuses a day that is not on the calendar', () => {
    expect(
      usageErrorOf(() => workplace({ kind: 'between', from: '2026-02-01', to: '2026-02-30' })).problem,
    ).toBe('bad_range');
  });
});

describe('resolveAppPeriod: defaults', () => {
  it('defaults a day to yesterday', () => {
    expect(resolveAppPeriod('day', undefined, THU_AFTERNOON, SHANGHAI)).toEqual({
      date: '2026-11-11',
      periodEnd: '2026-11-11',
      final: true,
      label: { zh: '2026-11-11', en: '2026-11-11' },
    });
  });

  it("defaults a week to this week's Monday, ending Sunday, so far and not final", () => {
    expect(resolveAppPeriod('week', undefined, THU_AFTERNOON, SHANGHAI)).toEqual({
      date: '2026-11-09',
      periodEnd: '2026-11-15',
      final: false,
      label: {
        zh: '2026-11-09 至 2026-11-15 这一周（截至目前）',
        en: 'Week of 2026-11-09 – 2026-11-15 (so far)',
      },
    });
  });

  it("defaults a month to this month's 1st", () => {
    expect(resolveAppPeriod('month', undefined, THU_AFTERNOON, SHANGHAI)).toEqual({
      date: '2026-11-01',
      periodEnd: '2026-11-30',
      final: false,
      label: { zh: '2026 年 11 月（截至目前）', en: 'November 2026 (so far)' },
    });
  });

  it("takes yesterday from the tenant's zone", () => {
    const now = new Date('2026-11-11T17:30:00Z');
    expect(resolveAppPeriod('day', undefined, now, SHANGHAI).date).toBe('2026-11-11');
    expect(resolveAppPeriod('day', undefined, now, LOS_ANGELES).date).toBe('2026-11-10');
  });
});

describe('resolveAppPeriod: alignment', () => {
  it('moves a weekday to its Monday and keeps what was asked', () => {
    expect(resolveAppPeriod('week', '2026-11-05', THU_AFTERNOON, SHANGHAI)).toMatchObject({
      date: '2026-11-02',
      requestedDate: '2026-11-05',
      periodEnd: '2026-11-08',
      final: true,
    });
  });

  it('moves a Sunday back to the previous Monday, not forward', () => {
    expect(resolveAppPeriod('week', '2026-11-08', THU_AFTERNOON, SHANGHAI)).toMatchObject({
      date: '2026-11-02',
      requestedDate: '2026-11-08',
    });
  });

  it('leaves a Monday alone and sets no requestedDate', () => {
    const period = resolveAppPeriod('week', '2026-11-02', THU_AFTERNOON, SHANGHAI);
    expect(period.date).toBe('2026-11-02');
    expect(period).not.toHaveProperty('requestedDate');
  });

  it('aligns a week that spans the new year to the Monday in December', () => {
    const now = new Date('2027-01-10T06:00:00Z');
    expect(resolveAppPeriod('week', '2027-01-01', now, SHANGHAI)).toMatchObject({
      date: '2026-12-28',
      requestedDate: '2027-01-01',
      periodEnd: '2027-01-03',
      label: { zh: '2026-12-28 至 2027-01-03 这一周', en: 'Week of 2026-12-28 – 2027-01-03' },
    });
  });

  it('moves a day in a month to the 1st and ends on the last day', () => {
    expect(resolveAppPeriod('month', '2026-10-17', THU_AFTERNOON, SHANGHAI)).toEqual({
      date: '2026-10-01',
      requestedDate: '2026-10-17',
      periodEnd: '2026-10-31',
      final: true,
      label: { zh: '2026 年 10 月', en: 'October 2026' },
    });
  });

  it('handles a leap day: its month ends on the 29th, its week on Sunday 03-05', () => {
    const now = new Date('2028-03-10T06:00:00Z');
    expect(resolveAppPeriod('month', '2028-02-29', now, SHANGHAI)).toMatchObject({
      date: '2028-02-01',
      periodEnd: '2028-02-29',
    });
    expect(resolveAppPeriod('week', '2028-02-29', now, SHANGHAI)).toMatchObject({
      date: '2028-02-28',
      periodEnd: '2028-03-05',
    });
  });

  it('passes any day through unchanged for the day cycle', () => {
    const period = resolveAppPeriod('day', '2026-11-08', THU_AFTERNOON, SHANGHAI);
    expect([period.date, period.periodEnd]).toEqual(['2026-11-08', '2026-11-08']);
    expect(period).not.toHaveProperty('requestedDate');
  });
});

describe('resolveAppPeriod: finality', () => {
  it('becomes final at 12:00 the day after the period ends, in the tenant zone', () => {
    // 2026-11-11 is published around 10:00 on 11-12; we trust it from 12:00 Shanghai = 04:00Z.
    expect(resolveAppPeriod('day', '2026-11-11', new Date('2026-11-12T03:59:59Z'), SHANGHAI).final).toBe(
      false,
    );
    expect(resolveAppPeriod('day', '2026-11-11', new Date('2026-11-12T04:00:00Z'), SHANGHAI).final).toBe(
      true,
    );
  });

  it('puts that boundary at 12:00 Los Angeles time for a Los Angeles tenant', () => {
    // 12:00 in Shanghai is still 11-11 in Los Angeles; 12:00 PST on 11-12 is 20:00Z.
    expect(resolveAppPeriod('day', '2026-11-11', new Date('2026-11-12T04:00:00Z'), LOS_ANGELES).final).toBe(
      false,
    );
    expect(resolveAppPeriod('day', '2026-11-11', new Date('2026-11-12T19:59:59Z'), LOS_ANGELES).final).toBe(
      false,
    );
    expect(resolveAppPeriod('day', '2026-11-11', new Date('2026-11-12T20:00:00Z'), LOS_ANGELES).final).toBe(
      true,
    );
  });

  it('keeps a finished week open until Monday noon', () => {
    expect(resolveAppPeriod('week', '2026-11-02', new Date('2026-11-09T03:00:00Z'), SHANGHAI).final).toBe(
      false,
    );
    expect(resolveAppPeriod('week', '2026-11-02', new Date('2026-11-09T04:00:00Z'), SHANGHAI).final).toBe(
      true,
    );
  });

  it('marks today, which is allowed, as so far and not final', () => {
    expect(resolveAppPeriod('day', '2026-11-12', THU_AFTERNOON, SHANGHAI)).toMatchObject({
      date: '2026-11-12',
      final: false,
      label: { zh: '2026-11-12（截至目前）', en: '2026-11-12 (so far)' },
    });
  });
});

describe('resolveAppPeriod: usage problems', () => {
  it('refuses a date after today, even one whose week began in the past', () => {
    const err = usageErrorOf(() => resolveAppPeriod('week', '2026-11-13', THU_AFTERNOON, SHANGHAI));
    expect([err.command, err.problem, err.detail]).toEqual([
      'app',
      'future_date',
      { date: '2026-11-13', today: '2026-11-12' },
    ]);
  });

  it('refuses a date that is not on the calendar', () => {
    const err = usageErrorOf(() => resolveAppPeriod('day', '2026-02-29', THU_AFTERNOON, SHANGHAI));
    expect([err.command, err.problem, err.detail]).toEqual(['app', 'bad_date', { input: '2026-02-29' }]);
  });
});
