/**
 * What the person in the chat sees when a command fails: one-line title, what it means, what to do,
 * and a grey footer with the code and log ID (what Feishu support asks for).
 */

import {
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  escapeMarkdown,
  greyNote,
  type HeaderTemplate,
  isWebUrl,
  openUrlButton,
  truncateText,
} from './card.js';
import { explainFeishuCode, type FeishuCodeExplanation } from './feishu-codes.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';
import { describeDocType } from './stats-card.js';

export type ErrorCardInput =
  | {
      kind: 'feishu';
      feishuCode: number;
      /** A later try may succeed (orange) or something must change first (red): the code table decides. */
      retryable: boolean;
      /**
       * The scopes a 99991672 names (already checked to look like scopes): the one part of Feishu's message a
       * card shows. Never Feishu's message itself: an upstream may echo anything into it, secrets included.
       */
      scopes?: readonly string[];
      endpoint?: string;
      logId?: string;
      docUrl?: string;
    }
  | { kind: 'not_document'; url: string; what: string }
  | { kind: 'not_feishu_link'; url: string }
  | { kind: 'timeout' }
  /** No connection at all (refused, reset, DNS). */
  | { kind: 'unreachable' }
  /** An HTTP error without a Feishu body: a gateway or proxy in between, or Feishu itself failing. */
  | { kind: 'server_error'; httpStatus: number }
  /** Feishu answered, but not in the documented shape: a bug to report, not something to retry. */
  | { kind: 'unexpected_response'; endpoint: string; logId?: string }
  /** A document type Feishu's statistics do not cover (slides). */
  | { kind: 'unsupported_type'; docType: string; url: string }
  | { kind: 'internal'; errorId?: string }
  /** A document token or id no Feishu request can carry (empty, `.` or `..`): refused before asking Feishu. */
  | { kind: 'invalid_id' }
  /** `likes` on a sheet, base or mind note (or a wiki page resolving to one): there are no likes to list. */
  | { kind: 'likes_unsupported'; docType: string; doc?: { url: string; title?: string } };

/** Shown inside markdown, so always escaped; long URLs and messages are cut to keep the card small. */
function quoteUntrusted(text: string, maxChars = 200): string {
  return escapeMarkdown(truncateText(text, maxChars));
}

// `what` comes from parseDocLink in English; translate the values it is known to produce.
const WHAT_LABELS: Readonly<Record<string, Bilingual>> = {
  folder: { zh: '文件夹', en: 'a folder' },
  'drive page': { zh: '云空间页面', en: 'a Drive page' },
  'wiki settings': { zh: '知识库设置页', en: 'wiki settings' },
  'wiki space': { zh: '知识空间首页', en: 'a wiki space' },
  'wiki home': { zh: '知识库首页', en: 'the wiki home page' },
  page: { zh: '普通页面', en: 'a page' },
  'link without a document token': { zh: '不含文档 token 的链接', en: 'a link without a document token' },
};

function describeWhat(what: string): Bilingual {
  const known = WHAT_LABELS[what];
  if (known) return known;
  const quoted = quoteUntrusted(what, 60);
  return { zh: quoted, en: quoted };
}

function unknownCodeExplanation(code: number): FeishuCodeExplanation {
  return {
    title: { zh: '飞书接口返回错误', en: 'Feishu returned an error' },
    meaning: {
      zh: `飞书返回了本机器人无法识别的错误码 ${code}。`,
      en: `Feishu answered with error code ${code}, which this bot does not recognise.`,
    },
    fix: {
      zh: '请稍后重试。若持续失败，请将下方的错误码和 Log ID 发给管理员或飞书技术支持。',
      en: 'Try again later. If it keeps failing, send the code and log ID below to your admin or Feishu support.',
    },
  };
}

interface ErrorView {
  explanation: FeishuCodeExplanation;
  /** Orange when a later try may help, red when something must change first. */
  retryable: boolean;
  /** Extra grey line, e.g. the scopes a 99991672 names. */
  detail?: Bilingual;
  footer?: Bilingual;
  docUrl?: string;
  summaryPrefix?: string;
}

const BOT_BUG_FIX: Bilingual = {
  zh: '这是机器人的问题，请将下方的接口名和 Log ID 反馈给机器人维护者。',
  en: "This is a bug in the bot: report it to the bot's maintainer with the endpoint and log ID below.",
};

