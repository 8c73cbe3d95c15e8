/**
 * `viewers <link>` and `likes <link>`: one page of people, most recent first as Feishu returns them, with
 * Previous / Next buttons that update the card in place.
 *
 * Budget: a page may hold 50 people (both APIs' page_size maximum) and must stay under 30 KB and 200
 * components. A `person` component beside a markdown costs five components per row (column_set, two
 * columns, person, markdown), so each row is two markdown elements instead: avatar + name (rich-text
 * `<person>`) and the relative time, translated; then the absolute time, which has no words and is sent once
 * rather than in three language copies.
 */

import {
  type ButtonElement,
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  callbackButton,
  compactDateTimeText,
  escapeMarkdown,
  formatCount,
  greyNote,
  isSafeUserId,
  isWebUrl,
  localDateTimeText,
  openUrlButton,
  personTag,
  truncateText,
} from './card.js';
import type { DocLike, ViewRecord } from './data.js';
import { type Bilingual, joinBilingual, markdown, neutralMarkdown } from './i18n.js';
import { describeAge, relativeTime } from './relative-time.js';
import { describeDocType } from './stats-card.js';

/** Button values for paging; an absent value means no button. Cards never invent action values. */
export interface CardNav {
  previous?: Record<string, unknown>;
  next?: Record<string, unknown>;
  back?: Record<string, unknown>;
}

export interface PeopleCardDoc {
  url: string;
  title?: string;
  type: string;
}

interface PageInput {
  doc: PeopleCardDoc;
  /** 1-based. */
  page: number;
  pageSize: number;
  hasMore: boolean;
  /** When the card is built: "3 hours ago" is relative to this. */
  now: Date;
  nav: CardNav;
}

export interface ViewersCardInput extends PageInput {
  items: ViewRecord[];
}

export interface LikesCardInput extends PageInput {
  items: DocLike[];
}

/** Both list APIs cap page_size at 50; more rows would not fit the card anyway. */
export const MAX_PEOPLE_ROWS = 50;

const MAX_TITLE_CHARS = 60;

type Who =
  | { kind: 'person'; openId: string }
  | { kind: 'hidden' }
  | { kind: 'named'; name: string }
  | { kind: 'unknown' };

interface PersonRow {
  who: Who;
  /** Epoch seconds; 0 or less when Feishu sent none. */
  at: number;
}

interface ListWording {
  title(docTitle: string | undefined): Bilingual;
  empty: Bilingual;
  emptyLater: Bilingual;
  noun: (count: number) => Bilingual;
  template: 'blue' | 'turquoise';
}

const VIEWERS: ListWording = {
  title: (t) =>
    t
      ? { zh: `谁看过「${t}」`, en: `Who viewed ${t}` }
      : { zh: '谁看过这篇文档', en: 'Who viewed this document' },
  empty: { zh: '还没有访问记录。', en: 'No visits recorded yet.' },
  emptyLater: { zh: '这一页没有更多访问者了。', en: 'No more visitors on this page.' },
  noun: (n) => ({
    zh: `${formatCount(n)} 位访问者`,
    en: `${formatCount(n)} ${n === 1 ? 'visitor' : 'visitors'}`,
  }),
  template: 'blue',
};

const LIKES: ListWording = {
  title: (t) =>
    t
      ? { zh: `谁赞了「${t}」`, en: `Who liked ${t}` }
      : { zh: '谁赞了这篇文档', en: 'Who liked this document' },
  empty: { zh: '还没有人点赞。', en: 'No likes yet.' },
  emptyLater: { zh: '这一页没有更多点赞了。', en: 'No more likes on this page.' },
  noun: (n) => ({ zh: `${formatCount(n)} 人点赞`, en: `${formatCount(n)} ${n === 1 ? 'like' : 'likes'}` }),
  template: 'turquoise',
};

// Desensitised likers come without a name and must stay anonymous: their id is not rendered at all.
// https://open.feishu.cn/document/docs/drive-v1/like/list
const HIDDEN_USER: Bilingual = { zh: '匿名用户', en: 'Hidden user' };
const UNKNOWN_USER: Bilingual = { zh: '未知用户', en: 'Unknown user' };

function viewerRow(record: ViewRecord): PersonRow {
  const at = record.lastViewTime;
  if (isSafeUserId(record.viewerId)) return { who: { kind: 'person', openId: record.viewerId }, at };
  return { who: record.name ? { kind: 'named', name: record.name } : { kind: 'unknown' }, at };
}

function likeRow(like: DocLike): PersonRow {
  const at = like.lastLikedTime;
  if (like.desensitized) return { who: { kind: 'hidden' }, at };
  if (isSafeUserId(like.userId)) return { who: { kind: 'person', openId: like.userId }, at };
  const name = like.name ?? like.enName;
  return { who: name ? { kind: 'named', name } : { kind: 'unknown' }, at };
}

