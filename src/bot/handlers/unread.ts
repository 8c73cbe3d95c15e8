import type { Logger } from 'pino';
import {
  buildReminderPost,
  buildSentPrivatelyCard,
  buildUnreadCard,
  type Card,
} from '../../../cards/index.js';
import { MAX_CHAT_MEMBERS, walkChatMembers } from '../../data/chat-members.js';
import { type DocumentService, MAX_PEOPLE_WALK, type ResolvedDoc } from '../../data/documents.js';
import type { FeishuClient } from '../../feishu/client.js';
import type { DocRef, ViewRecord } from '../../feishu/types.js';
import { presentOrRetry } from '../../present/present-error.js';
import type { Store } from '../../store/store.js';
import type { AccessDecision, AccessPolicy } from '../access.js';
import { encodeAction, fromActionDoc, toActionDoc } from '../actions.js';
import { type MessageContext, messageUuid } from '../context.js';
import { UnreadSessions } from '../unread-sessions.js';
import { cardDoc, deniedCard, resolveWithTitle } from './people.js';

export interface UnreadDeps {
  documents: DocumentService;
  access: AccessPolicy;
  feishu: FeishuClient;
  store: Store;
  now: () => number;
}

/**
 * Any one of `im:chat.members:read`, `im:chat:readonly`, `im:chat.group_info:readonly`, `im:chat` lists a chat's
 * members; the first is the narrowest, named when Feishu's refusal names none.
 * https://open.feishu.cn/document/server-docs/group/chat-member/get
 */
export const CHAT_MEMBERS_SCOPE = 'im:chat.members:read';
const VIEW_RECORDS_SCOPE = 'drive:file:view_record:readonly';

/** Who of a group has not opened a document. Counts are of people: Feishu never lists a chat's bots. */
export interface UnreadReport {
  memberCount: number;
  readCount: number;
  /** open_ids in the chat's order. */
  unread: string[];
  membersCappedAt?: number;
  viewersCappedAt?: number;
}

/**
 * `unread <link>` in a group (the parser answers a private chat with its usage card): the group's members minus
 * the document's visitors. It tells who read the document, so the `viewers` rule applies, checked before any
 * member or visitor is read, and the answer goes to the asker privately; the group learns only that it was sent.
 * Its **Remind them** button is the one way anything about it is posted in the group (`remindUnread`).
 */
export async function runUnreadCommand(ctx: MessageContext, link: string, deps: UnreadDeps): Promise<void> {
  let doc: ResolvedDoc | undefined;
  let step: 'members' | 'viewers' | undefined;
  let card: Card;
  try {
    doc = await resolveWithTitle(link, deps.documents);
    const decision = await deps.access.canSeePeople(doc, ctx.senderOpenId);
    if (!decision.allowed) {
      ctx.log.info({ kind: 'unread', reason: decision.reason }, 'unread list denied');
      return ctx.reply(deniedCard('viewers', decision, doc));
    }
    const { report } = await readUnread(ctx.chatId, doc, deps, (at) => {
      step = at;
    });
    step = undefined;
    ctx.log.info(
      { members: report.memberCount, read: report.readCount, unread: report.unread.length },
      'unread list built',
    );
    // Seeded by the message, so a retried attempt renders the same button for the same session.
    const sessionId = await new UnreadSessions(deps.store).start(ctx.messageId, {
      chatId: ctx.chatId,
      doc: toActionDoc(doc),
      ...(ctx.senderOpenId ? { askedBy: ctx.senderOpenId } : {}),
    });
    card = buildUnreadCard({
      doc: cardDoc(doc),
      ...report,
      now: new Date(ctx.asOf),
      ...(report.unread.length > 0 ? { remind: encodeAction({ v: 1, a: 'remind', s: sessionId }) } : {}),
    });
  } catch (err) {
    const scopeHint =
      step === 'members' ? [CHAT_MEMBERS_SCOPE] : step === 'viewers' ? [VIEW_RECORDS_SCOPE] : [];
    return ctx.reply(presentOrRetry(err, ctx.log, ctx, { ...(doc ? { docUrl: doc.url } : {}), scopeHint }));
  }
  await ctx.sendPrivately(card);
  await ctx.reply(buildSentPrivatelyCard({ what: 'unread', doc: cardDoc(doc) }));
}

/**
 * The group's members (every page, up to MAX_CHAT_MEMBERS) against the document's visitors, most recent first,
 * read until every member has been found among them or MAX_PEOPLE_WALK visitors were read. Visitors who are not in
 * the group (never were, or left) are ignored. `onStep` learns which list is being read, for the error's words.
 */
interface UnreadRead {
  report: UnreadReport;
  members: ReadonlySet<string>;
}

