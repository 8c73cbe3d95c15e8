/** The CSV an export sends: RFC 4180 quoting, formula injection neutralised, BOM, zone-aware times, file names. */
import { describe, expect, it } from 'vitest';
import {
  buildCsv,
  buildExportFile,
  CSV_HEADER,
  csvCell,
  exportFileName,
  isoInZone,
  peopleRows,
} from '../src/bot/export-csv.js';

describe('csvCell', () => {
  it.each([
    ['plain', 'plain'],
    ['张三', '张三'],
    ['Lee, Kit', '"Lee, Kit"'],
    ['say "hi"', '"say ""hi"""'],
    ['two\nlines', '"two\nlines"'],
    ['carriage\rreturn', '"carriage\rreturn"'],
    ['', ''],
  ])('quotes %j as RFC 4180 says', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it.each([
    ['=1+2', "'=1+2"],
    ['+86 138', "'+86 138"],
    ['-2', "'-2"],
    ['@SUM(A1)', "'@SUM(A1)"],
    ['\t=cmd', "'\t=cmd"],
  ])('neutralises the formula %j with a leading apostrophe', (value, cell) => {
    expect(csvCell(value)).toBe(cell);
  });

  it('neutralises first and quotes after, so a quoted formula stays text', () => {
    expect(csvCell('=HYPERLINK("http://x","y")')).toBe(`"'=HYPERLINK(""http://x"",""y"")"`);
    expect(csvCell('a=b')).toBe('a=b');
  });
});

describe('buildCsv', () => {
  it('starts with a BOM and ends every record with CRLF', () => {
    const csv = buildCsv(CSV_HEADER, [['张三', 'ou_1', '2026-11-20T14:05:00+08:00']]);
    expect(csv).toBe('\uFEFFname,open_id,time\r\n张三,ou_1,2026-11-20T14:05:00+08:00\r\n');
    expect([...Buffer.from(csv, 'utf8').subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
  });
});

describe('isoInZone', () => {
  // 2026-11-20T06:05:00Z
  const at = Date.UTC(2026, 10, 20, 6, 5, 0) / 1000;
  it.each([
    ['Asia/Shanghai', '2026-11-20T14:05:00+08:00'],
    ['UTC', '2026-11-20T06:05:00+00:00'],
    ['America/New_York', '2026-11-20T01:05:00-05:00'],
  ])('writes the instant in %s with its offset', (zone, iso) => {
    expect(isoInZone(at, zone)).toBe(iso);
  });

  it('follows daylight saving time', () => {
    expect(isoInZone(Date.UTC(2026, 6, 1, 12, 0, 0) / 1000, 'America/New_York')).toBe(
      '2026-07-01T08:00:00-04:00',
    );
  });

  it('leaves a time Feishu did not send empty', () => {
    expect(isoInZone(0, 'UTC')).toBe('');
  });
});

describe('peopleRows', () => {
  it('writes a hidden liker as “Hidden user” without an id, and falls back to the English name', () => {
    const rows = peopleRows(
      'likes',
      [
        { userId: 'ou_hidden', lastLikedTime: 60, desensitized: true },
        { userId: 'ou_en', enName: 'Kit', lastLikedTime: 0, desensitized: false },
      ],
      'UTC',
    );
    expect(rows).toEqual([
      ['Hidden user', '', '1970-01-01T00:01:00+00:00'],
      ['Kit', 'ou_en', ''],
    ]);
  });
});

describe('exportFileName', () => {
  const now = Date.UTC(2026, 10, 20, 20, 0, 0);
  it('names the list, the cleaned title and the date in the tenant zone', () => {
    expect(
      exportFileName('viewers', { token: 'T', title: 'Q4 / plan: "draft"\n' }, now, 'Asia/Shanghai'),
    ).toBe('viewers-Q4 plan draft-2026-11-21.csv');
  });

  it('uses the token when the title leaves nothing, and cuts long titles', () => {
    expect(exportFileName('likes', { token: 'doxcnTok', title: '///' }, now, 'UTC')).toBe(
      'likes-doxcnTok-2026-11-20.csv',
    );
    expect(exportFileName('likes', { token: 'T', title: '长'.repeat(100) }, now, 'UTC')).toBe(
      `likes-${'长'.repeat(60)}-2026-11-20.csv`,
    );
  });
});

describe('buildExportFile', () => {
  const items = [{ viewerId: 'ou_1', name: 'A', lastViewTime: 60 }];
  it('refuses a file over the limit instead of building one Feishu would refuse', () => {
    const file = buildExportFile('viewers', items, { fileName: 'f.csv', timeZone: 'UTC', maxBytes: 20 });
    expect(file).toEqual({ ok: false, reason: 'too_large', bytes: expect.any(Number), maxBytes: 20 });
  });

  it('counts the rows of a file within the limit', () => {
    const file = buildExportFile('viewers', items, { fileName: 'f.csv', timeZone: 'UTC', maxBytes: 1024 });
    expect(file.ok && file.rows).toBe(1);
  });
});
