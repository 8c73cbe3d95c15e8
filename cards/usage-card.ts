/** A recognised command typed the wrong way (`CommandUsageError`): what was wrong and how to write it. */

import { buildCard, type Card, escapeMarkdown, formatCount, greyNote, markdownDay } from './card.js';
import { quoteUserWord } from './help-card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export interface UsageCardInput {
  command:
    | 'stats'
    | 'viewers'
    | 'likes'
    | 'unread'
    | 'export'
    | 'trend'
    | 'workplace'
    | 'app'
    | 'digest'
    | 'help'
    | string;
  /** Stable problem key from `CommandUsageError.problem`, e.g. `no_link`, `bad_range`, `future_date`. */
  problem: string;
  /** Upper bound that was exceeded (`too_many_links`, `range_too_long`); `detail.max` wins when both are set. */
  max?: number;
  /**
   * What the parser saw: `input` (the offending word), `from`/`to`, `date`/`today`, `days`, `max`.
   * Everything in it is treated as untrusted text.
   */
  detail?: Readonly<Record<string, string | number>>;
}

interface CommandUsage {
  syntax: Bilingual;
  examples: [Bilingual, Bilingual];
}

const DOC = 'https://sample.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1';
const WIKI = 'https://sample.feishu.cn/wiki/WkAbCdEfGhIjKlMnOpQrStUvWx';

function linkUsage(en: string, zh: string): CommandUsage {
  return {
    syntax: { zh: `\`${zh}\` ‹文档链接›（或 \`${en}\` ‹文档链接›）`, en: `\`${en}\` ‹document link›` },
    examples: [
      { zh: `\`${zh} ${DOC}\``, en: `\`${en} ${DOC}\`` },
      { zh: `\`${zh} ${WIKI}\``, en: `\`${en} ${WIKI}\`` },
    ],
  };
}

const STATS_USAGE = linkUsage('stats', '统计');
const VIEWERS_USAGE = linkUsage('viewers', '访问记录');
const LIKES_USAGE = linkUsage('likes', '点赞');
const UNREAD_USAGE: CommandUsage = {
  syntax: {
    zh: '在群里 @机器人 后发送 `未读` ‹文档链接›（或 `unread` ‹文档链接›）',
    en: 'in a group, after @mentioning the bot: `unread` ‹document link›',
  },
  examples: [
    { zh: `\`@机器人 未读 ${DOC}\``, en: `\`@Bot unread ${DOC}\`` },
    { zh: `\`@机器人 未读 ${WIKI}\``, en: `\`@Bot unread ${WIKI}\`` },
  ],
};
const EXPORT_USAGE: CommandUsage = {
  syntax: {
    zh: '`导出 访问记录` ‹文档链接›，或 `导出 点赞` ‹文档链接›（或 `export viewers|likes` ‹文档链接›）',
    en: '`export viewers` ‹document link›, or `export likes` ‹document link›',
  },
  examples: [
    { zh: `\`导出 访问记录 ${DOC}\``, en: `\`export viewers ${DOC}\`` },
    { zh: `\`导出 点赞 ${DOC}\``, en: `\`export likes ${DOC}\`` },
  ],
};
const TREND_USAGE: CommandUsage = {
  syntax: {
    zh: '`趋势` ‹文档链接› [`7天`|`30天`|`90天`]（或 `trend` ‹文档链接› [`7d`|`30d`|`90d`]），不写范围为 30 天',
    en: '`trend` ‹document link› [`7d`|`30d`|`90d`], 30 days unless you say',
  },
  examples: [
    { zh: `\`趋势 ${DOC}\``, en: `\`trend ${DOC}\`` },
    { zh: `\`趋势 ${DOC} 7天\``, en: `\`trend ${DOC} 90d\`` },
  ],
};