function viewFeishuError(input: Extract<ErrorCardInput, { kind: 'feishu' }>): ErrorView {
  const known = explainFeishuCode(input.feishuCode);
  const explanation = known ?? unknownCodeExplanation(input.feishuCode);
  const zh = [`错误码 ${input.feishuCode}`];
  const en = [`Code ${input.feishuCode}`];
  if (input.endpoint) {
    zh.push(quoteUntrusted(input.endpoint, 80));
    en.push(quoteUntrusted(input.endpoint, 80));
  }
  if (input.logId) {
    zh.push(`Log ID ${quoteUntrusted(input.logId, 100)}`);
    en.push(`Log ID ${quoteUntrusted(input.logId, 100)}`);
  }
  const view: ErrorView = {
    explanation,
    retryable: input.retryable,
    footer: { zh: zh.join(' · '), en: en.join(' · ') },
    summaryPrefix: String(input.feishuCode),
  };
  if (input.scopes?.length) {
    const names = input.scopes.map((scope) => `\`${quoteUntrusted(scope, 120)}\``).join(', ');
    view.detail = { zh: `飞书提示缺少的权限：${names}`, en: `Scopes Feishu asks for: ${names}` };
  }
  if (input.docUrl && isWebUrl(input.docUrl)) view.docUrl = input.docUrl;
  return view;
}

function viewError(input: ErrorCardInput): ErrorView {
  switch (input.kind) {
    case 'feishu':
      return viewFeishuError(input);
    case 'not_document': {
      const url = quoteUntrusted(input.url);
      const what = describeWhat(input.what);
      return {
        explanation: {
          title: { zh: '该链接不是云文档', en: 'This link is not a document' },
          meaning: {
            zh: `${url} 指向${what.zh}，没有访问统计数据。`,
            en: `${url} points to ${what.en}, which has no statistics.`,
          },
          fix: {
            zh: '请发送文档、电子表格、多维表格、思维笔记、文件或知识库页面的链接：打开它，从地址栏复制链接。',
            en: 'Send a link to a doc, sheet, base, mindnote, file or wiki page: open it and copy the link from the address bar.',
          },
        },
        retryable: false,
      };
    }
    case 'not_feishu_link': {
      const url = quoteUntrusted(input.url);
      return {
        explanation: {
          title: { zh: '这不是飞书文档链接', en: 'Not a Feishu document link' },
          meaning: {
            zh: `${url} 不是 feishu.cn、larksuite.com 或 larkoffice.com 上的文档，我无法读取它的数据。`,
            en: `${url} is not a document on feishu.cn, larksuite.com or larkoffice.com, so I cannot read its statistics.`,
          },
          fix: {
            zh: '在飞书中打开文档，从地址栏或「分享」按钮复制链接后发送。',
            en: 'Open the document in Feishu and send the link from the address bar or the Share button.',
          },
        },
        retryable: false,
      };
    }
    case 'likes_unsupported': {
      const type = describeDocType(input.docType);
      const title = input.doc?.title?.trim();
      const which = title ? `“${quoteUntrusted(title, 80)}”` : '';
      const view: ErrorView = {
        explanation: {
          title: { zh: '该文档类型不支持点赞', en: 'No likes for this document type' },
          meaning: {
            zh: `${which ? `${which}是` : '这是'}${type.zh}。飞书只有文档和文件支持点赞，电子表格、多维表格和思维笔记没有点赞。`,
            en: `Likes are not available for this document type (sheets, bases and mind notes have no likes)${which ? `: ${which} is a ${type.en.toLowerCase()}` : ''}.`,
          },
          fix: {
            zh: '可以发送「统计」查看它的访问人数和访问次数，或发送「访问记录」查看谁看过它。',
            en: 'Send `stats` for its visitors and views, or `viewers` to see who opened it.',
          },
          tone: 'info',
        },
        retryable: false,
      };
      if (input.doc && isWebUrl(input.doc.url)) view.docUrl = input.doc.url;
      return view;
    }
    case 'timeout':
      return {
        explanation: {
          title: { zh: '飞书响应超时', en: 'Feishu took too long to answer' },
          meaning: {
            zh: '飞书接口没有在限定时间内返回结果。',
            en: 'Feishu did not answer in time.',
          },
          fix: { zh: '请稍等一分钟后重试。', en: 'Try again in a minute.' },
        },
        retryable: true,
      };
    case 'unreachable':
      return {
        explanation: {
          title: { zh: '无法连接飞书', en: 'Could not reach Feishu' },
          meaning: {
            zh: '机器人连接飞书开放平台失败（连接被拒绝、中断或域名无法解析）。',
            en: 'The bot could not connect to the Feishu Open Platform (refused, reset, or the name did not resolve).',
          },
          fix: {
            zh: '请稍后重试。若持续失败，请管理员检查机器人所在网络能否访问飞书开放平台，以及 `FEISHU_DOMAIN` 配置。',
            en: "Try again in a minute. If it keeps failing, an admin should check that the bot's network reaches the Feishu Open Platform, and `FEISHU_DOMAIN`.",
          },
        },
        retryable: true,
      };
    case 'server_error': {
      const status = String(Math.trunc(input.httpStatus));
      return {
        explanation: {
          title: { zh: '飞书服务端错误', en: 'Feishu server error' },
          meaning: {
            zh: `请求飞书时收到 HTTP ${status}，但没有飞书的错误信息：可能是飞书或中间的网关暂时故障。`,
            en: `Feishu's side answered HTTP ${status} without a Feishu error: Feishu or a gateway in between is failing for now.`,
          },
          fix: {
            zh: '请稍后重试。若持续失败，请将下方的状态码发给管理员。',
            en: 'Try again in a few minutes. If it keeps failing, send the status below to your admin.',
          },
        },
        retryable: true,
        footer: { zh: `HTTP ${status}`, en: `HTTP ${status}` },
      };
    }
    case 'unexpected_response': {
      const parts = [quoteUntrusted(input.endpoint, 80)];
      if (input.logId) parts.push(`Log ID ${quoteUntrusted(input.logId, 100)}`);
      return {
        explanation: {
          title: { zh: '飞书返回了无法识别的数据', en: 'Feishu sent an answer the bot cannot read' },
          meaning: {
            zh: '飞书接口的返回内容与文档描述的格式不符，重试也会得到同样的结果。',
            en: 'Feishu answered in a form its documentation does not describe; trying again gets the same answer.',
          },
          fix: BOT_BUG_FIX,
        },
        retryable: false,
        footer: { zh: parts.join(' · '), en: parts.join(' · ') },
      };
    }
    case 'unsupported_type': {
      const type = describeDocType(input.docType);
      const view: ErrorView = {
        explanation: {
          title: { zh: '暂不支持该文档类型', en: 'Not supported by Feishu statistics yet' },
          meaning: {
            zh: `这是${type.zh}。飞书的文档统计和访问记录接口目前只支持文档、电子表格、多维表格、思维笔记、文件和知识库页面。`,
            en: `This is a ${type.en.toLowerCase()}. Feishu's statistics and view records cover docs, sheets, bases, mind notes, files and wiki pages only.`,
          },
          fix: {
            zh: '暂时无法查询它的数据；请发送其他类型文档的链接。',
            en: 'Its figures cannot be read for now; send a link to another kind of document.',
          },
          tone: 'info',
        },
        retryable: false,
      };
      if (isWebUrl(input.url)) view.docUrl = input.url;
      return view;
    }
    case 'invalid_id':
      return {
        explanation: {
          title: { zh: '链接或 ID 无效', en: 'This link or id is not valid' },
          meaning: {
            zh: '其中的文档 token 或 ID 为空或不完整，飞书里不可能有这样的文档或对象，所以机器人没有向飞书查询。',
            en: 'The document token or id in it is empty or incomplete. No Feishu document or object can have it, so the bot did not ask Feishu.',
          },
          fix: {
            zh: '在飞书中打开文档，从地址栏或「分享」按钮重新复制完整链接后发送；如果输入的是 ID，请检查它是否完整。',
            en: 'Open the document in Feishu and copy the whole link again from the address bar or the Share button; if you typed an id, check that it is complete.',
          },
        },
        retryable: false,
      };
    case 'internal': {
      const view: ErrorView = {
        explanation: {
          title: { zh: '机器人内部出错', en: 'Something went wrong' },
          meaning: {
            zh: '机器人处理你的消息时遇到了意外错误。',
            en: 'The bot hit an unexpected error while handling your message.',
          },
          fix: {
            zh: '请重试。若持续失败，请将下方的错误 ID 发给机器人维护者。',
            en: "Try again. If it keeps failing, give the error ID below to the bot's maintainer.",
          },
        },
        retryable: true,
      };
      if (input.errorId) {
        const id = quoteUntrusted(input.errorId, 100);
        view.footer = { zh: `错误 ID ${id}`, en: `Error ID ${id}` };
      }
      return view;
    }
  }
}

