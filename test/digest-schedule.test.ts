import { describe, expect, it } from 'vitest';
import {
  addDays,
  dueDate,
  formatDigestTime,
  localDate,
  nextDigestAt,
  parseDigestTime,
  type ScheduleDefaults,
  scheduledAt,
} from '../src/digest/schedule.js';
import type { ChatSubscription, DeliveryState } from '../src/digest/types.js';

const at = (iso: string): number => Date.parse(iso);
const SHANGHAI: ScheduleDefaults = { time: { hour: 10, minute: 30 }, timeZone: 'Asia/Shanghai' };
const NEW_YORK: ScheduleDefaults = { time: { hour: 10, minute: 30 }, timeZone: 'America/New_York' };

function subscription(overrides: Partial<ChatSubscription> = {}): ChatSubscription {
  return {
    chatId: 'oc_team',
    items: [{ kind: 'workplace' }],
    // Subscribed long before any date these tests look at.
    since: at('2024-01-01T00:00:00Z'),
    updatedAt: at('2024-01-01T00:00:00Z'),
    ...overrides,
  };
}

describe('localDate', () => {
  it('gives the day in the digest time zone, not in UTC', () => {
    expect(localDate(at('2025-01-01T15:59:59Z'), 'Asia/Shanghai')).toBe('2025-01-01');
    expect(localDate(at('2025-01-01T16:00:00Z'), 'Asia/Shanghai')).toBe('2025-01-02');
    expect(localDate(at('2025-01-02T03:00:00Z'), 'America/New_York')).toBe('2025-01-01');
  });
});

describe('addDays', () => {
  it('does calendar arithmetic across month, year and leap-day boundaries', () => {
    expect(addDays('2025-01-31', 1)).toBe('2025-02-01');
    expect(addDays('2024-12-31', 1)).toBe('2025-01-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2025-02-28', 1)).toBe('2025-03-01');
    expect(addDays('2025-03-01', -1)).toBe('2025-02-28');
    expect(addDays('2025-01-10', -10)).toBe('2024-12-31');
    expect(addDays('2025-05-05', 0)).toBe('2025-05-05');
  });

  it('is unaffected by DST transitions (a day is a day, not 24 hours)', () => {
    expect(addDays('2025-03-08', 1)).toBe('2025-03-09');
    expect(addDays('2025-03-09', 1)).toBe('2025-03-10');
    expect(addDays('2025-11-02', 1)).toBe('2025-11-03');
  });

  it('rejects text that is not a real yyyy-MM-dd date', () => {
    expect(() => addDays('2025-02-30', 1)).toThrow(RangeError);
    expect(() => addDays('2025-1-05', 1)).toThrow(RangeError);
    expect(() => addDays('yesterday', 1)).toThrow(RangeError);
    expect(() => addDays('2025-01-05', 1.5)).toThrow(RangeError);
  });
});

describe('scheduledAt', () => {
  it('places Asia/Shanghai 10:30 at 02:30 UTC', () => {
    expect(scheduledAt('2025-06-01', { hour: 10, minute: 30 }, 'Asia/Shanghai')).toBe(
      at('2025-06-01T02:30:00Z'),
    );
    expect(scheduledAt('2025-06-01', { hour: 0, minute: 5 }, 'Asia/Shanghai')).toBe(
      at('2025-05-31T16:05:00Z'),
    );
  });

  it('uses the offset in force on that day in a DST zone', () => {
    const time = { hour: 10, minute: 30 };
    expect(scheduledAt('2025-03-08', time, 'America/New_York')).toBe(at('2025-03-08T15:30:00Z'));
    expect(scheduledAt('2025-03-09', time, 'America/New_York')).toBe(at('2025-03-09T14:30:00Z'));
    expect(scheduledAt('2025-11-02', time, 'America/New_York')).toBe(at('2025-11-02T15:30:00Z'));
  });

  it('moves a wall time inside the spring-forward gap to the first instant after it (03:00 EDT)', () => {
    // 02:00–02:59 does not exist in New York on 2025-03-09; the clocks jump from 01:59:59 EST to 03:00 EDT.
    expect(scheduledAt('2025-03-09', { hour: 2, minute: 30 }, 'America/New_York')).toBe(
      at('2025-03-09T07:00:00Z'),
    );
    expect(scheduledAt('2025-03-09', { hour: 2, minute: 0 }, 'America/New_York')).toBe(
      at('2025-03-09T07:00:00Z'),
    );
    // Either side of the gap is untouched.
    expect(scheduledAt('2025-03-09', { hour: 1, minute: 59 }, 'America/New_York')).toBe(
      at('2025-03-09T06:59:00Z'),
    );
    expect(scheduledAt('2025-03-09', { hour: 3, minute: 0 }, 'America/New_York')).toBe(
      at('2025-03-09T07:00:00Z'),
    );
  });

  it('takes the first occurrence of a wall time repeated when DST ends', () => {
    // 01:30 happens at 05:30Z (EDT) and again at 06:30Z (EST) on 2025-11-02.
    expect(scheduledAt('2025-11-02', { hour: 1, minute: 30 }, 'America/New_York')).toBe(
      at('2025-11-02T05:30:00Z'),
    );
  });

  it('answers the same whatever the server’s own time zone (which also changes clocks that night)', () => {
    const original = process.env.TZ;
    const results: number[][] = [];
    try {
      // Node re-reads TZ when it changes; Los Angeles falls back on the same date, New Delhi never does.
      for (const serverZone of ['America/Los_Angeles', 'Asia/Kolkata', 'UTC']) {
        process.env.TZ = serverZone;
        results.push([
          scheduledAt('2025-11-02', { hour: 1, minute: 30 }, 'America/New_York'),
          scheduledAt('2025-03-09', { hour: 2, minute: 30 }, 'America/New_York'),
          Date.parse(`${localDate(at('2025-11-02T05:30:00Z'), 'America/New_York')}T00:00:00Z`),
        ]);
      }
    } finally {
      if (original === undefined) delete process.env.TZ;
      else process.env.TZ = original;
    }
    const expected = [at('2025-11-02T05:30:00Z'), at('2025-03-09T07:00:00Z'), at('2025-11-02T00:00:00Z')];
    expect(results).toEqual([expected, expected, expected]);
  });

  it('rejects an impossible time or date instead of scheduling at NaN', () => {
    expect(() => scheduledAt('2025-06-01', { hour: 24, minute: 0 }, 'Asia/Shanghai')).toThrow(RangeError);
    expect(() => scheduledAt('2025-06-01', { hour: 9, minute: 60 }, 'Asia/Shanghai')).toThrow(RangeError);
    expect(() => scheduledAt('2025-06-31', { hour: 9, minute: 0 }, 'Asia/Shanghai')).toThrow(RangeError);
    expect(() => scheduledAt('2025-06-01', { hour: 9, minute: 0 }, 'Mars/Olympus_Mons')).toThrow(RangeError);
  });
});

