/**
 * The digest: one card per chat with each subscribed item's figures, their change, and a trend. A daily digest
 * shows the change since that chat's previous digest and 7 days of trend; a weekly one what each item gained over
 * the last 7 days, and a monthly one since the same day last month, with the trend over that span. Feishu only
 * serves totals ("views so far") and single days, so every change and trend here comes from what the bot
 * recorded itself (src/digest/types.ts).
 *
 * Budget: 20 items with long titles and full trends must stay under 30 KB and 200 components, so each item is
 * one markdown element (title, figures and a unicode sparkline), and only the first five trends get a chart
 * (Feishu advises at most five per card). Should unusually long links still push the card over 30 KB, it is
 * rebuilt without charts and with shorter names rather than be refused (230025).
 * https://open.feishu.cn/document/feishu-cards/card-json-v2-components/content-components/chart
 */

import {
  buildCard,
  type Card,
  type CardElement,
  cardByteSize,
  escapeMarkdown,
  formatCount,
  greyNote,
  isWebUrl,
  MAX_CARD_BYTES,
  markdownDay,
  type OtherElement,
  truncateText,
} from './card.js';
import {
  type DigestFigures,
  type DigestItem,
  type ItemFigures,
  primaryMetric,
  type TrendPoint,
} from './data.js';
import { digestTitleName } from './digest-cadence.js';
import { type Bilingual, joinBilingual, mapBilingual, markdown } from './i18n.js';
import { describeDocType } from './stats-card.js';

export interface DigestCardItem {
  item: DigestItem;
  /** Doc title / app name; falls back to the item's own title, the doc URL, "Workplace", the app id. */
  label?: string;
  /** Absent when this item could not be fetched today. */
  current?: ItemFigures;
  /** The figures this chat's previous digest showed; absent = a new item. Daily digests only. */
  previous?: DigestFigures;
  /**
   * Weekly and monthly digests: the recorded figures the change is measured from, and the day they are for (for
   * documents the totals as of that day, for workplace and apps that day's own figures). Its date is the period's
   * start, or a later day when the bot's history of the item starts later; absent when there is none before today.
   */
  baseline?: { date: string; figures: DigestFigures };
  /** Ascending, one point per recorded day of the trend window (`trendDays`), of `primaryMetric(item)`. */
  trend: TrendPoint[];
  /**
   * Why `current` is missing, in user-facing words. Card markdown as given (like `explainFeishuCode().meaning`):
   * the caller escapes anything it quotes.
   */
  error?: Bilingual;
}

export interface DigestCardInput {
  /** Local date of this digest, yyyy-MM-dd. */
  date: string;
  timeZone: string;
  items: DigestCardItem[];
  /** The chat's first digest: there is nothing to compare with yet. Daily digests only. */
  firstDigest: boolean;
  /**
   * Absent for a daily digest. A weekly or monthly one measures each item's change from the bot's snapshots since
   * `since` (a week before `date`, or the same day a month before) instead of since the previous digest.
   */
  period?: { kind: 'weekly' | 'monthly'; since: string };
  /** How many days the trend covers, for its label; default 7. */
  trendDays?: number;
}

/** Feishu's advice for one card; the rest of the items keep their sparkline. */
export const MAX_DIGEST_CHARTS = 5;

/** How much of an item's name a card shows, and whether a document's name links to it. */
export interface NameLayout {
  maxChars: number;
  link: boolean;
}

/**
 * Long enough to recognise a document, short enough for 20 of them (each in three language copies) in 30 KB
 * with ordinary links. Unusually long URLs make the card fall back to the leaner layouts below.
 */
export const FULL_NAMES: NameLayout = { maxChars: 40, link: true };

type DigestLayout = NameLayout & { charts: number };

/** Tried in order; the last one always goes out, whatever it weighs. */
const LAYOUTS: readonly DigestLayout[] = [
  { ...FULL_NAMES, charts: MAX_DIGEST_CHARTS },
  { maxChars: 24, link: true, charts: 0 },
];
const LEANEST: DigestLayout = { maxChars: 16, link: false, charts: 0 };

const SPARK_BARS = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'] as const;

/**
 * One block character per value, scaled between the smallest and the largest. A flat series sits mid-height
 * (it has data, just no change); a value that is not a number is a gap.
 */
