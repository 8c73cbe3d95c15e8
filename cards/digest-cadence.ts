/**
 * How often a chat's digest goes out, in words: shared by the digest card, the subscriptions card and the digest
 * command's answers, so "weekly on Monday at 10:30" reads the same everywhere.
 */

import type { DigestCadence } from './data.js';
import type { Bilingual } from './i18n.js';

/** ISO 8601 order: index 0 is Monday (weekday 1), index 6 Sunday (weekday 7). */
const WEEKDAYS_EN = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'] as const;
const WEEKDAYS_ZH = ['一', '二', '三', '四', '五', '六', '日'] as const;

/** `1` → `1st`, `22` → `22nd`, `13` → `13th`. */
export function ordinalDay(day: number): string {
  const teen = day % 100 >= 11 && day % 100 <= 13;
  const suffix = teen ? 'th' : (['th', 'st', 'nd', 'rd'][day % 10] ?? 'th');
  return `${day}${suffix}`;
}

/** `Monday` / `周一` for ISO weekday 1; a weekday out of range reads as its number. */
export function weekdayName(weekday: number): Bilingual {
  const en = WEEKDAYS_EN[weekday - 1];
  const zh = WEEKDAYS_ZH[weekday - 1];
  return en && zh ? { zh: `周${zh}`, en } : { zh: `周${weekday}`, en: `day ${weekday}` };
}

/** "daily digest" / 每日数据, "weekly digest" / 每周数据, "monthly digest" / 每月数据. Absent means daily. */
export function digestName(kind?: DigestCadence['kind']): Bilingual {
  switch (kind) {
    case 'weekly':
      return { zh: '每周数据', en: 'weekly digest' };
    case 'monthly':
      return { zh: '每月数据', en: 'monthly digest' };
    default:
      return { zh: '每日数据', en: 'daily digest' };
  }
}

/** The name at the start of a title: "Weekly digest". */
export function digestTitleName(kind?: DigestCadence['kind']): Bilingual {
  const name = digestName(kind);
  return { zh: name.zh, en: name.en.charAt(0).toUpperCase() + name.en.slice(1) };
}

/**
 * When the digest goes out, `time` being `HH:MM`: "Daily at 10:30" / 每天 10:30, "Weekly on Monday at 10:30" /
 * 每周一 10:30, "Monthly on the 1st at 10:30" / 每月 1 日 10:30.
 */
export function describeCadence(cadence: DigestCadence | undefined, time: string): Bilingual {
  switch (cadence?.kind) {
    case 'weekly': {
      const day = weekdayName(cadence.weekday);
      return { zh: `每${day.zh} ${time}`, en: `Weekly on ${day.en} at ${time}` };
    }
    case 'monthly':
      return {
        zh: `每月 ${cadence.day} 日 ${time}`,
        en: `Monthly on the ${ordinalDay(cadence.day)} at ${time}`,
      };
    default:
      return { zh: `每天 ${time}`, en: `Daily at ${time}` };
  }
}
