/** What the bot does and how to ask it; also the answer to an unknown command. */

import { buildCard, type Card, type CardElement, escapeMarkdown, hr, truncateText } from './card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export interface HelpCardInput {
  /** The word the user typed that is not a command. */
  unknownWord?: string;
  /** The command it most resembles, e.g. `stats`. */
  suggestion?: string;
  /** The deployment's DIGEST_TIME and DIGEST_TZ (`config.digest`); without it the card names the settings. */
  digestDefault?: { hour: number; minute: number; timeZone: string };
}

/**
 * Shows a word the user typed. A short plain word goes in a code span; anything else is
 * entity-escaped instead, because a code span cannot hold a backtick and `&#60;` would show literally.
 */
export function quoteUserWord(word: string): string {
  const short = truncateText(word.trim(), 40);
  return /^[\p{L}\p{N}_.\-/]+$/u.test(short) ? `\`${short}\`` : `“${escapeMarkdown(short)}”`;
}

const INTRO: Bilingual = {
  zh: '我可以查询飞书云文档的访问数据（访问人数、访问次数、点赞数、谁看过、谁点过赞），以及工作台和应用的使用数据，并用卡片回复你；还可以每天把订阅的数据推送到会话里。',
  en: "I look up Feishu analytics (a document's visitors, views and likes, who viewed or liked it, workplace and app usage) and answer with a card; I can also post a daily digest of them to a chat.",
};

const EXAMPLE_DOC = 'https://sample.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1';
const ADMIN_ONLY: Bilingual = { zh: '🔒 仅机器人管理员', en: '🔒 Bot admins only' };

interface CommandHelp {
  id: string;
  /** First line: the command, its aliases and arguments. */
  usage: Bilingual;
  what: Bilingual;
  example: Bilingual;
  needs: Bilingual;
  /** Who may use it, when not everyone. */
  who?: Bilingual;
  /** A line that depends on the deployment, after `what`. */
  more?: (input: HelpCardInput) => Bilingual;
}

