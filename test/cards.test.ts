import { describe, expect, it } from 'vitest';
import {
  buildCallBudgetWarningCard,
  buildCallUsageCard,
  buildCallUsageDeniedCard,
  type CallUsageCardInput,
} from '../cards/call-usage-card.js';
import {
  type AppUsageCardInput,
  buildAccessDeniedCard,
  buildAppUsageCard,
  buildErrorCard,
  buildHelpCard,
  buildLikesCard,
  buildSentPrivatelyCard,
  buildStatsCard,
  buildUsageCard,
  buildViewersCard,
  buildWorkplaceCard,
  type Card,
  type CardNav,
  cardByteSize,
  computeWorkplaceTotals,
  type ErrorCardInput,
  escapeMarkdown,
  explainFeishuCode,
  type LikesCardInput,
  MAX_CARD_BYTES,
  relativeTime,
  type StatsCardInput,
  type UsageCardInput,
  type ViewersCardInput,
  type WorkplaceCardInput,
} from '../cards/index.js';
import { isTransient } from '../src/feishu/codes.js';
import { FeishuApiError } from '../src/feishu/errors.js';
import type { DocLike, FileStatistics, ViewRecord, WorkplaceAccessDay } from '../src/feishu/types.js';

/** The colour of an error card follows the code table, as `presentError` passes it (unknown codes: orange). */
function retryableCode(code: number): boolean {
  return explainFeishuCode(code) === undefined || isTransient(new FeishuApiError('test', code, ''));
}

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

/** GET /open-apis/drive/v1/files/:file_token/view_records, example response. */
const VIEW_RECORDS_RESPONSE = {
  code: 0,
  msg: 'success',
  data: {
    items: [
      {
        viewer_id: 'ou_cc19b2bfb93f8a44db4b4d6eababcef',
        name: 'zhangsan',
        avatar_url: 'https://foo.icon.com/xxxx',
        last_view_time: '1679284285',
      },
    ],
    page_token: '1674037112--7189934631754563585',
    has_more: true,
  },
};

/** GET /open-apis/drive/v2/files/:file_token/likes, example response. */
const LIKES_RESPONSE = {
  code: 0,
  msg: 'success',
  data: {
    items: [
      {
        user_id: 'ou_3bbe8a09c20e89cce9bff989ed840674',
        last_liked_time: '1690857821',
        user_name: '张三',
        user_en_name: 'San Zhang',
        user_avatar_url: 'https://foo.icon.com/xxxx',
        user_is_desensitized: false,
      },
    ],
    has_more: true,
  },
};

/** POST /open-apis/workplace/v1/workplace_access_data/search, example response. */
const WORKPLACE_RESPONSE = {
  code: 0,
  msg: 'success',
  data: {
    items: [
      { date: '2023-03-12', all_workplace: { pv: 100, uv: 30 }, default_workplace: { pv: 100, uv: 30 } },
    ],
    has_more: true,
    page_token: 'ddowkdkl9w2d',
  },
};

/** POST /open-apis/application/v6/applications/:app_id/app_usage/overview, example response. */
const APP_USAGE_RESPONSE = {
  code: 0,
  data: {
    items: [
      { metric_name: 'uv', metric_value: 0 },
      { metric_name: 'total_users', metric_value: 2 },
      { metric_name: 'new_users', metric_value: 0 },
      { metric_name: 'pv', metric_value: 0 },
      { metric_name: 'lifecycle', metric_value: 0 },
    ],
  },
  msg: 'success',
};

type RawViewRecord = (typeof VIEW_RECORDS_RESPONSE.data.items)[number];
type RawLike = (typeof LIKES_RESPONSE.data.items)[number];
type RawWorkplaceDay = (typeof WORKPLACE_RESPONSE.data.items)[number];

function toViewRecord(raw: RawViewRecord): ViewRecord {
  return {
    viewerId: raw.viewer_id,
    name: raw.name,
    avatarUrl: raw.avatar_url,
    lastViewTime: Number(raw.last_view_time),
  };
}

/** Desensitised likers come without name, English name and avatar (the doc's field notes). */
function toDocLike(raw: Partial<RawLike> & Pick<RawLike, 'user_id' | 'last_liked_time'>): DocLike {
  return {
    userId: raw.user_id,
    lastLikedTime: Number(raw.last_liked_time),
    desensitized: raw.user_is_desensitized ?? false,
    ...(raw.user_name !== undefined ? { name: raw.user_name } : {}),
    ...(raw.user_en_name !== undefined ? { enName: raw.user_en_name } : {}),
    ...(raw.user_avatar_url !== undefined ? { avatarUrl: raw.user_avatar_url } : {}),
  };
}

function toWorkplaceDay(raw: RawWorkplaceDay): WorkplaceAccessDay {
  return { date: raw.date, allWorkplace: raw.all_workplace, defaultWorkplace: raw.default_workplace };
}

const DOC_EXAMPLE_VIEWER = VIEW_RECORDS_RESPONSE.data.items[0] as RawViewRecord;
const DOC_EXAMPLE_LIKE = LIKES_RESPONSE.data.items[0] as RawLike;
const DOC_EXAMPLE_DAY = WORKPLACE_RESPONSE.data.items[0] as RawWorkplaceDay;

/** Four hours after the doc's example view (1679284285 = 2023-03-20 03:51:25 UTC). */
const VIEWERS_NOW = new Date('2023-03-20T07:51:25.000Z');

/** Viewers seen `hoursAgo` before VIEWERS_NOW, ids shaped like the doc example's. */
function viewersAgo(hoursAgo: readonly number[]): ViewRecord[] {
  return hoursAgo.map((hours, i) =>
    toViewRecord({
      ...DOC_EXAMPLE_VIEWER,
      viewer_id: `ou_${String(i).padStart(2, '0')}19b2bfb93f8a44db4b4d6eababcef`,
      name: `viewer ${i}`,
      last_view_time: String(Math.floor(VIEWERS_NOW.getTime() / 1000) - hours * 3600),
    }),
  );
}

const PEOPLE_DOC = {
  url: 'https://sample.feishu.cn/docx/XIHSdYSI7oMEU1xrsnxc8fabcef',
  title: 'Q3 roadmap',
  type: 'docx',
};

/** Opaque values as the bot encodes them; cards must pass them through untouched. */
const NAV: CardNav = {
  previous: { v: 1, a: 'viewers', s: 'k3J9xQ2m', i: 0 },
  next: { v: 1, a: 'viewers', s: 'k3J9xQ2m', i: 2 },
  back: { v: 1, a: 'back', d: { t: 'docx', k: 'XIHSdYSI7oMEU1xrsnxc8fabcef' } },
};

function viewersInput(overrides: Partial<ViewersCardInput> = {}): ViewersCardInput {
  return {
    doc: PEOPLE_DOC,
    items: [toViewRecord(DOC_EXAMPLE_VIEWER)],
    page: 2,
    pageSize: 20,
    hasMore: true,
    now: VIEWERS_NOW,
    nav: NAV,
    ...overrides,
  };
}

const HIDDEN_LIKER = toDocLike({
  user_id: 'ou_9f8e7d6c5b4a39281706f5e4d3c2b1a0',
  last_liked_time: '1690850000',
  user_is_desensitized: true,
});

function likesInput(overrides: Partial<LikesCardInput> = {}): LikesCardInput {
  return {
    doc: PEOPLE_DOC,
    items: [toDocLike(DOC_EXAMPLE_LIKE), HIDDEN_LIKER],
    page: 1,
    pageSize: 20,
    hasMore: false,
    // Two hours after the doc example's last_liked_time.
    now: new Date((1690857821 + 7200) * 1000),
    nav: { back: NAV.back as Record<string, unknown> },
    ...overrides,
  };
}

/** A week of workplace data shaped like the doc example, with hand-picked figures. */
const WEEK: WorkplaceAccessDay[] = [
  { date: '2023-03-12', all: [100, 30], def: [100, 30] },
  { date: '2023-03-13', all: [250, 80], def: [200, 70] },
  { date: '2023-03-14', all: [300, 95], def: [240, 75] },
  { date: '2023-03-15', all: [280, 90], def: [230, 72] },
  { date: '2023-03-16', all: [260, 85], def: [210, 70] },
  { date: '2023-03-17', all: [120, 40], def: [100, 35] },
  { date: '2023-03-18', all: [90, 25], def: [80, 20] },
].map(({ date, all, def }) =>
  toWorkplaceDay({
    ...DOC_EXAMPLE_DAY,
    date,
    all_workplace: { pv: all[0] ?? 0, uv: all[1] ?? 0 },
    default_workplace: { pv: def[0] ?? 0, uv: def[1] ?? 0 },
  }),
);