const WORKPLACE_USAGE: CommandUsage = {
  syntax: { zh: '`工作台` [时间范围]（或 `workplace` [时间范围]）', en: '`workplace` [range]' },
  examples: [
    { zh: '`工作台 30d`', en: '`workplace 30d`' },
    { zh: '`工作台 2026-11-01 2026-11-15`', en: '`workplace 2026-11-01 2026-11-15`' },
  ],
};

const APP_USAGE: CommandUsage = {
  syntax: {
    zh: '`应用` [app_id] [day|week|month] [YYYY-MM-DD] [app|mp|h5|bot] [部门 ID od-…]（或 `app` …）',
    en: '`app` [app_id] [day|week|month] [YYYY-MM-DD] [app|mp|h5|bot] [department_id od-…]',
  },
  examples: [
    { zh: '`应用 week 2026-11-16`', en: '`app week 2026-11-16`' },
    {
      zh: '`应用 cli_9f115af860f7901b month 2026-10-01 bot`',
      en: '`app cli_9f115af860f7901b month 2026-10-01 bot`',
    },
  ],
};

const DIGEST_USAGE: CommandUsage = {
  syntax: {
    zh: [
      '`订阅` ‹子命令›（或 `digest`、`日报`）：',
      '- `订阅` 或 `订阅 列表`：查看本会话订阅的内容和推送时间',
      '- `订阅 添加` ‹文档链接›、`订阅 添加 工作台`、`订阅 添加 应用 cli_…`：添加一项',
      '- `订阅 删除` ‹序号›：删除列表中的第几项',
      '- `订阅 时间` ‹HH:MM›：推送的时间，例如 `9:30` 或 `9点30`',
      '- `订阅 每天`、`订阅 每周` [周一…周日]、`订阅 每月` [1…28号]：推送频率，默认每周一、每月 1 号',
      '- `订阅 关闭`：停止本会话的推送',
    ].join('\n'),
    en: [
      '`digest` ‹subcommand›:',
      "- `digest` or `digest list`: this chat's items and digest time",
      '- `digest add` ‹document link›, `digest add workplace`, `digest add app cli_…`: add an item',
      '- `digest remove` ‹number›: remove the item with that number in the list',
      '- `digest time` ‹HH:MM›: when the digest is posted, e.g. `09:30`',
      '- `digest daily`, `digest weekly` [mon…sun], `digest monthly` [1…28]: how often, by default on Mondays and on the 1st',
      "- `digest off`: stop this chat's digest",
    ].join('\n'),
  },
  examples: [
    { zh: `\`订阅 添加 ${DOC}\``, en: `\`digest add ${DOC}\`` },
    { zh: '`订阅 时间 9:30`', en: '`digest time 09:30`' },
  ],
};

const HELP_USAGE: CommandUsage = {
  syntax: { zh: '`帮助`（或 `help`）', en: '`help`' },
  examples: [
    { zh: '`帮助`', en: '`help`' },
    { zh: '`help`', en: '`帮助`' },
  ],
};

/** Commands without their own entry get the two commands everyone can use. */
const GENERIC_USAGE: CommandUsage = {
  syntax: { zh: '`统计` ‹文档链接›，或 `帮助`', en: '`stats` ‹document link›, or `help`' },
  examples: [STATS_USAGE.examples[0], { zh: '`帮助`', en: '`help`' }],
};

// English names and the Chinese aliases the parser accepts (commands.ts).
const USAGES: Readonly<Record<string, CommandUsage>> = {
  stats: STATS_USAGE,
  统计: STATS_USAGE,
  数据: STATS_USAGE,
  viewers: VIEWERS_USAGE,
  访问记录: VIEWERS_USAGE,
  访客: VIEWERS_USAGE,
  likes: LIKES_USAGE,
  点赞: LIKES_USAGE,
  unread: UNREAD_USAGE,
  未读: UNREAD_USAGE,
  export: EXPORT_USAGE,
  导出: EXPORT_USAGE,
  trend: TREND_USAGE,
  趋势: TREND_USAGE,
  workplace: WORKPLACE_USAGE,
  工作台: WORKPLACE_USAGE,
  app: APP_USAGE,
  应用: APP_USAGE,
  digest: DIGEST_USAGE,
  订阅: DIGEST_USAGE,
  日报: DIGEST_USAGE,
  help: HELP_USAGE,
  帮助: HELP_USAGE,
};