// A single `\n` is only a soft break in card markdown and may be dropped, so each command's lines are list
// items. Scopes are each endpoint page's "权限要求"; the per-document grant is what 1069603 asks for.
// https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get
const COMMAND_HELP: readonly CommandHelp[] = [
  {
    id: 'help_stats',
    usage: { zh: '**统计** ‹文档链接›（或 `stats`、`数据`）', en: '**stats** ‹document link›' },
    what: {
      zh: '查看文档的访问人数、访问次数、点赞数及今日新增。',
      en: "Shows a document's visitors, views and likes, and today's increase.",
    },
    example: { zh: `\`统计 ${EXAMPLE_DOC}\``, en: `\`stats ${EXAMPLE_DOC}\`` },
    needs: {
      zh: '应用开通 `drive:drive.metadata:readonly`（或 `drive:drive`、`drive:drive:readonly`）；并在文档右上角「…」→「更多」→「添加文档应用」中添加本机器人，授予「可管理」权限。',
      en: 'the app scope `drive:drive.metadata:readonly` (or `drive:drive` or `drive:drive:readonly`), and the bot added to the document as a document app with manage permission ("…" → "More" → "Add document app").',
    },
  },
  {
    id: 'help_viewers',
    usage: { zh: '**访问记录** ‹文档链接›（或 `viewers`、`访客`）', en: '**viewers** ‹document link›' },
    what: {
      zh: '列出谁看过文档，最近访问的在前，每页 20 人，可翻页。',
      en: 'Lists who viewed a document, most recent first, 20 per page with Next / Previous.',
    },
    example: { zh: `\`访问记录 ${EXAMPLE_DOC}\``, en: `\`viewers ${EXAMPLE_DOC}\`` },
    needs: {
      zh: '`drive:file:view_record:readonly`（显示姓名还需 `contact:user.base:readonly`；在单聊中原地翻页还需 `im:chat:readonly`），以及与「统计」相同的文档应用授权。',
      en: '`drive:file:view_record:readonly` (plus `contact:user.base:readonly` for names, and `im:chat:readonly` to page in place in a private chat), and the same document-app grant as `stats`.',
    },
    who: {
      zh: '访问记录会列出具体的人，只有文档所有者、对文档有「可管理」权限的人和机器人管理员可以查看；在群里查询时结果会私聊发给你。',
      en: "visitor lists name people, so only the document's owner, people with full access to it and bot admins can see them; asked in a group, the list is sent to you privately.",
    },
  },
  {
    id: 'help_likes',
    usage: { zh: '**点赞** ‹文档链接›（或 `likes`）', en: '**likes** ‹document link›' },
    what: {
      zh: '列出谁给文档点过赞，可翻页。只有文档和文件支持点赞；电子表格、多维表格和思维笔记没有点赞。',
      en: 'Lists who liked a document, with paging. Only docs and files have likes; sheets, bases and mind notes do not.',
    },
    example: { zh: `\`点赞 ${EXAMPLE_DOC}\``, en: `\`likes ${EXAMPLE_DOC}\`` },
    needs: {
      zh: '`drive:file.like:readonly`（显示姓名还需 `contact:user.base:readonly`；在单聊中原地翻页还需 `im:chat:readonly`），以及与「统计」相同的文档应用授权。',
      en: '`drive:file.like:readonly` (plus `contact:user.base:readonly` for names, and `im:chat:readonly` to page in place in a private chat), and the same document-app grant as `stats`.',
    },
    who: {
      zh: '与「访问记录」相同：文档所有者、有「可管理」权限的人和机器人管理员。',
      en: "the same as `viewers`: the document's owner, people with full access and bot admins.",
    },
  },
  {
    id: 'help_unread',
    usage: { zh: '**未读** ‹文档链接›（或 `unread`）', en: '**unread** ‹document link›' },
    what: {
      zh: '在群里使用：群成员中有几位打开过文档，并列出还没打开的人（不含机器人）。私聊卡片上的「提醒他们」会在群里 @ 他们一次并附上文档链接。',
      en: 'In a group: how many of its members have opened the document, and who has not (bots are not counted). Remind them on the private card @mentions them in the group once, with the link.',
    },
    example: { zh: `\`未读 ${EXAMPLE_DOC}\``, en: `\`unread ${EXAMPLE_DOC}\`` },
    needs: {
      zh: '与「访问记录」相同，另需查看群成员的权限 `im:chat.members:read`（或 `im:chat:readonly`）。',
      en: 'what `viewers` needs, plus `im:chat.members:read` (or `im:chat:readonly`) to list the group’s members.',
    },
    who: {
      zh: '与「访问记录」相同：文档所有者、有「可管理」权限的人和机器人管理员；结果私聊发给你，提醒需再次核实点按的人。',
      en: "the same as `viewers`: the document's owner, people with full access and bot admins; the list is sent to you privately, and Remind is checked again for whoever presses it.",
    },
  },
  {
    id: 'help_export',
    usage: {
      zh: '**导出** 访问记录|点赞 ‹文档链接›（或 `export viewers|likes`）',
      en: '**export** viewers|likes ‹document link›',
    },
    what: {
      zh: '把访问者或点赞者（最多 2,000 条）导出为 CSV 文件私聊发给你：姓名、open_id、时间（`DIGEST_TZ` 时区），Excel 可直接打开。',
      en: 'Sends you the visitors or likers (up to 2,000) as a CSV file in a private chat: name, open_id and time (in `DIGEST_TZ`), ready for Excel.',
    },
    example: { zh: `\`导出 访问记录 ${EXAMPLE_DOC}\``, en: `\`export viewers ${EXAMPLE_DOC}\`` },
    needs: {
      zh: '与「访问记录」「点赞」相同，另需上传文件的权限 `im:resource`。',
      en: 'what `viewers` or `likes` needs, plus `im:resource` to upload the file.',
    },
    who: {
      zh: '与「访问记录」相同：文档所有者、有「可管理」权限的人和机器人管理员。',
      en: "the same as `viewers`: the document's owner, people with full access and bot admins.",
    },
  },
  {
    id: 'help_trend',
    usage: {
      zh: '**趋势** ‹文档链接› [7天|30天|90天]（或 `trend` … `7d|30d|90d`）',
      en: '**trend** ‹document link› [7d|30d|90d]',
    },
    what: {
      zh: '按天显示文档的访问人数、访问次数和点赞数的折线图，以及这段时间的变化（默认 30 天）。数据来自机器人每天记录的数值：订阅中的文档每天记录，其他文档在有人查询统计时记录。',
      en: "Charts a document's daily visitors, views and likes, with the change over the range (30 days unless you say). The figures are the ones the bot recorded: every day for documents in a digest, otherwise on the days someone asked for its statistics.",
    },
    example: { zh: `\`趋势 ${EXAMPLE_DOC} 7天\``, en: `\`trend ${EXAMPLE_DOC} 7d\`` },
    needs: { zh: '与「统计」相同。', en: 'the same as `stats`.' },
  },
  {
    id: 'help_workplace',
    usage: {
      zh: '**工作台** [时间范围]（或 `workplace`）',
      en: '**workplace** [range]',
    },
    what: {
      zh: '按天显示工作台访问数据（全部工作台与默认工作台）的折线图和合计。时间范围：不填为最近 7 个完整天，或 `7d`、`30d`、`this-week`、`last-month`、`2026-11-01 2026-11-15`。',
      en: 'Daily workplace visits, all workplaces against the default one, as charts and totals. Range: nothing for the last 7 full days, or `7d`, `30d`, `this-week`, `last-month`, `2026-11-01 2026-11-15`.',
    },
    example: { zh: '`工作台 30d`', en: '`workplace 30d`' },
    needs: { zh: '`workplace:workplace_using_data:read`。', en: '`workplace:workplace_using_data:read`.' },
    who: ADMIN_ONLY,
  },
  {
    id: 'help_app',
    usage: {
      zh: '**应用** [app_id] [day|week|month] [YYYY-MM-DD] [app|mp|h5|bot] [部门 ID]（或 `app`）',
      en: '**app** [app_id] [day|week|month] [YYYY-MM-DD] [app|mp|h5|bot] [department_id]',
    },
    what: {
      zh: '应用的活跃用户、累计用户、新增用户、页面访问数和打开次数。不填 app_id 时查询本机器人；按周、按月时日期会对齐到周一、每月 1 日。',
      en: "An app's active, total and new users, page views and opens. Without an app_id it reports on this bot; week and month dates are moved to the Monday / the 1st.",
    },
    example: {
      zh: '`应用 cli_9f115af860f7901b week 2026-11-16`',
      en: '`app cli_9f115af860f7901b week 2026-11-16`',
    },
    needs: {
      zh: '`application:application.app_usage_stats.overview:readonly`；只能查询企业自建应用，且仅限企业版、旗舰版。',
      en: '`application:application.app_usage_stats.overview:readonly`; custom apps only, on Enterprise and Flagship plans.',
    },
    who: ADMIN_ONLY,
  },
  {
    id: 'help_digest',
    usage: {
      zh: '**订阅** [列表 | 添加 ‹文档链接› | 添加 工作台 | 添加 应用 ‹app_id› | 删除 ‹序号› | 时间 ‹HH:MM› | 每天 | 每周 [周一…周日] | 每月 [1…28号] | 关闭]（或 `digest`、`日报`）',
      en: '**digest** [list | add ‹document link› | add workplace | add app ‹app_id› | remove ‹number› | time ‹HH:MM› | daily | weekly [mon…sun] | monthly [1…28] | off]',
    },
    what: {
      zh: '每天在本会话推送一张卡片，最多 20 项（文档、工作台、应用）：当前数据、与上一次推送相比的变化和最近 7 天的走势。也可以每周（默认周一，显示近 7 天的新增）或每月（默认 1 号，显示与上月同一天相比的新增）推送一次。不带参数时显示订阅列表。',
      en: "Posts one card to this chat every day for up to 20 items (documents, the workplace, apps): their figures, the change since the previous digest and a 7-day trend. Or once a week (Mondays unless you name a day: what each gained in the last 7 days) or once a month (the 1st unless you name a day up to 28: the change since the same day last month). Without arguments it lists the chat's items.",
    },
    example: { zh: `\`订阅 添加 ${EXAMPLE_DOC}\``, en: `\`digest add ${EXAMPLE_DOC}\`` },
    needs: {
      zh: '文档与「统计」相同（应用权限和文档应用授权）；工作台和应用分别与「工作台」「应用」相同；在群里核实群主和群管理员需 `im:chat:readonly`。',
      en: "for documents, the same scope and document-app grant as `stats`; for the workplace and apps, the scopes of `workplace` and `app`; `im:chat:readonly` to recognise a group's owner and managers.",
    },
    who: {
      zh: '任何人都可以订阅文档；添加工作台或应用：🔒 仅机器人管理员（BOT_ADMINS）。',
      en: 'anyone can add documents; adding the workplace or an app: 🔒 bot admins only (BOT_ADMINS).',
    },
    more: (input) => describeDigestTime(input.digestDefault),
  },
  {
    id: 'help_usage',
    usage: { zh: '**用量**（或 `usage`、`调用量`）', en: '**usage**' },
    what: {
      zh: '本机器人本月的飞书 API 调用次数（按接口）、一次日报推送用了多少次，以及按目前速度到月底的预计；设置了 `FEISHU_MONTHLY_CALL_BUDGET` 时还显示预算已用的比例。免费版飞书的企业所有自建应用每月共享 10,000 次调用。',
      en: "This bot's Feishu API calls this month by endpoint, what one digest run costs, and the projection to the month's end; with `FEISHU_MONTHLY_CALL_BUDGET` set, the share of it used. On the free plan all of a tenant's custom apps share 10,000 calls a month.",
    },
    example: { zh: '`用量`', en: '`usage`' },
    needs: { zh: '无：由机器人自己统计。', en: 'nothing: the bot counts its own calls.' },
    who: ADMIN_ONLY,
  },
  {
    id: 'help_help',
    usage: { zh: '**帮助**（或 `help`）', en: '**help**' },
    what: { zh: '显示这张说明卡片。', en: 'Shows this card.' },
    example: { zh: '`帮助`', en: '`help`' },
    needs: { zh: '无。', en: 'nothing.' },
  },
];

