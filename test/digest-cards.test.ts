import { describe, expect, it } from 'vitest';
import {
  buildDigestCard,
  buildSubscriptionsCard,
  type Card,
  cardByteSize,
  type DigestCardInput,
  type DigestCardItem,
  MAX_CARD_BYTES,
  MAX_DIGEST_CHARTS,
  type SubscriptionsCardInput,
  sparkline,
} from '../cards/index.js';
import type { DigestItem, TrendPoint } from '../src/digest/types.js';

// --- Fixtures ---------------------------------------------------------------------------------------

const DOC: DigestItem = {
  kind: 'doc',
  token: 'UXEAd6cRUoj5pexJZr0cdwaFnpd',
  type: 'docx',
  url: 'https://sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaFnpd',
  title: 'Q3 roadmap',
};
const SHEET_URL = 'https://sample.feishu.cn/sheets/MRLOWBf6J47ZUjKEQ6ccXbJ5nNd';
const SHEET: DigestItem = {
  kind: 'doc',
  token: 'MRLOWBf6J47ZUjKEQ6ccXbJ5nNd',
  type: 'sheet',
  url: SHEET_URL,
};
const WORKPLACE: DigestItem = { kind: 'workplace' };
const APP: DigestItem = { kind: 'app', appId: 'cli_9f115af860f7901b' };

const INJECTION = '**bold** [click](https://evil.example) <at id=all></at> `code` :OK:';
const LONG_CJK_TITLE = '第三季度产品规划与复盘会议纪要（最终版）'.repeat(10);

/** Seven days up to the digest date, each point's delta from the one before. */
function week(values: readonly number[], lastDate = 20): TrendPoint[] {
  return values.map((value, i) => {
    const previous = values[i - 1];
    return {
      date: `2026-11-${String(lastDate - values.length + 1 + i).padStart(2, '0')}`,
      value,
      delta: previous === undefined ? null : value - previous,
    };
  });
}

const FETCHED_AT = Date.UTC(2026, 10, 20, 2, 25);

function docEntry(overrides: Partial<DigestCardItem> = {}): DigestCardItem {
  return {
    item: DOC,
    current: { figures: { pv: 1234, uv: 210, likes: 12 }, fetchedAt: FETCHED_AT },
    previous: { pv: 1178, uv: 207, likes: 12 },
    trend: week([1000, 1040, 1090, 1120, 1150, 1178, 1234]),
    ...overrides,
  };
}

function digestInput(overrides: Partial<DigestCardInput> = {}): DigestCardInput {
  return {
    date: '2026-11-20',
    timeZone: 'Asia/Shanghai',
    items: [
      docEntry(),
      {
        item: WORKPLACE,
        current: { figures: { pv: 5400, uv: 870 }, date: '2026-11-19', fetchedAt: FETCHED_AT },
        previous: { pv: 5600, uv: 900 },
        trend: week([5100, 5300, 5600, 5400], 19),
      },
      {
        item: APP,
        label: 'Expense helper',
        current: { figures: { uv: 96 }, date: '2026-11-19', fetchedAt: FETCHED_AT },
        trend: week([96], 19),
      },
    ],
    firstDigest: false,
    ...overrides,
  };
}

/** Twenty documents with 200-character CJK titles, copied links and full trends: the worst realistic card. */
function twentyLongItems(url: (i: number) => string): DigestCardItem[] {
  return Array.from({ length: 20 }, (_, i) => {
    const token = `UXEAd6cRUoj5pexJZr0cdwaF${String(i).padStart(3, '0')}`;
    return {
      item: { kind: 'doc', token, type: 'docx', url: url(i), title: LONG_CJK_TITLE } satisfies DigestItem,
      label: LONG_CJK_TITLE,
      current: { figures: { pv: 12_345_678, uv: 2_345_678, likes: 123_456 }, fetchedAt: FETCHED_AT },
      previous: { pv: 12_300_000, uv: 2_300_000, likes: 123_000 },
      trend: week([12_000_000, 12_050_000, 12_100_000, 12_150_000, 12_200_000, 12_300_000, 12_345_678]),
    };
  });
}

const copiedLink = (i: number) =>
  `https://sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaF${String(i).padStart(3, '0')}?from=from_copylink`;

function removeValue(item: DigestItem): Record<string, unknown> {
  return { v: 1, a: 'digest_remove', k: item.kind === 'doc' ? `doc-${item.type}-${item.token}` : item.kind };
}

function subscriptionsInput(overrides: Partial<SubscriptionsCardInput> = {}): SubscriptionsCardInput {
  return {
    items: [DOC, WORKPLACE, APP].map((item) => ({ item, removeValue: removeValue(item) })),
    time: { hour: 10, minute: 30 },
    timeIsDefault: true,
    timeZone: 'Asia/Shanghai',
    // 2026-11-21 02:30 UTC is 10:30 in Shanghai.
    nextDigestAt: Date.UTC(2026, 10, 21, 2, 30),
    max: 20,
    ...overrides,
  };
}

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

