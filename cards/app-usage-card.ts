/**
 * `app [app_id] [day|week|month] [date] [ability] [department]`: one period of an app's usage overview, each
 * figure with what it counts (from the API page's metric appendix).
 * https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
 */

import {
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  callbackButton,
  escapeMarkdown,
  figureColumn,
  formatCount,
  greyNote,
  localDateTimeText,
  markdownDay,
  truncateText,
} from './card.js';
import type { AppAbility, AppUsageMetric, AppUsageOverview, AppUsageQuery } from './data.js';
import { type Bilingual, joinBilingual, markdown, sameInBoth } from './i18n.js';

export interface AppUsageCardInput {
  /** What was asked of Feishu; `date` is already aligned (a Monday / the 1st). */
  query: AppUsageQuery;
  /** The date the user typed, set only when alignment moved it. */
  requestedDate?: string;
  /** Last day of the period (yyyy-MM-dd). */
  periodEnd: string;
  metrics: AppUsageOverview['metrics'];
  appName?: string;
  /** The app is this bot's own (no app_id given → FEISHU_APP_ID). */
  isOwnApp: boolean;
  fetchedAt: Date;
  refresh?: Record<string, unknown>;
}

interface MetricInfo {
  label: Bilingual;
  meaning: Bilingual;
}

const KNOWN_METRICS: readonly AppUsageMetric[] = ['uv', 'total_users', 'new_users', 'pv', 'lifecycle'];

/** Active users are defined per ability in the appendix ("应用活跃用户数", "机器人应用活跃用户数", …). */
const ACTIVE_USERS_MEANING: Readonly<Record<AppAbility, Bilingual>> = {
  app: {
    zh: '打开过小程序或网页应用、给机器人发过消息或读过机器人消息的人，同一周期内每人只算一次。',
    en: "People who opened its mini program or web app, messaged its bot or read the bot's messages; each person counts once per period.",
  },
  mp: {
    zh: '打开过小程序的人，同一周期内每人只算一次。',
    en: 'People who opened the mini program; each person counts once per period.',
  },
  h5: {
    zh: '在飞书内打开过网页应用的人（不含第三方浏览器），同一周期内每人只算一次。',
    en: 'People who opened the web app inside Feishu (other browsers are not counted); each person counts once per period.',
  },
  bot: {
    zh: '给机器人发过消息或读过机器人消息的人，同一周期内每人只算一次。',
    en: 'People who messaged the bot or read its messages; each person counts once per period.',
  },
};

const METRIC_INFO: Readonly<Record<Exclude<AppUsageMetric, 'uv'>, MetricInfo>> = {
  total_users: {
    label: { zh: '累计用户数', en: 'Total users' },
    meaning: {
      zh: '截至该日所有使用过应用的人，包含已离职人员，因此可能超过企业人数；只有按日查询才有此项。',
      en: 'Everyone who has ever used the app up to that day, including people who have since left, so it can exceed your headcount; reported for daily figures only.',
    },
  },
  new_users: {
    label: { zh: '新增用户数', en: 'New users' },
    meaning: {
      zh: '在这个周期内第一次使用应用的人。',
      en: 'People who used the app for the first time in this period.',
    },
  },
  pv: {
    label: { zh: '页面访问数', en: 'Page views' },
    meaning: {
      zh: '在小程序或网页应用中访问的页面次数；切换到其他应用再回来会再计一次。',
      en: 'Pages visited in the mini program or web app; switching away and coming back counts again.',
    },
  },
  lifecycle: {
    label: { zh: '打开次数', en: 'Opens' },
    meaning: {
      zh: '在飞书中打开小程序或网页应用的次数；主动退出，或切到其他应用超过 5 分钟，算一次打开结束。',
      en: 'Times the mini program or web app was opened in Feishu; an open ends when the person exits or spends more than 5 minutes in another app.',
    },
  },
};

const ABILITY_LABELS: Readonly<Record<AppAbility, Bilingual>> = {
  app: { zh: '整个应用', en: 'Whole app' },
  mp: { zh: '小程序', en: 'Mini program' },
  h5: { zh: '网页应用', en: 'Web app' },
  bot: { zh: '机器人', en: 'Bot' },
};