function workplaceInput(overrides: Partial<WorkplaceCardInput> = {}): WorkplaceCardInput {
  return {
    from: '2023-03-12',
    to: '2023-03-18',
    rangeLabel: { zh: '最近 7 天', en: 'Last 7 days' },
    days: WEEK,
    fetchedAt: new Date('2023-03-19T04:00:00.000Z'),
    refresh: { v: 1, a: 'workplace', r: { kind: 'last_days', days: 7 } },
    ...overrides,
  };
}

/** `n` consecutive days from 2025-01-01 with pv = day index + 1, for length and bucketing checks. */
function consecutiveDays(n: number): WorkplaceAccessDay[] {
  return Array.from({ length: n }, (_, i) => ({
    date: new Date(Date.UTC(2025, 0, 1) + i * 86_400_000).toISOString().slice(0, 10),
    allWorkplace: { pv: 123_456 + i, uv: 23_456 },
    defaultWorkplace: { pv: 100_000 + i, uv: 20_000 },
  }));
}

function appMetrics(): AppUsageCardInput['metrics'] {
  return Object.fromEntries(APP_USAGE_RESPONSE.data.items.map((m) => [m.metric_name, m.metric_value]));
}

function appInput(overrides: Partial<AppUsageCardInput> = {}): AppUsageCardInput {
  return {
    query: { appId: 'cli_9f115af860f7901b', date: '2021-07-26', cycle: 'day', ability: 'app' },
    periodEnd: '2021-07-26',
    metrics: appMetrics(),
    isOwnApp: false,
    fetchedAt: new Date('2021-07-27T04:00:00.000Z'),
    refresh: { v: 1, a: 'app' },
    ...overrides,
  };
}

// --- Walking the card JSON ------------------------------------------------------------------------

/** A month's calls as `usage` reads them: 19.5 days into a 30-day November, with the last digest run. */
function callUsageInput(overrides: Partial<CallUsageCardInput> = {}): CallUsageCardInput {
  return {
    month: '2026-11',
    timeZone: 'Asia/Shanghai',
    byEndpoint: [
      { endpoint: 'im.v1.message.create', calls: 420 },
      { endpoint: 'drive.v1.fileStatistics.get', calls: 1_830 },
      { endpoint: 'auth.v3.tenantAccessToken.internal', calls: 24 },
      { endpoint: 'im.v1.message.reply', calls: 420 },
    ],
    total: 2_694,
    projection: { projected: 4_145, elapsedDays: 19.5, daysInMonth: 30 },
    lastRun: {
      date: '2026-11-20',
      startedAt: Date.parse('2026-11-20T10:30:05+08:00'),
      chats: 12,
      items: 9,
      calls: 21,
    },
    ...overrides,
  };
}

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
const KNOWN_TAGS = new Set(['markdown', 'plain_text', 'column_set', 'column', 'button', 'hr', 'chart']);

/** "Up to 200 elements (e.g. plain_text) or components" per card: count every tagged object. */
function countComponents(card: Card): number {
  return collectObjects([card.header, card.body]).filter((o) => typeof o.tag === 'string').length;
}

