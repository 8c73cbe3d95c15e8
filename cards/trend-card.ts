/**
 * The answer to `trend <link> [7d|30d|90d]`: daily visitors, views and likes from the bot's own snapshots (Feishu
 * serves running totals only), the change over the range, and a chart. When the bot has fewer than two days on
 * record the card says since when it has been recording and offers to add the document to the chat's digest,
 * which snapshots it every day.
 * https://open.feishu.cn/document/feishu-cards/card-json-v2-components/content-components/chart
 */

import {
  type ButtonElement,
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  callbackButton,
  formatCount,
  greyNote,
  isWebUrl,
  markdownDay,
  type OtherElement,
  openUrlButton,
  truncateText,
} from './card.js';
import type { TrendPoint } from './data.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';
import type { CardAction } from './stats-card.js';

export type TrendMetric = 'uv' | 'pv' | 'likes';

export interface TrendCardInput {
  doc: { url: string; title?: string };
  /** The range asked for, in days, ending today. */
  days: number;
  window: { from: string; to: string };
  /** Points inside the window, oldest first, per metric (`buildTrend`); likes absent for types without likes. */
  series: Partial<Record<TrendMetric, readonly TrendPoint[]>>;
  /** The first day the bot has on record for this document, when that is inside the window (history is short). */
  since?: string;
}

export interface TrendHistoryStartsInput {
  doc: { url: string; title?: string };
  /** The one day on record, or undefined when there is none yet. */
  since?: string;
  /** "Add to this chat's digest", when the chat has no digest item for it yet. */
  addToDigest?: CardAction;
}

const METRIC_LABELS: Readonly<Record<TrendMetric, Bilingual>> = {
  uv: { zh: '访问人数', en: 'Visitors' },
  pv: { zh: '访问次数', en: 'Views' },
  likes: { zh: '点赞', en: 'Likes' },
};
/** chart_spec has no i18n field, so both languages share one series label (as the workplace card does). */
const SERIES_LABELS: Readonly<Record<TrendMetric, string>> = {
  uv: 'Visitors · 访问人数',
  pv: 'Views · 访问次数',
  likes: 'Likes · 点赞',
};
const METRICS: readonly TrendMetric[] = ['uv', 'pv', 'likes'];
const MAX_TITLE_CHARS = 100;

const TITLE: Bilingual = { zh: '文档趋势', en: 'Document trend' };
const OPEN_DOC: Bilingual = { zh: '打开文档', en: 'Open document' };

function docTitle(doc: { title?: string }): Bilingual {
  return doc.title
    ? { zh: truncateText(doc.title, MAX_TITLE_CHARS), en: truncateText(doc.title, MAX_TITLE_CHARS) }
    : TITLE;
}

function signed(n: number): string {
  return n > 0 ? `+${formatCount(n)}` : n < 0 ? `−${formatCount(-n)}` : '±0';
}

/**
 * Change over the window: the last point's value less the value before the window's first day when the bot has
 * it (the first point's delta), else less the first point's own value.
 */
export function changeOver(points: readonly TrendPoint[]): number | undefined {
  const first = points[0];
  const last = points.at(-1);
  if (!first || !last || points.length < 2) return undefined;
  const before = first.delta === null ? first.value : first.value - first.delta;
  return last.value - before;
}

function figuresLine(metric: TrendMetric, points: readonly TrendPoint[]): Bilingual | undefined {
  const last = points.at(-1);
  if (!last) return undefined;
  const change = changeOver(points);
  const label = METRIC_LABELS[metric];
  const now = formatCount(last.value);
  if (change === undefined) return { zh: `**${label.zh}** ${now}`, en: `**${label.en}** ${now}` };
  return {
    zh: `**${label.zh}** ${now}（${signed(change)}）`,
    en: `**${label.en}** ${now} (${signed(change)})`,
  };
}

/**
 * Visitors and views as two lines of one chart. Likes stay in the figures: on the same axis their handful would be
 * a flat line at zero.
 */