describe('dueDate', () => {
  it('is due from the scheduled minute in Asia/Shanghai, not a millisecond before', () => {
    const sub = subscription();
    expect(dueDate(sub, undefined, at('2025-06-01T02:29:59.999Z'), SHANGHAI)).toBeNull();
    expect(dueDate(sub, undefined, at('2025-06-01T02:30:00Z'), SHANGHAI)).toBe('2025-06-01');
  });

  it('is not due again once today’s digest was sent, but is the next day', () => {
    const sub = subscription();
    const sent: DeliveryState = { lastSentDate: '2025-06-01', lastSentAt: at('2025-06-01T02:30:05Z') };
    expect(dueDate(sub, sent, at('2025-06-01T09:00:00Z'), SHANGHAI)).toBeNull();
    expect(dueDate(sub, sent, at('2025-06-02T02:30:00Z'), SHANGHAI)).toBe('2025-06-02');
  });

  it('catches up later the same day when no replica was running at the scheduled time', () => {
    const sub = subscription();
    const yesterday: DeliveryState = { lastSentDate: '2025-05-31' };
    // 11:30 and 23:59 Shanghai time.
    expect(dueDate(sub, yesterday, at('2025-06-01T03:30:00Z'), SHANGHAI)).toBe('2025-06-01');
    expect(dueDate(sub, yesterday, at('2025-06-01T15:59:00Z'), SHANGHAI)).toBe('2025-06-01');
  });

  it('drops a missed digest after local midnight instead of sending yesterday’s', () => {
    const sub = subscription();
    const stale: DeliveryState = { lastSentDate: '2025-05-31' };
    // 00:10 on 2025-06-02 in Shanghai: the 2025-06-01 digest was never sent, and today's is not due yet.
    expect(dueDate(sub, stale, at('2025-06-01T16:10:00Z'), SHANGHAI)).toBeNull();
  });

  it('starts tomorrow when the chat subscribed after today’s time, and counts a subscription at that minute', () => {
    const afternoon = subscription({ since: at('2025-06-01T07:00:00Z') }); // 15:00 Shanghai
    expect(dueDate(afternoon, undefined, at('2025-06-01T07:01:00Z'), SHANGHAI)).toBeNull();
    expect(dueDate(afternoon, undefined, at('2025-06-02T02:30:00Z'), SHANGHAI)).toBe('2025-06-02');

    const onTheMinute = subscription({ since: at('2025-06-01T02:30:00Z') });
    expect(dueDate(onTheMinute, undefined, at('2025-06-01T02:30:00Z'), SHANGHAI)).toBe('2025-06-01');
  });

  it('uses the chat’s own time over DIGEST_TIME', () => {
    const sub = subscription({ time: { hour: 9, minute: 5 } });
    expect(dueDate(sub, undefined, at('2025-06-01T01:05:00Z'), SHANGHAI)).toBe('2025-06-01');
    expect(dueDate(subscription(), undefined, at('2025-06-01T01:05:00Z'), SHANGHAI)).toBeNull();
  });

  it('is never due for a paused chat or one with no items', () => {
    const now = at('2025-06-01T03:00:00Z');
    const paused = subscription({ paused: { reason: 'bot_removed', at: at('2025-05-01T00:00:00Z') } });
    expect(dueDate(paused, undefined, now, SHANGHAI)).toBeNull();
    expect(dueDate(subscription({ items: [] }), undefined, now, SHANGHAI)).toBeNull();
  });

  it('follows the local clock across the New York spring-forward day', () => {
    const sub = subscription();
    // 10:30 EDT is 14:30Z on 2025-03-09; a fixed UTC-5 offset would wait until 15:30Z.
    expect(dueDate(sub, undefined, at('2025-03-09T14:29:00Z'), NEW_YORK)).toBeNull();
    expect(dueDate(sub, undefined, at('2025-03-09T14:30:00Z'), NEW_YORK)).toBe('2025-03-09');

    const early = subscription({ time: { hour: 2, minute: 30 } });
    expect(dueDate(early, undefined, at('2025-03-09T06:59:00Z'), NEW_YORK)).toBeNull();
    expect(dueDate(early, undefined, at('2025-03-09T07:00:00Z'), NEW_YORK)).toBe('2025-03-09');
  });

  it('sends once on the New York fall-back day although 01:30 happens twice', () => {
    const sub = subscription({ time: { hour: 1, minute: 30 } });
    expect(dueDate(sub, undefined, at('2025-11-02T05:30:00Z'), NEW_YORK)).toBe('2025-11-02');
    const sent: DeliveryState = { lastSentDate: '2025-11-02' };
    expect(dueDate(sub, sent, at('2025-11-02T06:30:00Z'), NEW_YORK)).toBeNull();
  });
});

