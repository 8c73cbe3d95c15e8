/**
 * Clock and tick helpers for multi-process digest tests. A `replica` child reads `Date.now() + offset`
 * (test/support/replica-main.ts), so "10:31 in Shanghai today" is an offset computed here. The arithmetic is
 * written against a fixed UTC offset, not with src/digest/schedule.ts, so a bug there cannot cancel itself out.
 */
import type { Redis } from 'ioredis';

/** A zone without daylight saving, so a wall time maps to one instant by string arithmetic alone. */
export interface FixedZone {
  /** IANA name, as DIGEST_TZ takes it. */
  name: string;
  /** ISO 8601 offset, e.g. `+08:00`. */
  utcOffset: string;
}

export const SHANGHAI: FixedZone = { name: 'Asia/Shanghai', utcOffset: '+08:00' };

/** The calendar day (yyyy-MM-dd) that `now` falls on in `zone`. */
export function zoneDate(zone: FixedZone, now = Date.now()): string {
  return new Date(now + offsetMs(zone)).toISOString().slice(0, 10);
}

/** The instant `time` (HH:MM) occurs on `date` in `zone`. */
export function wallTimeInstant(zone: FixedZone, date: string, time: string): number {
  const instant = Date.parse(`${date}T${time}:00${zone.utcOffset}`);
  if (Number.isNaN(instant)) throw new RangeError(`not a date and time: ${date} ${time}`);
  return instant;
}

/**
 * The offset that makes a replica's clock read `time` on `date` right now. Real time keeps moving, so compute
 * it just before it is used (start or IPC), not once per test.
 */
export function clockOffsetFor(zone: FixedZone, date: string, time: string, now = Date.now()): number {
  return wallTimeInstant(zone, date, time) - now;
}

/**
 * How many runs of a BullMQ job scheduler completed since `sinceMs` (epoch ms on the Redis host), read from
 * the queue's event stream. Scheduled jobs are removed on completion, so the stream is the only trace; a test
 * counts them to prove "nothing was sent" was checked by real ticks, not by a scheduler that never ran.
 * https://docs.bullmq.io/guide/events
 */
export async function completedSchedulerRuns(
  redis: Redis,
  eventsKey: string,
  schedulerId: string,
  sinceMs: number,
): Promise<number> {
  const entries = await redis.xrange(eventsKey, `${Math.floor(sinceMs)}-0`, '+');
  const prefix = `repeat:${schedulerId}:`;
  let runs = 0;
  for (const [, fields] of entries) {
    const record = fieldsToRecord(fields);
    if (record.event === 'completed' && record.jobId?.startsWith(prefix)) runs += 1;
  }
  return runs;
}

function offsetMs(zone: FixedZone): number {
  const match = /^([+-])(\d{2}):(\d{2})$/.exec(zone.utcOffset);
  if (!match) throw new RangeError(`not a UTC offset: ${zone.utcOffset}`);
  const minutes = Number(match[2]) * 60 + Number(match[3]);
  return (match[1] === '-' ? -minutes : minutes) * 60_000;
}

/** XRANGE answers each entry's fields as a flat [name, value, name, value, …] list. */
function fieldsToRecord(fields: string[]): Record<string, string | undefined> {
  const record: Record<string, string> = {};
  for (let i = 0; i + 1 < fields.length; i += 2) record[fields[i] as string] = fields[i + 1] as string;
  return record;
}
