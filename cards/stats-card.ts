/** The answer to `stats <link>`: three big figures, today's increase, and an as-of time. */

import {
  type ButtonElement,
  type ButtonType,
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  callbackButton,
  figureColumn,
  formatCount,
  formatUtc,
  greyNote,
  isWebUrl,
  localDateTimeText,
  localDatetime,
  openUrlButton,
  toElementId,
  truncateText,
} from './card.js';
import type { FileStatistics } from './data.js';
import { type Bilingual, joinBilingual, markdown, sameInBoth } from './i18n.js';

/** A button that comes back as `card.action.trigger` (Refresh, Viewers, Likes, …). */
export interface CardAction {
  /** Stable key such as `refresh`; becomes part of the button's `element_id`. */
  key: string;
  label: Bilingual;
  /** Returned verbatim as `event.action.value`. */
  value: Record<string, unknown>;
  style?: Extract<ButtonType, 'default' | 'primary' | 'danger'>;
}

export interface StatsCardInput {
  doc: { url: string; token: string; type: string; title?: string };
  stats: FileStatistics;
  /** When the bot fetched; `stats.timestamp` is Feishu's own as-of time in epoch seconds. */
  fetchedAt: Date;
  actions?: CardAction[];
}

const DEFAULT_TITLE: Bilingual = { zh: '文档统计', en: 'Document statistics' };

/** Header titles wrap to four lines at most; keep long titles to roughly that. */
const MAX_TITLE_CHARS = 100;

const DOC_TYPE_LABELS: Readonly<Record<string, Bilingual>> = {
  doc: { zh: '旧版文档', en: 'Doc (legacy)' },
  docx: { zh: '文档', en: 'Doc' },
  sheet: { zh: '电子表格', en: 'Sheet' },
  bitable: { zh: '多维表格', en: 'Base' },
  mindnote: { zh: '思维笔记', en: 'Mindnote' },
  file: { zh: '文件', en: 'File' },
  wiki: { zh: '知识库文档', en: 'Wiki page' },
  slides: { zh: '幻灯片', en: 'Slides' },
};

export function describeDocType(type: string): Bilingual {
  return DOC_TYPE_LABELS[type] ?? sameInBoth(type);
}

/** `like_count = -1`: the document type has no likes (only doc, docx and file do). */
function likesSupported(stats: FileStatistics): boolean {
  return stats.likeCount >= 0;
}

function buildFigures(stats: FileStatistics): CardElement {
  return {
    tag: 'column_set',
    element_id: 'stats_figures',
    flex_mode: 'none',
    horizontal_spacing: '8px',
    columns: [
      figureColumn('fig_uv', formatCount(stats.uv), { zh: '访问人数', en: 'Visitors' }),
      figureColumn('fig_pv', formatCount(stats.pv), { zh: '访问次数', en: 'Views' }),
      likesSupported(stats)
        ? figureColumn('fig_likes', formatCount(stats.likeCount), { zh: '点赞数', en: 'Likes' })
        : figureColumn('fig_likes', '—', { zh: '点赞数', en: 'Likes' }),
    ],
  };
}

/** English only needs a plural `s`; Chinese has no plural form. */
function countNoun(count: number, noun: string): string {
  return count === 1 ? noun : `${noun}s`;
}

function buildTodayLine(stats: FileStatistics): Bilingual {
  const plus = (n: number) => `+${formatCount(n)}`;
  const zh = [`访问人数 ${plus(stats.uvToday)}`, `访问次数 ${plus(stats.pvToday)}`];
  const en = [
    `${plus(stats.uvToday)} ${countNoun(stats.uvToday, 'visitor')}`,
    `${plus(stats.pvToday)} ${countNoun(stats.pvToday, 'view')}`,
  ];
  if (likesSupported(stats)) {
    zh.push(`点赞 ${plus(stats.likeCountToday)}`);
    en.push(`${plus(stats.likeCountToday)} ${countNoun(stats.likeCountToday, 'like')}`);
  }
  return { zh: `**今日新增**：${zh.join('，')}`, en: `**Today:** ${en.join(', ')}` };
}