/** Every form `workplace` accepts, for `bad_range`. */
const RANGE_FORMS: Bilingual = {
  zh: [
    '可用的时间范围：',
    '- 不填：最近 7 个完整天（不含今天）',
    '- `7d`、`30d`：最近 N 天',
    '- `this-week`：本周',
    '- `last-month`：上个月',
    '- `YYYY-MM-DD YYYY-MM-DD`：指定起止日期（含两端）',
  ].join('\n'),
  en: [
    'Accepted ranges:',
    '- nothing: the last 7 full days (today excluded)',
    '- `7d`, `30d`: the last N days',
    '- `this-week`: this week so far',
    '- `last-month`: the previous calendar month',
    '- `YYYY-MM-DD YYYY-MM-DD`: from one day to another, both included',
  ].join('\n'),
};

function detailText(input: UsageCardInput, key: string): string | undefined {
  const value = input.detail?.[key];
  return value === undefined || value === '' ? undefined : String(value);
}

/** `fallback` stands in when the detail lacks `key`, e.g. the caller-wide `max`. */
function detailNumber(input: UsageCardInput, key: string, fallback?: number): number | undefined {
  // The parser's own detail is more specific than a caller-wide default such as MAX_LINKS_PER_COMMAND.
  const value = input.detail?.[key] ?? fallback;
  const n = typeof value === 'number' ? value : Number(value);
  return value !== undefined && Number.isFinite(n) ? Math.max(1, Math.floor(n)) : undefined;
}