function trendChart(series: TrendCardInput['series']): OtherElement | undefined {
  const values: Array<{ date: string; value: number; series: string }> = [];
  for (const metric of ['pv', 'uv'] as const) {
    for (const point of series[metric] ?? [])
      values.push({ date: point.date, value: point.value, series: SERIES_LABELS[metric] });
  }
  if (values.length < 2) return undefined;
  return {
    tag: 'chart',
    element_id: 'trend_chart',
    aspect_ratio: '2:1',
    chart_spec: {
      type: 'line',
      data: { values },
      xField: 'date',
      yField: 'value',
      seriesField: 'series',
      point: { visible: values.length <= 62 },
      legends: { visible: true, orient: 'bottom' },
    },
  };
}

export function buildTrendCard(input: TrendCardInput): Card {
  const range = {
    zh: `${markdownDay(input.window.from)} 至 ${markdownDay(input.window.to)}`,
    en: `${markdownDay(input.window.from)} to ${markdownDay(input.window.to)}`,
  };
  const lines = METRICS.map((metric) => {
    const points = input.series[metric];
    return points ? figuresLine(metric, points) : undefined;
  }).filter((line): line is Bilingual => line !== undefined);
  const elements: CardElement[] = [markdown(joinBilingual(lines, '　'), { element_id: 'trend_figures' })];
  const chart = trendChart(input.series);
  if (chart) elements.push(chart);
  if (input.since) {
    elements.push(
      greyNote(
        {
          zh: `机器人从 ${markdownDay(input.since)} 开始记录这份文档，更早的天数没有数据。`,
          en: `The bot has recorded this document since ${markdownDay(input.since)}; earlier days have no figures.`,
        },
        'trend_since',
      ),
    );
  }
  elements.push(
    greyNote(
      {
        zh: '每天一个数据点：机器人查询统计或发送订阅时记录的累计值。',
        en: 'One point a day: the running totals the bot recorded when it fetched statistics or sent a digest.',
      },
      'trend_source',
    ),
  );
  if (isWebUrl(input.doc.url)) {
    elements.push(buttonRow([openUrlButton(OPEN_DOC, input.doc.url, 'open_doc', 'default')]));
  }
  return buildCard({
    title: docTitle(input.doc),
    subtitle: joinBilingual([{ zh: `近 ${input.days} 天：`, en: `Last ${input.days} days: ` }, range]),
    template: 'blue',
    summary: { zh: `文档趋势（近 ${input.days} 天）`, en: `Document trend (last ${input.days} days)` },
    elements,
  });
}

/** Fewer than two days on record: nothing to draw yet. */
export function buildTrendHistoryStartsCard(input: TrendHistoryStartsInput): Card {
  const started: Bilingual = input.since
    ? {
        zh: `机器人从 ${markdownDay(input.since)} 开始记录这份文档的数据，至少要两天才能画出趋势。`,
        en: `The bot started recording this document on ${markdownDay(input.since)}; a trend needs at least two days.`,
      }
    : {
        zh: '机器人从今天开始记录这份文档的数据，至少要两天才能画出趋势。',
        en: 'The bot starts recording this document today; a trend needs at least two days.',
      };
  const how: Bilingual = {
    zh: '每次有人查询它的统计时都会记下当天的数据；加入本群的订阅后，机器人每天都会记录。',
    en: 'A day is recorded whenever someone asks for its statistics; added to this chat’s digest, it is recorded every day.',
  };
  const elements: CardElement[] = [
    markdown(started, { element_id: 'trend_history_starts' }),
    greyNote(how, 'trend_how'),
  ];
  const buttons: ButtonElement[] = [];
  if (input.addToDigest) {
    buttons.push(
      callbackButton(
        input.addToDigest.label,
        input.addToDigest.value,
        `act_${input.addToDigest.key}`,
        input.addToDigest.style ?? 'primary',
      ),
    );
  }
  if (isWebUrl(input.doc.url)) buttons.push(openUrlButton(OPEN_DOC, input.doc.url, 'open_doc', 'default'));
  if (buttons.length > 0) elements.push(buttonRow(buttons));
  return buildCard({
    title: docTitle(input.doc),
    subtitle: { zh: '趋势记录刚开始', en: 'History starts here' },
    template: 'grey',
    summary: { zh: '趋势记录刚开始', en: 'Trend history starts here' },
    elements,
  });
}
