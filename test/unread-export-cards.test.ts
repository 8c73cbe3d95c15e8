/**
 * The cards and the group message of `unread` and `export`: what they say, that they stay within Feishu's limits
 * with the largest lists the commands read, and that the help and usage cards cover both commands.
 */
import { describe, expect, it } from 'vitest';
import {
  buildExportCard,
  buildHelpCard,
  buildReminderPost,
  buildSentPrivatelyCard,
  buildUnreadCard,
  buildUsageCard,
  type Card,
  cardByteSize,
  MAX_CARD_BYTES,
  MAX_REMINDER_MENTIONS,
  MAX_UNREAD_LISTED,
  type UnreadCardInput,
} from '../cards/index.js';

type Json = Record<string, unknown>;

const DOC = {
  url: 'https://acme.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1',
  type: 'docx',
  title: 'Launch plan',
};
const NOW = new Date('2026-11-20T06:05:00Z');
const ids = (n: number, prefix = 'ou_p'): string[] =>
  Array.from({ length: n }, (_, i) => `${prefix}${String(i).padStart(29, '0')}`);

function objects(node: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(node)) for (const item of node) objects(item, out);
  else if (node && typeof node === 'object') {
    out.push(node as Json);
    for (const value of Object.values(node)) objects(value, out);
  }
  return out;
}

function text(card: Card, locale: 'zh_cn' | 'en_us'): string {
  return objects(card)
    .flatMap((o) => {
      const i18n = o.i18n_content as Record<string, string> | undefined;
      if (i18n?.[locale]) return [i18n[locale]];
      return o.tag === 'markdown' && typeof o.content === 'string' ? [o.content] : [];
    })
    .join('\n');
}

function personIds(card: Card): string[] {
  return [...text(card, 'en_us').matchAll(/<person id='([^']+)'>/g)].map((m) => m[1] ?? '');
}

function expectWellFormed(card: Card): void {
  expect(card.schema).toBe('2.0');
  expect(cardByteSize(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
  const elementIds = objects(card)
    .map((o) => o.element_id)
    .filter((id) => id !== undefined);
  expect(new Set(elementIds).size).toBe(elementIds.length);
  for (const id of elementIds) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,19}$/);
  expect(card.header.title.i18n_content?.zh_cn).toMatch(/\S/);
  expect(card.header.title.i18n_content?.en_us).toMatch(/\S/);
}

function unread(overrides: Partial<UnreadCardInput> = {}): Card {
  return buildUnreadCard({
    doc: DOC,
    memberCount: 23,
    readCount: 18,
    unread: ids(5),
    now: NOW,
    remind: { v: 1, a: 'remind', s: 'abcdef123456' },
    ...overrides,
  });
}

describe('buildUnreadCard', () => {
  it('counts in both languages, lists each person who has not opened it, and offers Remind them', () => {
    const card = unread();
    expectWellFormed(card);
    expect(text(card, 'en_us')).toContain('18 of 23 members have opened it.');
    expect(text(card, 'zh_cn')).toContain('群里 23 位成员中，18 位打开过。');
    expect(personIds(card)).toEqual(ids(5));
    const remind = objects(card).find((o) => o.element_id === 'btn_remind');
    expect(remind?.behaviors).toEqual([
      { type: 'callback', value: { v: 1, a: 'remind', s: 'abcdef123456' } },
    ]);
    expect(text(card, 'en_us')).toContain('nothing is posted there until you press it');
  });

  it('stays under 30 KB with 2,000 people missing: 200 listed and the rest counted', () => {
    const card = unread({ memberCount: 2_000, readCount: 0, unread: ids(2_000), membersCappedAt: 2_000 });
    expectWellFormed(card);
    expect(personIds(card)).toHaveLength(MAX_UNREAD_LISTED);
    expect(text(card, 'en_us')).toContain('…and 1,800 more.');
    expect(text(card, 'en_us')).toContain('only its first 2,000 members were checked');
  });

  it('says when the visitor list was cut, and drops the button when everyone has read it', () => {
    expect(text(unread({ viewersCappedAt: 2_000 }), 'en_us')).toContain(
      'Only the 2,000 most recent visitors were checked',
    );
    const done = unread({ readCount: 23, unread: [] });
    expectWellFormed(done);
    expect(text(done, 'en_us')).toContain('Everyone in the group has opened it.');
    expect(objects(done).some((o) => o.element_id === 'btn_remind')).toBe(false);
  });

  it('renders no id that could break out of the person tag', () => {
    const card = unread({ unread: ["ou_x' onclick='y", 'ou_fine'] });
    expect(personIds(card)).toEqual(['ou_fine']);
    expect(JSON.stringify(card)).not.toContain('onclick');
  });
});

