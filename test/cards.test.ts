import { describe, expect, it } from 'vitest';
import {
  buildErrorCard,
  buildHelpCard,
  buildStatsCard,
  buildUsageCard,
  type Card,
  cardByteSize,
  type ErrorCardInput,
  escapeMarkdown,
  explainFeishuCode,
  MAX_CARD_BYTES,
  type StatsCardInput,
} from '../cards/index.js';
import type { FileStatistics } from '../src/feishu/types.js';

// --- Fixtures: response bodies as published on the Feishu doc pages ---------------------------------

/** GET /open-apis/drive/v1/files/:file_token/statistics, example response. */
const STATISTICS_RESPONSE = {
  code: 0,
  msg: 'success',
  data: {
    file_token: 'doccnfYZzTlvXqZIGTdAHKabcef',
    file_type: 'doc',
    statistics: {
      uv: 10,
      pv: 15,
      like_count: 2,
      timestamp: 1627367349,
      uv_today: 1,
      pv_today: 1,
      like_count_today: 1,
    },
  },
};

/** Same endpoint's 403 body for the most common failure. */
const FORBIDDEN_RESPONSE = { code: 1069603, msg: 'forbidden' };

type RawStatistics = typeof STATISTICS_RESPONSE.data.statistics;

function toFileStatistics(raw: RawStatistics): FileStatistics {
  return {
    uv: raw.uv,
    pv: raw.pv,
    likeCount: raw.like_count,
    timestamp: raw.timestamp,
    uvToday: raw.uv_today,
    pvToday: raw.pv_today,
    likeCountToday: raw.like_count_today,
  };
}

function statsInput(
  overrides: Partial<StatsCardInput> = {},
  stats: Partial<RawStatistics> = {},
): StatsCardInput {
  return {
    doc: {
      url: 'https://sample.feishu.cn/docx/doccnfYZzTlvXqZIGTdAHKabcef',
      token: 'doccnfYZzTlvXqZIGTdAHKabcef',
      type: 'docx',
      title: 'Q3 roadmap',
    },
    stats: toFileStatistics({ ...STATISTICS_RESPONSE.data.statistics, ...stats }),
    fetchedAt: new Date('2024-07-27T06:29:00.000Z'),
    ...overrides,
  };
}

const INJECTION = '**bold** [click](https://evil.example) <at id=all></at> `code` :OK:';

// --- Walking the card JSON ------------------------------------------------------------------------

type Json = Record<string, unknown>;

function collectObjects(node: unknown, out: Json[] = []): Json[] {
  if (Array.isArray(node)) {
    for (const item of node) collectObjects(item, out);
  } else if (node !== null && typeof node === 'object') {
    out.push(node as Json);
    for (const value of Object.values(node)) collectObjects(value, out);
  }
  return out;
}

function byTag(card: Card, tag: string): Json[] {
  return collectObjects(card.body).filter((o) => o.tag === tag);
}

function byElementId(card: Card, id: string): Json {
  const found = collectObjects(card.body).find((o) => o.element_id === id);
  if (!found) throw new Error(`no element ${id}`);
  return found;
}

/** Every string a reader of the given language can see in markdown elements. */
function markdownText(card: Card, locale: 'zh_cn' | 'en_us'): string {
  return byTag(card, 'markdown')
    .map((o) => (o.i18n_content as Record<string, string> | undefined)?.[locale] ?? String(o.content))
    .join('\n');
}

function textOf(node: Json, locale: 'zh_cn' | 'en_us'): string {
  return collectObjects(node)
    .map((o) => (o.i18n_content as Record<string, string> | undefined)?.[locale])
    .filter((s): s is string => typeof s === 'string')
    .join('\n');
}

/** The literal characters markdown would turn into markup if they arrived unescaped. */
function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
}

// Tags the Card JSON 2.0 component pages document; 1.0-only modules such as `action` or `note`
// make Feishu reject a 2.0 card.
const KNOWN_TAGS = new Set(['markdown', 'plain_text', 'column_set', 'column', 'button', 'hr']);

