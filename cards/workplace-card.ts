/**
 * `workplace [range]`: the organisation's workplace visits per day, all workplaces against the default one,
 * as totals and two VChart line charts.
 * https://open.feishu.cn/document/workplace-v1/workplace_access_data/search
 */

import {
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  type ColumnElement,
  callbackButton,
  formatCount,
  greyNote,
  localDateTimeText,
  markdownDay,
  type OtherElement,
} from './card.js';
import type { WorkplaceAccessDay } from './data.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export interface WorkplaceCardInput {
  /** yyyy-MM-dd, inclusive. */
  from: string;
  to: string;
  /** "Last 7 days", "上月（2026 年 10 月）", … */
  rangeLabel: Bilingual;
  /** One item per day Feishu returned, in date order. */
  days: WorkplaceAccessDay[];
  fetchedAt: Date;
  /** Value of the Refresh button; absent → no button. */
  refresh?: Record<string, unknown>;
}

export interface WorkplaceTotals {
  days: number;
  all: SeriesTotals;
  default: SeriesTotals;
}

export interface SeriesTotals {
  /** Views add up across days. */
  pvSum: number;
  /** Daily unique visitors do not add up (one person on three days counts three times): average and peak. */
  uvAverage: number;
  uvPeak: number;
  /** First day the peak was reached. */
  uvPeakDate?: string;
}

/**
 * Up to this many days (two months) the charts get one point per day; a longer range (the bot accepts a year)
 * is grouped into 7-day buckets: four series of 366 daily points would not fit in 30 KB.
 */
export const MAX_DAILY_CHART_POINTS = 62;
const BUCKET_DAYS = 7;

// Chart series names: chart_spec has no i18n field (only text `content`, `img_key` and `file_key` do), so
// both languages share one label. https://open.feishu.cn/document/feishu-cards/configure-multi-language-content
export const SERIES_ALL = 'All · 全部';
export const SERIES_DEFAULT = 'Default · 默认';

function sumBy(days: readonly WorkplaceAccessDay[], pick: (day: WorkplaceAccessDay) => number): number {
  return days.reduce((sum, day) => sum + (Number.isFinite(pick(day)) ? pick(day) : 0), 0);
}

function seriesTotals(
  days: readonly WorkplaceAccessDay[],
  pick: (day: WorkplaceAccessDay) => { pv: number; uv: number },
): SeriesTotals {
  const totals: SeriesTotals = {
    pvSum: sumBy(days, (d) => pick(d).pv),
    uvAverage: days.length > 0 ? sumBy(days, (d) => pick(d).uv) / days.length : 0,
    uvPeak: 0,
  };
  for (const day of days) {
    const uv = pick(day).uv;
    if (Number.isFinite(uv) && (totals.uvPeakDate === undefined || uv > totals.uvPeak)) {
      totals.uvPeak = uv;
      totals.uvPeakDate = day.date;
    }
  }
  return totals;
}

function sortByDate(days: readonly WorkplaceAccessDay[]): WorkplaceAccessDay[] {
  return [...days].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
}

export function computeWorkplaceTotals(days: readonly WorkplaceAccessDay[]): WorkplaceTotals {
  return {
    days: days.length,
    all: seriesTotals(days, (d) => d.allWorkplace),
    default: seriesTotals(days, (d) => d.defaultWorkplace),
  };
}

const AVERAGE_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 1 });

