/**
 * `unread <link>`: how many of a group's members have opened a document, and who has not, as `<person>` tags the
 * reader's client renders with avatar and name. Sent to the asker privately (it tells who read what).
 *
 * Budget: a `<person>` tag is about 50 bytes, counted twice against the 30 KB limit (the card is a JSON string
 * inside the request body); 200 of them leave room for everything else. Past that the card says how many more.
 */

import {
  type ButtonElement,
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  callbackButton,
  formatCount,
  greyNote,
  isSafeUserId,
  isWebUrl,
  localDateTimeText,
  openUrlButton,
  personTag,
  truncateText,
} from './card.js';
import { type Bilingual, joinBilingual, markdown, neutralMarkdown } from './i18n.js';
import { describeDocType } from './stats-card.js';

/** People listed by name on the card; the rest are counted. */
export const MAX_UNREAD_LISTED = 200;
const MAX_TITLE_CHARS = 60;

export interface UnreadCardInput {
  doc: { url: string; type: string; title?: string };
  /** People in the group (Feishu never lists bots, so they are not counted). */
  memberCount: number;
  /** How many of them are among the document's viewers. */
  readCount: number;
  /** open_ids of the members who have not opened it, in the chat's order. */
  unread: readonly string[];
  /** The member list stopped at this many: more people are in the group than were checked. */
  membersCappedAt?: number;
  /** The visitor list stopped at this many before every member was found in it. */
  viewersCappedAt?: number;
  /** When the lists were read. */
  now: Date;
  /** The **Remind them** button's value; absent → no button. */
  remind?: Record<string, unknown>;
}

export function buildUnreadCard(input: UnreadCardInput): Card {
  const rawTitle = input.doc.title?.trim();
  // Header text is plain_text: shown literally, no escaping needed.
  const docTitle = rawTitle ? truncateText(rawTitle, MAX_TITLE_CHARS) : undefined;
  const title: Bilingual = docTitle
    ? { zh: `「${docTitle}」谁还没打开`, en: `Who hasn't opened ${docTitle}` }
    : { zh: '谁还没打开这篇文档', en: "Who hasn't opened this document" };
  const members = Math.max(0, Math.floor(input.memberCount));
  const read = Math.min(members, Math.max(0, Math.floor(input.readCount)));
  const people = input.unread.filter(isSafeUserId);
  const missing = input.unread.length;

  const headline: Bilingual = {
    zh: `**群里 ${formatCount(members)} 位成员中，${formatCount(read)} 位打开过。**`,
    en: `**${formatCount(read)} of ${formatCount(members)} ${members === 1 ? 'member has' : 'members have'} opened it.**`,
  };
  const elements: CardElement[] = [markdown(headline, { element_id: 'unread_count' })];

  if (missing === 0) {
    elements.push(
      markdown(
        members === 0
          ? { zh: '群里没有可统计的成员。', en: 'There is nobody in this group to count.' }
          : { zh: '所有成员都打开过了。', en: 'Everyone in the group has opened it.' },
        { element_id: 'unread_none' },
      ),
    );
  } else {
    elements.push(
      markdown(
        { zh: `还没打开的 ${formatCount(missing)} 位：`, en: `Not opened yet (${formatCount(missing)}):` },
        { element_id: 'unread_intro' },
      ),
    );
    const listed = people.slice(0, MAX_UNREAD_LISTED);
    // Names render from the ids in the reader's own language: one copy of the tags, not one per language.
    if (listed.length > 0) {
      elements.push(neutralMarkdown(listed.map(personTag).join(' '), { element_id: 'unread_people' }));
    }
    const rest = missing - listed.length;
    if (rest > 0) {
      elements.push(
        markdown(
          { zh: `……另有 ${formatCount(rest)} 位未列出。`, en: `…and ${formatCount(rest)} more.` },
          { element_id: 'unread_more' },
        ),
      );
    }
  }

  const notes: Bilingual[] = [];
  if (input.membersCappedAt !== undefined) {
    const max = formatCount(input.membersCappedAt);
    notes.push({
      zh: `群成员较多，只核对了前 ${max} 位。`,
      en: `The group is large: only its first ${max} members were checked.`,
    });
  }
  if (input.viewersCappedAt !== undefined) {
    const max = formatCount(input.viewersCappedAt);
    notes.push({
      zh: `只查看了最近 ${max} 位访问者：名单里有人可能在更早的时候打开过。`,
      en: `Only the ${max} most recent visitors were checked: someone listed may have opened it before them.`,
    });
  }
  const asOf = localDateTimeText(input.now);
  notes.push({
    zh: `不含机器人。截至 ${asOf}。`,
    en: `Bots are not counted. As of ${asOf}.`,
  });
  if (input.remind) {
    notes.push({
      zh: '点「提醒他们」会在群里发一条消息 @ 这些成员并附上文档链接；不点则群里什么都不会发。',
      en: 'Remind them posts one message in the group that @mentions them, with the link; nothing is posted there until you press it.',
    });
  }
  elements.push(greyNote(joinBilingual(notes, ' '), 'unread_notes'));

  const buttons: ButtonElement[] = [];
  if (input.remind && missing > 0) {
    buttons.push(
      callbackButton({ zh: '提醒他们', en: 'Remind them' }, input.remind, 'btn_remind', 'primary'),
    );
  }
  if (isWebUrl(input.doc.url)) {
    buttons.push(
      openUrlButton({ zh: '打开文档', en: 'Open document' }, input.doc.url, 'btn_open', 'default'),
    );
  }
  if (buttons.length > 0) elements.push(buttonRow(buttons));

  return buildCard({
    title,
    subtitle: describeDocType(input.doc.type),
    template: missing === 0 ? 'green' : 'wathet',
    summary: joinBilingual(
      [
        title,
        {
          zh: `${formatCount(read)}/${formatCount(members)} 已打开`,
          en: `${formatCount(read)}/${formatCount(members)} opened`,
        },
      ],
      ' · ',
    ),
    elements,
  });
}