// --- Every card, every important variant ----------------------------------------------------------

const LONG_TITLE = 'Quarterly planning — '.repeat(10).slice(0, 200);

const CARDS: Array<[string, Card]> = [
  ['stats with title', buildStatsCard(statsInput())],
  ['stats without title', buildStatsCard(statsInput({ doc: { ...statsInput().doc, title: undefined } }))],
  [
    'stats likes unsupported',
    buildStatsCard(
      statsInput({ doc: { ...statsInput().doc, type: 'sheet' } }, { like_count: -1, like_count_today: 0 }),
    ),
  ],
  [
    'stats with actions',
    buildStatsCard(
      statsInput({
        actions: [
          {
            key: 'refresh',
            label: { zh: '刷新', en: 'Refresh' },
            value: { action: 'refresh', token: 'doccnfYZ' },
            style: 'primary',
          },
          { key: 'viewers', label: { zh: '访问者', en: 'Viewers' }, value: { action: 'viewers' } },
        ],
      }),
    ),
  ],
  ['stats 200-char title', buildStatsCard(statsInput({ doc: { ...statsInput().doc, title: LONG_TITLE } }))],
  ['stats markdown title', buildStatsCard(statsInput({ doc: { ...statsInput().doc, title: INJECTION } }))],
  ['help', buildHelpCard()],
  ['help unknown word', buildHelpCard({ unknownWord: 'stast' })],
  ['help with suggestion', buildHelpCard({ unknownWord: 'stast', suggestion: 'stats' })],
  ['usage no_link', buildUsageCard({ command: 'stats', problem: 'no_link' })],
  ['usage too_many_links', buildUsageCard({ command: 'stats', problem: 'too_many_links', max: 5 })],
  ['usage unknown problem', buildUsageCard({ command: 'stats', problem: 'bad_date' })],
  ['usage unknown command', buildUsageCard({ command: 'viewers', problem: 'no_link' })],
  [
    'error 1069603',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: FORBIDDEN_RESPONSE.code,
      feishuMsg: FORBIDDEN_RESPONSE.msg,
      endpoint: 'drive.v1.fileStatistics.get',
      logId: '202407271429010A8B3C4D5E6F708192',
      docUrl: 'https://sample.feishu.cn/docx/doccnfYZzTlvXqZIGTdAHKabcef',
    }),
  ],
  ['error 1069604', buildErrorCard({ kind: 'feishu', feishuCode: 1069604, feishuMsg: 'document not found' })],
  ['error 1069602', buildErrorCard({ kind: 'feishu', feishuCode: 1069602, feishuMsg: 'param error' })],
  [
    'error 99991672',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 99991672,
      feishuMsg:
        'Access denied. One of the following scopes is required: [drive:drive.metadata:readonly, drive:drive:readonly].',
      logId: '20240727142901A8B3',
    }),
  ],
  [
    'error unknown code',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 1234567,
      feishuMsg: 'something odd',
      logId: '20240727LOGID42',
    }),
  ],
  [
    'error not_document',
    buildErrorCard({
      kind: 'not_document',
      url: 'https://sample.feishu.cn/drive/folder/fldcnAbC',
      what: 'folder',
    }),
  ],
  [
    'error not_feishu_link',
    buildErrorCard({ kind: 'not_feishu_link', url: 'https://docs.google.com/document/d/1AbC/edit' }),
  ],
  ['error timeout', buildErrorCard({ kind: 'timeout' })],
  ['error internal', buildErrorCard({ kind: 'internal', errorId: 'err_7f3a9c' })],
];