/** Markdown that needs no translation: only tags, digits and punctuation once tags are removed. */
function isLanguageNeutral(content: string): boolean {
  return !/\p{L}/u.test(content.replace(/<[^>]*>/g, ''));
}

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
  ['usage unknown problem', buildUsageCard({ command: 'stats', problem: 'bad_weather' })],
  ['usage unknown command', buildUsageCard({ command: 'report', problem: 'no_link' })],
  [
    'usage digest bad_time',
    buildUsageCard({ command: 'digest', problem: 'bad_time', detail: { input: '25:00' } }),
  ],
  [
    'usage digest bad_arg',
    buildUsageCard({ command: 'digest', problem: 'bad_arg', detail: { input: 'fortnightly' } }),
  ],
  [
    'error 1069603',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: FORBIDDEN_RESPONSE.code,
      retryable: retryableCode(FORBIDDEN_RESPONSE.code),
      endpoint: 'drive.v1.fileStatistics.get',
      logId: '202407271429010A8B3C4D5E6F708192',
      docUrl: 'https://sample.feishu.cn/docx/doccnfYZzTlvXqZIGTdAHKabcef',
    }),
  ],
  [
    'error 1069604',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 1069604,
      retryable: retryableCode(1069604),
    }),
  ],
  [
    'error 1069602',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 1069602,
      retryable: retryableCode(1069602),
    }),
  ],
  [
    'error 99991672',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 99991672,
      retryable: retryableCode(99991672),
      scopes: ['drive:drive.metadata:readonly', 'drive:drive:readonly'],
      logId: '20240727142901A8B3',
    }),
  ],
  [
    'error unknown code',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 1234567,
      retryable: retryableCode(1234567),
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
  [
    'stats with refresh, viewers and likes',
    buildStatsCard(
      statsInput({
        actions: [
          { key: 'refresh', label: { zh: '刷新', en: 'Refresh' }, value: { v: 1, a: 'refresh' } },
          { key: 'viewers', label: { zh: '访问记录', en: 'Viewers' }, value: { v: 1, a: 'viewers' } },
          { key: 'likes', label: { zh: '点赞', en: 'Likes' }, value: { v: 1, a: 'likes' } },
        ],
      }),
    ),
  ],
  ['viewers page', buildViewersCard(viewersInput({ items: viewersAgo([0, 0.5, 3, 30, 100, 400]) }))],
  [
    'viewers first page, empty',
    buildViewersCard(viewersInput({ items: [], page: 1, hasMore: false, nav: {} })),
  ],
  ['viewers later page, empty', buildViewersCard(viewersInput({ items: [], hasMore: false }))],
  [
    'viewers 50 rows',
    buildViewersCard(
      viewersInput({
        items: viewersAgo(Array.from({ length: 50 }, (_, i) => i * 7)),
        pageSize: 50,
        doc: { ...PEOPLE_DOC, title: LONG_TITLE },
      }),
    ),
  ],
  ['likes with a hidden liker', buildLikesCard(likesInput())],
  ['likes empty', buildLikesCard(likesInput({ items: [] }))],
  ['workplace week', buildWorkplaceCard(workplaceInput())],
  ['workplace empty', buildWorkplaceCard(workplaceInput({ days: [] }))],
  [
    'workplace year',
    buildWorkplaceCard(workplaceInput({ from: '2025-01-01', to: '2026-01-01', days: consecutiveDays(366) })),
  ],
  [
    'workplace two months',
    buildWorkplaceCard(workplaceInput({ from: '2025-01-01', to: '2025-03-03', days: consecutiveDays(62) })),
  ],
  ['app day', buildAppUsageCard(appInput())],
  [
    'app week aligned',
    buildAppUsageCard(
      appInput({
        query: { appId: 'cli_9f115af860f7901b', date: '2026-11-16', cycle: 'week', ability: 'mp' },
        requestedDate: '2026-11-19',
        periodEnd: '2026-11-22',
        metrics: { uv: 1200, pv: 56_000, lifecycle: 8_300 },
        appName: 'Expense helper',
      }),
    ),
  ],
  [
    'app month own bot',
    buildAppUsageCard(
      appInput({
        query: { appId: 'cli_a1b2c3d4e5f60718', date: '2026-10-01', cycle: 'month', ability: 'bot' },
        periodEnd: '2026-10-31',
        metrics: { uv: 42 },
        isOwnApp: true,
      }),
    ),
  ],
  ['app no figures', buildAppUsageCard(appInput({ metrics: {} }))],
  [
    'access viewers not allowed',
    buildAccessDeniedCard({ what: 'viewers', reason: 'not_allowed', doc: PEOPLE_DOC }),
  ],
  [
    'access likes missing scope',
    buildAccessDeniedCard({
      what: 'likes',
      reason: 'missing_scope',
      scope: 'docs:permission.member:readonly',
    }),
  ],
  ['access viewers cannot verify', buildAccessDeniedCard({ what: 'viewers', reason: 'cannot_verify' })],
  ['access workplace not allowed', buildAccessDeniedCard({ what: 'workplace', reason: 'not_allowed' })],
  ['access app not allowed', buildAccessDeniedCard({ what: 'app', reason: 'not_allowed' })],
  ['sent privately viewers', buildSentPrivatelyCard({ what: 'viewers', doc: PEOPLE_DOC })],
  ['sent privately likes', buildSentPrivatelyCard({ what: 'likes' })],
  [
    'error likes_unsupported',
    buildErrorCard({
      kind: 'likes_unsupported',
      docType: 'sheet',
      doc: { url: 'https://sample.feishu.cn/sheets/shtcnAbCdEf', title: 'Budget' },
    }),
  ],
  [
    'error 211011',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 211011,
      retryable: retryableCode(211011),
    }),
  ],
  [
    'error 211004',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 211004,
      retryable: retryableCode(211004),
    }),
  ],
  [
    'error 1063002',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 1063002,
      retryable: retryableCode(1063002),
    }),
  ],
  [
    'error 1061004',
    buildErrorCard({
      kind: 'feishu',
      feishuCode: 1061004,
      retryable: retryableCode(1061004),
    }),
  ],
  [
    'error 1628002',
    buildErrorCard({ kind: 'feishu', feishuCode: 1628002, retryable: retryableCode(1628002) }),
  ],
  ['usage viewers no_link', buildUsageCard({ command: 'viewers', problem: 'no_link' })],
  ['usage likes too_many_links', buildUsageCard({ command: 'likes', problem: 'too_many_links', max: 1 })],
  [
    'usage workplace bad_range',
    buildUsageCard({ command: 'workplace', problem: 'bad_range', detail: { input: 'fortnight' } }),
  ],
  [
    'usage workplace from_after_to',
    buildUsageCard({
      command: 'workplace',
      problem: 'from_after_to',
      detail: { from: '2026-11-15', to: '2026-11-01' },
    }),
  ],
  [
    'usage workplace range_too_long',
    buildUsageCard({ command: 'workplace', problem: 'range_too_long', detail: { max: 366, days: 400 } }),
  ],
  [
    'usage app future_date',
    buildUsageCard({
      command: 'app',
      problem: 'future_date',
      detail: { date: '2027-01-01', today: '2026-11-20' },
    }),
  ],
  [
    'usage app bad_app_id',
    buildUsageCard({ command: 'app', problem: 'bad_app_id', detail: { input: 'cli_123' } }),
  ],
  ['call usage without a budget', buildCallUsageCard(callUsageInput())],
  ['call usage under budget', buildCallUsageCard(callUsageInput({ budget: 8_000 }))],
  ['call usage past 80 %', buildCallUsageCard(callUsageInput({ budget: 3_000 }))],
  ['call usage budget spent', buildCallUsageCard(callUsageInput({ budget: 2_000 }))],
  [
    'call usage empty month',
    buildCallUsageCard(
      callUsageInput({
        byEndpoint: [],
        total: 0,
        projection: { projected: 0, elapsedDays: 0.2, daysInMonth: 31 },
        lastRun: undefined,
        month: '2026-12',
      }),
    ),
  ],
  ['call budget warning', buildCallBudgetWarningCard({ month: '2026-11', total: 6_400, budget: 8_000 })],
  ['call usage denied', buildCallUsageDeniedCard()],
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
    for (const node of texts) {
      // Only word-free markdown (a <local_datetime>, a number) may skip translation.
      if (!('i18n_content' in node)) expect(isLanguageNeutral(String(node.content))).toBe(true);
      else expect(node).toHaveProperty('i18n_content');
    }
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
    expect(card.header.title.i18n_content?.zh_cn).toMatch(/\S/);
  });

  it.each(CARDS)('%s stays within 200 components and 5 charts', (_name, card) => {
    expect(countComponents(card)).toBeLessThanOrEqual(200);
    expect(byTag(card, 'chart').length).toBeLessThanOrEqual(5);
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
  const COMMANDS: Array<[string, string, string, string[]]> = [
    // [English word, Chinese word, example argument, scopes the entry must name]
    ['stats', '统计', '/docx/', ['drive:drive.metadata:readonly', 'drive:drive:readonly']],
    ['viewers', '访问记录', '/docx/', ['drive:file:view_record:readonly', 'contact:user.base:readonly']],
    ['likes', '点赞', '/docx/', ['drive:file.like:readonly', 'contact:user.base:readonly']],
    ['workplace', '工作台', '30d', ['workplace:workplace_using_data:read']],
    ['app', '应用', 'cli_', ['application:application.app_usage_stats.overview:readonly']],
    ['digest', '订阅', '/docx/', []],
    ['usage', '用量', '', []],
    ['help', '帮助', '', []],
  ];

  it.each(COMMANDS)(
    'lists %s with an example and its permission in both languages',
    (en, zh, arg, scopes) => {
      const card = buildHelpCard();
      const entry = byElementId(card, `help_${en}`);
      const english = textOf(entry, 'en_us');
      const chinese = textOf(entry, 'zh_cn');
      expect(english.startsWith(`**${en}**`)).toBe(true);
      expect(chinese.startsWith(`**${zh}**`)).toBe(true);
      expect(english).toMatch(new RegExp(`Example: \`${en}(?: [^\`]*)?\``));
      expect(chinese).toMatch(new RegExp(`示例：\`${zh}(?: [^\`]*)?\``));
      expect(english).toContain(arg);
      for (const scope of scopes) {
        expect(english).toContain(scope);
        expect(chinese).toContain(scope);
      }
      expect(english).toContain('Needs:');
      expect(chinese).toContain('所需权限');
    },
  );

  it('marks workplace and app as admin-only and states the privacy rule for people lists', () => {
    const card = buildHelpCard();
    for (const id of ['help_workplace', 'help_app', 'help_usage']) {
      expect(textOf(byElementId(card, id), 'en_us')).toContain('Bot admins only');
      expect(textOf(byElementId(card, id), 'zh_cn')).toContain('仅机器人管理员');
    }
    for (const id of ['help_stats', 'help_viewers', 'help_likes', 'help_help']) {
      expect(textOf(byElementId(card, id), 'en_us')).not.toContain('admins only');
    }
    expect(textOf(byElementId(card, 'help_viewers'), 'en_us')).toContain(
      "only the document's owner, people with full access to it and bot admins",
    );
    expect(textOf(byElementId(card, 'help_app'), 'en_us')).toContain('custom apps only');
    // Anyone may subscribe documents; workplace and app items are admin-only.
    expect(textOf(byElementId(card, 'help_digest'), 'en_us')).toContain(
      'anyone can add documents; adding the workplace or an app: 🔒 bot admins only (BOT_ADMINS)',
    );
    expect(textOf(byElementId(card, 'help_digest'), 'zh_cn')).toContain('仅机器人管理员');
  });

  it('lists digest, then usage, before help, with its subcommands and where the default time comes from', () => {
    const card = buildHelpCard();
    const ids = card.body.elements.map((e) => e.element_id);
    expect(ids.indexOf('help_digest')).toBe(ids.indexOf('help_app') + 1);
    expect(ids.indexOf('help_usage')).toBe(ids.indexOf('help_digest') + 1);
    expect(ids.indexOf('help_help')).toBe(ids.indexOf('help_usage') + 1);
    const en = textOf(byElementId(card, 'help_digest'), 'en_us');
    for (const part of [
      'add workplace',
      'add app',
      'remove ‹number›',
      'time ‹HH:MM›',
      'off',
      '7-day trend',
      'daily | weekly [mon…sun] | monthly [1…28]',
      'gained in the last 7 days',
      'the change since the same day last month',
    ]) {
      expect(en).toContain(part);
    }
    expect(en).toContain('same scope and document-app grant as `stats`');
    expect(en).toContain('set by whoever deploys the bot (`DIGEST_TIME` in `DIGEST_TZ`)');
    expect(textOf(byElementId(card, 'help_digest'), 'zh_cn')).toContain('`订阅 时间`');
    expect(textOf(byElementId(card, 'help_digest'), 'zh_cn')).toContain('每周 [周一…周日] | 每月 [1…28号]');

    const configured = buildHelpCard({ digestDefault: { hour: 9, minute: 5, timeZone: 'Europe/Berlin' } });
    const configuredEn = textOf(byElementId(configured, 'help_digest'), 'en_us');
    expect(configuredEn).toContain('daily at 09:05 (Europe/Berlin) by default');
    expect(configuredEn).not.toContain('DIGEST_TIME');
    expect(textOf(byElementId(configured, 'help_digest'), 'zh_cn')).toContain(
      '默认每天 09:05（Europe/Berlin）',
    );
  });

  it('keeps the stats grant instructions and the private-chat shortcut, and announces digests', () => {
    const card = buildHelpCard();
    const en = markdownText(card, 'en_us');
    const zh = markdownText(card, 'zh_cn');
    expect(en).toContain('Add document app');
    expect(zh).toContain('添加文档应用');
    expect(en).toContain('@mention');
    expect(zh).toContain('私聊');
    expect(textOf(byElementId(card, 'help_intro'), 'en_us')).toContain('daily digest');
    expect(textOf(byElementId(card, 'help_intro'), 'zh_cn')).toContain('每天');
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

describe('buildCallUsageCard', () => {
  it('lists this month’s calls by endpoint, most first, with what each is for, and the total', () => {
    const card = buildCallUsageCard(callUsageInput());
    const en = textOf(byElementId(card, 'usage_endpoints'), 'en_us');
    const lines = en.split('\n');
    expect(lines).toEqual([
      '**By endpoint**',
      '- `drive.v1.fileStatistics.get` document statistics: 1,830',
      '- `im.v1.message.create` messages sent: 420',
      '- `im.v1.message.reply` replies: 420',
      '- `auth.v3.tenantAccessToken.internal` tenant access token: 24',
      '- **Total**: 2,694',
    ]);
    expect(textOf(byElementId(card, 'usage_endpoints'), 'zh_cn')).toContain('文档统计：1,830');
    expect(textOf(byElementId(card, 'fig_total'), 'en_us')).toContain('**2,694**');
    expect(card.header.title.content).toBe('API calls · 2026-11');
  });

  it('shows an endpoint it has no words for by its name, escaped when it is not name-shaped', () => {
    const card = buildCallUsageCard(
      callUsageInput({
        byEndpoint: [
          { endpoint: 'contact.v3.user.get', calls: 3 },
          { endpoint: '<at id=all></at>', calls: 1 },
        ],
        total: 4,
      }),
    );
    const en = textOf(byElementId(card, 'usage_endpoints'), 'en_us');
    expect(en).toContain('- `contact.v3.user.get`: 3');
    expect(en).not.toContain('<at');
    expect(decodeEntities(en)).toContain('<at id=all></at>: 1');
  });

  it('says what the last digest run cost, for how many chats and items, or that none is recorded', () => {
    const en = textOf(byElementId(buildCallUsageCard(callUsageInput()), 'usage_run'), 'en_us');
    expect(en).toContain('the last one (for 2026-11-20, started');
    expect(en).toContain('cost 21 calls for 12 chats and 9 distinct items');
    const none = buildCallUsageCard(callUsageInput({ lastRun: undefined }));
    expect(textOf(byElementId(none, 'usage_run'), 'en_us')).toContain('none recorded yet');
    expect(textOf(byElementId(none, 'usage_run'), 'zh_cn')).toContain('还没有记录');
  });

  it('states the projection with the days it is drawn from and the time zone', () => {
    const card = buildCallUsageCard(callUsageInput());
    expect(textOf(byElementId(card, 'fig_projected'), 'en_us')).toContain('**4,145**');
    expect(textOf(byElementId(card, 'usage_projection'), 'en_us')).toBe(
      "**Projected by the month's end**: about 4,145 (linear on 19.5 of 30 days gone, Asia/Shanghai).",
    );
  });

  it('without a budget says nothing is limited and shows no budget figure', () => {
    const card = buildCallUsageCard(callUsageInput());
    expect(textOf(byElementId(card, 'usage_budget'), 'en_us')).toContain(
      'No `FEISHU_MONTHLY_CALL_BUDGET` is set, so nothing is limited',
    );
    expect(() => byElementId(card, 'fig_budget')).toThrow();
    expect(card.header.template).toBe('blue');
  });

  it.each([
    [8_000, '33 %', 'blue', 'At this rate the budget lasts the month.'],
    [4_000, '67 %', 'blue', 'At this rate the budget runs out before the month ends.'],
    [3_000, '89 %', 'orange', 'Past 80 %: the bot admins were warned privately.'],
    [2_694, '100 %', 'red', '**This month’s budget is spent.**'],
    [2_000, '134 %', 'red', '**This month’s budget is spent.**'],
  ])('with a budget of %i shows %s used, a %s header and “%s”', (budget, share, template, state) => {
    const card = buildCallUsageCard(callUsageInput({ budget }));
    expect(textOf(byElementId(card, 'fig_budget'), 'en_us')).toContain(`**${share}**`);
    const en = textOf(byElementId(card, 'usage_budget'), 'en_us');
    expect(en).toContain(`${share} used.`);
    expect(en).toContain(state);
    // What happens past the budget is said before it happens, not only after.
    expect(en).toContain('digests still go out but fetch each item at most once a day');
    expect(card.header.template).toBe(template);
    expect(card.config.summary.content).toContain(`2,694 of ${budget.toLocaleString('en-US')} calls`);
  });

  it('warns with the month, the calls, the budget and where to look next', () => {
    const card = buildCallBudgetWarningCard({ month: '2026-11', total: 6_400, budget: 8_000 });
    expect(card.header.title.content).toBe('API calls at 80 % of the budget');
    expect(textOf(byElementId(card, 'warn_calls'), 'en_us')).toBe(
      'This bot has made 6,400 Feishu API calls in 2026-11, of a monthly budget (`FEISHU_MONTHLY_CALL_BUDGET`) of 8,000.',
    );
    expect(textOf(byElementId(card, 'warn_note'), 'en_us')).toContain('Send `usage`');
    expect(textOf(byElementId(card, 'warn_note'), 'zh_cn')).toContain('`用量`');
    expect(card.header.template).toBe('orange');
  });

  it('tells anyone but an admin who may see it', () => {
    const en = markdownText(buildCallUsageDeniedCard(), 'en_us');
    expect(en).toContain('only bot admins can see it');
    expect(en).toContain('BOT_ADMINS');
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
    const card = buildUsageCard({ command: 'stats', problem: 'bad_weather' });
    expect(markdownText(card, 'en_us')).toContain('could not run `stats` as written');
    expect(exampleLines(card)).toHaveLength(2);
  });

  it("says how long a command may be for too_long, never the caller's link maximum", () => {
    // bot.ts passes max: MAX_LINKS_PER_COMMAND (5) for every usage outcome; the limit comes in detail.max.
    const card = buildUsageCard({
      command: 'stats',
      problem: 'too_long',
      max: 5,
      detail: { max: 4000, length: 100_000 },
    });
    expect(markdownText(card, 'en_us')).toContain(
      'too long (100,000 characters): a command may be at most 4,000 characters',
    );
    expect(markdownText(card, 'zh_cn')).toContain('（100,000 个字符），命令最多 4,000 个字符');
    expect(exampleLines(card)).toHaveLength(2);
    const withoutLimit = markdownText(
      buildUsageCard({ command: 'stats', problem: 'too_long', max: 5 }),
      'en_us',
    );
    expect(withoutLimit).toContain('a command cannot be that long');
    expect(withoutLimit).not.toContain('5 characters');
  });
});

describe('buildErrorCard', () => {
  it('tells the user to "Add document app" for 1069603, in both languages, as numbered steps', () => {
    const card = buildErrorCard({
      kind: 'feishu',
      feishuCode: 1069603,
      retryable: retryableCode(1069603),
    });
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
    expect(
      buildErrorCard({ kind: 'feishu', feishuCode: code, retryable: retryableCode(code) }).header.template,
    ).toBe(template);
  });

  it('points 99991672 at the developer console and names the scopes Feishu asks for', () => {
    const card = buildErrorCard({
      kind: 'feishu',
      feishuCode: 99991672,
      retryable: retryableCode(99991672),
      scopes: ['drive:drive:readonly'],
    });
    expect(markdownText(card, 'en_us')).toContain('Permissions & Scopes');
    expect(decodeEntities(markdownText(card, 'en_us'))).toContain(
      'Scopes Feishu asks for: `drive:drive:readonly`',
    );
  });

  it("shows the code and log ID for a code it does not know, never Feishu's message", () => {
    const card = buildErrorCard({
      kind: 'feishu',
      feishuCode: 1234567,
      retryable: retryableCode(1234567),
      logId: '20240727LOGID42',
    });
    for (const locale of ['zh_cn', 'en_us'] as const) {
      const text = markdownText(card, locale);
      expect(text).toContain('1234567');
      expect(text).not.toContain('something odd');
      expect(textOf(byElementId(card, 'err_footer'), locale)).toContain('20240727LOGID42');
    }
  });

  it('puts the code and log ID in a small grey footer', () => {
    const card = buildErrorCard({
      kind: 'feishu',
      feishuCode: 1069604,
      retryable: retryableCode(1069604),
      logId: 'LOG123',
    });
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
    ['feishu scopes', { kind: 'feishu', feishuCode: 99991672, retryable: false, scopes: [INJECTION] }],
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
      expect(text?.zh).toMatch(/[\u4e00-\u9fff]/);
      expect(text?.en).toMatch(/[A-Za-z]{3}/);
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

  it('measures the request body: the card string-encoded inside it, plus the largest envelope the bot sends', () => {
    const card = buildHelpCard();
    const body = JSON.stringify({
      receive_id: `ou_${'a'.repeat(61)}`,
      msg_type: 'interactive',
      content: JSON.stringify(card),
      uuid: 'x'.repeat(50),
    });
    expect(cardByteSize(card)).toBe(Buffer.byteLength(body, 'utf8'));
    // Every quote of the card is escaped once more in `content`.
    expect(cardByteSize(card)).toBeGreaterThan(Buffer.byteLength(JSON.stringify(card), 'utf8') + 400);
  });
});

// --- Issue 3 cards --------------------------------------------------------------------------------

describe('relativeTime', () => {
  const NOW = new Date('2026-11-20T12:00:00.000Z');
  const ago = (ms: number) => new Date(NOW.getTime() - ms);
  const MIN = 60_000;
  const HOUR = 60 * MIN;
  const DAY = 24 * HOUR;

  it.each<[string, number, string, string]>([
    ['a few seconds', 20_000, 'just now', '刚刚'],
    ['a time slightly in the future (clock skew)', -30_000, 'just now', '刚刚'],
    ['exactly one minute', MIN, '1 minute ago', '1 分钟前'],
    ['5 minutes', 5 * MIN + 59_000, '5 minutes ago', '5 分钟前'],
    ['59 minutes', 59 * MIN, '59 minutes ago', '59 分钟前'],
    ['one hour', HOUR, '1 hour ago', '1 小时前'],
    ['3 hours', 3 * HOUR + 10 * MIN, '3 hours ago', '3 小时前'],
    ['23 hours', 23 * HOUR + 59 * MIN, '23 hours ago', '23 小时前'],
    ['a day', DAY, 'yesterday', '昨天'],
    ['47 hours', 47 * HOUR, 'yesterday', '昨天'],
    ['two days', 2 * DAY, '2 days ago', '2 天前'],
    ['4 days', 4 * DAY + 5 * HOUR, '4 days ago', '4 天前'],
    ['6 days', 6 * DAY + 23 * HOUR, '6 days ago', '6 天前'],
    ['a week', 7 * DAY, '2026-11-13', '2026-11-13'],
    ['months', 200 * DAY, '2026-05-04', '2026-05-04'],
  ])('says %s ago in both languages', (_label, elapsed, en, zh) => {
    expect(relativeTime(ago(elapsed), NOW)).toEqual({ en, zh });
  });

  it('writes the absolute date in the time zone it is given', () => {
    // 2026-11-12 20:00 UTC is already the 13th in Shanghai.
    const then = new Date('2026-11-12T20:00:00.000Z');
    expect(relativeTime(then, NOW).en).toBe('2026-11-12');
    expect(relativeTime(then, NOW, 'Asia/Shanghai').en).toBe('2026-11-13');
  });

  it('does not pretend to know when the time is invalid', () => {
    expect(relativeTime(new Date(Number.NaN), NOW).en).toBe('unknown time');
  });
});

/** The `<person>` ids a card renders, in order. */
function personIds(card: Card): string[] {
  return [...markdownText(card, 'en_us').matchAll(/<person id='([^']+)'><\/person>/g)].map((m) => m[1] ?? '');
}

function buttonByText(card: Card, label: string): Json | undefined {
  return byTag(card, 'button').find((b) => (b.text as { content?: string }).content === label);
}

describe('buildViewersCard', () => {
  it('titles the card with the document and shows each viewer as a person, in the order given', () => {
    const items = viewersAgo([1, 5, 30]);
    const card = buildViewersCard(viewersInput({ items }));
    expect(card.header.title.i18n_content).toEqual({
      en_us: 'Who viewed Q3 roadmap',
      zh_cn: '谁看过「Q3 roadmap」',
    });
    expect(personIds(card)).toEqual(items.map((i) => i.viewerId));
  });

  it('puts the relative time beside the person and the absolute local time on a grey second line', () => {
    const card = buildViewersCard(viewersInput());
    const example = toViewRecord(DOC_EXAMPLE_VIEWER);
    const rows = byTag(card, 'markdown').filter((m) => String(m.content).includes('<person'));
    expect(rows).toHaveLength(1);
    const row = rows[0] as Json;
    expect(textOf(row, 'en_us')).toBe(`<person id='${example.viewerId}'></person> · 4 hours ago`);
    expect(textOf(row, 'zh_cn')).toBe(`<person id='${example.viewerId}'></person> · 4 小时前`);
    const next = card.body.elements[card.body.elements.indexOf(row as never) + 1] as unknown as Json;
    expect(String(next.content)).toContain(`<local_datetime millisecond='${example.lastViewTime * 1000}'>`);
    expect(String(next.content)).toContain("format_type='time'");
    expect(String(next.content)).toMatch(/^<font color='grey'>/);
  });

  it('drops the relative phrase for visits a week or more old: the date line says it', () => {
    const card = buildViewersCard(viewersInput({ items: viewersAgo([24 * 10]) }));
    const row = byTag(card, 'markdown').find((m) => String(m.content).includes('<person')) as Json;
    expect(textOf(row, 'en_us')).not.toContain('ago');
    expect(markdownText(card, 'en_us')).toContain('<local_datetime');
  });

  it('numbers the page and says whether more follow', () => {
    const card = buildViewersCard(viewersInput({ items: viewersAgo([1, 2, 3]), page: 2, pageSize: 20 }));
    expect(textOf(byElementId(card, 'people_page'), 'en_us')).toBe(
      '**Page 2** · #21–23 · more on the next page',
    );
    expect(textOf(byElementId(card, 'people_page'), 'zh_cn')).toContain('第 2 页');
    const last = buildViewersCard(viewersInput({ items: viewersAgo([1]), page: 3, hasMore: false }));
    expect(textOf(byElementId(last, 'people_page'), 'en_us')).toContain('end of list');
  });

  it('renders Previous, Next and Back to stats with the values it was given, and only those', () => {
    const card = buildViewersCard(viewersInput());
    expect(buttonByText(card, 'Previous')?.behaviors).toEqual([{ type: 'callback', value: NAV.previous }]);
    expect(buttonByText(card, 'Next')?.behaviors).toEqual([{ type: 'callback', value: NAV.next }]);
    expect(buttonByText(card, 'Back to stats')?.behaviors).toEqual([{ type: 'callback', value: NAV.back }]);

    const firstPage = buildViewersCard(
      viewersInput({ page: 1, nav: { next: NAV.next as Record<string, unknown> } }),
    );
    expect(buttonByText(firstPage, 'Previous')).toBeUndefined();
    expect(buttonByText(firstPage, 'Back to stats')).toBeUndefined();
    expect(buttonByText(firstPage, 'Next')).toBeDefined();
  });

  it('says so kindly when nobody has visited', () => {
    const card = buildViewersCard(viewersInput({ items: [], page: 1, hasMore: false, nav: {} }));
    expect(textOf(byElementId(card, 'people_empty'), 'en_us')).toBe('No visits recorded yet.');
    expect(textOf(byElementId(card, 'people_empty'), 'zh_cn')).toBe('还没有访问记录。');
    expect(personIds(card)).toEqual([]);
  });

  it('fits 50 viewers, a 200-character title and real nav values in 30 KB and 200 components', () => {
    const card = buildViewersCard(
      viewersInput({
        items: viewersAgo(Array.from({ length: 50 }, (_, i) => i * 7)),
        pageSize: 50,
        doc: { ...PEOPLE_DOC, title: LONG_TITLE },
      }),
    );
    expect(personIds(card)).toHaveLength(50);
    expect(cardByteSize(card)).toBeLessThan(MAX_CARD_BYTES);
    expect(countComponents(card)).toBeLessThanOrEqual(200);
  });

  it('never puts an id that could break out of the person tag into the card', () => {
    const hostile = {
      ...toViewRecord(DOC_EXAMPLE_VIEWER),
      viewerId: "ou_x'></person><at id=all></at>",
      name: INJECTION,
    };
    const card = buildViewersCard(viewersInput({ items: [hostile] }));
    for (const locale of ['zh_cn', 'en_us'] as const) {
      expect(markdownText(card, locale)).not.toContain('<at');
      expect(markdownText(card, locale)).not.toContain('<person');
      // Names are cut to 40 characters; what is left shows as typed.
      expect(decodeEntities(markdownText(card, locale))).toContain(INJECTION.slice(0, 30));
    }
  });
});

describe('buildLikesCard', () => {
  it('shows a desensitised liker as "Hidden user" / 匿名用户 and never renders their id', () => {
    const card = buildLikesCard(likesInput());
    const json = JSON.stringify(card);
    expect(json).not.toContain(HIDDEN_LIKER.userId);
    expect(personIds(card)).toEqual([DOC_EXAMPLE_LIKE.user_id]);
    expect(markdownText(card, 'en_us')).toContain('Hidden user');
    expect(markdownText(card, 'zh_cn')).toContain('匿名用户');
  });

  it('titles the card "Who liked" and gives the like times', () => {
    const card = buildLikesCard(likesInput());
    expect(card.header.title.i18n_content).toEqual({
      en_us: 'Who liked Q3 roadmap',
      zh_cn: '谁赞了「Q3 roadmap」',
    });
    const liked = byTag(card, 'markdown').find((m) => String(m.content).includes('<person')) as Json;
    expect(textOf(liked, 'en_us')).toContain('2 hours ago');
    expect(markdownText(card, 'en_us')).toContain(`millisecond='${1690857821 * 1000}'`);
  });

  it('says "No likes yet" for an empty first page', () => {
    const card = buildLikesCard(likesInput({ items: [] }));
    expect(textOf(byElementId(card, 'people_empty'), 'en_us')).toBe('No likes yet.');
    expect(textOf(byElementId(card, 'people_empty'), 'zh_cn')).toBe('还没有人点赞。');
  });

  it('fits 50 likers in 30 KB and 200 components', () => {
    const likes = Array.from({ length: 50 }, (_, i) =>
      toDocLike({
        ...DOC_EXAMPLE_LIKE,
        user_id: `ou_${String(i).padStart(2, '0')}be8a09c20e89cce9bff989ed840674`,
      }),
    );
    const card = buildLikesCard(likesInput({ items: likes, pageSize: 50, nav: NAV }));
    expect(personIds(card)).toHaveLength(50);
    expect(cardByteSize(card)).toBeLessThan(MAX_CARD_BYTES);
    expect(countComponents(card)).toBeLessThanOrEqual(200);
  });
});

interface ChartSpecForTest {
  type: string;
  data: { values: Array<{ date: string; series: string; value: number }> };
  xField: string;
  yField: string;
  seriesField: string;
}

function chartSpec(card: Card, id: string): ChartSpecForTest {
  return byElementId(card, id).chart_spec as ChartSpecForTest;
}

describe('buildWorkplaceCard', () => {
  it('sums views and gives the average and busiest day for visitors instead of a total', () => {
    // By hand from WEEK: all pv 100+250+300+280+260+120+90 = 1400; all uv 445/7 ≈ 63.6, peak 95 on 03-14;
    // default pv 100+200+240+230+210+100+80 = 1160; default uv 372/7 ≈ 53.1, peak 75 on 03-14.
    expect(computeWorkplaceTotals(WEEK)).toEqual({
      days: 7,
      all: { pvSum: 1400, uvAverage: 445 / 7, uvPeak: 95, uvPeakDate: '2023-03-14' },
      default: { pvSum: 1160, uvAverage: 372 / 7, uvPeak: 75, uvPeakDate: '2023-03-14' },
    });
    const card = buildWorkplaceCard(workplaceInput());
    const all = textOf(byElementId(card, 'wp_total_all'), 'en_us');
    expect(all).toContain('Views: **1,400**');
    expect(all).toContain('Average daily visitors: **63.6**');
    expect(all).toContain('Busiest day: **95** visitors (2023-03-14)');
    expect(textOf(byElementId(card, 'wp_total_default'), 'zh_cn')).toContain('访问次数：**1,160**');
    expect(textOf(byElementId(card, 'wp_uv_note'), 'en_us')).toContain("can't be added up");
  });

  it('draws one point per day per series, in date order, for views and for visitors', () => {
    const shuffled = [WEEK[3], WEEK[0], WEEK[6], WEEK[1], WEEK[5], WEEK[2], WEEK[4]] as WorkplaceAccessDay[];
    const card = buildWorkplaceCard(workplaceInput({ days: shuffled }));
    const dates = WEEK.map((d) => d.date);
    for (const [id, pick] of [
      ['wp_pv_chart', (d: WorkplaceAccessDay) => [d.allWorkplace.pv, d.defaultWorkplace.pv]],
      ['wp_uv_chart', (d: WorkplaceAccessDay) => [d.allWorkplace.uv, d.defaultWorkplace.uv]],
    ] as const) {
      const spec = chartSpec(card, id);
      expect(spec).toMatchObject({ type: 'line', xField: 'date', yField: 'value', seriesField: 'series' });
      const series = [...new Set(spec.data.values.map((p) => p.series))];
      expect(series).toHaveLength(2);
      const [allName, defaultName] = series as [string, string];
      expect(allName).toMatch(/All.*全部/);
      expect(defaultName).toMatch(/Default.*默认/);
      const allPoints = spec.data.values.filter((p) => p.series === allName);
      const defaultPoints = spec.data.values.filter((p) => p.series === defaultName);
      expect(allPoints.map((p) => p.date)).toEqual(dates);
      expect(defaultPoints.map((p) => p.date)).toEqual(dates);
      expect(allPoints.map((p) => p.value)).toEqual(WEEK.map((d) => pick(d)[0]));
      expect(defaultPoints.map((p) => p.value)).toEqual(WEEK.map((d) => pick(d)[1]));
    }
  });

  it('explains that all workplaces is not default + custom, and shows range and dates in the header', () => {
    const card = buildWorkplaceCard(workplaceInput());
    expect(textOf(byElementId(card, 'wp_all_note'), 'en_us')).toContain('do not always add up');
    expect(textOf(byElementId(card, 'wp_all_note'), 'zh_cn')).toContain('历史原因');
    expect(card.header.subtitle?.i18n_content).toEqual({
      en_us: 'Last 7 days · 2023-03-12 – 2023-03-18',
      zh_cn: '最近 7 天 · 2023-03-12 至 2023-03-18',
    });
  });

  it('has a clear empty state without charts or totals', () => {
    const card = buildWorkplaceCard(workplaceInput({ days: [] }));
    expect(byTag(card, 'chart')).toHaveLength(0);
    expect(textOf(byElementId(card, 'wp_empty'), 'en_us')).toContain('no workplace visits for this range');
    expect(() => byElementId(card, 'wp_totals')).toThrow();
  });

  it('offers Refresh only when given a value for it', () => {
    const card = buildWorkplaceCard(workplaceInput());
    expect(buttonByText(card, 'Refresh')?.behaviors).toEqual([
      { type: 'callback', value: workplaceInput().refresh },
    ]);
    expect(
      buttonByText(buildWorkplaceCard(workplaceInput({ refresh: undefined })), 'Refresh'),
    ).toBeUndefined();
  });

  it('groups a year into weekly points so it stays under 30 KB, and says so', () => {
    const days = consecutiveDays(366);
    const card = buildWorkplaceCard(workplaceInput({ days }));
    const points = chartSpec(card, 'wp_pv_chart').data.values.filter((p) => p.series.startsWith('All'));
    expect(points).toHaveLength(Math.ceil(366 / 7));
    expect(points[0]).toMatchObject({
      date: '2025-01-01',
      value: days.slice(0, 7).reduce((s, d) => s + d.allWorkplace.pv, 0),
    });
    expect(points[1]?.date).toBe('2025-01-08');
    expect(textOf(byElementId(card, 'wp_bucket_note'), 'en_us')).toContain('each point covers 7 days');
    expect(cardByteSize(card)).toBeLessThan(MAX_CARD_BYTES);
    // The totals still cover every day.
    expect(textOf(byElementId(card, 'wp_total_all'), 'en_us')).toContain(
      `Views: **${days.reduce((s, d) => s + d.allWorkplace.pv, 0).toLocaleString('en-US')}**`,
    );
  });

  it('keeps one point per day up to two months, within 30 KB', () => {
    const card = buildWorkplaceCard(workplaceInput({ days: consecutiveDays(62) }));
    expect(chartSpec(card, 'wp_uv_chart').data.values).toHaveLength(62 * 2);
    expect(() => byElementId(card, 'wp_bucket_note')).toThrow();
    expect(cardByteSize(card)).toBeLessThan(MAX_CARD_BYTES);
  });
});

describe('buildAppUsageCard', () => {
  it('shows every metric returned, with what it counts', () => {
    const card = buildAppUsageCard(appInput());
    for (const id of ['m_uv', 'm_total_users', 'm_new_users', 'm_pv', 'm_lifecycle']) byElementId(card, id);
    expect(textOf(byElementId(card, 'm_total_users'), 'en_us')).toContain('**2**');
    const meanings = textOf(byElementId(card, 'app_meanings'), 'en_us');
    expect(meanings).toContain(
      '**Active users**: People who opened its mini program or web app, messaged its bot',
    );
    expect(meanings).toContain('**Total users**: Everyone who has ever used the app');
    expect(meanings).toContain('including people who have since left');
    expect(meanings).toContain('**New users**: People who used the app for the first time');
    expect(meanings).toContain('**Page views**: Pages visited');
    expect(meanings).toContain('more than 5 minutes in another app');
    expect(textOf(byElementId(card, 'app_period'), 'en_us')).toBe('**Day** 2021-07-26');
  });

  it('leaves out metrics the API did not return', () => {
    const card = buildAppUsageCard(appInput({ metrics: { uv: 12, pv: 40 } }));
    byElementId(card, 'm_uv');
    byElementId(card, 'm_pv');
    for (const id of ['m_total_users', 'm_new_users', 'm_lifecycle'])
      expect(() => byElementId(card, id)).toThrow();
    expect(markdownText(card, 'en_us')).not.toContain('Total users');
  });

  it('says a weekly date was moved to its Monday', () => {
    const card = buildAppUsageCard(
      appInput({
        query: { appId: 'cli_9f115af860f7901b', date: '2026-11-16', cycle: 'week', ability: 'app' },
        requestedDate: '2026-11-19',
        periodEnd: '2026-11-22',
      }),
    );
    expect(textOf(byElementId(card, 'app_period'), 'en_us')).toBe(
      '**Week of Monday** 2026-11-16 to 2026-11-22 (aligned from 2026-11-19)',
    );
    expect(textOf(byElementId(card, 'app_aligned'), 'en_us')).toContain('Feishu counts weeks from Monday');
    expect(textOf(byElementId(card, 'app_aligned'), 'zh_cn')).toContain('周一');
  });

  it('says a monthly date was moved to the 1st, and says nothing when no move was needed', () => {
    const moved = buildAppUsageCard(
      appInput({
        query: { appId: 'cli_9f115af860f7901b', date: '2026-11-01', cycle: 'month', ability: 'app' },
        requestedDate: '2026-11-19',
        periodEnd: '2026-11-30',
      }),
    );
    expect(textOf(byElementId(moved, 'app_period'), 'en_us')).toContain('**Month from** 2026-11-01');
    expect(textOf(byElementId(moved, 'app_aligned'), 'en_us')).toContain('from the 1st');
    const exact = buildAppUsageCard(
      appInput({
        query: { appId: 'cli_9f115af860f7901b', date: '2026-11-01', cycle: 'month', ability: 'app' },
        periodEnd: '2026-11-30',
      }),
    );
    expect(() => byElementId(exact, 'app_aligned')).toThrow();
  });

  it("tells that bots only report active users, and marks the bot's own app", () => {
    const card = buildAppUsageCard(
      appInput({
        query: { appId: 'cli_a1b2c3d4e5f60718', date: '2026-10-01', cycle: 'month', ability: 'bot' },
        periodEnd: '2026-10-31',
        metrics: { uv: 42 },
        isOwnApp: true,
      }),
    );
    expect(textOf(byElementId(card, 'app_bot_note'), 'en_us')).toContain(
      'For bots Feishu reports active users only',
    );
    expect(textOf(byElementId(card, 'app_meanings'), 'en_us')).toContain(
      'messaged the bot or read its messages',
    );
    expect(textOf(byElementId(card, 'app_scope'), 'en_us')).toContain('(this bot)');
    expect(() => byElementId(buildAppUsageCard(appInput()), 'app_bot_note')).toThrow();
  });
});

describe('buildAccessDeniedCard', () => {
  it('explains what is protected and who can see it', () => {
    const card = buildAccessDeniedCard({ what: 'viewers', reason: 'not_allowed', doc: PEOPLE_DOC });
    expect(textOf(byElementId(card, 'access_why'), 'en_us')).toBe(
      "Visitor lists name people, so only the document's owner, people with full access to it and bot admins can see them.",
    );
    expect(textOf(byElementId(card, 'access_why'), 'zh_cn')).toContain('文档所有者');
    expect(textOf(byElementId(card, 'access_doc'), 'en_us')).toContain('Q3 roadmap');
    const workplace = buildAccessDeniedCard({ what: 'workplace', reason: 'not_allowed' });
    expect(textOf(byElementId(workplace, 'access_why'), 'en_us')).toContain('only bot admins can see it');
  });

  it('names the scope an admin must add and publish for missing_scope', () => {
    const card = buildAccessDeniedCard({
      what: 'likes',
      reason: 'missing_scope',
      scope: 'docs:permission.member:readonly',
    });
    for (const locale of ['zh_cn', 'en_us'] as const) {
      expect(textOf(byElementId(card, 'access_fix'), locale)).toContain('`docs:permission.member:readonly`');
    }
    expect(textOf(byElementId(card, 'access_fix'), 'en_us')).toContain('publishes a new version');
  });

  it('escapes a scope that is not scope-shaped', () => {
    const card = buildAccessDeniedCard({ what: 'likes', reason: 'missing_scope', scope: INJECTION });
    expect(markdownText(card, 'en_us')).not.toContain('<at');
  });

  it('says the bot could not check, and to try again, for cannot_verify', () => {
    const card = buildAccessDeniedCard({ what: 'viewers', reason: 'cannot_verify' });
    expect(textOf(byElementId(card, 'access_why'), 'en_us')).toContain('could not check your permissions');
    expect(textOf(byElementId(card, 'access_fix'), 'en_us')).toContain('Try again in a minute');
    expect(card.header.template).toBe('yellow');
  });
});

describe('buildSentPrivatelyCard', () => {
  it('tells the group the list went to the asker privately, and why', () => {
    const card = buildSentPrivatelyCard({ what: 'likes', doc: PEOPLE_DOC });
    expect(textOf(byElementId(card, 'private_body'), 'en_us')).toContain('sent it to you in a private chat');
    expect(textOf(byElementId(card, 'private_body'), 'zh_cn')).toContain('私聊');
    expect(personIds(card)).toEqual([]);
  });
});

describe('buildStatsCard with issue 3 actions', () => {
  it('puts Open document and the Refresh, Viewers and Likes callbacks side by side in one row', () => {
    const card = CARDS.find(([name]) => name === 'stats with refresh, viewers and likes')?.[1] as Card;
    const rows = byTag(card, 'column_set').filter((set) =>
      (set.columns as Json[]).every((c) => (c.elements as Json[])[0]?.tag === 'button'),
    );
    expect(rows).toHaveLength(1);
    const buttons = byTag(card, 'button');
    expect(buttons.map((b) => (b.text as { content: string }).content)).toEqual([
      'Open document',
      'Refresh',
      'Viewers',
      'Likes',
    ]);
    expect(buttons.slice(1).map((b) => (b.behaviors as Json[])[0])).toEqual([
      { type: 'callback', value: { v: 1, a: 'refresh' } },
      { type: 'callback', value: { v: 1, a: 'viewers' } },
      { type: 'callback', value: { v: 1, a: 'likes' } },
    ]);
    expect((rows[0] as Json).flex_mode).toBe('flow');
  });
});

describe('error card for issue 3', () => {
  it('reads 211011 as "no data yet" with when Feishu publishes, in an informational colour', () => {
    const card = buildErrorCard({
      kind: 'feishu',
      feishuCode: 211011,
      retryable: retryableCode(211011),
    });
    expect(textOf(byElementId(card, 'err_meaning'), 'en_us')).toContain(
      "No data yet — Feishu publishes the previous day's usage around 10:00",
    );
    expect(textOf(byElementId(card, 'err_fix'), 'en_us')).toContain('Try a day that has ended');
    expect(card.header.template).toBe('yellow');
    expect(card.header.title.content).toBe('No data yet');
  });

  it('says likes do not exist for sheets, bases and mind notes', () => {
    const card = buildErrorCard({
      kind: 'likes_unsupported',
      docType: 'bitable',
      doc: { url: 'https://sample.feishu.cn/base/bascnAbC', title: 'Hiring tracker' },
    });
    const meaning = textOf(byElementId(card, 'err_meaning'), 'en_us');
    expect(meaning).toContain(
      'Likes are not available for this document type (sheets, bases and mind notes have no likes)',
    );
    expect(meaning).toContain('“Hiring tracker” is a base');
    expect(textOf(byElementId(card, 'err_meaning'), 'zh_cn')).toContain('多维表格');
    expect(byElementId(card, 'btn_open').behaviors).toEqual([
      { type: 'open_url', default_url: 'https://sample.feishu.cn/base/bascnAbC' },
    ]);
    expect(card.header.template).not.toBe('red');
  });

  it.each([
    [1063002, 'Add document app'],
    [1061004, 'drive:file.like:readonly'],
    [1628001, 'yyyy-MM-dd'],
    [211004, 'Enterprise and Flagship'],
  ])('explains %i with what to do', (code, expected) => {
    expect(
      markdownText(
        buildErrorCard({ kind: 'feishu', feishuCode: code, retryable: retryableCode(code) }),
        'en_us',
      ),
    ).toContain(expected);
  });

  it.each([1063001, 1063002, 1063003, 1063004, 1063005, 1063006, 1066001, 1066002])(
    'knows the permission-members code %i',
    (code) => {
      const explanation = explainFeishuCode(code);
      expect(explanation?.meaning.en).toMatch(/[A-Za-z]{3}/);
      expect(explanation?.meaning.zh).toMatch(/[\u4e00-\u9fff]/);
    },
  );
});

describe('buildUsageCard for issue 3 commands', () => {
  /** The list under **Examples** (bad_range has a list of its own above it). */
  const exampleLines = (card: Card) =>
    (markdownText(card, 'en_us').split('**Examples**')[1] ?? '')
      .split('\n')
      .filter((l) => l.startsWith('- `'));

  it.each<[UsageCardInput, string, string]>([
    [
      { command: 'viewers', problem: 'no_link' },
      'needs exactly one document link',
      '`viewers` ‹document link›',
    ],
    [{ command: 'likes', problem: 'too_many_links', max: 1 }, 'takes exactly one document link', '`likes`'],
    [
      { command: 'workplace', problem: 'bad_range', detail: { input: 'fortnight' } },
      'could not read the range `fortnight`',
      '`workplace` [range]',
    ],
    [
      { command: 'workplace', problem: 'from_after_to', detail: { from: '2026-11-15', to: '2026-11-01' } },
      'start date 2026-11-15 is after the end date 2026-11-01',
      '`workplace` [range]',
    ],
    [
      { command: 'workplace', problem: 'range_too_long', detail: { max: 366, days: 400 } },
      'too long (400 days): the most I can show is 366 days',
      '`workplace` [range]',
    ],
    [
      { command: 'workplace', problem: 'future_date', detail: { date: '2026-12-01', today: '2026-11-20' } },
      '2026-12-01 is in the future (today is 2026-11-20)',
      '`workplace` [range]',
    ],
    [
      { command: 'app', problem: 'bad_app_id', detail: { input: 'cli_123' } },
      '`cli_123` is not an app ID',
      '`app`',
    ],
    [
      { command: 'app', problem: 'bad_date', detail: { input: '2026/13/01' } },
      'write it as YYYY-MM-DD',
      '`app`',
    ],
    [
      { command: 'app', problem: 'bad_cycle', detail: { input: 'yearly' } },
      '`day`, `week` or `month`',
      '`app`',
    ],
    [{ command: 'app', problem: 'bad_ability', detail: { input: 'desktop' } }, '`app`, `mp`', '`app`'],
    [
      { command: 'app', problem: 'bad_arg', detail: { input: 'weeek' } },
      "I don't understand `weeek`",
      '`app`',
    ],
    [
      { command: 'app', problem: 'future_date', detail: { date: '2027-01-01', today: '2026-11-20' } },
      '2027-01-01 is in the future',
      '`app`',
    ],
    [
      { command: 'app', problem: 'too_many_args', detail: { input: 'week' } },
      'repeats something already given',
      '`app`',
    ],
  ])('explains %o with the syntax and two examples', (input, problem, syntax) => {
    const card = buildUsageCard(input);
    const en = markdownText(card, 'en_us');
    expect(en).toContain(problem);
    expect(en).toContain(`**Syntax:** ${syntax}`);
    expect(exampleLines(card)).toHaveLength(2);
    expect(markdownText(card, 'zh_cn')).toContain('**正确格式**');
  });

  it('lists every accepted range form for bad_range', () => {
    const text = markdownText(buildUsageCard({ command: 'workplace', problem: 'bad_range' }), 'en_us');
    for (const form of [
      '`7d`',
      '`30d`',
      '`this-week`',
      '`last-month`',
      '`YYYY-MM-DD YYYY-MM-DD`',
      'last 7 full days',
    ]) {
      expect(text).toContain(form);
    }
  });

  it("prefers the parser's own max over a caller-wide default", () => {
    // bot.ts passes MAX_LINKS_PER_COMMAND (5) for every usage outcome; viewers allows exactly one link.
    const card = buildUsageCard({
      command: 'viewers',
      problem: 'too_many_links',
      max: 5,
      detail: { max: 1 },
    });
    expect(markdownText(card, 'en_us')).toContain('takes exactly one document link');
  });

  it('maps the Chinese command words to their own syntax', () => {
    const card = buildUsageCard({ command: '工作台', problem: 'bad_range' });
    expect(markdownText(card, 'zh_cn')).toContain('`工作台` [时间范围]');
  });

  it('escapes what the user typed', () => {
    const card = buildUsageCard({ command: 'app', problem: 'bad_arg', detail: { input: INJECTION } });
    expect(markdownText(card, 'en_us')).not.toContain('<at');
    expect(decodeEntities(markdownText(card, 'en_us'))).toContain(INJECTION.slice(0, 20));
  });
});

describe('buildUsageCard for digest', () => {
  const exampleLines = (card: Card) =>
    (markdownText(card, 'en_us').split('**Examples**')[1] ?? '')
      .split('\n')
      .filter((l) => l.startsWith('- `'));

  it.each<[UsageCardInput, string, string]>([
    [
      { command: 'digest', problem: 'no_link' },
      '`digest` add needs a document link (or `workplace`',
      '需要一个文档链接',
    ],
    [
      { command: 'digest', problem: 'too_many_links', max: 5, detail: { max: 1 } },
      'takes exactly one document link at a time',
      '一次只能查询一个文档',
    ],
    [
      { command: 'digest', problem: 'bad_time', detail: { input: '25:00' } },
      'I could not read the time “25&#58;00”. Write it as HH:MM in 24-hour time',
      '请用 24 小时制写成 HH:MM',
    ],
    [{ command: 'digest', problem: 'bad_time' }, 'Give a time. Write it as HH:MM', '请写上时间'],
    [
      { command: 'digest', problem: 'bad_index', detail: { input: 'two' } },
      '`two` is not an item number. Send `digest` to see the numbered list, then `digest remove 2`',
      '`two` 不是列表里的序号',
    ],
    [{ command: 'digest', problem: 'bad_index' }, 'Say which item to remove.', '请写上要删除的序号'],
    [
      { command: 'digest', problem: 'bad_arg', detail: { input: 'fortnightly' } },
      "I don't understand `fortnightly`. After `digest` write `list`, `add`, `remove`, `time` or `off`; or `daily`, `weekly` or `monthly` for how often.",
      '`列表`、`添加`、`删除`、`时间` 或 `关闭`；推送频率写 `每天`、`每周` 或 `每月`',
    ],
    [
      { command: 'digest', problem: 'bad_weekday', detail: { input: 'funday' } },
      'I could not read the day of the week `funday`. Name the day a weekly digest goes out, `mon` to `sun`',
      '我看不懂星期 `funday`',
    ],
    [
      { command: 'digest', problem: 'bad_month_day', detail: { input: '29', day: 29 } },
      '`29` cannot be the day of a monthly digest. Some months have no day 29, so a monthly digest goes out on a day from 1 to 28',
      '有的月份没有 29 号，每月推送的日期只能是 1 到 28 号',
    ],
    [
      { command: 'digest', problem: 'bad_month_day', detail: { input: '0', day: 0 } },
      '`0` cannot be the day of a monthly digest. A monthly digest goes out on a day from 1 to 28',
      '`0` 不能作为每月推送的日期',
    ],
    [
      { command: 'digest', problem: 'too_many_args', detail: { input: '7d' } },
      'I did not expect `7d` there. Each digest subcommand takes one thing',
      '每条订阅命令只接一项',
    ],
    [
      { command: 'digest', problem: 'bad_app_id', detail: { input: 'cli_123' } },
      '`cli_123` is not an app ID',
      '不是有效的应用 ID',
    ],
    [
      { command: 'digest', problem: 'bad_app_id' },
      'Say which app: its ID looks like `cli_`',
      '请写上要订阅的应用 ID',
    ],
  ])('explains %o with every subcommand and two examples', (input, en, zh) => {
    const card = buildUsageCard(input);
    const english = markdownText(card, 'en_us');
    expect(english).toContain(en);
    expect(markdownText(card, 'zh_cn')).toContain(zh);
    for (const form of [
      '`digest` or `digest list`',
      '`digest add` ‹document link›, `digest add workplace`, `digest add app cli_…`',
      '`digest remove` ‹number›',
      '`digest time` ‹HH:MM›',
      '`digest daily`, `digest weekly` [mon…sun], `digest monthly` [1…28]',
      '`digest off`',
    ]) {
      expect(english).toContain(form);
    }
    expect(exampleLines(card)).toEqual([
      '- `digest add https://sample.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1`',
      '- `digest time 09:30`',
    ]);
  });

  it('keeps the app wording for bad_arg and too_many_args of app', () => {
    expect(markdownText(buildUsageCard({ command: 'app', problem: 'bad_arg' }), 'en_us')).toContain(
      'takes an app ID (cli_…)',
    );
    expect(markdownText(buildUsageCard({ command: 'app', problem: 'too_many_args' }), 'en_us')).toContain(
      'Give each of app ID, period, date, ability and department at most once.',
    );
  });

  it('maps the Chinese command words to the digest syntax', () => {
    for (const command of ['订阅', '日报']) {
      const zh = markdownText(buildUsageCard({ command, problem: 'bad_time' }), 'zh_cn');
      expect(zh).toContain('`订阅 删除` ‹序号›');
      expect(zh).toContain('`订阅 时间 9:30`');
    }
  });
});