function describeMetric(name: string, ability: AppAbility): MetricInfo {
  if (name === 'uv')
    return { label: { zh: '活跃用户数', en: 'Active users' }, meaning: ACTIVE_USERS_MEANING[ability] };
  const known = METRIC_INFO[name as Exclude<AppUsageMetric, 'uv'>];
  if (known) return known;
  // A metric Feishu added after this card was written: show it under its own name.
  return {
    label: sameInBoth(escapeMarkdown(truncateText(name, 40))),
    meaning: { zh: '飞书返回的指标，暂无说明。', en: 'A figure Feishu returned without a description here.' },
  };
}

/** Known metrics in the API's order, then any others; metrics the API did not return are left out. */
function presentMetrics(metrics: AppUsageCardInput['metrics']): Array<[string, number]> {
  const present = Object.entries(metrics).filter(
    (entry): entry is [string, number] => typeof entry[1] === 'number' && Number.isFinite(entry[1]),
  );
  const rank = (name: string) => {
    const index = KNOWN_METRICS.indexOf(name as AppUsageMetric);
    return index === -1 ? KNOWN_METRICS.length : index;
  };
  return present.sort((a, b) => rank(a[0]) - rank(b[0]));
}

function describePeriod(input: AppUsageCardInput): Bilingual {
  const date = markdownDay(input.query.date);
  const end = markdownDay(input.periodEnd);
  const requested = input.requestedDate ? markdownDay(input.requestedDate) : undefined;
  const aligned = requested
    ? { zh: `（由 ${requested} 对齐）`, en: ` (aligned from ${requested})` }
    : { zh: '', en: '' };
  switch (input.query.cycle) {
    case 'day':
      return { zh: `**日**：${date}`, en: `**Day** ${date}` };
    case 'week':
      return {
        zh: `**周**：${date}（周一）至 ${end}${aligned.zh}`,
        en: `**Week of Monday** ${date} to ${end}${aligned.en}`,
      };
    case 'month':
      return {
        zh: `**月**：${date} 起至 ${end}${aligned.zh}`,
        en: `**Month from** ${date} to ${end}${aligned.en}`,
      };
  }
}

function describePlainPeriod(query: AppUsageQuery, periodEnd: string): Bilingual {
  if (query.cycle === 'day') return { zh: query.date, en: query.date };
  const range = { zh: `${query.date} 至 ${periodEnd}`, en: `${query.date} – ${periodEnd}` };
  return query.cycle === 'week'
    ? { zh: `${range.zh} 这一周`, en: `Week ${range.en}` }
    : { zh: `${range.zh} 这个月`, en: `Month ${range.en}` };
}

function describeAlignment(input: AppUsageCardInput): Bilingual | undefined {
  if (!input.requestedDate) return undefined;
  const requested = markdownDay(input.requestedDate);
  // Feishu rejects any other date with 211010, so the bot moves it instead of failing.
  if (input.query.cycle === 'week') {
    return {
      zh: `你查询的是 ${requested}；飞书按自然周统计，周数据必须从周一开始，所以显示的是它所在的那一周。`,
      en: `You asked for ${requested}; Feishu counts weeks from Monday, so this is the week that contains it.`,
    };
  }
  if (input.query.cycle === 'month') {
    return {
      zh: `你查询的是 ${requested}；飞书按自然月统计，月数据必须从 1 日开始，所以显示的是它所在的那个月。`,
      en: `You asked for ${requested}; Feishu counts months from the 1st, so this is the month that contains it.`,
    };
  }
  return undefined;
}

/** Ids (`cli_…`, `od-…`) read best as code; anything not id-shaped is escaped instead. */
function quoteId(id: string): string {
  const short = truncateText(id, 60);
  return /^[A-Za-z0-9_-]+$/.test(short) ? `\`${short}\`` : escapeMarkdown(short);
}