export function sparkline(values: number[]): string {
  const finite = values.filter((v) => Number.isFinite(v));
  if (finite.length === 0) return values.map(() => ' ').join('');
  const min = Math.min(...finite);
  const span = Math.max(...finite) - min;
  return values
    .map((v) => {
      if (!Number.isFinite(v)) return ' ';
      const level = span === 0 ? 3 : Math.round(((v - min) / span) * (SPARK_BARS.length - 1));
      return SPARK_BARS[level] ?? ' ';
    })
    .join('');
}

const METRIC_ORDER: ReadonlyArray<keyof DigestFigures> = ['pv', 'uv', 'likes'];

/** What each figure counts, by kind of item (src/digest/types.ts `DigestFigures`). */
function metricLabel(item: DigestItem, metric: keyof DigestFigures): Bilingual {
  if (item.kind === 'app') {
    return metric === 'uv' ? { zh: '活跃用户', en: 'Active users' } : { zh: '页面访问', en: 'Page views' };
  }
  switch (metric) {
    case 'pv':
      return { zh: '访问次数', en: 'Views' };
    case 'uv':
      return { zh: '访问人数', en: 'Visitors' };
    case 'likes':
      return { zh: '点赞', en: 'Likes' };
  }
}

function formatDelta(delta: number): string {
  if (delta === 0) return '±0';
  return delta > 0 ? `+${formatCount(delta)}` : `-${formatCount(-delta)}`;
}