describe('every card', () => {
  it.each(CARDS)('%s matches its snapshot', (_name, card) => {
    expect(card).toMatchSnapshot();
  });

  it.each(CARDS)('%s is a shared Card JSON 2.0 card in zh_cn and en_us', (_name, card) => {
    expect(card.schema).toBe('2.0');
    expect(card.config.update_multi).toBe(true);
    expect(card.config.locales).toEqual(['zh_cn', 'en_us']);
    expect(card.header.title.tag).toBe('plain_text');
  });

  it.each(CARDS)('%s fits in the 30 KB message limit', (_name, card) => {
    expect(cardByteSize(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
  });

  it.each(CARDS)('%s has non-empty text in both languages, English as the fallback', (_name, card) => {
    const texts = collectObjects(card).filter((o) => o.tag === 'markdown' || o.tag === 'plain_text');
    for (const node of texts) expect(node).toHaveProperty('i18n_content');
    const localized = collectObjects(card).filter((o) => 'i18n_content' in o);
    expect(localized.length).toBeGreaterThan(2);
    for (const node of localized) {
      const i18n = node.i18n_content as Record<string, unknown>;
      expect(typeof i18n.zh_cn === 'string' && i18n.zh_cn.trim().length > 0).toBe(true);
      expect(typeof i18n.en_us === 'string' && i18n.en_us.trim().length > 0).toBe(true);
      expect(node.content).toBe(i18n.en_us);
    }
    // Summary and header title are what the chat list and notifications show.
    expect(card.config.summary.i18n_content.zh_cn).not.toBe('');
    expect(card.header.title.i18n_content?.zh_cn).toBeTruthy();
  });

  it.each(CARDS)('%s uses unique, valid element ids', (_name, card) => {
    const ids = collectObjects(card)
      .map((o) => o.element_id)
      .filter((id) => id !== undefined);
    expect(new Set(ids).size).toBe(ids.length);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,19}$/);
  });

  it.each(CARDS)('%s only uses components documented for JSON 2.0', (_name, card) => {
    const tags = collectObjects(card.body)
      .map((o) => o.tag)
      .filter((t) => t !== undefined);
    for (const tag of tags) expect(KNOWN_TAGS).toContain(tag);
  });
});