function describeScope(query: AppUsageQuery, isOwnApp: boolean): Bilingual {
  const appId = quoteId(query.appId);
  const app: Bilingual = isOwnApp
    ? { zh: `应用 ${appId}（本机器人）`, en: `App ${appId} (this bot)` }
    : { zh: `应用 ${appId}`, en: `App ${appId}` };
  const department: Bilingual = query.departmentId
    ? {
        zh: `部门 ${quoteId(query.departmentId)}（含子部门）`,
        en: `Department ${quoteId(query.departmentId)} (with its sub-departments)`,
      }
    : { zh: '全企业', en: 'Whole organisation' };
  return joinBilingual([app, ABILITY_LABELS[query.ability], department], ' · ');
}

export function buildAppUsageCard(input: AppUsageCardInput): Card {
  const { query } = input;
  const metrics = presentMetrics(input.metrics);
  const elements: CardElement[] = [
    markdown(describePeriod(input), { element_id: 'app_period' }),
    markdown(describeScope(query, input.isOwnApp), { element_id: 'app_scope', text_size: 'notation' }),
  ];
  const alignment = describeAlignment(input);
  if (alignment) elements.push(greyNote(alignment, 'app_aligned'));

  if (metrics.length === 0) {
    elements.push(
      markdown(
        { zh: '飞书没有返回这个周期的任何指标。', en: 'Feishu returned no figures for this period.' },
        { element_id: 'app_empty' },
      ),
    );
  } else {
    const infos = metrics.map(([name, value]) => ({
      name,
      value,
      info: describeMetric(name, query.ability),
    }));
    elements.push({
      tag: 'column_set',
      element_id: 'app_figures',
      flex_mode: 'bisect',
      horizontal_spacing: '8px',
      columns: infos.map(({ name, value, info }, index) =>
        figureColumn(
          /^[a-z_]{1,14}$/.test(name) ? `m_${name}` : `m_x${index}`,
          formatCount(value),
          info.label,
        ),
      ),
    });
    // One list, one line per figure: a lone `\n` is a soft break that clients may drop, list items are not.
    elements.push(
      markdown(
        joinBilingual(
          [
            { zh: '**指标说明**', en: '**What these count**' },
            ...infos.map(({ info }) => ({
              zh: `- **${info.label.zh}**：${info.meaning.zh}`,
              en: `- **${info.label.en}**: ${info.meaning.en}`,
            })),
          ],
          '\n',
        ),
        { element_id: 'app_meanings' },
      ),
    );
  }
  if (query.ability === 'bot') {
    elements.push(
      greyNote(
        {
          zh: '机器人只统计活跃用户数：给机器人发过消息或读过它消息的人。页面访问数、打开次数等只对小程序和网页应用有意义。',
          en: 'For bots Feishu reports active users only (people who messaged the bot or read its messages); page views and opens exist only for mini programs and web apps.',
        },
        'app_bot_note',
      ),
    );
  }
  const fetched = localDateTimeText(input.fetchedAt);
  elements.push(
    greyNote(
      {
        zh: `飞书一般在每天上午 10 点左右产出前一天的数据；只统计飞书 4.10 及以上版本的用户。获取于 ${fetched}`,
        en: `Feishu publishes the previous day's usage around 10:00 and counts only Feishu 4.10 and later. Fetched ${fetched}`,
      },
      'app_fetched',
    ),
  );
  if (input.refresh) {
    elements.push(
      buttonRow([callbackButton({ zh: '刷新', en: 'Refresh' }, input.refresh, 'btn_refresh', 'default')]),
    );
  }

  const name = input.appName?.trim() ? truncateText(input.appName.trim(), 60) : query.appId;
  const title: Bilingual = { zh: `应用使用数据 · ${name}`, en: `App usage · ${name}` };
  // Plain text (subtitle, summary): the period without markdown and without the alignment remark.
  const plainPeriod = describePlainPeriod(query, input.periodEnd);
  const uv = input.metrics.uv;
  return buildCard({
    title,
    subtitle: joinBilingual([ABILITY_LABELS[query.ability], plainPeriod], ' · '),
    template: 'purple',
    summary: joinBilingual(
      [
        title,
        plainPeriod,
        ...(typeof uv === 'number'
          ? [{ zh: `活跃用户 ${formatCount(uv)}`, en: `${formatCount(uv)} active users` }]
          : []),
      ],
      ' · ',
    ),
    elements,
  });
}