describe('buildReminderPost', () => {
  it('@mentions each person in both languages and links the document', () => {
    const post = buildReminderPost({ doc: DOC, unread: ids(3) });
    for (const body of [post.zh_cn, post.en_us]) {
      expect(body.content.flat().filter((n) => n.tag === 'at')).toEqual(
        ids(3).map((user_id) => ({ tag: 'at', user_id })),
      );
      expect(body.content.flat()).toContainEqual({ tag: 'a', text: expect.any(String), href: DOC.url });
    }
    expect(post.zh_cn.title).toBe('提醒：请阅读「Launch plan」');
    expect(post.en_us.title).toBe('Reminder: please read Launch plan');
  });

  it('mentions at most 100 and counts the rest, within the 30 KB a post may take', () => {
    const post = buildReminderPost({ doc: DOC, unread: ids(250) });
    expect(post.en_us.content.flat().filter((n) => n.tag === 'at')).toHaveLength(MAX_REMINDER_MENTIONS);
    expect(JSON.stringify(post.en_us)).toContain('150 more members');
    const body = JSON.stringify({
      receive_id: 'oc_x',
      msg_type: 'post',
      content: JSON.stringify(post),
      uuid: 'u',
    });
    expect(Buffer.byteLength(body)).toBeLessThan(30 * 1024);
  });
});

describe('buildExportCard', () => {
  it('says what the file holds, its zone, and when Feishu had more', () => {
    const card = buildExportCard({
      kind: 'sent',
      what: 'viewers',
      doc: DOC,
      rows: 2_000,
      fileName: 'viewers-Launch plan-2026-11-20.csv',
      timeZone: 'Asia/Shanghai',
      cappedAt: 2_000,
    });
    expectWellFormed(card);
    expect(text(card, 'en_us')).toContain('Exported 2,000 visitors');
    expect(text(card, 'en_us')).toContain('ISO 8601 in Asia/Shanghai');
    expect(text(card, 'en_us')).toContain('the file holds the 2,000 most recent');
    expect(text(card, 'zh_cn')).toContain('文件只包含最近的 2,000 条');
  });

  it('mentions hidden likers for a likes export', () => {
    const card = buildExportCard({
      kind: 'sent',
      what: 'likes',
      doc: DOC,
      rows: 1,
      fileName: 'likes-x.csv',
      timeZone: 'UTC',
    });
    expect(text(card, 'en_us')).toContain('“Hidden user”');
  });

  it('explains a file over 30 MB and an empty list, neither of which is sent', () => {
    const large = buildExportCard({
      kind: 'too_large',
      what: 'viewers',
      doc: DOC,
      bytes: 31 * 1024 * 1024,
      maxBytes: 30 * 1024 * 1024,
    });
    expectWellFormed(large);
    expect(text(large, 'en_us')).toContain('came to 31.0 MB, and Feishu takes files of at most 30.0 MB');
    const empty = buildExportCard({ kind: 'empty', what: 'likes', doc: DOC });
    expectWellFormed(empty);
    expect(text(empty, 'en_us')).toContain('nothing to export');
  });
});

describe('help, usage and notice cards for unread and export', () => {
  it('lists both in the help card with the scopes they add', () => {
    const card = buildHelpCard();
    const entry = (id: string, locale: 'zh_cn' | 'en_us') =>
      (objects(card).find((o) => o.element_id === id)?.i18n_content as Record<string, string> | undefined)?.[
        locale
      ] ?? '';
    expect(entry('help_unread', 'en_us')).toMatch(/^\*\*unread\*\*/);
    expect(entry('help_unread', 'zh_cn')).toMatch(/^\*\*未读\*\*/);
    expect(entry('help_unread', 'en_us')).toContain('im:chat.members:read');
    expect(entry('help_export', 'en_us')).toMatch(/^\*\*export\*\*/);
    expect(entry('help_export', 'zh_cn')).toContain('im:resource');
    expect(cardByteSize(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
  });

  it('explains in a usage card that unread works in a group', () => {
    const card = buildUsageCard({ command: 'unread', problem: 'group_only' });
    expect(text(card, 'en_us')).toContain('works in a group');
    expect(text(card, 'zh_cn')).toContain('只能在群里使用');
    expect(text(card, 'en_us')).toContain('`unread` ‹document link›');
  });

  it('asks export for its list', () => {
    const card = buildUsageCard({ command: '导出', problem: 'bad_export_list', detail: { input: 'stats' } });
    expect(text(card, 'en_us')).toContain('`viewers` (who viewed it) or `likes` (who liked it)');
    expect(text(card, 'zh_cn')).toContain('`导出 点赞`');
  });

  it.each(['unread', 'export'] as const)('tells the group a %s answer was sent privately', (what) => {
    const card = buildSentPrivatelyCard({ what, doc: DOC });
    expect(text(card, 'en_us')).toContain('in a private chat instead of posting it here');
  });
});