function describeProblem(input: UsageCardInput): Bilingual {
  const command = quoteUserWord(input.command);
  const typed = detailText(input, 'input');
  const quoted = typed ? quoteUserWord(typed) : undefined;
  const usage = USAGES[input.command];
  const isDigest = usage === DIGEST_USAGE;
  // These take one document at a time, whatever `max` the caller passed for every command.
  const oneLink =
    usage === VIEWERS_USAGE ||
    usage === LIKES_USAGE ||
    usage === UNREAD_USAGE ||
    usage === EXPORT_USAGE ||
    usage === TREND_USAGE ||
    isDigest;
  switch (input.problem) {
    case 'no_link':
      if (isDigest) {
        return {
          zh: `${command} 添加需要一个文档链接（或 \`工作台\`、\`应用 cli_…\`），但消息里没有找到链接。`,
          en: `${command} add needs a document link (or \`workplace\`, or \`app cli_…\`), and I could not find a link in your message.`,
        };
      }
      return oneLink
        ? {
            zh: `${command} 需要正好一个文档链接，但消息里没有找到。`,
            en: `${command} needs exactly one document link, and I could not find one in your message.`,
          }
        : {
            zh: `${command} 需要一个文档链接，但消息里没有找到。`,
            en: `${command} needs a document link, and I could not find one in your message.`,
          };
    case 'too_many_links': {
      const max = oneLink ? 1 : (detailNumber(input, 'max', input.max) ?? 1);
      if (max === 1) {
        return {
          zh: `${command} 一次只能查询一个文档，请只发送一个链接。`,
          en: `${command} takes exactly one document link at a time, and your message has more.`,
        };
      }
      return {
        zh: `${command} 一次最多只能查询 ${max} 个文档链接，你发送的链接太多了。`,
        en: `${command} takes at most ${max} document links at a time, and your message has more.`,
      };
    }
    case 'bad_range':
      return joinBilingual(
        [
          quoted
            ? { zh: `我看不懂时间范围 ${quoted}。`, en: `I could not read the range ${quoted}.` }
            : { zh: '我看不懂这个时间范围。', en: 'I could not read that range.' },
          RANGE_FORMS,
        ],
        '\n\n',
      );
    case 'from_after_to': {
      const from = detailText(input, 'from');
      const to = detailText(input, 'to');
      return from && to
        ? {
            zh: `开始日期 ${markdownDay(from)} 晚于结束日期 ${markdownDay(to)}，请把较早的日期写在前面。`,
            en: `The start date ${markdownDay(from)} is after the end date ${markdownDay(to)}: put the earlier date first.`,
          }
        : {
            zh: '开始日期晚于结束日期，请把较早的日期写在前面。',
            en: 'The start date is after the end date: put the earlier date first.',
          };
    }
    case 'range_too_long': {
      const max = detailNumber(input, 'max', input.max);
      const days = detailNumber(input, 'days');
      const asked: Bilingual = days ? { zh: `共 ${days} 天，`, en: ` (${days} days)` } : { zh: '', en: '' };
      return max
        ? {
            zh: `这个时间范围太长了（${asked.zh}最多 ${max} 天），请缩短后重试。`,
            en: `That range is too long${asked.en}: the most I can show is ${max} days.`,
          }
        : { zh: '这个时间范围太长了，请缩短后重试。', en: 'That range is too long: ask for fewer days.' };
    }
    case 'future_date': {
      const date = detailText(input, 'date');
      const today = detailText(input, 'today');
      const when = date ? markdownDay(date) : undefined;
      const todayText: Bilingual = today
        ? { zh: `（今天是 ${markdownDay(today)}）`, en: ` (today is ${markdownDay(today)})` }
        : { zh: '', en: '' };
      return {
        zh: `${when ?? '这个日期'}还没有到${todayText.zh}，没有数据可查。请选择今天或更早的日期。`,
        en: `${when ?? 'That date'} is in the future${todayText.en}, so there is no data yet. Pick today or an earlier day.`,
      };
    }
    case 'too_long': {
      // Only the parser's own limit: the caller-wide `max` is a number of links, not of characters.
      const max = detailNumber(input, 'max');
      const length = detailNumber(input, 'length');
      const sent: Bilingual = length
        ? { zh: `（${formatCount(length)} 个字符）`, en: ` (${formatCount(length)} characters)` }
        : { zh: '', en: '' };
      const limit: Bilingual = max
        ? {
            zh: `命令最多 ${formatCount(max)} 个字符`,
            en: `a command may be at most ${formatCount(max)} characters`,
          }
        : { zh: '命令不能这么长', en: 'a command cannot be that long' };
      return {
        zh: `这条消息太长了${sent.zh}，${limit.zh}，所以我没有读取它。请只发送命令和它的链接或参数。`,
        en: `That message is too long${sent.en}: ${limit.en}, so I did not read it. Send just the command and its links or words.`,
      };
    }
    case 'group_only':
      return {
        zh: `${command} 只能在群里使用：它把群成员和文档的访问者对照，列出谁还没打开。请在群里 @机器人 后发送。`,
        en: `${command} works in a group: it compares the group's members with the document's visitors and lists who has not opened it. @mention the bot in the group and send it there.`,
      };
    case 'bad_export_list':
      return {
        zh: `${quoted ? `我看不懂 ${quoted}。` : ''}${command} 后面请写要导出的列表：\`访问记录\`（谁看过）或 \`点赞\`（谁点过赞），再接文档链接。`,
        en: `${quoted ? `I don't understand ${quoted}. ` : ''}After ${command} say which list: \`viewers\` (who viewed it) or \`likes\` (who liked it), then the document link.`,
      };
    case 'bad_trend_range':
      return {
        zh: `${quoted ? `我看不懂时间范围 ${quoted}。` : '我看不懂这个时间范围。'}${command} 只能画最近 \`7天\`、\`30天\` 或 \`90天\`（也可写 \`7d\`、\`30d\`、\`90d\`），不写则为 30 天；链接之外只能写一个范围。`,
        en: `${quoted ? `I could not read the range ${quoted}. ` : 'I could not read that range. '}${command} draws the last \`7d\`, \`30d\` or \`90d\` (30 days unless you say), and takes one range besides the link.`,
      };
    case 'bad_app_id':
      if (isDigest && !quoted) {
        return {
          zh: '请写上要订阅的应用 ID，形如 `cli_` 加 16 位字母或数字，可在开发者后台「凭证与基础信息」中找到。',
          en: 'Say which app: its ID looks like `cli_` followed by 16 letters and digits; the developer console shows it under Credentials & Basic Info.',
        };
      }
      return {
        zh: `${quoted ?? '这'}不是有效的应用 ID。应用 ID 形如 \`cli_\` 加 16 位字母或数字，可在开发者后台「凭证与基础信息」中找到。`,
        en: `${quoted ?? 'That'} is not an app ID. App IDs look like \`cli_\` followed by 16 letters and digits; the developer console shows it under Credentials & Basic Info.`,
      };
    case 'bad_date':
      return {
        zh: `${quoted ?? '这'}不是有效的日期，请写成 YYYY-MM-DD，例如 2026-11-16。`,
        en: `${quoted ?? 'That'} is not a date I can read: write it as YYYY-MM-DD, for example 2026-11-16.`,
      };
    case 'bad_cycle':
      return {
        zh: `统计周期${quoted ? ` ${quoted} ` : ''}无效，只能是 \`day\`、\`week\` 或 \`month\`。`,
        en: `${quoted ? `${quoted} is not a period: ` : ''}the period must be \`day\`, \`week\` or \`month\`.`,
      };
    case 'bad_ability':
      return {
        zh: `能力类型${quoted ? ` ${quoted} ` : ''}无效，只能是 \`app\`、\`mp\`（小程序）、\`h5\`（网页应用）或 \`bot\`（机器人）。`,
        en: `${quoted ? `${quoted} is not an ability: ` : ''}the ability must be \`app\`, \`mp\` (mini program), \`h5\` (web app) or \`bot\`.`,
      };
    case 'bad_time':
      return {
        zh: `${quoted ? `我看不懂时间 ${quoted}。` : '请写上时间。'}请用 24 小时制写成 HH:MM，例如 \`09:30\`、\`18:00\` 或 \`9点30\`。`,
        en: `${quoted ? `I could not read the time ${quoted}. ` : 'Give a time. '}Write it as HH:MM in 24-hour time, e.g. \`09:30\` or \`18:00\`.`,
      };
    case 'bad_index':
      return {
        zh: `${quoted ? `${quoted} 不是列表里的序号。` : '请写上要删除的序号。'}发送 \`订阅\` 查看列表，再用 \`订阅 删除 2\` 删除第 2 项，或直接点该项旁边的「移除」按钮。`,
        en: `${quoted ? `${quoted} is not an item number. ` : 'Say which item to remove. '}Send \`digest\` to see the numbered list, then \`digest remove 2\` removes item 2; or press Remove next to it.`,
      };
    case 'bad_weekday':
      return {
        zh: `${quoted ? `我看不懂星期 ${quoted}。` : ''}每周推送请写星期几：\`周一\` 到 \`周日\`（也可以写 \`一\`…\`日\`、\`星期一\`），例如 \`订阅 每周 周五\` 或 \`订阅 每周五\`；不写则为每周一。`,
        en: `${quoted ? `I could not read the day of the week ${quoted}. ` : ''}Name the day a weekly digest goes out, \`mon\` to \`sun\` or \`monday\` to \`sunday\`, e.g. \`digest weekly fri\`; without a day it goes out on Mondays.`,
      };
    case 'bad_month_day': {
      const day = Number(detailText(input, 'day'));
      // 29 to 31 are real days, only not in every month: say so rather than "not a day".
      const missing = Number.isInteger(day) && day >= 29 && day <= 31;
      const why: Bilingual = missing
        ? { zh: `有的月份没有 ${day} 号，`, en: `Some months have no day ${day}, so ` }
        : { zh: '', en: '' };
      return {
        zh: `${quoted ? `${quoted} 不能作为每月推送的日期。` : ''}${why.zh}每月推送的日期只能是 1 到 28 号（每个月都有这些日子），例如 \`订阅 每月 1号\` 或 \`订阅 每月15号\`；不写则为每月 1 号。`,
        en: `${quoted ? `${quoted} cannot be the day of a monthly digest. ` : ''}${why.en}${missing ? 'a' : 'A'} monthly digest goes out on a day from 1 to 28, which every month has, e.g. \`digest monthly 1\` or \`digest monthly 15\`; without a day it goes out on the 1st.`,
      };
    }
    case 'bad_arg':
      if (isDigest) {
        return {
          zh: `我看不懂 ${quoted ?? '其中一个参数'}。${command} 后面可以接：\`列表\`、\`添加\`、\`删除\`、\`时间\` 或 \`关闭\`；推送频率写 \`每天\`、\`每周\` 或 \`每月\`。`,
          en: `I don't understand ${quoted ?? 'one of the words'}. After ${command} write \`list\`, \`add\`, \`remove\`, \`time\` or \`off\`; or \`daily\`, \`weekly\` or \`monthly\` for how often.`,
        };
      }
      return {
        zh: `我看不懂 ${quoted ?? '其中一个参数'}。${command} 接受：应用 ID（cli_…）、周期（day/week/month）、日期（YYYY-MM-DD）、能力（app/mp/h5/bot）和部门 ID（od-…）。`,
        en: `I don't understand ${quoted ?? 'one of the words'}. ${command} takes an app ID (cli_…), a period (day/week/month), a date (YYYY-MM-DD), an ability (app/mp/h5/bot) and a department ID (od-…).`,
      };
    case 'too_many_args':
      if (isDigest) {
        return {
          zh: `${quoted ? `我没想到这里会有 ${quoted}。` : '参数太多了。'}每条订阅命令只接一项：一个链接、\`工作台\`、一个应用 ID、一个序号、一个时间或一个日子。`,
          en: `${quoted ? `I did not expect ${quoted} there. ` : 'Too many words. '}Each digest subcommand takes one thing: a link, \`workplace\`, one app ID, one number, one time or one day.`,
        };
      }
      return {
        zh: `${quoted ? `${quoted} 重复了前面已经给出的参数。` : '参数太多了。'}应用 ID、周期、日期、能力和部门 ID 每样最多只能写一个。`,
        en: `${quoted ? `${quoted} repeats something already given. ` : 'Too many arguments. '}Give each of app ID, period, date, ability and department at most once.`,
      };
    default:
      return {
        zh: `无法按这个格式执行 ${command}（${escapeMarkdown(input.problem)}）。`,
        en: `I could not run ${command} as written (${escapeMarkdown(input.problem)}).`,
      };
  }
}

export function buildUsageCard(input: UsageCardInput): Card {
  const usage = USAGES[input.command] ?? GENERIC_USAGE;
  const [first, second] = usage.examples;
  const body: Bilingual = joinBilingual(
    [
      describeProblem(input),
      joinBilingual([{ zh: '**正确格式**：', en: '**Syntax:** ' }, usage.syntax]),
      joinBilingual([{ zh: '**示例**', en: '**Examples**' }, joinBilingual([first, second], '\n- ')], '\n- '),
    ],
    '\n\n',
  );
  return buildCard({
    title: { zh: '请检查命令格式', en: 'Check the command' },
    template: 'orange',
    summary: { zh: '命令格式有误', en: 'The command was not written as expected' },
    elements: [
      markdown(body, { element_id: 'usage_body' }),
      greyNote({ zh: '发送「帮助」查看全部命令。', en: 'Send “help” to see every command.' }, 'usage_help'),
    ],
  });
}
