/**
 * `usage` (用量): what the bot spends of the tenant's monthly Feishu API call quota, by endpoint, what one digest
 * run costs, the projection to the month's end and the share of FEISHU_MONTHLY_CALL_BUDGET used; the private
 * warning admins get at 80 % of it; and the answer to anyone else who asks. (Not `usage-card.ts`: that one answers
 * a command written wrongly.)
 * https://open.feishu.cn/document/platform-notices/platform-updates-/custom-app-api-call-limit
 */

import {
  buildCard,
  type Card,
  type CardElement,
  escapeMarkdown,
  figureColumn,
  formatCount,
  greyNote,
  type HeaderTemplate,
  localDateTimeText,
  markdownDay,
  truncateText,
} from './card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export interface CallUsageCardInput {
  /** `yyyy-MM`, in `timeZone`. */
  month: string;
  /** DIGEST_TZ, in which months and days are counted. */
  timeZone: string;
  /** This month's calls; any order (the card sorts them). */
  byEndpoint: ReadonlyArray<{ endpoint: string; calls: number }>;
  total: number;
  projection: { projected: number; elapsedDays: number; daysInMonth: number };
  /** The last digest run and the calls counted under it so far. */
  lastRun?: { date: string; startedAt: number; chats: number; items: number; calls: number };
  /** FEISHU_MONTHLY_CALL_BUDGET, when set. */
  budget?: number;
}

export interface CallBudgetWarningCardInput {
  month: string;
  total: number;
  budget: number;
}

/** Endpoint names as the transport reports them, with what they are for; any other shows its name only. */
const ENDPOINT_LABELS: Readonly<Record<string, Bilingual>> = {
  'drive.v1.fileStatistics.get': { zh: '文档统计', en: 'document statistics' },
  'drive.v1.fileViewRecord.list': { zh: '访问记录', en: 'view records' },
  'drive.v2.fileLike.list': { zh: '点赞', en: 'likes' },
  'drive.v1.meta.batchQuery': { zh: '文档信息', en: 'document metadata' },
  'drive.v1.permissionMember.list': { zh: '文档协作者', en: 'document collaborators' },
  'wiki.v2.space.getNode': { zh: '知识库节点', en: 'wiki nodes' },
  'workplace.v1.workplaceAccessData.search': { zh: '工作台访问数据', en: 'workplace access data' },
  'application.v6.applicationAppUsage.overview': { zh: '应用使用数据', en: 'app usage' },
  'im.v1.message.create': { zh: '发送消息', en: 'messages sent' },
  'im.v1.message.reply': { zh: '回复消息', en: 'replies' },
  'im.v1.message.patch': { zh: '更新卡片', en: 'card updates' },
  'im.v1.chat.get': { zh: '群信息', en: 'chat info' },
  'im.v1.chatMembers.get': { zh: '群成员', en: 'chat members' },
  'im.v1.file.create': { zh: '上传文件', en: 'file uploads' },
  'bot.v3.info': { zh: '机器人信息', en: 'bot info' },
  'auth.v3.tenantAccessToken.internal': { zh: '获取访问凭证', en: 'tenant access token' },
};

/** Far more than the endpoints the bot calls; bounds the card if names ever multiply. */
const MAX_ENDPOINT_LINES = 40;

const SPENT_RULES: Bilingual = {
  zh: '预算用完后：日报照常发送，但每一项每天最多向飞书获取一次（之后使用当天记录的数据），每周、每月推送的会话在不推送的日子不再记录数据；用户发起的命令照常回答。',
  en: 'Once it is spent, digests still go out but fetch each item at most once a day (later digests that day reuse its figures), chats with weekly or monthly digests are not snapshotted on days they get none, and commands people send still answer.',
};

function plural(n: number, one: string, many: string): string {
  return n === 1 ? one : many;
}

function percent(total: number, budget: number): string {
  return `${Math.floor((total * 100) / budget)} %`;
}

/** `yyyy-MM` as is; anything else escaped (it comes from the store). */
function markdownMonth(month: string): string {
  return /^\d{4}-\d{2}$/.test(month) ? month : escapeMarkdown(truncateText(month, 20));
}

function describeEndpoint(endpoint: string): Bilingual {
  const name = /^[A-Za-z0-9_.]{1,80}$/.test(endpoint)
    ? `\`${endpoint}\``
    : escapeMarkdown(truncateText(endpoint, 80));
  const label = ENDPOINT_LABELS[endpoint];
  return label ? { zh: `${name} ${label.zh}`, en: `${name} ${label.en}` } : { zh: name, en: name };
}

