/**
 * The group message **Remind them** sends: a rich-text (`post`) message, not a card, because a post's `at` node is
 * a real @mention (the person is notified and the chat shows it as a mention), and a post carries one body per
 * language so each reader sees their own. `user_id` takes an open_id there.
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/im-v1/message/create_json (post: `at`, `a`)
 *
 * A post's request body may be at most 30 KB, and the content is a JSON string inside it (every quote counted
 * twice); 100 mentions in two languages come to about 13 KB. Past that the message says how many more.
 */

import { formatCount, isSafeUserId, isWebUrl, truncateText } from './card.js';

/** People @mentioned in one reminder; the rest are counted. */
export const MAX_REMINDER_MENTIONS = 100;
const MAX_TITLE_CHARS = 80;

export type ReminderPostNode =
  | { tag: 'text'; text: string }
  | { tag: 'a'; text: string; href: string }
  | { tag: 'at'; user_id: string };

export type ReminderPost = Record<'zh_cn' | 'en_us', { title: string; content: ReminderPostNode[][] }>;

export interface ReminderPostInput {
  doc: { url: string; title?: string };
  /** open_ids of the members who have not opened it. */
  unread: readonly string[];
}

export function buildReminderPost(input: ReminderPostInput): ReminderPost {
  const people = input.unread.filter(isSafeUserId);
  const mentioned = people.slice(0, MAX_REMINDER_MENTIONS);
  const rest = input.unread.length - mentioned.length;
  const title = input.doc.title?.trim() ? truncateText(input.doc.title.trim(), MAX_TITLE_CHARS) : undefined;
  const ats: ReminderPostNode[] = mentioned.flatMap((id, i) =>
    i === 0
      ? [{ tag: 'at', user_id: id }]
      : [
          { tag: 'text', text: ' ' },
          { tag: 'at', user_id: id },
        ],
  );
  const link = (text: string): ReminderPostNode =>
    isWebUrl(input.doc.url) ? { tag: 'a', text, href: input.doc.url } : { tag: 'text', text };

  const zhName = title ? `「${title}」` : '这篇文档';
  const enName = title ?? 'this document';
  const zh: ReminderPostNode[][] = [
    ats,
    [
      { tag: 'text', text: `以上 ${formatCount(mentioned.length)} 位成员还没有打开 ` },
      link(zhName),
      { tag: 'text', text: '，请抽空阅读。' },
    ],
  ];
  const en: ReminderPostNode[][] = [
    ats,
    [
      {
        tag: 'text',
        text: `${mentioned.length === 1 ? 'You have' : `These ${formatCount(mentioned.length)} members have`} not opened `,
      },
      link(enName),
      { tag: 'text', text: ' yet: please take a look.' },
    ],
  ];
  if (rest > 0) {
    zh.push([{ tag: 'text', text: `另有 ${formatCount(rest)} 位成员也还没有打开。` }]);
    en.push([{ tag: 'text', text: `${formatCount(rest)} more members have not opened it either.` }]);
  }
  return {
    zh_cn: { title: title ? `提醒：请阅读「${title}」` : '提醒：请阅读文档', content: zh },
    en_us: {
      title: title ? `Reminder: please read ${title}` : 'Reminder: please read the document',
      content: en,
    },
  };
}