describe('nextDigestAt', () => {
  it('is today’s time while it is still ahead, and tomorrow’s once today’s was sent', () => {
    const sub = subscription();
    expect(nextDigestAt(sub, undefined, at('2025-06-01T01:00:00Z'), SHANGHAI)).toBe(
      at('2025-06-01T02:30:00Z'),
    );
    const sent: DeliveryState = { lastSentDate: '2025-06-01' };
    expect(nextDigestAt(sub, sent, at('2025-06-01T03:00:00Z'), SHANGHAI)).toBe(at('2025-06-02T02:30:00Z'));
  });

  it('is today’s (already passed) time while that digest is due but not yet sent', () => {
    const sub = subscription();
    expect(nextDigestAt(sub, undefined, at('2025-06-01T03:00:00Z'), SHANGHAI)).toBe(
      at('2025-06-01T02:30:00Z'),
    );
  });

  it('is tomorrow’s time when the chat subscribed after today’s', () => {
    const sub = subscription({ since: at('2025-06-01T07:00:00Z') });
    expect(nextDigestAt(sub, undefined, at('2025-06-01T07:00:00Z'), SHANGHAI)).toBe(
      at('2025-06-02T02:30:00Z'),
    );
  });

  it('crosses a DST change by wall clock, not by adding 24 hours', () => {
    const sent: DeliveryState = { lastSentDate: '2025-03-08' };
    expect(nextDigestAt(subscription(), sent, at('2025-03-08T20:00:00Z'), NEW_YORK)).toBe(
      at('2025-03-09T14:30:00Z'),
    );
  });

  it('is null when nothing will be sent', () => {
    const now = at('2025-06-01T01:00:00Z');
    const paused = subscription({ paused: { reason: 'bot_removed', at: now } });
    expect(nextDigestAt(paused, undefined, now, SHANGHAI)).toBeNull();
    expect(nextDigestAt(subscription({ items: [] }), undefined, now, SHANGHAI)).toBeNull();
  });
});

describe('parseDigestTime / formatDigestTime', () => {
  it.each([
    ['10:30', 10, 30],
    ['9:05', 9, 5],
    ['09:05', 9, 5],
    ['00:00', 0, 0],
    ['23:59', 23, 59],
    [' 18:00 ', 18, 0],
    ['10：30', 10, 30],
    ['１０：３０', 10, 30],
    ['10点30', 10, 30],
    ['10点30分', 10, 30],
    ['8点5分', 8, 5],
    ['10点', 10, 0],
    ['10点整', 10, 0],
    ['10点半', 10, 30],
  ])('reads %j as %i:%i', (text, hour, minute) => {
    expect(parseDigestTime(text)).toEqual({ hour, minute });
  });

  it.each(['24:00', '23:60', '9:5', '123:00', '10:30pm', '10.30', '-1:00', '', '点30', '25点', 'tomorrow'])(
    'refuses %j',
    (text) => {
      expect(parseDigestTime(text)).toBeNull();
    },
  );

  it('formats with two-digit hours and minutes, and parses its own output back', () => {
    expect(formatDigestTime({ hour: 9, minute: 5 })).toBe('09:05');
    expect(formatDigestTime({ hour: 23, minute: 0 })).toBe('23:00');
    expect(parseDigestTime(formatDigestTime({ hour: 7, minute: 45 }))).toEqual({ hour: 7, minute: 45 });
  });
});
