/**
 * Who may see what. Visitor and liker lists name people, so only the document's owner, people with full
 * access to it and bot admins see them; workplace and app usage describe the whole organisation, so only bot
 * admins do. These cards say that plainly instead of a bare "forbidden".
 */

import {
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  escapeMarkdown,
  isWebUrl,
  openUrlButton,
  truncateText,
} from './card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export type ProtectedData = 'viewers' | 'likes' | 'workplace' | 'app';

export interface AccessDeniedCardInput {
  what: ProtectedData;
  /**
   * - `not_allowed`: the person is none of the people allowed.
   * - `missing_scope`: the bot cannot check (or read) without an API scope an admin must add.
   * - `cannot_verify`: the check itself failed (Feishu error, timeout).
   */
  reason: 'not_allowed' | 'missing_scope' | 'cannot_verify';
  /** The scope to add, for `missing_scope`, e.g. `docs:permission.member:readonly`. */
  scope?: string;
  doc?: { url: string; title?: string };
}

export interface SentPrivatelyCardInput {
  what: 'viewers' | 'likes' | 'unread' | 'export';
  doc?: { url: string; title?: string };
}

interface Protection {
  /** What is protected, as the subject of a sentence. */
  subject: Bilingual;
  why: Bilingual;
  /** What someone who is not allowed can do. */
  ask: Bilingual;
}

const DOCUMENT_LIST_ASK: Bilingual = {
  zh: '如果你需要查看，请让文档所有者给你「可管理」权限，或请机器人管理员代为查询。',
  en: "If you need it, ask the document's owner for full access, or ask a bot admin to look it up.",
};

const ADMIN_ASK: Bilingual = {
  zh: '如果你需要查看，请联系运行这个机器人的人，把你加入机器人管理员（BOT_ADMINS）。',
  en: 'If you need it, ask whoever runs this bot to add you to its admins (BOT_ADMINS).',
};

const PROTECTIONS: Readonly<Record<ProtectedData, Protection>> = {
  viewers: {
    subject: { zh: '文档访问记录', en: "This document's visitor list" },
    why: {
      zh: '访问记录会列出具体的人，所以只有文档所有者、对文档有「可管理」权限的人和机器人管理员可以查看。',
      en: "Visitor lists name people, so only the document's owner, people with full access to it and bot admins can see them.",
    },
    ask: DOCUMENT_LIST_ASK,
  },
  likes: {
    subject: { zh: '文档点赞者列表', en: "This document's list of likers" },
    why: {
      zh: '点赞者列表会列出具体的人，所以只有文档所有者、对文档有「可管理」权限的人和机器人管理员可以查看。',
      en: "Liker lists name people, so only the document's owner, people with full access to it and bot admins can see them.",
    },
    ask: DOCUMENT_LIST_ASK,
  },
  workplace: {
    subject: { zh: '工作台访问数据', en: 'Workplace usage' },
    why: {
      zh: '工作台访问数据反映整个企业的使用情况，所以只有机器人管理员可以查看。',
      en: 'Workplace usage describes the whole organisation, so only bot admins can see it.',
    },
    ask: ADMIN_ASK,
  },
  app: {
    subject: { zh: '应用使用数据', en: 'App usage' },
    why: {
      zh: '应用使用数据反映整个企业的使用情况，所以只有机器人管理员可以查看。',
      en: 'App usage describes the whole organisation, so only bot admins can see it.',
    },
    ask: ADMIN_ASK,
  },
};

/** Scopes are `a:b.c:readonly`-shaped; show them in a code span, anything else escaped. */
function quoteScope(scope: string): string {
  const short = truncateText(scope.trim(), 80);
  return /^[A-Za-z0-9_.:-]+$/.test(short) ? `\`${short}\`` : escapeMarkdown(short);
}

function describeDoc(doc: { url: string; title?: string } | undefined): Bilingual | undefined {
  const title = doc?.title?.trim();
  if (!title) return undefined;
  const quoted = escapeMarkdown(truncateText(title, 80));
  return { zh: `文档：${quoted}`, en: `Document: ${quoted}` };
}

function openDocRow(doc: { url: string } | undefined): CardElement[] {
  return doc && isWebUrl(doc.url)
    ? [buttonRow([openUrlButton({ zh: '打开文档', en: 'Open document' }, doc.url, 'btn_open', 'default')])]
    : [];
}