export function readUnread(
  chatId: string,
  doc: DocRef,
  deps: Pick<UnreadDeps, 'documents' | 'feishu'>,
  onStep?: (step: 'members' | 'viewers') => void,
): Promise<UnreadRead>;
/** `proceed` is asked once the members are known, before any viewer is read: false stops there (undefined). */
export function readUnread(
  chatId: string,
  doc: DocRef,
  deps: Pick<UnreadDeps, 'documents' | 'feishu'>,
  onStep: ((step: 'members' | 'viewers') => void) | undefined,
  proceed: (members: ReadonlySet<string>) => boolean,
): Promise<UnreadRead | undefined>;
export async function readUnread(
  chatId: string,
  doc: DocRef,
  deps: Pick<UnreadDeps, 'documents' | 'feishu'>,
  onStep: (step: 'members' | 'viewers') => void = () => {},
  proceed: (members: ReadonlySet<string>) => boolean = () => true,
): Promise<UnreadRead | undefined> {
  onStep('members');
  const members = await walkChatMembers(deps.feishu, chatId);
  const inChat = new Set(members.openIds);
  if (!proceed(inChat)) return undefined;
  const found = new Set<string>();
  let viewersCappedAt: number | undefined;
  if (inChat.size > 0) {
    onStep('viewers');
    let checked = 0;
    const walk = await deps.documents.walkPeople('viewers', doc, {
      // Most recent first: a group that has all read it recently costs one page, not the whole list.
      enough: (items: readonly ViewRecord[]) => {
        for (; checked < items.length; checked++) {
          const id = items[checked]?.viewerId;
          if (id && inChat.has(id)) found.add(id);
        }
        return found.size === inChat.size;
      },
    });
    for (const viewer of walk.items) if (inChat.has(viewer.viewerId)) found.add(viewer.viewerId);
    if (walk.more && found.size < inChat.size) viewersCappedAt = MAX_PEOPLE_WALK;
  }
  const report: UnreadReport = {
    memberCount: members.openIds.length,
    readCount: found.size,
    unread: members.openIds.filter((id) => !found.has(id)),
    ...(members.more ? { membersCappedAt: MAX_CHAT_MEMBERS } : {}),
    ...(viewersCappedAt !== undefined ? { viewersCappedAt } : {}),
  };
  return { report, members: inChat };
}

export type RemindOutcome =
  /** The session is gone (over a day old) or never existed: a stale or foreign card. */
  | { kind: 'expired' }
  | { kind: 'denied'; decision: Exclude<AccessDecision, { allowed: true }> }
  /** The clicker is allowed to see the list but is not in the group the reminder would go to. */
  | { kind: 'not_member' }
  | { kind: 'already_sent'; at: number }
  /** Everyone has opened it since the card was made: nothing was posted. */
  | { kind: 'nobody'; memberCount: number }
  | { kind: 'sent'; mentioned: number; unread: number };

/**
 * **Remind them** on an `unread` card: one post in the group @mentioning the members who still have not opened the
 * document (read again now: someone may have since), with the link. The clicker is checked as any clicker is (the
 * `viewers` rule, then membership of that group), before either list is read. One reminder per card: the session
 * is claimed before sending, so a second click (anyone's, any time in the session's day) only hears that it went
 * out; the send's uuid is the session's, so even a claim lost between replicas posts once within Feishu's hour.
 */
export async function remindUnread(
  sessionId: string,
  operator: string | undefined,
  eventId: string,
  log: Logger,
  deps: UnreadDeps,
): Promise<RemindOutcome> {
  const sessions = new UnreadSessions(deps.store);
  const session = await sessions.get(sessionId);
  if (!session) return { kind: 'expired' };
  const doc = fromActionDoc(session.doc);
  const decision = await deps.access.canSeePeople(doc, operator);
  if (!decision.allowed || !operator) {
    log.info({ reason: decision.allowed ? 'not_allowed' : decision.reason }, 'remind denied on click');
    return {
      kind: 'denied',
      decision: decision.allowed ? { allowed: false, reason: 'not_allowed' } : decision,
    };
  }
  const earlier = await sessions.reminder(sessionId);
  if (earlier) return { kind: 'already_sent', at: earlier.at };

  // The member list just read, before any viewer is: someone who has left the group since cannot post to it. (In
  // a group of more than MAX_CHAT_MEMBERS people, only its first members can.)
  const read = await readUnread(session.chatId, doc, deps, undefined, (members) => members.has(operator));
  if (!read) {
    log.info('remind denied on click: the clicker is not in that group');
    return { kind: 'not_member' };
  }
  const { report } = read;
  if (report.unread.length === 0) return { kind: 'nobody', memberCount: report.memberCount };

  const now = deps.now();
  if (!(await sessions.claimReminder(sessionId, { at: now, by: operator }))) {
    const claim = await sessions.reminder(sessionId);
    return { kind: 'already_sent', at: claim?.at ?? now };
  }
  const post = buildReminderPost({ doc, unread: report.unread });
  try {
    await deps.feishu.sendPost(session.chatId, post, messageUuid(`remind-${sessionId}`, 'g1'), {
      receiveIdType: 'chat_id',
    });
  } catch (err) {
    // Nothing was posted: let the next click try again.
    await sessions.releaseReminder(sessionId).catch(() => undefined);
    throw err;
  }
  const mentioned = post.zh_cn.content[0]?.filter((node) => node.tag === 'at').length ?? 0;
  log.info({ event_id: eventId, mentioned, unread: report.unread.length }, 'reminder posted in the group');
  return { kind: 'sent', mentioned, unread: report.unread.length };
}