/** Feishu's as-of time; falls back to the fetch time when the field is missing or zero. */
function asOfDate(input: StatsCardInput): Date {
  const seconds = input.stats.timestamp;
  return Number.isFinite(seconds) && seconds > 0 ? new Date(seconds * 1000) : input.fetchedAt;
}

function buildAsOfNote(asOf: Date, fetchedAt: Date): Bilingual {
  const zone = localDatetime(asOf, 'timezone');
  return {
    zh: `数据截至 ${localDateTimeText(asOf)}（${zone}）· 获取于 ${localDateTimeText(fetchedAt)}`,
    en: `Data as of ${localDateTimeText(asOf)} (${zone}) · fetched ${localDateTimeText(fetchedAt)}`,
  };
}

function buildSummary(title: Bilingual, stats: FileStatistics, asOf: Date): Bilingual {
  const zh = [`访问人数 ${formatCount(stats.uv)}`, `访问次数 ${formatCount(stats.pv)}`];
  const en = [
    `${formatCount(stats.uv)} ${countNoun(stats.uv, 'visitor')}`,
    `${formatCount(stats.pv)} ${countNoun(stats.pv, 'view')}`,
  ];
  if (likesSupported(stats)) {
    zh.push(`点赞 ${formatCount(stats.likeCount)}`);
    en.push(`${formatCount(stats.likeCount)} ${countNoun(stats.likeCount, 'like')}`);
  }
  // The summary is plain text, so the time is spelled out in UTC instead of <local_datetime>.
  const when = formatUtc(asOf);
  return {
    zh: `${truncateText(title.zh, 40)}：${zh.join(' · ')}（截至 ${when}）`,
    en: `${truncateText(title.en, 40)}: ${en.join(' · ')} (as of ${when})`,
  };
}

function buildButtons(input: StatsCardInput): ButtonElement[] {
  const buttons: ButtonElement[] = [];
  if (isWebUrl(input.doc.url)) {
    buttons.push(
      openUrlButton({ zh: '打开文档', en: 'Open document' }, input.doc.url, 'btn_open', 'primary_filled'),
    );
  }
  const usedIds = new Set(buttons.map((b) => b.element_id));
  for (const [index, action] of (input.actions ?? []).entries()) {
    let id = toElementId('act', action.key);
    if (usedIds.has(id)) id = toElementId('act', `${index}_${action.key}`);
    usedIds.add(id);
    buttons.push(callbackButton(action.label, action.value, id, action.style ?? 'default'));
  }
  return buttons;
}

export function buildStatsCard(input: StatsCardInput): Card {
  const { stats } = input;
  const rawTitle = input.doc.title?.trim();
  // The header title is plain_text, so a title full of markdown or `<at>` renders literally there.
  const title = rawTitle ? sameInBoth(truncateText(rawTitle, MAX_TITLE_CHARS)) : DEFAULT_TITLE;
  const typeLabel = describeDocType(input.doc.type);
  const asOf = asOfDate(input);

  const elements: CardElement[] = [
    buildFigures(stats),
    markdown(buildTodayLine(stats), { element_id: 'stats_today' }),
  ];
  if (!likesSupported(stats)) {
    elements.push(
      greyNote(
        { zh: '此文档类型不支持点赞', en: 'Likes not supported for this document type' },
        'stats_no_likes',
      ),
    );
  }
  elements.push(greyNote(buildAsOfNote(asOf, input.fetchedAt), 'stats_as_of'));
  const buttons = buildButtons(input);
  if (buttons.length > 0) elements.push(buttonRow(buttons));

  return buildCard({
    title,
    subtitle: rawTitle ? joinBilingual([typeLabel, DEFAULT_TITLE], ' · ') : typeLabel,
    template: 'blue',
    summary: buildSummary(title, stats, asOf),
    elements,
  });
}
