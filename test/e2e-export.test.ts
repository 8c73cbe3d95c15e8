/**
 * `export viewers|likes <link>` end to end: every page into one CSV, uploaded through the IM file API as multipart
 * and sent to the asker privately as a file message; the privacy rule checked before any list call; a tenant with
 * access records off gets the 1069603 card. The uploaded bytes are parsed here, independently of the bot's writer.
 */
import { describe, expect, it } from 'vitest';
import type { EmulatedFile } from './emulator/feishu-emulator.js';
import { makeLikes, makeViewers } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { ask as askBot, useE2e } from './support/e2e.js';

const OWNER = 'ou_exportowner000000000000000001';
const STRANGER = 'ou_exportstranger0000000000000002';
const DOC = 'doxcnExportE2eAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const OFF = 'doxcnExportRecordsOffAbCdEfG';
const NOBODY = 'doxcnExportNoViewersAbCdEfGh';

// Names a spreadsheet would run as a formula, and one that needs quoting.
const SPECIAL_NAMES: Readonly<Record<number, string>> = { 3: '=HYPERLINK("x")', 4: 'Lee, "Kit"' };
const viewers = makeViewers(120).map((v, i) => (SPECIAL_NAMES[i] ? { ...v, name: SPECIAL_NAMES[i] } : v));
const likes = makeLikes(7, { desensitized: [2] });

const { emulator, bot } = useE2e({
  docs: [
    { token: DOC, type: 'docx', title: 'Q4 / plan: draft', ownerId: OWNER, viewers, likes },
    { token: NOBODY, type: 'docx', ownerId: OWNER, viewers: [] },
    {
      token: OFF,
      type: 'docx',
      ownerId: OWNER,
      viewRecordsError: { httpStatus: 403, code: 1069603, msg: 'forbidden' },
    },
  ],
  env: { DIGEST_TZ: 'Asia/Shanghai' },
});

const ask = (text: string, sender: string, opts: { group?: boolean } = {}) =>
  askBot(bot, text, { sender, ...opts });

/** RFC 4180 records, read without the bot's code: quoted fields, doubled quotes, CRLF. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += ch;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

/** Epoch seconds as Asia/Shanghai (UTC+8 all year) ISO 8601. */
function shanghai(seconds: string | number): string {
  return `${new Date((Number(seconds) + 8 * 3600) * 1000).toISOString().slice(0, 19)}+08:00`;
}

function lastFile(): EmulatedFile {
  const file = emulator.files.at(-1);
  if (!file) throw new Error('nothing was uploaded');
  return file;
}

