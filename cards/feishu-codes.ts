/**
 * Feishu business codes in words: what happened and what the person in the chat can do about it. Words only:
 * what the bot *does* about a code (retry, wait, cache, pause a chat) is decided by `src/feishu/codes.ts`.
 * Sources: the error tables of each endpoint page (shared/seeds/ and the links below) and FEISHU.md.
 */

import { numberedSteps } from './card.js';
import type { Bilingual } from './i18n.js';

export interface FeishuCodeExplanation {
  title: Bilingual;
  meaning: Bilingual;
  /** Markdown; numbered when there are several steps. */
  fix: Bilingual;
  /** `info`: nothing went wrong, there is just nothing to show yet (a yellow card, not an error colour). */
  tone?: 'info';
}

const RETRY_LATER: Bilingual = {
  zh: '请稍后重试。若持续失败，请将下方的错误码和 Log ID 发给管理员或飞书技术支持。',
  en: 'Try again in a few minutes. If it keeps failing, send the code and log ID below to your admin or Feishu support.',
};

const CHECK_LINK: Bilingual = numberedSteps([
  {
    zh: '自己打开该链接，确认文档仍然存在。',
    en: 'Open the link yourself to check the document still exists.',
  },
  {
    zh: '从文档地址栏或「分享」按钮重新复制完整链接后再发送。',
    en: 'Copy the full link again from the address bar or the Share button, then resend it.',
  },
]);

// 1069603's fix as published: "…" → "More" → "Add document app", and the app only shows up in that
// search once it has a docs scope. https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get
/** 1061007 (likes) and 1063005 (permissions) say the same thing. */
const DOCUMENT_DELETED = entry(
  { zh: '文档已被删除', en: 'Document deleted' },
  { zh: '该文档已被删除。', en: 'This document has been deleted.' },
  {
    zh: '如需恢复，请文档所有者从回收站还原。',
    en: 'If it should exist, its owner can restore it from the trash.',
  },
);

const ADD_DOCUMENT_APP: Bilingual = {
  zh: '打开文档，点击右上角「…」→「更多」→「添加文档应用」，搜索本机器人并授予「可管理」权限。应用需已开通至少一个云文档权限，才能在搜索中找到。',
  en: 'Open the document, click "…" (top right) → "More" → "Add document app", search for this bot and give it manage permission. The app only appears in that search once it has at least one docs scope enabled.',
};

const TOKEN_PROBLEM: FeishuCodeExplanation = {
  title: { zh: '访问凭证无效', en: 'Feishu access token problem' },
  meaning: {
    zh: '飞书没有接受机器人的访问凭证，通常是暂时的。',
    en: "Feishu did not accept the bot's access token. This is usually temporary.",
  },
  fix: numberedSteps([
    { zh: '稍后重试。', en: 'Try again.' },
    {
      zh: '若持续出现，请管理员检查机器人配置中的 `FEISHU_APP_ID` 和 `FEISHU_APP_SECRET`。',
      en: "If it keeps happening, an admin should check `FEISHU_APP_ID` and `FEISHU_APP_SECRET` in the bot's configuration.",
    },
  ]),
};

function entry(title: Bilingual, meaning: Bilingual, fix: Bilingual): FeishuCodeExplanation {
  return { title, meaning, fix };
}

const SERVER_ERROR_TITLE: Bilingual = { zh: '飞书服务端错误', en: 'Feishu server error' };
const BOT_BUG_FIX: Bilingual = {
  zh: '这是机器人的问题，请将下方的错误码和 Log ID 反馈给机器人维护者。',
  en: "This is a bug in the bot: report it to the bot's maintainer with the code and log ID below.",
};