function totalsColumn(id: string, name: Bilingual, totals: SeriesTotals): ColumnElement {
  const peak = totals.uvPeakDate ? markdownDay(totals.uvPeakDate) : undefined;
  const peakDate = peak ? `（${peak}）` : '';
  const peakDateEn = peak ? ` (${peak})` : '';
  const average = AVERAGE_FORMAT.format(totals.uvAverage);
  return {
    tag: 'column',
    element_id: id,
    width: 'weighted',
    weight: 1,
    background_style: 'grey-50',
    padding: '12px',
    elements: [
      // List items: a lone `\n` is a soft break that clients may drop.
      markdown({
        zh: [
          `**${name.zh}**`,
          `- 访问次数：**${formatCount(totals.pvSum)}**`,
          `- 日均访问人数：**${average}**`,
          `- 单日最多访问人数：**${formatCount(totals.uvPeak)}**${peakDate}`,
        ].join('\n'),
        en: [
          `**${name.en}**`,
          `- Views: **${formatCount(totals.pvSum)}**`,
          `- Average daily visitors: **${average}**`,
          `- Busiest day: **${formatCount(totals.uvPeak)}** visitors${peakDateEn}`,
        ].join('\n'),
      }),
    ],
  };
}

interface ChartPoint {
  date: string;
  series: string;
  value: number;
}

interface Bucket {
  /** First day of the bucket. */
  date: string;
  allPv: number;
  defaultPv: number;
  allUv: number;
  defaultUv: number;
}

/** One bucket per day, or per 7 days for long ranges (views summed, visitors averaged per day). */
function bucketDays(days: readonly WorkplaceAccessDay[]): { buckets: Bucket[]; size: number } {
  const size =
    days.length <= MAX_DAILY_CHART_POINTS
      ? 1
      : BUCKET_DAYS * Math.ceil(days.length / (MAX_DAILY_CHART_POINTS * BUCKET_DAYS));
  const buckets: Bucket[] = [];
  for (let i = 0; i < days.length; i += size) {
    const chunk = days.slice(i, i + size);
    const first = chunk[0];
    if (!first) continue;
    buckets.push({
      date: first.date,
      allPv: sumBy(chunk, (d) => d.allWorkplace.pv),
      defaultPv: sumBy(chunk, (d) => d.defaultWorkplace.pv),
      allUv: Math.round(sumBy(chunk, (d) => d.allWorkplace.uv) / chunk.length),
      defaultUv: Math.round(sumBy(chunk, (d) => d.defaultWorkplace.uv) / chunk.length),
    });
  }
  return { buckets, size };
}

/**
 * VChart line chart, series told apart by `seriesField`. Long format (one row per point per series) is the
 * shape every VChart version the clients ship (1.2 to 1.12) reads.
 * https://open.feishu.cn/document/feishu-cards/card-json-v2-components/content-components/chart
 */
function lineChart(id: string, points: ChartPoint[], showPoints: boolean): OtherElement {
  return {
    tag: 'chart',
    element_id: id,
    aspect_ratio: '16:9',
    chart_spec: {
      type: 'line',
      data: { values: points },
      xField: 'date',
      yField: 'value',
      seriesField: 'series',
      point: { visible: showPoints },
      legends: { visible: true, orient: 'bottom' },
    },
  };
}

function chartPoints(
  buckets: readonly Bucket[],
  all: (b: Bucket) => number,
  def: (b: Bucket) => number,
): ChartPoint[] {
  // Grouped by series, each in date order: VChart draws a series' line in data order.
  return [
    ...buckets.map((b) => ({ date: b.date, series: SERIES_ALL, value: all(b) })),
    ...buckets.map((b) => ({ date: b.date, series: SERIES_DEFAULT, value: def(b) })),
  ];
}

const ALL_WORKPLACES: Bilingual = { zh: '全部工作台', en: 'All workplaces' };
const DEFAULT_WORKPLACE: Bilingual = { zh: '默认工作台', en: 'Default workplace' };

function buildFetchedNote(fetchedAt: Date): Bilingual {
  const when = localDateTimeText(fetchedAt);
  return { zh: `获取于 ${when}`, en: `Fetched ${when}` };
}

