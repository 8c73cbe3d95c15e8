/**
 * Shared by the command parser (is this word a date?) and the period resolver (is this range real?). Its own file
 * so neither has to import the other.
 */
const ISO_DAY = /^(\d{4})-(\d{2})-(\d{2})$/;

/** `yyyy-MM-dd` naming a real calendar day (no 2026-02-30, no month 13). */
export function isCalendarDay(value: string): boolean {
  const match = ISO_DAY.exec(value);
  if (!match) return false;
  const [year, month, day] = [Number(match[1]), Number(match[2]), Number(match[3])];
  const date = new Date(Date.UTC(year, month - 1, day));
  return date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
}