/** When digests arrive: the chat's own time, else the deployment's default (config, not something users set). */
function describeDigestTime(digestDefault: HelpCardInput['digestDefault']): Bilingual {
  if (!digestDefault) {
    return {
      zh: '推送时间默认由部署机器人的人设置（`DIGEST_TIME`、`DIGEST_TZ`），每个会话可以用 `订阅 时间` 改成自己的时间。',
      en: 'The default time is set by whoever deploys the bot (`DIGEST_TIME` in `DIGEST_TZ`); each chat can pick its own with `digest time`.',
    };
  }
  const pad = (n: number) => String(n).padStart(2, '0');
  const time = `${pad(digestDefault.hour)}:${pad(digestDefault.minute)}`;
  const zone = escapeMarkdown(digestDefault.timeZone);
  return {
    zh: `默认每天 ${time}（${zone}）推送，由部署机器人的人设置；每个会话可以用 \`订阅 时间\` 改成自己的时间。`,
    en: `Digests arrive daily at ${time} (${zone}) by default, as set by whoever deploys the bot; each chat can pick its own with \`digest time\`.`,
  };
}

function describeCommand(help: CommandHelp, input: HelpCardInput): Bilingual {
  const more = help.more?.(input);
  const zh = [help.usage.zh, `- ${help.what.zh}`, ...(more ? [`- ${more.zh}`] : [])];
  const en = [help.usage.en, `- ${help.what.en}`, ...(more ? [`- ${more.en}`] : [])];
  zh.push(`- 示例：${help.example.zh}`, `- 所需权限：${help.needs.zh}`);
  en.push(`- Example: ${help.example.en}`, `- Needs: ${help.needs.en}`);
  if (help.who) {
    zh.push(`- 谁可以用：${help.who.zh}`);
    en.push(`- Who: ${help.who.en}`);
  }
  return { zh: zh.join('\n'), en: en.join('\n') };
}