/** `(` and `)` would end a markdown link target early; the percent-encoded forms mean the same URL. */
function markdownLinkTarget(url: string): string | undefined {
  if (!isWebUrl(url)) return undefined;
  return url.replace(
    /[()<>[\]`"'\\]/g,
    (ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );
}

/**
 * The item's name as card markdown, already escaped: a document's title linked to it, "Workplace", or the
 * app's name (else its id). The subscriptions card shows the same names.
 */
export function describeDigestItem(
  item: DigestItem,
  label?: string,
  layout: NameLayout = FULL_NAMES,
): Bilingual {
  const named = label?.trim();
  const shorten = (text: string) => escapeMarkdown(truncateText(text, layout.maxChars));
  switch (item.kind) {
    case 'doc': {
      const text = shorten(named || item.title?.trim() || item.url);
      const target = layout.link ? markdownLinkTarget(item.url) : undefined;
      const shown = target ? `[${text}](${target})` : text;
      return { zh: shown, en: shown };
    }
    case 'workplace':
      return named ? { zh: shorten(named), en: shorten(named) } : { zh: '工作台', en: 'Workplace' };
    case 'app': {
      const name = shorten(named || item.appId);
      return { zh: `应用 ${name}`, en: `App ${name}` };
    }
  }
}

/** "Doc", "Sheet", …: what a document item is; workplace and app items say so in their name. */
export function describeDigestKind(item: DigestItem): Bilingual | undefined {
  return item.kind === 'doc' ? describeDocType(item.type) : undefined;
}

function headingLine(
  entry: DigestCardItem,
  position: number,
  firstDigest: boolean,
  period: DigestCardInput['period'],
  layout: NameLayout,
): Bilingual {
  const parts: Bilingual[] = [
    joinBilingual([
      { zh: `**${position}.** `, en: `**${position}.** ` },
      describeDigestItem(entry.item, entry.label, layout),
    ]),
  ];
  const kind = describeDigestKind(entry.item);
  if (kind) parts.push(kind);
  if (entry.current?.date) {
    const day = markdownDay(entry.current.date);
    parts.push({ zh: `${day} 的数据`, en: `figures for ${day}` });
  }
  // In a first digest every item is new; the note at the top already says why nothing is compared. A period
  // digest compares with snapshots, and its change line says when there are none.
  if (!entry.previous && !firstDigest && !period) parts.push({ zh: '**新增**', en: '**New**' });
  return joinBilingual(parts, ' · ');
}

function figuresLine(entry: DigestCardItem, period: DigestCardInput['period']): Bilingual {
  const { current, item } = entry;
  // A period digest states its changes on a line of their own, against the baseline rather than the last digest.
  const previous = period ? undefined : entry.previous;
  if (!current) {
    const why = entry.error ?? { zh: '今天没有取到数据。', en: "Today's figures could not be fetched." };
    return { zh: `⚠️ ${why.zh}`, en: `⚠️ ${why.en}` };
  }
  const parts: Bilingual[] = [];
  for (const metric of METRIC_ORDER) {
    const value = current.figures[metric];
    if (value === undefined) continue;
    const before = previous?.[metric];
    const label = metricLabel(item, metric);
    const count = formatCount(value);
    // A metric missing on either side (a new item, a type without likes) has nothing to compare with.
    const delta =
      before === undefined || !Number.isFinite(value - before) ? undefined : formatDelta(value - before);
    parts.push({
      zh: `${label.zh} ${count}${delta ? `（${delta}）` : ''}`,
      en: `${label.en} ${count}${delta ? ` (${delta})` : ''}`,
    });
  }
  return parts.length > 0
    ? joinBilingual(parts, ' · ')
    : { zh: '飞书没有返回数据。', en: 'Feishu returned no figures.' };
}

/**
 * A weekly or monthly digest's change: what each document gained since the baseline (the period's start, or the
 * earliest day recorded after it when history starts later or that day is missing), or how a workplace or app figure compares with the same day a
 * period earlier. Undefined when the item has no figures today (its error line says why).
 */
function changeLine(
  entry: DigestCardItem,
  period: NonNullable<DigestCardInput['period']>,
): Bilingual | undefined {
  const { current, baseline, item } = entry;
  if (!current) return undefined;
  const parts: Bilingual[] = [];
  for (const metric of METRIC_ORDER) {
    const now = current.figures[metric];
    const before = baseline?.figures[metric];
    if (now === undefined || before === undefined || !Number.isFinite(now - before)) continue;
    const label = metricLabel(item, metric);
    const delta = formatDelta(now - before);
    parts.push({ zh: `${label.zh} ${delta}`, en: `${label.en} ${delta}` });
  }
  if (!baseline || parts.length === 0) {
    return {
      zh: '还没有更早的记录，下一份起显示变化。',
      en: 'No earlier figures on record yet: the change shows from the next digest.',
    };
  }
  const day = markdownDay(baseline.date);
  let lead: Bilingual;
  if (item.kind !== 'doc') {
    lead = { zh: `**与 ${day} 相比**：`, en: `**Compared with ${day}:** ` };
  } else if (baseline.date !== period.since) {
    // History that starts inside the period, or a day the bot could not record: say which figures it compares with.
    const missing = markdownDay(period.since);
    lead = {
      zh: `**自 ${day} 以来新增**（${missing} 没有记录）：`,
      en: `**Gained since ${day}** (nothing recorded on ${missing}): `,
    };
  } else if (period.kind === 'weekly') {
    lead = { zh: '**近 7 天新增**：', en: '**Gained in the last 7 days:** ' };
  } else {
    lead = { zh: `**自 ${day} 以来新增**：`, en: `**Gained since ${day}:** ` };
  }
  return joinBilingual([lead, joinBilingual(parts, ' · ')]);
}

function trendLine(entry: DigestCardItem, days: number): Bilingual | undefined {
  if (entry.trend.length === 0) return undefined;
  const label = metricLabel(entry.item, primaryMetric(entry.item));
  const bars = sparkline(entry.trend.map((p) => p.value));
  return { zh: `近 ${days} 天${label.zh}：${bars}`, en: `${label.en}, last ${days} days: ${bars}` };
}

/** One markdown element per item: heading, then list items (a lone `\n` is a soft break clients may drop). */
function itemMarkdown(
  entry: DigestCardItem,
  position: number,
  input: DigestCardInput,
  layout: NameLayout,
): CardElement {
  const { firstDigest, period } = input;
  const heading = headingLine(entry, position, firstDigest, period, layout);
  const lines = [
    figuresLine(entry, period),
    period ? changeLine(entry, period) : undefined,
    trendLine(entry, input.trendDays ?? 7),
  ].filter((line): line is Bilingual => line !== undefined);
  const text = joinBilingual([heading, ...lines.map((l) => mapBilingual(l, (t) => `- ${t}`))], '\n');
  return markdown(text, { element_id: `item_${position}` });
}

/**
 * A single-series VChart line. Each point keeps its `delta` as data: chart_spec takes no functions, so a
 * tooltip formatter cannot be sent, but the field is there for VChart's default tooltip and for tests.
 * https://www.visactor.io/vchart/option/lineChart
 */
function trendChart(id: string, trend: readonly TrendPoint[]): OtherElement {
  return {
    tag: 'chart',
    element_id: id,
    aspect_ratio: '2:1',
    chart_spec: {
      type: 'line',
      data: { values: trend.map(({ date, value, delta }) => ({ date, value, delta })) },
      xField: 'date',
      yField: 'value',
      point: { visible: true },
    },
  };
}

function countItems(n: number): Bilingual {
  return { zh: `${n} 项`, en: `${n} ${n === 1 ? 'item' : 'items'}` };
}

/** The richest layout that fits in 30 KB (Feishu rejects larger cards with 230025). */
export function buildDigestCard(input: DigestCardInput): Card {
  for (const layout of LAYOUTS) {
    const card = renderDigestCard(input, layout);
    if (cardByteSize(card) <= MAX_CARD_BYTES) return card;
  }
  return renderDigestCard(input, LEANEST);
}

function renderDigestCard(input: DigestCardInput, layout: DigestLayout): Card {
  const elements: CardElement[] = [];
  const { period } = input;
  if (input.firstDigest && !period) {
    elements.push(
      greyNote(
        {
          zh: '这是本会话的第一份日报：数据从今天开始记录，明天起会显示与上一份相比的变化。',
          en: "This is the chat's first digest: history starts today, so changes appear from tomorrow.",
        },
        'digest_first',
      ),
    );
  }
  if (input.items.length === 0) {
    elements.push(
      markdown(
        { zh: '本会话没有订阅任何内容。', en: 'This chat has no digest items.' },
        { element_id: 'digest_empty' },
      ),
    );
  }

  let charts = 0;
  for (const [index, entry] of input.items.entries()) {
    elements.push(itemMarkdown(entry, index + 1, input, layout));
    if (charts < layout.charts && entry.trend.length >= 2) {
      charts += 1;
      elements.push(trendChart(`trend_${charts}`, entry.trend));
    }
  }

  const zone = escapeMarkdown(input.timeZone);
  const dayBased = input.items.some((entry) => entry.current?.date !== undefined);
  elements.push(
    greyNote(
      joinBilingual(
        [
          period
            ? periodNote(period)
            : {
                zh: '括号里是与本会话上一份日报相比的变化；文档为累计数据。',
                en: "Changes in brackets are since this chat's previous digest; documents show totals so far.",
              },
          ...(dayBased
            ? [
                {
                  zh: '工作台和应用是某一天的数据，飞书在次日上午才发布前一天的数据。',
                  en: "Workplace and app figures are for the day named: Feishu publishes a day's figures the next morning.",
                },
              ]
            : []),
          { zh: `日期按 ${zone} 时区计算。`, en: `Dates are in ${zone}.` },
        ],
        { zh: '', en: ' ' },
      ),
      'digest_note',
    ),
  );

  const name = digestTitleName(period?.kind);
  const title: Bilingual = { zh: `${name.zh} · ${input.date}`, en: `${name.en} · ${input.date}` };
  return buildCard({
    title,
    subtitle: joinBilingual(
      [countItems(input.items.length), { zh: input.timeZone, en: input.timeZone }],
      ' · ',
    ),
    template: 'indigo',
    summary: joinBilingual([title, countItems(input.items.length)], ' · '),
    elements,
  });
}

/** How a weekly or monthly digest measures change, for the note under the items. */
function periodNote(period: NonNullable<DigestCardInput['period']>): Bilingual {
  const since = markdownDay(period.since);
  const span: Bilingual =
    period.kind === 'weekly'
      ? { zh: '一周前', en: 'a week earlier' }
      : { zh: '一个月前', en: 'a month earlier' };
  return {
    zh: `变化根据机器人每天记录的数据计算：文档为累计数据和自 ${since} 以来的新增，工作台和应用与${span.zh}的同一天相比。`,
    en: `Changes come from the figures the bot records every day: documents show totals so far and what they gained since ${since}; workplace and app figures are compared with the same day ${span.en}.`,
  };
}