function endpointLines(input: CallUsageCardInput): Bilingual {
  const sorted = [...input.byEndpoint]
    .filter((e) => e.calls > 0)
    .sort((a, b) => b.calls - a.calls || a.endpoint.localeCompare(b.endpoint));
  const shown = sorted.slice(0, MAX_ENDPOINT_LINES);
  const lines: Bilingual[] = [{ zh: '**按接口**', en: '**By endpoint**' }];
  if (shown.length === 0) lines.push({ zh: '- 本月还没有调用。', en: '- No calls this month yet.' });
  for (const { endpoint, calls } of shown) {
    const what = describeEndpoint(endpoint);
    lines.push({ zh: `- ${what.zh}：${formatCount(calls)}`, en: `- ${what.en}: ${formatCount(calls)}` });
  }
  const hidden = sorted.length - shown.length;
  if (hidden > 0) lines.push({ zh: `- 另有 ${hidden} 个接口`, en: `- and ${hidden} more endpoints` });
  const total = formatCount(input.total);
  lines.push({ zh: `- **合计**：${total}`, en: `- **Total**: ${total}` });
  return joinBilingual(lines, '\n');
}

function describeRun(run: CallUsageCardInput['lastRun']): Bilingual {
  if (!run) {
    return {
      zh: '**一次日报推送**：还没有记录（下一次推送后可见）。',
      en: '**One digest run**: none recorded yet (shown after the next digests go out).',
    };
  }
  const at = localDateTimeText(new Date(run.startedAt));
  const calls = formatCount(run.calls);
  const chats = formatCount(run.chats);
  const items = formatCount(run.items);
  const en = {
    calls: plural(run.calls, 'call', 'calls'),
    chats: plural(run.chats, 'chat', 'chats'),
    items: plural(run.items, 'distinct item', 'distinct items'),
  };
  return {
    zh: `**一次日报推送**：最近一次（${markdownDay(run.date)}，${at} 开始）用了 ${calls} 次调用：${chats} 个会话、${items} 个不同的订阅项（获取数据与发送消息，含重试）。`,
    en: `**One digest run**: the last one (for ${markdownDay(run.date)}, started ${at}) cost ${calls} ${en.calls} for ${chats} ${en.chats} and ${items} ${en.items} (fetches and sends, retries included).`,
  };
}

function describeProjection(input: CallUsageCardInput): Bilingual {
  const { projected, elapsedDays, daysInMonth } = input.projection;
  const days = (Math.floor(elapsedDays * 10) / 10).toFixed(1);
  const zone = escapeMarkdown(input.timeZone);
  return {
    zh: `**预计到月底**：约 ${formatCount(projected)} 次（按本月已过的 ${days} / ${daysInMonth} 天线性推算，${zone} 时区）。`,
    en: `**Projected by the month's end**: about ${formatCount(projected)} (linear on ${days} of ${daysInMonth} days gone, ${zone}).`,
  };
}

function describeBudget(input: CallUsageCardInput): Bilingual {
  const { budget, total } = input;
  if (budget === undefined) {
    return {
      zh: '未设置 `FEISHU_MONTHLY_CALL_BUDGET`：不做任何限制。免费版飞书的企业所有自建应用每月共享 10,000 次 API 调用。',
      en: 'No `FEISHU_MONTHLY_CALL_BUDGET` is set, so nothing is limited. On the free plan all of a tenant’s custom apps share 10,000 API calls a month.',
    };
  }
  const head: Bilingual = {
    zh: `**预算**：每月 ${formatCount(budget)} 次，已用 ${percent(total, budget)}。`,
    en: `**Budget**: ${formatCount(budget)} calls a month, ${percent(total, budget)} used.`,
  };
  let state: Bilingual;
  if (total >= budget) {
    state = { zh: '**本月预算已用完。**', en: '**This month’s budget is spent.**' };
  } else if (total * 5 >= budget * 4) {
    state = {
      zh: '已超过 80%，机器人管理员已收到私聊提醒。',
      en: 'Past 80 %: the bot admins were warned privately.',
    };
  } else if (input.projection.projected > budget) {
    state = {
      zh: '按目前的速度，月底前会用完预算。',
      en: 'At this rate the budget runs out before the month ends.',
    };
  } else {
    state = { zh: '按目前的速度，预算够用到月底。', en: 'At this rate the budget lasts the month.' };
  }
  return joinBilingual([head, state, SPENT_RULES], { zh: '', en: ' ' });
}