export function buildAccessDeniedCard(input: AccessDeniedCardInput): Card {
  const protection = PROTECTIONS[input.what];
  const elements: CardElement[] = [];
  const docLine = describeDoc(input.doc);
  if (docLine) elements.push(markdown(docLine, { element_id: 'access_doc' }));

  let title: Bilingual;
  let body: Bilingual;
  let fix: Bilingual;
  let template: 'orange' | 'red' | 'yellow';
  switch (input.reason) {
    case 'not_allowed':
      title = {
        zh: `你没有权限查看${protection.subject.zh}`,
        en: `${protection.subject.en} is not visible to you`,
      };
      body = protection.why;
      fix = protection.ask;
      template = 'orange';
      break;
    case 'missing_scope': {
      const scope = input.scope ? quoteScope(input.scope) : undefined;
      title = { zh: '机器人缺少权限', en: 'The bot is missing a permission' };
      body = joinBilingual(
        [
          protection.why,
          scope
            ? {
                zh: `机器人需要 ${scope} 权限才能核实谁可以查看，但应用还没有开通。`,
                en: `To check who may see it, the bot needs the ${scope} scope, which the app does not have yet.`,
              }
            : {
                zh: '机器人缺少核实权限所需的 API 权限。',
                en: 'The bot lacks an API scope it needs to check permissions.',
              },
        ],
        ' ',
      );
      fix = scope
        ? {
            zh: `请飞书管理员在开发者后台 → 本应用 →「权限管理」中开通 ${scope}，然后发布新版本。`,
            en: `A Feishu admin adds ${scope} in the developer console → this app → Permissions & Scopes, then publishes a new version.`,
          }
        : {
            zh: '请飞书管理员在开发者后台检查本应用的权限，然后发布新版本。',
            en: "A Feishu admin checks this app's scopes in the developer console, then publishes a new version.",
          };
      template = 'red';
      break;
    }
    case 'cannot_verify':
      title = { zh: '暂时无法核实你的权限', en: "Couldn't check your access" };
      body = joinBilingual(
        [
          protection.why,
          {
            zh: '机器人这次没能向飞书核实你的权限，为保护他人信息，暂不显示。',
            en: 'The bot could not check your permissions with Feishu this time, so to protect the people listed it shows nothing.',
          },
        ],
        ' ',
      );
      fix = {
        zh: '请稍等一分钟后重试；如果一直如此，请联系机器人管理员。',
        en: 'Try again in a minute; if it keeps happening, ask a bot admin.',
      };
      template = 'yellow';
      break;
  }

  elements.push(
    markdown(body, { element_id: 'access_why' }),
    markdown(joinBilingual([{ zh: '**如何处理**', en: '**What to do**' }, fix], '\n\n'), {
      element_id: 'access_fix',
    }),
    ...openDocRow(input.doc),
  );
  return buildCard({ title, template, summary: title, elements });
}

const SENT_PRIVATELY: Readonly<Record<SentPrivatelyCardInput['what'], Bilingual>> = {
  viewers: {
    zh: '访问记录会列出具体的人，所以我已私聊发给你，没有发在群里。',
    en: 'The visitor list names people, so I sent it to you in a private chat instead of posting it here.',
  },
  likes: {
    zh: '点赞者列表会列出具体的人，所以我已私聊发给你，没有发在群里。',
    en: 'The list of likers names people, so I sent it to you in a private chat instead of posting it here.',
  },
  unread: {
    zh: '谁还没打开会列出具体的人，所以我已私聊发给你，没有发在群里。要在群里提醒他们，请点私聊卡片上的「提醒他们」。',
    en: "Who hasn't opened it names people, so I sent it to you in a private chat instead of posting it here. To remind them here, press Remind them on that card.",
  },
  export: {
    zh: '导出的文件会列出具体的人，所以我已私聊发给你，没有发在群里。',
    en: 'The export names people, so I sent the file to you in a private chat instead of posting it here.',
  },
};

/** Posted in the group when the list went to the asker in a private chat. */
export function buildSentPrivatelyCard(input: SentPrivatelyCardInput): Card {
  const elements: CardElement[] = [];
  const docLine = describeDoc(input.doc);
  if (docLine) elements.push(markdown(docLine, { element_id: 'private_doc' }));
  elements.push(
    markdown(SENT_PRIVATELY[input.what], { element_id: 'private_body' }),
    ...openDocRow(input.doc),
  );
  const title: Bilingual = { zh: '已私聊发送给你', en: 'Sent to you privately' };
  return buildCard({ title, template: 'green', summary: title, elements });
}