describe('export viewers <link>', () => {
  it('puts all 120 viewers of three pages into one CSV with a BOM, the header and Shanghai times', async () => {
    const sent = await ask(`export viewers ${DOC_URL}`, OWNER);
    expect(emulator.callsTo('GET', `/drive/v1/files/${DOC}/view_records`)).toHaveLength(3);
    expect(emulator.files).toHaveLength(1);
    const file = lastFile();
    expect(file.fileType).toBe('stream');
    expect(file.fileName).toMatch(/^viewers-Q4 plan draft-\d{4}-\d{2}-\d{2}\.csv$/);
    // The part carries a filename and a type, as multipart readers need to see a file.
    expect(file.partFilename).toMatch(/\.csv$/);
    expect(file.contentType).toBe('text/csv');

    expect([...file.bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = file.bytes.subarray(3).toString('utf8');
    expect(text.endsWith('\r\n')).toBe(true);
    const [header, ...rows] = parseCsv(text);
    expect(header).toEqual(['name', 'open_id', 'time']);
    expect(rows).toHaveLength(120);
    rows.forEach((row, i) => {
      const viewer = viewers[i];
      expect(row[1]).toBe(viewer?.viewer_id);
      expect(row[2]).toBe(shanghai(viewer?.last_view_time ?? 0));
    });
    expect(rows[0]?.[0]).toBe(viewers[0]?.name);
    expect(rows[3]?.[0]).toBe(`'=HYPERLINK("x")`);
    expect(rows[4]?.[0]).toBe('Lee, "Kit"');

    // In the private chat: the file message, then the card saying what it holds.
    expect(sent.map((m) => m.msgType)).toEqual(['file', 'interactive']);
    const [fileMessage, summary] = sent;
    expect(fileMessage?.receiveIdType).toBe('open_id');
    expect(fileMessage?.targetId).toBe(OWNER);
    expect(fileMessage?.content).toEqual({ file_key: file.fileKey });
    expect(cardText(summary?.content)).toContain('Exported 120 visitors');
    expect(cardText(summary?.content)).toContain('Asia/Shanghai');
  });

  it('in a group sends the file to the asker privately and tells the group only that', async () => {
    const sent = await ask(`导出 访问记录 ${DOC_URL}`, OWNER, { group: true });
    const fileMessage = sent.find((m) => m.msgType === 'file');
    expect(fileMessage?.receiveIdType).toBe('open_id');
    expect(fileMessage?.targetId).toBe(OWNER);
    const groupReplies = sent.filter((m) => m.kind === 'reply');
    expect(groupReplies).toHaveLength(1);
    expect(cardText(groupReplies[0]?.content)).toMatch(/privately|私聊/);
    expect(cardText(groupReplies[0]?.content)).not.toContain(viewers[0]?.viewer_id);
    // Nothing but that notice went to the group.
    expect(sent.filter((m) => m.receiveIdType !== 'open_id' && m.kind !== 'reply')).toEqual([]);
  });

  it('in a group says privately, too, that there is nothing to export', async () => {
    const sent = await ask(`export viewers https://acme.feishu.cn/docx/${NOBODY}`, OWNER, { group: true });
    const privately = sent.filter((m) => m.receiveIdType === 'open_id');
    expect(privately).toHaveLength(1);
    expect(privately[0]?.targetId).toBe(OWNER);
    const groupReplies = sent.filter((m) => m.kind === 'reply');
    expect(groupReplies).toHaveLength(1);
    expect(cardText(groupReplies[0]?.content)).toMatch(/privately|私聊/);
    expect(emulator.files).toHaveLength(0);
  });

  it('denies a stranger before any list call, and uploads nothing', async () => {
    const [card] = await ask(`export viewers ${DOC_URL}`, STRANGER);
    expect(cardText(card?.content)).toMatch(/owner|所有者/);
    expect(emulator.callsTo('GET', `/drive/v1/files/${DOC}/view_records`)).toHaveLength(0);
    expect(emulator.callsTo('POST', '/im/v1/files')).toHaveLength(0);
    expect(emulator.files).toHaveLength(0);
  });

  it('explains 1069603 (access records off, or no manage right) and uploads nothing', async () => {
    const [card] = await ask(`export viewers https://acme.feishu.cn/docx/${OFF}`, OWNER);
    expect(cardText(card?.content)).toContain('has not enabled document access records');
    expect(emulator.callsTo('POST', '/im/v1/files')).toHaveLength(0);
  });
});

describe('export likes <link>', () => {
  it('exports like times, and a hidden liker as “Hidden user” without an id', async () => {
    await ask(`export likes ${DOC_URL}`, OWNER);
    const file = lastFile();
    expect(file.fileName).toMatch(/^likes-/);
    const [header, ...rows] = parseCsv(file.bytes.subarray(3).toString('utf8'));
    expect(header).toEqual(['name', 'open_id', 'time']);
    expect(rows).toHaveLength(7);
    expect(rows[2]).toEqual(['Hidden user', '', shanghai(likes[2]?.last_liked_time ?? 0)]);
    expect(file.bytes.toString('utf8')).not.toContain(likes[2]?.user_id);
    expect(rows[0]).toEqual([
      likes[0]?.user_name,
      likes[0]?.user_id,
      shanghai(likes[0]?.last_liked_time ?? 0),
    ]);
  });

  it('asks for the list word when it is missing', async () => {
    const [card] = await ask(`export ${DOC_URL}`, OWNER);
    expect(cardText(card?.content)).toMatch(/viewers.*likes/s);
    expect(emulator.callsTo('POST', '/im/v1/files')).toHaveLength(0);
  });
});