/** Red when the user must change something, orange when a retry may help, yellow when nothing failed. */
function templateFor(explanation: FeishuCodeExplanation, retryable: boolean): HeaderTemplate {
  if (explanation.tone === 'info') return 'yellow';
  return retryable ? 'orange' : 'red';
}

export function buildErrorCard(input: ErrorCardInput): Card {
  const { explanation, retryable, detail, footer, docUrl, summaryPrefix } = viewError(input);
  const elements: CardElement[] = [
    markdown(explanation.meaning, { element_id: 'err_meaning' }),
    // Blank line: a lone `\n` is a soft break that clients may render as a space.
    markdown(joinBilingual([{ zh: '**如何处理**', en: '**What to do**' }, explanation.fix], '\n\n'), {
      element_id: 'err_fix',
    }),
  ];
  if (detail) elements.push(greyNote(detail, 'err_detail'));
  if (docUrl) {
    elements.push(
      buttonRow([openUrlButton({ zh: '打开文档', en: 'Open document' }, docUrl, 'btn_open', 'default')]),
    );
  }
  if (footer) elements.push(greyNote(footer, 'err_footer'));

  const prefix = summaryPrefix ? `${summaryPrefix} · ` : '';
  return buildCard({
    title: explanation.title,
    template: templateFor(explanation, retryable),
    summary: { zh: `${prefix}${explanation.title.zh}`, en: `${prefix}${explanation.title.en}` },
    elements,
  });
}