function grey(text: Bilingual): Bilingual {
  return { zh: `<font color='grey'>${text.zh}</font>`, en: `<font color='grey'>${text.en}</font>` };
}

function describeWho(who: Who): Bilingual {
  switch (who.kind) {
    case 'person': {
      const tag = personTag(who.openId);
      return { zh: tag, en: tag };
    }
    case 'hidden':
      return grey(HIDDEN_USER);
    case 'unknown':
      return grey(UNKNOWN_USER);
    case 'named': {
      const name = escapeMarkdown(truncateText(who.name, 40));
      return name ? { zh: name, en: name } : grey(UNKNOWN_USER);
    }
  }
}

function buildRow(row: PersonRow, now: Date): CardElement[] {
  const who = describeWho(row.who);
  const at = row.at > 0 ? new Date(row.at * 1000) : undefined;
  if (!at) {
    return [markdown(joinBilingual([who, { zh: '时间未知', en: 'time unknown' }], ' · '))];
  }
  // A week or more ago the date on the second line says it better than "9 days ago".
  const age = describeAge(at, now);
  const first = age.unit === 'date' ? who : joinBilingual([who, relativeTime(at, now)], ' · ');
  return [
    markdown(first),
    neutralMarkdown(`<font color='grey'>${compactDateTimeText(at)}</font>`, { text_size: 'notation' }),
  ];
}

function buildPageLine(input: PageInput, shown: number): Bilingual {
  const page = Math.max(1, Math.floor(input.page));
  const size = Math.max(1, Math.floor(input.pageSize));
  const parts: Bilingual[] = [{ zh: `**第 ${page} 页**`, en: `**Page ${page}**` }];
  if (shown > 0) {
    const first = (page - 1) * size + 1;
    parts.push({ zh: `第 ${first}–${first + shown - 1} 位`, en: `#${first}–${first + shown - 1}` });
  }
  parts.push(
    input.hasMore ? { zh: '下一页还有', en: 'more on the next page' } : { zh: '已到末尾', en: 'end of list' },
  );
  return joinBilingual(parts, ' · ');
}

function buildNav(input: PageInput): ButtonElement[] {
  const buttons: ButtonElement[] = [];
  const { nav } = input;
  if (nav.previous)
    buttons.push(callbackButton({ zh: '上一页', en: 'Previous' }, nav.previous, 'nav_prev', 'default'));
  if (nav.next) buttons.push(callbackButton({ zh: '下一页', en: 'Next' }, nav.next, 'nav_next', 'primary'));
  if (nav.back)
    buttons.push(callbackButton({ zh: '返回统计', en: 'Back to stats' }, nav.back, 'nav_back', 'default'));
  if (isWebUrl(input.doc.url)) {
    buttons.push(
      openUrlButton({ zh: '打开文档', en: 'Open document' }, input.doc.url, 'btn_open', 'default'),
    );
  }
  return buttons;
}

function buildPeopleCard(input: PageInput, rows: readonly PersonRow[], wording: ListWording): Card {
  const shown = rows.slice(0, MAX_PEOPLE_ROWS);
  const rawTitle = input.doc.title?.trim();
  // Header text is plain_text: the title shows literally there and needs no escaping.
  const docTitle = rawTitle ? truncateText(rawTitle, MAX_TITLE_CHARS) : undefined;
  const title = wording.title(docTitle);
  const pageLine = buildPageLine(input, shown.length);

  const elements: CardElement[] = [markdown(pageLine, { element_id: 'people_page' })];
  if (shown.length === 0) {
    elements.push(
      markdown(input.page > 1 ? wording.emptyLater : wording.empty, { element_id: 'people_empty' }),
    );
  } else {
    for (const row of shown) elements.push(...buildRow(row, input.now));
  }
  // Relative times go stale as the card sits in the chat; say when they were true.
  const asOf = localDateTimeText(input.now);
  elements.push(greyNote({ zh: `时间截至 ${asOf}`, en: `Times as of ${asOf}` }, 'people_as_of'));
  const buttons = buildNav(input);
  if (buttons.length > 0) elements.push(buttonRow(buttons));

  const page = Math.max(1, Math.floor(input.page));
  return buildCard({
    title,
    subtitle: joinBilingual(
      [describeDocType(input.doc.type), { zh: `第 ${page} 页`, en: `Page ${page}` }],
      ' · ',
    ),
    template: wording.template,
    summary: joinBilingual(
      [title, { zh: `第 ${page} 页`, en: `page ${page}` }, wording.noun(shown.length)],
      ' · ',
    ),
    elements,
  });
}

export function buildViewersCard(input: ViewersCardInput): Card {
  return buildPeopleCard(input, input.items.map(viewerRow), VIEWERS);
}

export function buildLikesCard(input: LikesCardInput): Card {
  return buildPeopleCard(input, input.items.map(likeRow), LIKES);
}
