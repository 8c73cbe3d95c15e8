/**
 * The CSV an `export` sends: pure functions of the list, so what a spreadsheet opens is tested without Feishu.
 *
 * - UTF-8 with a byte-order mark: Excel reads a CSV without one in the system's legacy code page, and Chinese
 *   names come out garbled.
 * - RFC 4180: fields separated by commas, records by CRLF; a field holding a comma, a double quote, CR or LF is
 *   quoted, and its quotes doubled. https://www.rfc-editor.org/rfc/rfc4180
 * - Formula injection: a spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` (and, in some, a tab or CR
 *   before one) as a formula, so a display name like `=HYPERLINK(…)` would. Such a cell gets a leading apostrophe,
 *   which spreadsheets show as text. https://owasp.org/www-community/attacks/CSV_Injection
 * - Times are ISO 8601 in the tenant's zone with its offset (`2026-11-20T14:05:00+08:00`), so they sort as text
 *   and mean one instant wherever the file is opened.
 */
import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import type { PeopleKind } from '../data/documents.js';
import type { DocLike, ViewRecord } from '../feishu/types.js';

export const CSV_BOM = '\uFEFF';
export const CSV_HEADER = ['name', 'open_id', 'time'] as const;
/** What a desensitised liker is called in the file; their id is left out, as on the card. */
export const HIDDEN_USER_NAME = 'Hidden user';

const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/** One field, neutralised against formulas and quoted as RFC 4180 says. */
export function csvCell(value: string): string {
  const safe = FORMULA_START.test(value) ? `'${value}` : value;
  return NEEDS_QUOTES.test(safe) ? `"${safe.replace(/"/g, '""')}"` : safe;
}

/** Header and rows, BOM first, CRLF after every record (the last included, as most writers do). */
export function buildCsv(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const lines = [header, ...rows].map((row) => `${row.map(csvCell).join(',')}\r\n`);
  return CSV_BOM + lines.join('');
}

/** Epoch seconds as ISO 8601 in `timeZone` with its offset; empty when Feishu sent no time. */
export function isoInZone(epochSeconds: number, timeZone: string): string {
  if (!(epochSeconds > 0)) return '';
  return format(new TZDate(epochSeconds * 1000, timeZone), "yyyy-MM-dd'T'HH:mm:ssxxx");
}

/** The rows of an export: name, open_id, last view time (viewers) or like time (likes). */
export function peopleRows(
  kind: PeopleKind,
  items: readonly (ViewRecord | DocLike)[],
  timeZone: string,
): string[][] {
  if (kind === 'viewers') {
    return (items as readonly ViewRecord[]).map((v) => [
      v.name ?? '',
      v.viewerId,
      isoInZone(v.lastViewTime, timeZone),
    ]);
  }
  return (items as readonly DocLike[]).map((like) =>
    like.desensitized
      ? [HIDDEN_USER_NAME, '', isoInZone(like.lastLikedTime, timeZone)]
      : [like.name ?? like.enName ?? '', like.userId, isoInZone(like.lastLikedTime, timeZone)],
  );
}

// Characters Windows, macOS or Feishu's own file names refuse, and control characters.
// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what is removed.
const UNSAFE_IN_FILE_NAME = /[\\/:*?"<>|\u0000-\u001f\u007f]+/g;
const MAX_NAME_PART_CHARS = 60;

/**
 * `viewers-<title or token>-<date>.csv`, the date in the tenant's zone. The title loses what a file name cannot
 * hold and is cut to 60 characters; with nothing left, the document token stands in.
 */
export function exportFileName(
  kind: PeopleKind,
  doc: { token: string; title?: string },
  now: number,
  timeZone: string,
): string {
  const cleaned = (doc.title ?? '').replace(UNSAFE_IN_FILE_NAME, ' ').replace(/\s+/g, ' ').trim();
  const name = Array.from(cleaned).slice(0, MAX_NAME_PART_CHARS).join('').trim() || doc.token;
  const date = format(new TZDate(now, timeZone), 'yyyy-MM-dd');
  return `${kind}-${name}-${date}.csv`;
}

export type ExportFile =
  | { ok: true; fileName: string; bytes: Buffer; rows: number }
  | { ok: false; reason: 'too_large'; bytes: number; maxBytes: number };

/** The file for an export, or why it cannot be sent (larger than `maxBytes`, Feishu's 30 MB). */
export function buildExportFile(
  kind: PeopleKind,
  items: readonly (ViewRecord | DocLike)[],
  opts: { fileName: string; timeZone: string; maxBytes: number },
): ExportFile {
  const rows = peopleRows(kind, items, opts.timeZone);
  const bytes = Buffer.from(buildCsv(CSV_HEADER, rows), 'utf8');
  if (bytes.length > opts.maxBytes) {
    return { ok: false, reason: 'too_large', bytes: bytes.length, maxBytes: opts.maxBytes };
  }
  return { ok: true, fileName: opts.fileName, bytes, rows: rows.length };
}