function templateFor(total: number, budget: number | undefined): HeaderTemplate {
  if (budget === undefined) return 'blue';
  if (total >= budget) return 'red';
  return total * 5 >= budget * 4 ? 'orange' : 'blue';
}

export function buildCallUsageCard(input: CallUsageCardInput): Card {
  const month = markdownMonth(input.month);
  const { budget, total } = input;
  const figures = [
    figureColumn('fig_total', formatCount(total), { zh: '本月调用', en: 'Calls this month' }),
    figureColumn('fig_projected', formatCount(input.projection.projected), {
      zh: '预计月底',
      en: "By the month's end",
    }),
    ...(budget === undefined
      ? []
      : [figureColumn('fig_budget', percent(total, budget), { zh: '预算已用', en: 'Of the budget' })]),
  ];
  const elements: CardElement[] = [
    {
      tag: 'column_set',
      element_id: 'usage_figures',
      flex_mode: 'bisect',
      horizontal_spacing: '8px',
      columns: figures,
    },
    markdown(describeBudget(input), { element_id: 'usage_budget' }),
    markdown(endpointLines(input), { element_id: 'usage_endpoints' }),
    markdown(describeRun(input.lastRun), { element_id: 'usage_run' }),
    markdown(describeProjection(input), { element_id: 'usage_projection' }),
    greyNote(
      {
        zh: '由本机器人自己统计：飞书响应过的每一次请求（含重试和获取访问凭证），所有副本合计。企业的其他自建应用也共用同一额度，以飞书的统计为准。',
        en: 'Counted by this bot: every request Feishu answered (retries and token fetches included), all replicas together. The tenant’s other custom apps draw on the same quota; Feishu’s own count is the one that applies.',
      },
      'usage_note',
    ),
  ];
  const title: Bilingual = { zh: `API 调用量 · ${month}`, en: `API calls · ${month}` };
  return buildCard({
    title,
    template: templateFor(total, budget),
    summary: joinBilingual(
      [
        title,
        budget === undefined
          ? { zh: `${formatCount(total)} 次`, en: `${formatCount(total)} calls` }
          : {
              zh: `${formatCount(total)} / ${formatCount(budget)} 次`,
              en: `${formatCount(total)} of ${formatCount(budget)} calls`,
            },
      ],
      ' · ',
    ),
    elements,
  });
}

/** Sent once a month to each admin privately, when the month's calls reach 80 % of the budget. */
export function buildCallBudgetWarningCard(input: CallBudgetWarningCardInput): Card {
  const month = markdownMonth(input.month);
  const total = formatCount(input.total);
  const budget = formatCount(input.budget);
  const share = percent(input.total, input.budget);
  const title: Bilingual = {
    zh: `API 调用量已达预算的 ${share}`,
    en: `API calls at ${share} of the budget`,
  };
  return buildCard({
    title,
    template: 'orange',
    summary: title,
    elements: [
      markdown(
        {
          zh: `本机器人 ${month} 已调用飞书 API ${total} 次，每月预算（\`FEISHU_MONTHLY_CALL_BUDGET\`）为 ${budget} 次。`,
          en: `This bot has made ${total} Feishu API calls in ${month}, of a monthly budget (\`FEISHU_MONTHLY_CALL_BUDGET\`) of ${budget}.`,
        },
        { element_id: 'warn_calls' },
      ),
      markdown(SPENT_RULES, { element_id: 'warn_rules' }),
      greyNote(
        {
          zh: '这条提醒每月只发一次，发给每位机器人管理员。发送 `用量` 查看按接口的明细和月底预计。',
          en: 'This warning is sent once a month, to each bot admin. Send `usage` for the calls by endpoint and the projection.',
        },
        'warn_note',
      ),
    ],
  });
}

/** `usage` from someone who is not in BOT_ADMINS. */
export function buildCallUsageDeniedCard(): Card {
  const title: Bilingual = { zh: '你没有权限查看 API 调用量', en: 'API call usage is not visible to you' };
  return buildCard({
    title,
    template: 'orange',
    summary: title,
    elements: [
      markdown(
        {
          zh: 'API 调用量反映机器人在整个企业的用量，所以只有机器人管理员可以查看。如果你需要查看，请联系运行这个机器人的人，把你加入机器人管理员（BOT_ADMINS）。',
          en: 'API call usage describes what the bot spends for the whole organisation, so only bot admins can see it. If you need it, ask whoever runs this bot to add you to its admins (BOT_ADMINS).',
        },
        { element_id: 'usage_denied' },
      ),
    ],
  });
}