const TABLE: ReadonlyMap<number, FeishuCodeExplanation> = new Map<number, FeishuCodeExplanation>([
  // Not a Feishu code: FeishuApiError uses -1 (TRANSPORT_FAILURE) when no Feishu body arrived.
  [
    -1,
    entry(
      { zh: '无法连接飞书', en: 'Could not reach Feishu' },
      {
        zh: '请求飞书接口时网络出错，没有收到响应。',
        en: 'The request to Feishu failed before any answer came back.',
      },
      RETRY_LATER,
    ),
  ],

  // drive/v1 statistics and view_records. https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get
  [
    1069601,
    entry(
      SERVER_ERROR_TITLE,
      {
        zh: '飞书读取文档统计数据时出错，通常是暂时的。',
        en: 'Feishu failed while reading the document statistics. This is usually temporary.',
      },
      RETRY_LATER,
    ),
  ],
  [
    1069602,
    entry(
      { zh: '请求参数无效', en: 'Invalid request' },
      {
        zh: '飞书拒绝了请求：文档 token 与文档类型不匹配，通常是链接不完整或复制错了。',
        en: 'Feishu rejected the request: the document token and type do not match, usually because the link is incomplete or wrong.',
      },
      CHECK_LINK,
    ),
  ],
  [
    1069603,
    entry(
      { zh: '无权查看该文档的统计数据', en: "No access to this document's statistics" },
      {
        zh: '机器人不是该文档的协作者（需要「可管理」权限），或所在企业尚未开启文档访问记录功能。',
        en: 'Either the bot is not a collaborator with manage permission on this document, or your organisation has not enabled document access records.',
      },
      numberedSteps([
        ADD_DOCUMENT_APP,
        {
          zh: '若仍然失败，请飞书管理员为企业开启文档访问记录功能。',
          en: 'If it still fails, ask a Feishu admin to enable document access records for your organisation.',
        },
      ]),
    ),
  ],
  [
    1069604,
    entry(
      { zh: '找不到该文档', en: 'Document not found' },
      {
        zh: '文档不存在、已被删除，或链接有误。',
        en: 'The document does not exist, was deleted, or the link is wrong.',
      },
      CHECK_LINK,
    ),
  ],

  // drive/v2 likes. https://open.feishu.cn/document/docs/drive-v1/like/list
  [
    1061001,
    entry(
      SERVER_ERROR_TITLE,
      {
        zh: '飞书读取点赞记录时出错，通常是暂时的。',
        en: 'Feishu failed while reading the likes. This is usually temporary.',
      },
      RETRY_LATER,
    ),
  ],
  [
    1061002,
    entry(
      { zh: '请求参数无效', en: 'Invalid request' },
      {
        zh: '飞书拒绝了点赞查询的参数；只有文档（doc、docx）和文件支持点赞。',
        en: 'Feishu rejected the parameters of the likes request; only docs (doc, docx) and files have likes.',
      },
      CHECK_LINK,
    ),
  ],
  [
    1061003,
    entry(
      { zh: '找不到该文档', en: 'Document not found' },
      { zh: '文档不存在或链接有误。', en: 'The document does not exist or the link is wrong.' },
      CHECK_LINK,
    ),
  ],
  [
    1061004,
    entry(
      { zh: '无权查看点赞者', en: 'No access to the likes' },
      {
        zh: '机器人没有该文档的阅读权限，或应用未开通查看点赞信息的权限。',
        en: 'The bot cannot read this document, or the app lacks the scope for reading likes.',
      },
      numberedSteps([
        ADD_DOCUMENT_APP,
        {
          zh: '管理员在开发者后台为应用开通 `drive:file.like:readonly` 并发布新版本。',
          en: 'An admin enables `drive:file.like:readonly` for the app in the developer console and publishes a new version.',
        },
      ]),
    ),
  ],
  [1061007, DOCUMENT_DELETED],

  // Wiki node resolution. https://open.feishu.cn/document/server-docs/docs/wiki-v2/space-node/get_node
  [
    131001,
    entry(
      SERVER_ERROR_TITLE,
      { zh: '飞书知识库服务暂时出错。', en: 'The Feishu wiki service failed. This is usually temporary.' },
      RETRY_LATER,
    ),
  ],
  [
    131002,
    entry(
      { zh: '知识库链接无效', en: 'Invalid wiki link' },
      { zh: '飞书无法识别该知识库节点。', en: 'Feishu could not make sense of this wiki node.' },
      CHECK_LINK,
    ),
  ],
  [
    131005,
    entry(
      { zh: '找不到该知识库页面', en: 'Wiki page not found' },
      {
        zh: '知识库节点不存在、已被删除，或链接有误。',
        en: 'The wiki page does not exist, was deleted, or the link is wrong.',
      },
      CHECK_LINK,
    ),
  ],
  [
    131006,
    entry(
      { zh: '无权访问该知识库页面', en: 'No access to this wiki page' },
      {
        zh: '机器人没有该知识库节点的阅读权限。除了 API 权限，应用还需要被授予具体页面的权限。',
        en: 'The bot has no read permission on this wiki page. Besides API scopes, the app needs access to the page itself.',
      },
      numberedSteps([
        ADD_DOCUMENT_APP,
        {
          zh: '或者请知识空间管理员将本机器人添加为知识空间成员。',
          en: 'Or ask a wiki space admin to add this bot as a member of the wiki space.',
        },
      ]),
    ),
  ],

  // Workplace access data. https://open.feishu.cn/document/workplace-v1/workplace_access_data/search
  [
    1628001,
    entry(
      { zh: '日期格式无效', en: 'Invalid date format' },
      { zh: '飞书要求日期格式为 yyyy-MM-dd。', en: 'Feishu expects dates as yyyy-MM-dd.' },
      { zh: '请使用类似 2024-05-22 的日期。', en: 'Use dates like 2024-05-22.' },
    ),
  ],
  [
    1628002,
    entry(
      { zh: '日期范围无效', en: 'Invalid date range' },
      { zh: '开始日期晚于结束日期。', en: 'The start date is after the end date.' },
      { zh: '请交换开始和结束日期后重试。', en: 'Swap the start and end dates and try again.' },
    ),
  ],
  [
    1628003,
    entry(
      SERVER_ERROR_TITLE,
      {
        zh: '飞书工作台数据服务暂时出错。',
        en: 'The Feishu workplace data service failed. This is usually temporary.',
      },
      RETRY_LATER,
    ),
  ],
  [
    1628004,
    entry(
      { zh: '分页标记失效', en: 'Paging token rejected' },
      {
        zh: '飞书不接受翻页用的 page_token。',
        en: 'Feishu rejected the page_token used to fetch the next page.',
      },
      { zh: '请重新发起查询。', en: 'Run the command again from the start.' },
    ),
  ],

  // App usage overview. https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
  [
    211004,
    entry(
      { zh: '当前飞书版本不支持', en: 'Not available on this Feishu plan' },
      {
        zh: '应用使用数据只对企业版和旗舰版租户开放，且只能查询企业自建应用。',
        en: 'App usage data is only available to Enterprise and Flagship tenants, and only for custom apps.',
      },
      { zh: '如需使用，请联系飞书管理员升级版本。', en: 'Ask your Feishu admin about upgrading the plan.' },
    ),
  ],
  [
    211005,
    entry(
      { zh: '应用 ID 无效', en: 'Invalid app ID' },
      {
        zh: '飞书找不到该应用，或该应用不是企业自建应用。',
        en: 'Feishu does not know this app, or it is not a custom app.',
      },
      { zh: '请检查应用 ID（以 cli_ 开头）。', en: 'Check the app ID (it starts with cli_).' },
    ),
  ],
  [
    211006,
    entry(
      { zh: '部门 ID 无效', en: 'Invalid department ID' },
      { zh: '飞书找不到该部门。', en: 'Feishu does not know this department.' },
      { zh: '请检查部门 ID。', en: 'Check the department ID.' },
    ),
  ],
  [
    211007,
    entry(
      { zh: '日期格式无效', en: 'Invalid date format' },
      { zh: '飞书要求日期格式为 2021-07-01 这样的形式。', en: 'Feishu expects dates like 2021-07-01.' },
      { zh: '请使用 yyyy-MM-dd 格式的日期。', en: 'Use a yyyy-MM-dd date.' },
    ),
  ],
  [
    211008,
    entry(
      { zh: '能力类型无效', en: 'Invalid ability' },
      { zh: '能力类型只能是 app、mp、h5 或 bot。', en: 'The ability must be app, mp, h5 or bot.' },
      { zh: '请改用上述取值之一。', en: 'Use one of those values.' },
    ),
  ],
  [
    211009,
    entry(
      { zh: '统计周期无效', en: 'Invalid period' },
      { zh: '统计周期只能是日、周或月。', en: 'The period must be a day, a week or a month.' },
      { zh: '请改用日、周或月。', en: 'Use day, week or month.' },
    ),
  ],
  [
    211010,
    entry(
      { zh: '日期范围无效', en: 'Invalid date' },
      {
        zh: '按周统计时日期必须是周一，按月统计时必须是每月 1 日。',
        en: 'For a weekly period the date must be a Monday; for a monthly period, the 1st of the month.',
      },
      { zh: '请调整日期后重试。', en: 'Adjust the date and try again.' },
    ),
  ],
  [
    211011,
    {
      title: { zh: '暂无数据', en: 'No data yet' },
      meaning: {
        zh: '暂无数据——飞书一般在每天上午 10 点左右产出前一天的使用数据，所选时间段可能还没有产出，或该应用在这段时间没有使用记录。',
        en: "No data yet — Feishu publishes the previous day's usage around 10:00; the period may not be published yet, or nobody used the app in it.",
      },
      fix: {
        zh: '换一个已经结束的日期再试（例如前天），或上午 10 点后再查昨天。',
        en: 'Try a day that has ended (for example the day before yesterday), or ask for yesterday after 10:00.',
      },
      tone: 'info',
    },
  ],

  // Document collaborators, used to check who has full access before showing people lists.
  // https://open.feishu.cn/document/server-docs/docs/permission/permission-member/list
  [
    1063001,
    entry(
      { zh: '请求参数无效', en: 'Invalid request' },
      {
        zh: '飞书拒绝了查询协作者的请求：文档 token 与类型不匹配，或文档不存在。',
        en: "Feishu rejected the request for the document's collaborators: the token and type do not match, or the document does not exist.",
      },
      CHECK_LINK,
    ),
  ],
  [
    1063002,
    entry(
      { zh: '无法查看文档协作者', en: "Can't see who has access" },
      {
        zh: '机器人不是该文档的协作者（或权限不足），无法核实谁对文档有「可管理」权限。',
        en: 'The bot is not a collaborator on this document (or its permission is too low), so it cannot check who has full access.',
      },
      ADD_DOCUMENT_APP,
    ),
  ],
  [
    1063003,
    entry(
      { zh: '操作不被允许', en: 'Operation not allowed' },
      {
        zh: '飞书不允许这次操作，可能受企业管控策略或可见性限制。',
        en: "Feishu did not allow this operation, possibly because of your organisation's policy or visibility rules.",
      },
      {
        zh: '请联系飞书管理员确认企业的文档权限策略。',
        en: "Ask a Feishu admin about your organisation's document permission policy.",
      },
    ),
  ],
  [
    1063004,
    entry(
      { zh: '没有分享权限', en: 'No share permission' },
      {
        zh: '机器人对该文档没有分享权限，无法查看协作者。',
        en: 'The bot has no share permission on this document, so it cannot list collaborators.',
      },
      ADD_DOCUMENT_APP,
    ),
  ],
  [1063005, DOCUMENT_DELETED],
  [
    1063006,
    entry(
      { zh: '请求过于频繁', en: 'Too many requests' },
      {
        zh: '飞书限制了查询文档协作者的频率。',
        en: "Feishu is limiting how often the bot may read a document's collaborators.",
      },
      { zh: '请等待几秒后重试。', en: 'Wait a few seconds and try again.' },
    ),
  ],
  [
    1066001,
    entry(
      SERVER_ERROR_TITLE,
      {
        zh: '飞书读取文档权限时出错，通常是暂时的。',
        en: "Feishu failed while reading the document's permissions. This is usually temporary.",
      },
      RETRY_LATER,
    ),
  ],
  [
    1066002,
    entry(
      SERVER_ERROR_TITLE,
      {
        zh: '飞书读取文档权限时发生并发冲突。',
        en: "Feishu hit a conflict while reading the document's permissions.",
      },
      RETRY_LATER,
    ),
  ],

  // Platform-wide codes. https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code
  [
    99991672,
    entry(
      { zh: '应用缺少权限', en: 'The app is missing a permission' },
      {
        zh: '本应用尚未开通该命令需要的 API 权限。',
        en: 'This Feishu app has not been granted an API scope this command needs.',
      },
      numberedSteps([
        {
          zh: '飞书管理员打开开发者后台 → 本应用 →「权限管理」，开通飞书提示中列出的权限（发送「帮助」可查看每个命令需要的权限）。',
          en: "A Feishu admin opens the developer console → this app → Permissions & Scopes and adds the scope named in Feishu's message (send “help” to see what each command needs).",
        },
        {
          zh: '发布新的应用版本并通过审核后重试。',
          en: 'Publish a new version of the app, get it approved, then try again.',
        },
      ]),
    ),
  ],
  [
    99991400,
    entry(
      { zh: '请求过于频繁', en: 'Too many requests' },
      { zh: '飞书正在限制本机器人的调用频率。', en: 'Feishu is rate-limiting this bot.' },
      { zh: '请等待几秒后重试。', en: 'Wait a few seconds and try again.' },
    ),
  ],
  [99991661, TOKEN_PROBLEM],
  [99991663, TOKEN_PROBLEM],
  [99991668, TOKEN_PROBLEM],

  // Sending messages. https://open.feishu.cn/document/server-docs/im-v1/message/create
  [
    230002,
    entry(
      { zh: '机器人不在该会话中', en: 'The bot is not in this chat' },
      {
        zh: '飞书拒绝发送消息，因为机器人不是该群的成员。',
        en: 'Feishu refused to deliver the message because the bot is not a member of this chat.',
      },
      { zh: '请先将机器人添加到群聊，再重试。', en: 'Add the bot to the chat, then try again.' },
    ),
  ],
  [
    232009,
    entry(
      { zh: '该群已解散', en: 'This chat was dissolved' },
      {
        zh: '飞书拒绝发送消息，因为该群已经解散。',
        en: 'Feishu refused to deliver the message because the chat has been dissolved.',
      },
      {
        zh: '无需处理：机器人不会再向该群发送日报。如需继续接收，请在新的群里重新订阅。',
        en: 'Nothing to do: the bot stops sending digests there. To keep receiving them, subscribe again in another chat.',
      },
    ),
  ],
  [
    230013,
    entry(
      { zh: '对方不在应用的可用范围内', en: 'That person cannot use this bot' },
      {
        zh: '飞书拒绝私聊发送，因为接收人不在本应用的可用范围内（名单类结果只会私下发送）。',
        en: "Feishu refused the private message because the recipient is outside this app's availability range (lists of people are only ever sent privately).",
      },
      numberedSteps([
        {
          zh: '飞书管理员打开管理后台 →「工作台」→「应用管理」→ 本应用 →「可用范围」，把该成员（或其部门）加入。',
          en: 'A Feishu admin opens the Admin Console → Workplace → App Management → this app → Availability and adds the person (or their department).',
        },
        { zh: '加入后重新发送命令。', en: 'Then send the command again.' },
      ]),
    ),
  ],
  [
    11232,
    entry(
      { zh: '消息发送过于频繁', en: 'Message rate limit' },
      {
        zh: '飞书限制了本机器人创建消息的频率。',
        en: 'Feishu is limiting how fast this bot may create messages.',
      },
      {
        zh: '机器人会等待后自动重试；若仍失败，请一分钟后再发送命令。',
        en: 'The bot waits and retries by itself; if it still fails, send the command again in a minute.',
      },
    ),
  ],
  [
    11233,
    entry(
      { zh: '该群消息过于频繁', en: 'Chat rate limit' },
      {
        zh: '飞书限制了向该群发送消息的频率。',
        en: 'Feishu is limiting how many messages may be sent to this chat.',
      },
      {
        zh: '机器人会等待后自动重试；若仍失败，请一分钟后再发送命令。',
        en: 'The bot waits and retries by itself; if it still fails, send the command again in a minute.',
      },
    ),
  ],
  [
    230020,
    entry(
      { zh: '消息发送过于频繁', en: 'Message rate limit' },
      {
        zh: '飞书限制了本机器人的发消息频率。',
        en: 'Feishu is limiting how fast this bot may send messages.',
      },
      { zh: '请稍等片刻后重试。', en: 'Wait a moment and try again.' },
    ),
  ],
  [
    230025,
    entry(
      { zh: '消息内容过长', en: 'Message too long' },
      { zh: '回复内容超过了飞书允许的大小。', en: 'The reply was larger than Feishu allows.' },
      { zh: '请缩小查询范围，例如一次只查一个文档。', en: 'Ask for less at once, for example one document.' },
    ),
  ],
  [
    230099,
    entry(
      { zh: '卡片构建失败', en: 'The card could not be built' },
      { zh: '飞书拒绝了机器人发送的卡片。', en: 'Feishu rejected the card this bot sent.' },
      BOT_BUG_FIX,
    ),
  ],
]);

export function explainFeishuCode(code: number): FeishuCodeExplanation | undefined {
  return TABLE.get(code);
}

/** Every code that has words here, for the test that keeps this table and `src/feishu/codes.ts` in step. */
export const EXPLAINED_FEISHU_CODES: readonly number[] = [...TABLE.keys()];