function hasElement(card: Card, id: string): boolean {
  return collectObjects(card.body).some((o) => o.element_id === id);
}

function textOf(node: Json, locale: 'zh_cn' | 'en_us'): string {
  return collectObjects(node)
    .map((o) => (o.i18n_content as Record<string, string> | undefined)?.[locale])
    .filter((s): s is string => typeof s === 'string')
    .join('\n');
}

function markdownText(card: Card, locale: 'zh_cn' | 'en_us'): string {
  return textOf(card.body as unknown as Json, locale);
}

/** The item text of a subscriptions row, without its button. */
function rowText(card: Card, id: string, locale: 'zh_cn' | 'en_us'): string {
  const text = collectObjects(byElementId(card, id)).find((o) => o.tag === 'markdown');
  return text ? textOf(text, locale) : '';
}

function decodeEntities(text: string): string {
  return text.replace(/&#(\d+);/g, (_, code: string) => String.fromCodePoint(Number(code)));
}

interface ChartSpec {
  type: string;
  xField: string;
  yField: string;
  data: { values: Array<{ date: string; value: number; delta: number | null }> };
}

function chartSpec(card: Card, id: string): ChartSpec {
  return byElementId(card, id).chart_spec as ChartSpec;
}

function bodyIds(card: Card): string[] {
  return card.body.elements.map((e) => e.element_id ?? `(${e.tag})`);
}

/** Every button's label and callback value, in card order. */
function buttons(card: Card): Array<{ id: unknown; label: string; value: unknown }> {
  return byTag(card, 'button').map((b) => ({
    id: b.element_id,
    label: String((b.text as Json).content),
    value: (b.behaviors as Json[])[0]?.value,
  }));
}

/** The body `im/v1/messages` sends, built as src/feishu/im.ts builds it, with the longest ids the bot uses. */
function requestBodyBytes(card: Card): number {
  const body = {
    receive_id: `oc_${'a'.repeat(32)}`,
    msg_type: 'interactive',
    content: JSON.stringify(card),
    uuid: `dg-${'f'.repeat(40)}`,
  };
  return Buffer.byteLength(JSON.stringify(body), 'utf8');
}

const KNOWN_TAGS = new Set(['markdown', 'plain_text', 'column_set', 'column', 'button', 'hr', 'chart']);

/** The Card JSON 2.0 rules every card in this project keeps (see test/cards.test.ts, "every card"). */
function expectValidCard(card: Card): void {
  expect(card.schema).toBe('2.0');
  expect(card.config.locales).toEqual(['zh_cn', 'en_us']);
  expect(cardByteSize(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
  const objects = collectObjects([card.header, card.body]);
  expect(objects.filter((o) => typeof o.tag === 'string').length).toBeLessThanOrEqual(200);
  expect(byTag(card, 'chart').length).toBeLessThanOrEqual(5);
  const ids = collectObjects(card.body)
    .map((o) => o.element_id)
    .filter((id) => id !== undefined);
  expect(new Set(ids).size).toBe(ids.length);
  for (const id of ids) expect(id).toMatch(/^[A-Za-z][A-Za-z0-9_]{0,19}$/);
  for (const o of collectObjects(card.body))
    if (typeof o.tag === 'string') expect(KNOWN_TAGS).toContain(o.tag);
  for (const node of objects.filter((o) => o.tag === 'markdown' || o.tag === 'plain_text')) {
    const i18n = node.i18n_content as Record<string, string> | undefined;
    expect(i18n?.zh_cn).toMatch(/\S/);
    expect(i18n?.en_us).toMatch(/\S/);
    expect(node.content).toBe(i18n?.en_us);
  }
}

// --- sparkline ------------------------------------------------------------------------------------

describe('sparkline', () => {
  it('spreads values over the eight bars, lowest to highest', () => {
    expect(sparkline([1, 2, 3, 4, 5, 6, 7, 8])).toBe('▁▂▃▄▅▆▇█');
    expect(sparkline([8, 1])).toBe('█▁');
    expect(sparkline([-10, 0, 10])).toBe('▁▅█');
  });

  it('scales to the range of the values, not to zero', () => {
    expect(sparkline([1_000_000, 1_000_007])).toBe('▁█');
  });

  it('draws a flat series mid-height and one character per value', () => {
    expect(sparkline([5, 5, 5])).toBe('▄▄▄');
    expect(sparkline([42])).toBe('▄');
    expect(sparkline([])).toBe('');
  });

  it('leaves a gap for a value that is not a number', () => {
    expect(sparkline([1, Number.NaN, 3])).toBe('▁ █');
    expect(sparkline([Number.NaN])).toBe(' ');
  });
});

// --- buildDigestCard ------------------------------------------------------------------------------

describe('buildDigestCard', () => {
  it('is titled with the date in both languages and says how many items and which zone', () => {
    const card = buildDigestCard(digestInput());
    expect(card.header.title.i18n_content).toEqual({
      en_us: 'Daily digest · 2026-11-20',
      zh_cn: '每日数据 · 2026-11-20',
    });
    expect(card.header.template).toBe('indigo');
    expect(card.header.subtitle?.i18n_content).toEqual({
      en_us: '3 items · Asia/Shanghai',
      zh_cn: '3 项 · Asia/Shanghai',
    });
    expect(card.config.summary.content).toBe('Daily digest · 2026-11-20 · 3 items');
    expectValidCard(card);
  });

  it('shows each figure with its change since the previous digest', () => {
    const card = buildDigestCard(digestInput());
    const doc = byElementId(card, 'item_1');
    expect(textOf(doc, 'en_us')).toContain('Views 1,234 (+56) · Visitors 210 (+3) · Likes 12 (±0)');
    expect(textOf(doc, 'zh_cn')).toContain('访问次数 1,234（+56） · 访问人数 210（+3） · 点赞 12（±0）');
    expect(textOf(byElementId(card, 'item_2'), 'en_us')).toContain('Views 5,400 (-200) · Visitors 870 (-30)');
  });

  it('shows no change for a metric missing on either side', () => {
    const card = buildDigestCard(
      digestInput({
        items: [
          // Likes vanished (a sheet has none) and visitors were not reported last time.
          docEntry({
            item: SHEET,
            current: { figures: { pv: 300, uv: 40 }, fetchedAt: FETCHED_AT },
            previous: { pv: 280, likes: 3 },
          }),
        ],
      }),
    );
    const en = textOf(byElementId(card, 'item_1'), 'en_us');
    expect(en).toContain('Views 300 (+20) · Visitors 40');
    expect(en).not.toContain('Visitors 40 (');
    expect(en).not.toContain('Likes');
  });

  it('marks a new item instead of showing changes, except in the first digest where the note says why', () => {
    const input = digestInput({ items: [docEntry({ previous: undefined })] });
    const later = byElementId(buildDigestCard(input), 'item_1');
    expect(textOf(later, 'en_us')).toContain('**New**');
    expect(textOf(later, 'zh_cn')).toContain('**新增**');
    expect(textOf(later, 'en_us')).toContain('Views 1,234 · Visitors 210 · Likes 12');
    expect(textOf(later, 'en_us')).not.toMatch(/\(\+/);
    expect(hasElement(buildDigestCard(input), 'digest_first')).toBe(false);

    const first = buildDigestCard({ ...input, firstDigest: true });
    expect(textOf(byElementId(first, 'item_1'), 'en_us')).not.toContain('New');
    expect(textOf(byElementId(first, 'digest_first'), 'en_us')).toContain(
      'history starts today, so changes appear from tomorrow',
    );
    expect(textOf(byElementId(first, 'digest_first'), 'zh_cn')).toContain('明天起');
    expect(bodyIds(first)[0]).toBe('digest_first');
  });

  it('says which day the figures of workplace and app items are for, and labels app figures as users', () => {
    const card = buildDigestCard(digestInput());
    expect(textOf(byElementId(card, 'item_2'), 'en_us')).toMatch(
      /^\*\*2\.\*\* Workplace · figures for 2026-11-19/,
    );
    expect(textOf(byElementId(card, 'item_2'), 'zh_cn')).toMatch(/^\*\*2\.\*\* 工作台 · 2026-11-19 的数据/);
    expect(textOf(byElementId(card, 'item_3'), 'en_us')).toContain('Active users 96');
    expect(textOf(byElementId(card, 'item_1'), 'en_us')).not.toContain('figures for');
    expect(textOf(byElementId(card, 'digest_note'), 'en_us')).toContain('for the day named');
    const docsOnly = buildDigestCard(digestInput({ items: [docEntry()] }));
    expect(textOf(byElementId(docsOnly, 'digest_note'), 'en_us')).not.toContain('day named');
  });

  it('names items: a linked document title, Workplace, the app name or else its id', () => {
    const card = buildDigestCard(digestInput());
    expect(textOf(byElementId(card, 'item_1'), 'en_us')).toMatch(
      /^\*\*1\.\*\* \[Q3 roadmap\]\(https:\/\/sample\.feishu\.cn\/docx\/UXEAd6cRUoj5pexJZr0cdwaFnpd\) · Doc\n/,
    );
    expect(textOf(byElementId(card, 'item_1'), 'zh_cn')).toContain(') · 文档');
    expect(textOf(byElementId(card, 'item_3'), 'en_us')).toContain('App Expense helper');

    const fallbacks = buildDigestCard(
      digestInput({
        items: [
          docEntry({ item: SHEET }),
          docEntry({ label: 'Sales plan' }),
          { item: APP, trend: [], current: { figures: { uv: 1 }, fetchedAt: FETCHED_AT } },
        ],
      }),
    );
    expect(textOf(byElementId(fallbacks, 'item_1'), 'en_us')).toContain(`](${SHEET_URL})`);
    expect(decodeEntities(textOf(byElementId(fallbacks, 'item_1'), 'en_us'))).toContain(
      '[https://sample.feishu.cn/sheets/MRLO',
    );
    expect(textOf(byElementId(fallbacks, 'item_2'), 'en_us')).toContain('[Sales plan](');
    expect(decodeEntities(textOf(byElementId(fallbacks, 'item_3'), 'zh_cn'))).toContain(
      '应用 cli_9f115af860f7901b',
    );
  });

  it('escapes titles and keeps a URL with parentheses inside its link', () => {
    const card = buildDigestCard(
      digestInput({
        items: [
          docEntry({ label: INJECTION, item: { ...DOC, url: 'https://sample.feishu.cn/docx/Abc(1)' } }),
        ],
      }),
    );
    const en = markdownText(card, 'en_us');
    expect(en).not.toContain('<at');
    expect(en).not.toContain('**bold**');
    expect(en).toContain('(https://sample.feishu.cn/docx/Abc%281%29)');
    expect(decodeEntities(textOf(byElementId(card, 'item_1'), 'en_us'))).toContain(INJECTION.slice(0, 30));
  });

  it('explains an item it could not fetch, with its own words or a default, and still numbers it', () => {
    const card = buildDigestCard(
      digestInput({
        items: [
          {
            item: DOC,
            previous: { pv: 1178 },
            trend: [],
            // Markdown, like explainFeishuCode().meaning: shown as written.
            error: {
              zh: '机器人没有这个文档的**权限**',
              en: 'The bot has no `manage` access to this document',
            },
          },
          { item: APP, trend: [] },
        ],
      }),
    );
    expect(textOf(byElementId(card, 'item_1'), 'en_us')).toContain(
      '- ⚠️ The bot has no `manage` access to this document',
    );
    expect(textOf(byElementId(card, 'item_1'), 'zh_cn')).toContain('- ⚠️ 机器人没有这个文档的**权限**');
    expect(textOf(byElementId(card, 'item_1'), 'en_us')).not.toContain('Views');
    expect(textOf(byElementId(card, 'item_2'), 'en_us')).toContain("Today's figures could not be fetched.");
    expect(byTag(card, 'chart')).toHaveLength(0);
  });

  it('draws a sparkline of the primary metric for every item with a trend', () => {
    const card = buildDigestCard(digestInput());
    expect(textOf(byElementId(card, 'item_1'), 'en_us')).toContain('- Views, last 7 days: ▁▂▄▅▅▆█');
    expect(textOf(byElementId(card, 'item_1'), 'zh_cn')).toContain('- 近 7 天访问次数：▁▂▄▅▅▆█');
    expect(textOf(byElementId(card, 'item_3'), 'en_us')).toContain('- Active users, last 7 days: ▄');
    const noTrend = buildDigestCard(digestInput({ items: [docEntry({ trend: [] })] }));
    expect(textOf(byElementId(noTrend, 'item_1'), 'en_us')).not.toContain('last 7 days');
  });

  it('charts the trend under its item when it has two points or more, with date, value and delta', () => {
    const card = buildDigestCard(digestInput());
    // The app has a single point: a sparkline, no chart.
    expect(bodyIds(card)).toEqual(['item_1', 'trend_1', 'item_2', 'trend_2', 'item_3', 'digest_note']);
    const spec = chartSpec(card, 'trend_2');
    expect(spec).toMatchObject({ type: 'line', xField: 'date', yField: 'value' });
    expect(spec.data.values).toEqual([
      { date: '2026-11-16', value: 5100, delta: null },
      { date: '2026-11-17', value: 5300, delta: 200 },
      { date: '2026-11-18', value: 5600, delta: 300 },
      { date: '2026-11-19', value: 5400, delta: -200 },
    ]);
  });

  it(`charts at most ${MAX_DIGEST_CHARTS} items, the first ones that have a trend`, () => {
    const items = Array.from({ length: 9 }, (_, i) =>
      docEntry({ trend: i === 1 ? week([5]) : week([i, i + 1]) }),
    );
    const card = buildDigestCard(digestInput({ items }));
    const charts = byTag(card, 'chart').map((c) => c.element_id);
    expect(charts).toEqual(['trend_1', 'trend_2', 'trend_3', 'trend_4', 'trend_5']);
    // Item 2 has one point, so the fifth chart belongs to item 6.
    const ids = bodyIds(card);
    expect(ids.indexOf('trend_5')).toBe(ids.indexOf('item_6') + 1);
    expect(ids.slice(ids.indexOf('item_7'))).not.toContain('trend_6');
    expect(chartSpec(card, 'trend_5').data.values.map((p) => p.value)).toEqual([5, 6]);
  });

  it('fits 20 items with long titles and full trends in 30 KB and 200 components, links and charts kept', () => {
    const card = buildDigestCard(digestInput({ items: twentyLongItems(copiedLink) }));
    expectValidCard(card);
    expect(byTag(card, 'chart')).toHaveLength(5);
    for (let i = 1; i <= 20; i++) {
      expect(textOf(byElementId(card, `item_${i}`), 'en_us')).toContain(`](${copiedLink(i - 1)})`);
      expect(textOf(byElementId(card, `item_${i}`), 'en_us')).toContain('(+45,678)');
    }
  });

  it('drops charts, then links, rather than go over 30 KB when links are unusually long', () => {
    const huge = (i: number) => `${copiedLink(i)}&q=${'x'.repeat(900)}`;
    const card = buildDigestCard(digestInput({ items: twentyLongItems(huge) }));
    expectValidCard(card);
    expect(byTag(card, 'chart')).toHaveLength(0);
    for (let i = 1; i <= 20; i++) {
      const en = textOf(byElementId(card, `item_${i}`), 'en_us');
      expect(en).toContain('Views 12,345,678 (+45,678)');
      expect(en).toContain('▁');
    }
  });

  it('keeps the request body, where the card is string-encoded a second time, within 30 KB at every link length', () => {
    // Around 48 extra characters per link, a card of 29.9 KB JSON becomes a 31.2 KB request: the old measure
    // (the card's own JSON) let it through, and Feishu would have refused it with 230025.
    let trimmedBelowLimit = 0;
    for (let extra = 0; extra <= 200; extra += 4) {
      const url = (i: number) => `${copiedLink(i)}${'&x=1'.repeat(extra / 4)}`;
      const card = buildDigestCard(digestInput({ items: twentyLongItems(url) }));
      expect(requestBodyBytes(card), `${extra} extra characters`).toBeLessThanOrEqual(MAX_CARD_BYTES);
      const cardJson = Buffer.byteLength(JSON.stringify(card), 'utf8');
      if (byTag(card, 'chart').length === 0 && cardJson < MAX_CARD_BYTES - 1_500) trimmedBelowLimit += 1;
    }
    // Some lengths were trimmed although the card alone was well under 30 KB: the body is what was measured.
    expect(trimmedBelowLimit).toBeGreaterThan(0);
  });

  it('says so when there is nothing to report', () => {
    const card = buildDigestCard(digestInput({ items: [] }));
    expect(textOf(byElementId(card, 'digest_empty'), 'en_us')).toContain('no digest items');
    expectValidCard(card);
  });

  it('matches its snapshot', () => {
    expect(buildDigestCard(digestInput())).toMatchSnapshot();
    expect(
      buildDigestCard(
        digestInput({
          firstDigest: true,
          items: digestInput().items.map(({ previous: _previous, ...entry }) => entry),
        }),
      ),
    ).toMatchSnapshot();
  });
});

// --- weekly and monthly digests --------------------------------------------------------------------

/** A weekly digest on Monday 2026-11-30 comparing with the snapshots of 2026-11-23. */
function weeklyInput(overrides: Partial<DigestCardInput> = {}): DigestCardInput {
  return {
    date: '2026-11-30',
    timeZone: 'Asia/Shanghai',
    period: { kind: 'weekly', since: '2026-11-23' },
    trendDays: 7,
    firstDigest: false,
    items: [
      {
        item: DOC,
        current: { figures: { pv: 1234, uv: 210, likes: 12 }, fetchedAt: FETCHED_AT },
        // The previous digest's figures are not what a weekly digest compares with.
        previous: { pv: 1, uv: 1, likes: 1 },
        baseline: { date: '2026-11-23', figures: { pv: 1164, uv: 203, likes: 12 } },
        trend: week([1174, 1184, 1194, 1204, 1214, 1224, 1234], 30),
      },
      {
        item: WORKPLACE,
        current: { figures: { pv: 5400, uv: 870 }, date: '2026-11-29', fetchedAt: FETCHED_AT },
        baseline: { date: '2026-11-22', figures: { pv: 5600, uv: 850 } },
        trend: week([5100, 5300, 5600, 5400], 29),
      },
    ],
    ...overrides,
  };
}

describe('buildDigestCard: weekly and monthly', () => {
  it('a weekly digest is titled so and says what each document gained in the last 7 days', () => {
    const card = buildDigestCard(weeklyInput());
    expect(card.header.title.i18n_content).toEqual({
      en_us: 'Weekly digest · 2026-11-30',
      zh_cn: '每周数据 · 2026-11-30',
    });
    const doc = textOf(byElementId(card, 'item_1'), 'en_us');
    expect(doc).toContain('Views 1,234 · Visitors 210 · Likes 12');
    expect(doc).toContain('**Gained in the last 7 days:** Views +70 · Visitors +7 · Likes ±0');
    // Totals carry no bracketed change: that is the daily digest's "since the previous digest".
    expect(doc).not.toContain('(+');
    expect(textOf(byElementId(card, 'item_1'), 'zh_cn')).toContain(
      '**近 7 天新增**：访问次数 +70 · 访问人数 +7 · 点赞 ±0',
    );
    expect(doc).toContain('Views, last 7 days:');
    expectValidCard(card);
  });

  it('compares workplace and app figures with the same day a week earlier', () => {
    const card = buildDigestCard(weeklyInput());
    const en = textOf(byElementId(card, 'item_2'), 'en_us');
    expect(en).toContain('figures for 2026-11-29');
    expect(en).toContain('**Compared with 2026-11-22:** Views -200 · Visitors +20');
    expect(textOf(byElementId(card, 'digest_note'), 'en_us')).toContain(
      'what they gained since 2026-11-23; workplace and app figures are compared with the same day a week earlier',
    );
  });

  it('says since when when an item’s history starts inside the week, and when there is none yet', () => {
    const [doc] = weeklyInput().items;
    if (!doc) throw new Error('fixture');
    const card = buildDigestCard(
      weeklyInput({
        items: [
          { ...doc, baseline: { date: '2026-11-27', figures: { pv: 1200, uv: 205 } } },
          { ...doc, baseline: undefined },
        ],
      }),
    );
    const short = textOf(byElementId(card, 'item_1'), 'en_us');
    expect(short).toContain(
      '**Gained since 2026-11-27** (nothing recorded on 2026-11-23): Views +34 · Visitors +5',
    );
    expect(short).not.toContain('Likes +');
    expect(textOf(byElementId(card, 'item_1'), 'zh_cn')).toContain(
      '**自 2026-11-27 以来新增**（2026-11-23 没有记录）',
    );
    expect(textOf(byElementId(card, 'item_2'), 'en_us')).toContain('No earlier figures on record yet');
    // No "New" marker or first-digest note: the change line says it.
    expect(short).not.toContain('**New**');
    expect(hasElement(buildDigestCard(weeklyInput({ firstDigest: true })), 'digest_first')).toBe(false);
  });

  it('a monthly digest says what each document gained since the same day last month, over a 30-day trend', () => {
    const trend = Array.from({ length: 30 }, (_, i) => ({
      date: i < 29 ? `2026-11-${String(i + 2).padStart(2, '0')}` : '2026-12-01',
      value: 1000 + 10 * (i + 1),
      delta: 10,
    }));
    const card = buildDigestCard({
      date: '2026-12-01',
      timeZone: 'Asia/Shanghai',
      period: { kind: 'monthly', since: '2026-11-01' },
      trendDays: 30,
      firstDigest: false,
      items: [
        {
          item: DOC,
          current: { figures: { pv: 1300, uv: 230 }, fetchedAt: FETCHED_AT },
          baseline: { date: '2026-11-01', figures: { pv: 1000, uv: 200 } },
          trend,
        },
      ],
    });
    expect(card.header.title.i18n_content).toEqual({
      en_us: 'Monthly digest · 2026-12-01',
      zh_cn: '每月数据 · 2026-12-01',
    });
    const en = textOf(byElementId(card, 'item_1'), 'en_us');
    expect(en).toContain('**Gained since 2026-11-01:** Views +300 · Visitors +30');
    expect(en).toContain('Views, last 30 days:');
    expect(textOf(byElementId(card, 'item_1'), 'zh_cn')).toContain(
      '**自 2026-11-01 以来新增**：访问次数 +300',
    );
    expect(textOf(byElementId(card, 'digest_note'), 'en_us')).toContain('the same day a month earlier');
    expect(chartSpec(card, 'trend_1').data.values).toHaveLength(30);
    expectValidCard(card);
  });

  it('fits 20 items with long titles and 31-day trends in 30 KB', () => {
    const month = Array.from({ length: 31 }, (_, i) => ({
      date: `2026-12-${String(i + 1).padStart(2, '0')}`,
      value: 12_000_000 + i * 11_111,
      delta: 11_111,
    }));
    const items = twentyLongItems(copiedLink).map((entry) => ({
      ...entry,
      baseline: { date: '2026-12-01', figures: { pv: 12_000_000, uv: 2_300_000, likes: 123_000 } },
      trend: month,
    }));
    const card = buildDigestCard({
      date: '2027-01-01',
      timeZone: 'Asia/Shanghai',
      period: { kind: 'monthly', since: '2026-12-01' },
      trendDays: 31,
      firstDigest: false,
      items,
    });
    expectValidCard(card);
    expect(requestBodyBytes(card)).toBeLessThanOrEqual(MAX_CARD_BYTES);
    for (let i = 1; i <= 20; i++) {
      expect(textOf(byElementId(card, `item_${i}`), 'en_us')).toContain('Views +345,678');
    }
  });

  it('matches its snapshot', () => {
    expect(buildDigestCard(weeklyInput())).toMatchSnapshot();
  });
});

// --- buildSubscriptionsCard -----------------------------------------------------------------------

describe('buildSubscriptionsCard', () => {
  it('numbers the items as `digest remove` counts them, each with a Remove button carrying its value', () => {
    const input = subscriptionsInput();
    const card = buildSubscriptionsCard(input);
    expect(buttons(card)).toEqual(
      input.items.map((entry, i) => ({ id: `rm_${i + 1}`, label: 'Remove', value: entry.removeValue })),
    );
    expect(byTag(card, 'button').map((b) => (b.text as Json).i18n_content)).toEqual(
      input.items.map(() => ({ zh_cn: '移除', en_us: 'Remove' })),
    );
    expect(rowText(card, 'row_1', 'en_us')).toMatch(/^\*\*1\.\*\* \[Q3 roadmap\]\(https:.*\) · Doc$/);
    expect(rowText(card, 'row_2', 'zh_cn')).toBe('**2.** 工作台');
    expect(decodeEntities(rowText(card, 'row_3', 'en_us'))).toBe('**3.** App cli_9f115af860f7901b');
  });

  it('passes a remove value through untouched, whatever its shape', () => {
    const value = { v: 1, a: 'digest_remove', k: 'app-cli_9f115af860f7901b', n: [1, { deep: true }] };
    const card = buildSubscriptionsCard(
      subscriptionsInput({ items: [{ item: APP, label: 'Expense helper', removeValue: value }] }),
    );
    expect(buttons(card)[0]?.value).toEqual(value);
    // A named app keeps its id beside the name: two apps may share one.
    expect(decodeEntities(rowText(card, 'row_1', 'en_us'))).toBe(
      '**1.** App Expense helper · cli_9f115af860f7901b',
    );
  });

  it('shows the time, the zone, whose time it is, the next digest in that zone and the count', () => {
    const card = buildSubscriptionsCard(subscriptionsInput());
    const en = textOf(byElementId(card, 'subs_schedule'), 'en_us');
    expect(en).toContain('**Daily at 10:30** (Asia/Shanghai, the default time)');
    expect(en).toContain('Next digest: 2026-11-21 10:30');
    expect(en).toContain('3 of 20 items');
    const zh = textOf(byElementId(card, 'subs_schedule'), 'zh_cn');
    expect(zh).toContain('**每天 10:30 推送**（Asia/Shanghai，默认时间）');
    expect(zh).toContain('已订阅 3 / 20 项');

    const own = buildSubscriptionsCard(
      subscriptionsInput({
        time: { hour: 7, minute: 5 },
        timeIsDefault: false,
        timeZone: 'America/New_York',
        // 12:05 UTC on a winter day is 07:05 in New York (EST, UTC−5).
        nextDigestAt: Date.UTC(2026, 11, 1, 12, 5),
      }),
    );
    const ownText = decodeEntities(textOf(byElementId(own, 'subs_schedule'), 'en_us'));
    expect(ownText).toContain("**Daily at 07:05** (America/New_York, this chat's own time)");
    expect(ownText).toContain('Next digest: 2026-12-01 07:05');
  });

  it('says how often: weekly on its weekday, monthly on its day, in both languages and the title', () => {
    const weekly = buildSubscriptionsCard(subscriptionsInput({ cadence: { kind: 'weekly', weekday: 5 } }));
    expect(textOf(byElementId(weekly, 'subs_schedule'), 'en_us')).toContain(
      '**Weekly on Friday at 10:30** (Asia/Shanghai, the default time)',
    );
    expect(textOf(byElementId(weekly, 'subs_schedule'), 'zh_cn')).toContain('**每周五 10:30 推送**');
    expect(weekly.header.title.i18n_content).toEqual({
      en_us: 'Weekly digest · subscriptions',
      zh_cn: '每周数据 · 订阅',
    });
    expect(weekly.header.subtitle?.i18n_content?.en_us).toBe('3 of 20 items · weekly on Friday at 10:30');

    const monthly = buildSubscriptionsCard(subscriptionsInput({ cadence: { kind: 'monthly', day: 22 } }));
    expect(textOf(byElementId(monthly, 'subs_schedule'), 'en_us')).toContain(
      '**Monthly on the 22nd at 10:30**',
    );
    expect(textOf(byElementId(monthly, 'subs_schedule'), 'zh_cn')).toContain('**每月 22 日 10:30 推送**');
    expect(monthly.config.summary.i18n_content).toEqual({
      en_us: 'Monthly digest · 3 of 20 items',
      zh_cn: '每月数据订阅 · 3 / 20 项',
    });
    // No cadence is daily, worded as it always was.
    expect(
      textOf(byElementId(buildSubscriptionsCard(subscriptionsInput()), 'subs_schedule'), 'en_us'),
    ).toContain('**Daily at 10:30**');
  });

  it('leaves out the next digest when it is not known', () => {
    const card = buildSubscriptionsCard(subscriptionsInput({ nextDigestAt: undefined }));
    expect(textOf(byElementId(card, 'subs_schedule'), 'en_us')).not.toContain('Next digest');
  });

  it('tells an empty chat how to add each kind of item, with no buttons', () => {
    const card = buildSubscriptionsCard(subscriptionsInput({ items: [] }));
    const en = textOf(byElementId(card, 'subs_empty'), 'en_us');
    expect(en).toContain('`digest add ‹document link›`');
    expect(en).toContain('`digest add workplace`');
    expect(en).toContain('`digest add app cli_…`');
    expect(textOf(byElementId(card, 'subs_empty'), 'zh_cn')).toContain('`订阅 添加 工作台`');
    expect(byTag(card, 'button')).toHaveLength(0);
    expect(textOf(byElementId(card, 'subs_schedule'), 'en_us')).toContain('0 of 20 items');
  });

  it('warns when the digest is paused', () => {
    const card = buildSubscriptionsCard(subscriptionsInput({ paused: true }));
    expect(textOf(byElementId(card, 'subs_paused'), 'en_us')).toContain('paused');
    expect(textOf(byElementId(card, 'subs_paused'), 'zh_cn')).toContain('已暂停');
    expect(card.header.template).toBe('orange');
    expect(hasElement(buildSubscriptionsCard(subscriptionsInput()), 'subs_paused')).toBe(false);
  });

  it('leads with the notice, markdown as the caller wrote it, and keeps the plain summary', () => {
    const card = buildSubscriptionsCard(
      subscriptionsInput({
        notice: { kind: 'success', text: { zh: '已添加「**Q3 roadmap**」', en: 'Added “**Q3 roadmap**”' } },
      }),
    );
    expect(bodyIds(card)[0]).toBe('subs_notice');
    expect(textOf(byElementId(card, 'subs_notice'), 'en_us')).toBe('✅ Added “**Q3 roadmap**”');
    expect(textOf(byElementId(card, 'subs_notice'), 'zh_cn')).toBe('✅ 已添加「**Q3 roadmap**」');
    expect(card.config.summary.i18n_content).toEqual({
      en_us: 'Daily digest · 3 of 20 items',
      zh_cn: '每日数据订阅 · 3 / 20 项',
    });
    expect(card.header.template).toBe('indigo');

    const full = buildSubscriptionsCard(
      subscriptionsInput({ notice: { kind: 'warning', text: { zh: '已达上限', en: 'Limit reached' } } }),
    );
    expect(textOf(byElementId(full, 'subs_notice'), 'zh_cn')).toBe('⚠️ 已达上限');
    expect(full.header.template).toBe('orange');
  });

  it('fits 20 items with long titles in 30 KB and 200 components, falling back to shorter names', () => {
    const items = twentyLongItems(copiedLink).map(({ item, label }) => ({
      item,
      ...(label ? { label } : {}),
      removeValue: removeValue(item),
    }));
    const card = buildSubscriptionsCard(subscriptionsInput({ items }));
    expectValidCard(card);
    expect(buttons(card)).toHaveLength(20);
    expect(rowText(card, 'row_20', 'en_us')).toContain(`](${copiedLink(19)})`);

    const huge = items.map((entry, i) => ({
      ...entry,
      item: { ...entry.item, url: `${copiedLink(i)}&q=${'x'.repeat(900)}` } as DigestItem,
    }));
    const lean = buildSubscriptionsCard(subscriptionsInput({ items: huge }));
    expectValidCard(lean);
    expect(buttons(lean).map((b) => b.value)).toEqual(items.map((entry) => entry.removeValue));
  });

  it('keeps every state a valid card', () => {
    for (const input of [
      subscriptionsInput(),
      subscriptionsInput({ items: [] }),
      subscriptionsInput({ paused: true, timeIsDefault: false, nextDigestAt: undefined }),
    ]) {
      expectValidCard(buildSubscriptionsCard(input));
    }
  });

  it('matches its snapshots', () => {
    expect(buildSubscriptionsCard(subscriptionsInput({ items: [] }))).toMatchSnapshot();
    expect(
      buildSubscriptionsCard(
        subscriptionsInput({
          notice: { kind: 'success', text: { zh: '已添加 Q3 roadmap', en: 'Added Q3 roadmap' } },
        }),
      ),
    ).toMatchSnapshot();
    expect(
      buildSubscriptionsCard(
        subscriptionsInput({ paused: true, timeIsDefault: false, time: { hour: 9, minute: 0 } }),
      ),
    ).toMatchSnapshot();
  });
});