export function buildWorkplaceCard(input: WorkplaceCardInput): Card {
  const days = sortByDate(input.days);
  const span = input.from === input.to ? input.from : `${input.from} – ${input.to}`;
  const spanZh = input.from === input.to ? input.from : `${input.from} 至 ${input.to}`;
  const subtitle = joinBilingual([input.rangeLabel, { zh: spanZh, en: span }], ' · ');
  const elements: CardElement[] = [];

  if (days.length === 0) {
    elements.push(
      markdown(
        {
          zh: '这段时间没有工作台访问数据。飞书在次日上午才产出前一天的数据，可以换一个已经结束的时间段再试。',
          en: "Feishu has no workplace visits for this range. A day's figures are published the next morning, so try a range that has already ended.",
        },
        { element_id: 'wp_empty' },
      ),
    );
  } else {
    const totals = computeWorkplaceTotals(days);
    elements.push(
      {
        tag: 'column_set',
        element_id: 'wp_totals',
        flex_mode: 'bisect',
        horizontal_spacing: '8px',
        columns: [
          totalsColumn('wp_total_all', ALL_WORKPLACES, totals.all),
          totalsColumn('wp_total_default', DEFAULT_WORKPLACE, totals.default),
        ],
      },
      greyNote(
        {
          zh: '每日访问人数按天去重，同一个人访问 3 天就算 3 次，不能跨天相加，所以这里给出日均值和单日最高值，而不是总人数。',
          en: "Daily visitors are counted once per day, so the same person on three days counts three times: they can't be added up across days. That is why the card shows the daily average and the busiest day instead of a total.",
        },
        'wp_uv_note',
      ),
    );

    const { buckets, size } = bucketDays(days);
    const showPoints = buckets.length <= 31;
    elements.push(
      markdown({ zh: '**每日访问次数**', en: '**Views per day**' }, { element_id: 'wp_pv_title' }),
      lineChart(
        'wp_pv_chart',
        chartPoints(
          buckets,
          (b) => b.allPv,
          (b) => b.defaultPv,
        ),
        showPoints,
      ),
      markdown({ zh: '**每日访问人数**', en: '**Visitors per day**' }, { element_id: 'wp_uv_title' }),
      lineChart(
        'wp_uv_chart',
        chartPoints(
          buckets,
          (b) => b.allUv,
          (b) => b.defaultUv,
        ),
        showPoints,
      ),
    );
    if (size > 1) {
      elements.push(
        greyNote(
          {
            zh: `时间跨度较长，图中每个点代表从该日期起的 ${size} 天：访问次数为合计，访问人数为日均值。`,
            en: `For a range this long each point covers ${size} days from its date: views are summed, visitors are a daily average.`,
          },
          'wp_bucket_note',
        ),
      );
    }
    // Quoted from the API's field description of all_workplace.
    elements.push(
      greyNote(
        {
          zh: '「全部工作台」包含默认工作台和定制工作台；由于历史原因，部分情况下两者之和不等于全部工作台的数据（飞书接口说明）。',
          en: '"All workplaces" includes the default and the custom workplaces; for historical reasons the default and custom figures do not always add up to it (Feishu API note).',
        },
        'wp_all_note',
      ),
    );
  }

  elements.push(greyNote(buildFetchedNote(input.fetchedAt), 'wp_fetched'));
  if (input.refresh) {
    elements.push(
      buttonRow([callbackButton({ zh: '刷新', en: 'Refresh' }, input.refresh, 'btn_refresh', 'default')]),
    );
  }

  const totals = computeWorkplaceTotals(days);
  return buildCard({
    title: { zh: '工作台访问数据', en: 'Workplace visits' },
    subtitle,
    template: 'indigo',
    summary:
      days.length === 0
        ? joinBilingual(
            [
              { zh: '工作台访问数据', en: 'Workplace visits' },
              { zh: spanZh, en: span },
              { zh: '无数据', en: 'no data' },
            ],
            ' · ',
          )
        : joinBilingual(
            [
              { zh: '工作台访问数据', en: 'Workplace visits' },
              { zh: spanZh, en: span },
              {
                zh: `全部工作台访问 ${formatCount(totals.all.pvSum)} 次`,
                en: `${formatCount(totals.all.pvSum)} views across all workplaces`,
              },
            ],
            ' · ',
          ),
    elements,
  });
}