const WHERE_TO_ASK: Bilingual = {
  zh: '私聊中直接发送文档链接，等同于「统计」。在群聊中，请先 @本机器人 再输入命令。',
  en: 'In a private chat, a bare document link means `stats`. In group chats, @mention the bot before the command.',
};

function buildUnknownWordLine(unknownWord: string, suggestion?: string): Bilingual {
  const word = quoteUserWord(unknownWord);
  const lines: Bilingual[] = [{ zh: `我不认识 ${word}。`, en: `I don't know ${word}.` }];
  if (suggestion) {
    const hint = quoteUserWord(suggestion);
    lines.push({ zh: `你是想用 ${hint} 吗？`, en: `Did you mean ${hint}?` });
  }
  return joinBilingual(lines, { zh: '', en: ' ' });
}

export function buildHelpCard(input: HelpCardInput = {}): Card {
  const elements: CardElement[] = [];
  const unknownWord = input.unknownWord?.trim();
  if (unknownWord) {
    elements.push(
      markdown(buildUnknownWordLine(unknownWord, input.suggestion?.trim() || undefined), {
        element_id: 'help_unknown',
      }),
    );
  }
  elements.push(
    markdown(INTRO, { element_id: 'help_intro' }),
    hr(),
    ...COMMAND_HELP.map((help) => markdown(describeCommand(help, input), { element_id: help.id })),
    hr(),
    markdown(WHERE_TO_ASK, { element_id: 'help_where', text_size: 'notation' }),
  );
  return buildCard({
    title: { zh: '文档统计机器人 · 使用说明', en: 'Document stats bot · Help' },
    template: unknownWord ? 'orange' : 'blue',
    summary: unknownWord
      ? { zh: '未知命令，查看使用说明', en: 'Unknown command: how to use this bot' }
      : { zh: '使用说明', en: 'How to use this bot' },
    elements,
  });
}