describe('buildStatsCard', () => {
  it('shows visitors, views and likes from the input with thousands separators', () => {
    const card = buildStatsCard(statsInput({}, { uv: 12345, pv: 1234567, like_count: 2048 }));
    expect(textOf(byElementId(card, 'fig_uv'), 'en_us')).toContain('12,345');
    expect(textOf(byElementId(card, 'fig_pv'), 'en_us')).toContain('1,234,567');
    expect(textOf(byElementId(card, 'fig_likes'), 'zh_cn')).toContain('2,048');
    expect(textOf(byElementId(card, 'fig_uv'), 'zh_cn')).toContain('访问人数');
    expect(textOf(byElementId(card, 'fig_pv'), 'en_us')).toContain('Views');
  });

  it("states today's increase in both languages", () => {
    const card = buildStatsCard(statsInput({}, { uv_today: 3, pv_today: 1200, like_count_today: 1 }));
    const today = byElementId(card, 'stats_today');
    expect(textOf(today, 'en_us')).toContain('+3 visitors, +1,200 views, +1 like');
    expect(textOf(today, 'zh_cn')).toContain('今日新增');
    expect(textOf(today, 'zh_cn')).toContain('访问次数 +1,200');
  });

  it('says likes are not supported when like_count is -1, instead of showing -1', () => {
    const card = buildStatsCard(statsInput({}, { like_count: -1, like_count_today: 0 }));
    expect(textOf(byElementId(card, 'fig_likes'), 'en_us')).not.toContain('-1');
    expect(markdownText(card, 'en_us')).toContain('Likes not supported for this document type');
    expect(markdownText(card, 'zh_cn')).toContain('不支持点赞');
    expect(textOf(byElementId(card, 'stats_today'), 'en_us')).not.toMatch(/like/i);
  });

  it('uses the document title as header and falls back to "Document statistics" / 文档统计', () => {
    const titled = buildStatsCard(statsInput());
    expect(titled.header.title.content).toBe('Q3 roadmap');
    expect(titled.header.subtitle?.i18n_content?.zh_cn).toContain('文档');

    const untitled = buildStatsCard(statsInput({ doc: { ...statsInput().doc, title: undefined } }));
    expect(untitled.header.title.i18n_content).toEqual({ zh_cn: '文档统计', en_us: 'Document statistics' });
    expect(untitled.header.subtitle?.content).toBe('Doc');
  });

  it('keeps a title full of markdown and <at id=all> inert', () => {
    const card = buildStatsCard(statsInput({ doc: { ...statsInput().doc, title: INJECTION } }));
    // plain_text renders literally, so the title is shown as typed...
    expect(card.header.title).toMatchObject({ tag: 'plain_text', content: INJECTION });
    // ...and nothing of it reaches a markdown element where it would mention everyone or link out.
    for (const locale of ['zh_cn', 'en_us'] as const) {
      expect(markdownText(card, locale)).not.toContain('<at');
      expect(markdownText(card, locale)).not.toContain('evil.example');
    }
  });

  it('still fits, with a shortened header, when the title is 200 characters long', () => {
    const card = buildStatsCard(statsInput({ doc: { ...statsInput().doc, title: LONG_TITLE } }));
    expect(LONG_TITLE).toHaveLength(200);
    expect(cardByteSize(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
    expect(Array.from(card.header.title.content).length).toBeLessThanOrEqual(100);
    expect(card.header.title.content.startsWith('Quarterly planning')).toBe(true);
  });

  it("renders Feishu's as-of time in the reader's zone and spells it out in UTC in the summary", () => {
    const card = buildStatsCard(statsInput());
    const note = textOf(byElementId(card, 'stats_as_of'), 'en_us');
    // 1627367349 s from the doc example, as milliseconds.
    expect(note).toContain("<local_datetime millisecond='1627367349000' format_type='date_num'>");
    expect(note).toContain(`millisecond='${Date.parse('2024-07-27T06:29:00.000Z')}'`);
    expect(card.config.summary.content).toContain('2021-07-27 06:29 UTC');
    expect(card.config.summary.content).not.toContain('<local_datetime');
  });

  it('falls back to the fetch time when Feishu sends no timestamp', () => {
    const card = buildStatsCard(statsInput({}, { timestamp: 0 }));
    expect(card.config.summary.content).toContain('2024-07-27 06:29 UTC');
  });

  it('opens the document with an open_url button and renders extra actions as callbacks', () => {
    const card = buildStatsCard(
      statsInput({
        actions: [{ key: 'refresh', label: { zh: '刷新', en: 'Refresh' }, value: { action: 'refresh' } }],
      }),
    );
    const open = byElementId(card, 'btn_open');
    expect(open.behaviors).toEqual([{ type: 'open_url', default_url: statsInput().doc.url }]);
    expect(open.text).toMatchObject({ i18n_content: { zh_cn: '打开文档', en_us: 'Open document' } });
    const refresh = byTag(card, 'button').find((b) => JSON.stringify(b.text).includes('Refresh'));
    expect(refresh?.behaviors).toEqual([{ type: 'callback', value: { action: 'refresh' } }]);
  });

  it('leaves the open button out when the URL is not http(s)', () => {
    const card = buildStatsCard(statsInput({ doc: { ...statsInput().doc, url: 'javascript:alert(1)' } }));
    expect(byTag(card, 'button')).toHaveLength(0);
  });
});

describe('buildHelpCard', () => {
  it('lists both commands with an example and the permission stats needs, in both languages', () => {
    const card = buildHelpCard();
    const en = markdownText(card, 'en_us');
    const zh = markdownText(card, 'zh_cn');
    for (const text of [en, zh]) {
      expect(text).toContain('drive:drive.metadata:readonly');
      expect(text).toContain('drive:drive:readonly');
      expect(text).toMatch(/`(stats|统计) https:\/\/\S+\/docx\/\w+`/);
    }
    expect(en).toContain('Add document app');
    expect(zh).toContain('添加文档应用');
    expect(en).toContain('**help**');
    expect(zh).toContain('**帮助**');
    expect(en).toContain('@mention');
    expect(zh).toContain('私聊');
  });

  it('starts with the unknown word and the suggestion when given', () => {
    const card = buildHelpCard({ unknownWord: 'stast', suggestion: 'stats' });
    const first = card.body.elements[0] as unknown as Json;
    expect(textOf(first, 'en_us')).toBe("I don't know `stast`. Did you mean `stats`?");
    expect(textOf(first, 'zh_cn')).toContain('`stast`');
    expect(textOf(first, 'zh_cn')).toContain('`stats`');

    const withoutSuggestion = buildHelpCard({ unknownWord: 'stast' });
    expect(markdownText(withoutSuggestion, 'en_us')).not.toContain('Did you mean');
  });

  it('escapes an unknown word that carries markup', () => {
    const card = buildHelpCard({ unknownWord: '<at id=all></at>' });
    expect(markdownText(card, 'en_us')).not.toContain('<at');
    expect(decodeEntities(markdownText(card, 'en_us'))).toContain('<at id=all></at>');
  });
});

describe('buildUsageCard', () => {
  const exampleLines = (card: Card) =>
    markdownText(card, 'en_us')
      .split('\n')
      .filter((l) => l.startsWith('- `'));

  it('explains a missing link, shows the syntax and two examples', () => {
    const card = buildUsageCard({ command: 'stats', problem: 'no_link' });
    expect(markdownText(card, 'en_us')).toContain('needs a document link');
    expect(markdownText(card, 'zh_cn')).toContain('需要一个文档链接');
    expect(markdownText(card, 'en_us')).toContain('**Syntax:** `stats` ‹document link›');
    expect(exampleLines(card)).toHaveLength(2);
  });

  it('names the maximum when there are too many links', () => {
    const card = buildUsageCard({ command: 'stats', problem: 'too_many_links', max: 5 });
    expect(markdownText(card, 'en_us')).toContain('at most 5 document links');
    expect(markdownText(card, 'zh_cn')).toContain('最多只能查询 5 个');
  });

  it('falls back to a generic explanation for an unknown problem key', () => {
    const card = buildUsageCard({ command: 'stats', problem: 'bad_date' });
    expect(markdownText(card, 'en_us')).toContain('could not run `stats` as written');
    expect(exampleLines(card)).toHaveLength(2);
  });
});

describe('buildErrorCard', () => {
  it('tells the user to "Add document app" for 1069603, in both languages, as numbered steps', () => {
    const card = buildErrorCard({ kind: 'feishu', feishuCode: 1069603, feishuMsg: 'forbidden' });
    const fix = byElementId(card, 'err_fix');
    expect(textOf(fix, 'en_us')).toContain('"Add document app"');
    expect(textOf(fix, 'zh_cn')).toContain('「添加文档应用」');
    expect(textOf(fix, 'en_us')).toMatch(/\n1\. .*\n2\. /s);
    expect(card.header.template).toBe('red');
  });

  it.each([
    [1069604, 'red'],
    [1069602, 'red'],
    [99991672, 'red'],
    [1069601, 'orange'],
    [99991400, 'orange'],
    [99991663, 'orange'],
  ])('colours %i by whether a retry can help (%s)', (code, template) => {
    expect(buildErrorCard({ kind: 'feishu', feishuCode: code }).header.template).toBe(template);
  });

  it("points 99991672 at the developer console and shows Feishu's message naming the scope", () => {
    const card = buildErrorCard({
      kind: 'feishu',
      feishuCode: 99991672,
      feishuMsg: 'Access denied. One of the following scopes is required: [drive:drive:readonly].',
    });
    expect(markdownText(card, 'en_us')).toContain('Permissions & Scopes');
    expect(decodeEntities(markdownText(card, 'en_us'))).toContain('[drive:drive:readonly]');
  });

  it('shows the code, message and log ID for a code it does not know', () => {
    const card = buildErrorCard({
      kind: 'feishu',
      feishuCode: 1234567,
      feishuMsg: 'something odd',
      logId: '20240727LOGID42',
    });
    for (const locale of ['zh_cn', 'en_us'] as const) {
      const text = markdownText(card, locale);
      expect(text).toContain('1234567');
      expect(text).toContain('something odd');
      expect(textOf(byElementId(card, 'err_footer'), locale)).toContain('20240727LOGID42');
    }
  });

  it('puts the code and log ID in a small grey footer', () => {
    const card = buildErrorCard({ kind: 'feishu', feishuCode: 1069604, logId: 'LOG123' });
    const footer = byElementId(card, 'err_footer');
    expect(footer.text_size).toBe('notation');
    expect(textOf(footer, 'en_us')).toBe("<font color='grey'>Code 1069604 · Log ID LOG123</font>");
  });

  it.each<[string, ErrorCardInput]>([
    [
      'not_document',
      { kind: 'not_document', url: `https://sample.feishu.cn/drive/folder/x?q=${INJECTION}`, what: 'folder' },
    ],
    ['not_feishu_link', { kind: 'not_feishu_link', url: `https://evil.example/${INJECTION}` }],
    ['feishu message', { kind: 'feishu', feishuCode: 1234567, feishuMsg: INJECTION }],
  ])('escapes untrusted text in the %s card', (_name, input) => {
    const card = buildErrorCard(input);
    for (const locale of ['zh_cn', 'en_us'] as const) {
      const text = markdownText(card, locale);
      expect(text).not.toContain('<at');
      expect(text).not.toContain('](');
      expect(decodeEntities(text)).toContain('<at id=all></at>');
    }
  });

  it('translates what a non-document link points to', () => {
    const card = buildErrorCard({
      kind: 'not_document',
      url: 'https://sample.feishu.cn/drive/folder/fldcnAbC',
      what: 'folder',
    });
    expect(textOf(byElementId(card, 'err_meaning'), 'zh_cn')).toContain('文件夹');
    expect(textOf(byElementId(card, 'err_meaning'), 'en_us')).toContain('a folder');
  });
});

describe('explainFeishuCode', () => {
  const REQUIRED = [
    1069601, 1069602, 1069603, 1069604, 99991672, 99991400, 99991663, 99991661, 99991668, 230002, 230020,
    230025, 230099, 131005, 131006, 1061001, 1061002, 1061003, 1061004, 1061007, 1628001, 1628002, 1628003,
    1628004, 211004, 211005, 211006, 211007, 211008, 211009, 211010, 211011,
  ];

  it.each(REQUIRED)('explains %i in both languages', (code) => {
    const explanation = explainFeishuCode(code);
    expect(explanation).toBeDefined();
    for (const text of [explanation?.title, explanation?.meaning, explanation?.fix]) {
      expect(text?.zh.trim()).toBeTruthy();
      expect(text?.en.trim()).toBeTruthy();
    }
  });

  it('returns undefined for codes it does not know', () => {
    expect(explainFeishuCode(1234567)).toBeUndefined();
  });
});

describe('escapeMarkdown', () => {
  it('leaves no markup characters but decodes back to the original text', () => {
    const escaped = escapeMarkdown(INJECTION);
    expect(escaped.replace(/&#\d+;/g, '')).not.toMatch(/[<>[\]()*`_~#|:&]/);
    expect(decodeEntities(escaped)).toBe(INJECTION);
  });

  it('turns newlines into spaces so text cannot start a list, heading or rule', () => {
    expect(escapeMarkdown('title\n# heading\n---')).not.toContain('\n');
  });
});

describe('cardByteSize', () => {
  it('counts UTF-8 bytes, so Chinese text weighs more than its character count', () => {
    const card = buildHelpCard();
    expect(cardByteSize(card)).toBeGreaterThan(JSON.stringify(card).length);
  });
});
