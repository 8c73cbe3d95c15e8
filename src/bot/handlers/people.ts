import {
  buildAccessDeniedCard,
  buildErrorCard,
  buildLikesCard,
  buildSentPrivatelyCard,
  buildViewersCard,
  type Card,
} from '../../../cards/index.js';
import {
  type DocumentService,
  LIKEABLE_TYPES,
  PEOPLE_PAGE_SIZE,
  type PeopleKind,
  type ResolvedDoc,
} from '../../data/documents.js';
import { presentOrRetry } from '../../present/present-error.js';
import type { AccessDecision, AccessPolicy } from '../access.js';
import { type ChatKind, encodeAction, toActionDoc } from '../actions.js';
import type { MessageContext } from '../context.js';
import type { PagingSessions } from '../paging.js';

export interface PeopleDeps {
  documents: DocumentService;
  access: AccessPolicy;
  paging: PagingSessions;
  now: () => number;
}

/** A button from a card whose paging session expired or never reached that page. */
export class StalePageError extends Error {
  readonly code = 'STALE_PAGE';
}

/**
 * `viewers <link>` / `likes <link>`. The list names people, so the asker's access is checked first; in a group the
 * list goes to the asker privately and the group only learns that it was sent.
 */
export async function runPeopleCommand(
  kind: PeopleKind,
  ctx: MessageContext,
  link: string,
  deps: PeopleDeps,
): Promise<void> {
  const inGroup = ctx.chatType !== 'p2p';
  let doc: ResolvedDoc | undefined;
  let card: Card;
  try {
    doc = await resolveWithTitle(link, deps.documents);
    if (kind === 'likes' && !LIKEABLE_TYPES.has(doc.type)) {
      return ctx.reply(buildErrorCard({ kind: 'likes_unsupported', docType: doc.type, doc: cardDoc(doc) }));
    }
    const decision = await deps.access.canSeePeople(doc, ctx.senderOpenId);
    if (!decision.allowed) {
      ctx.log.info({ kind, reason: decision.reason }, 'people list denied');
      return ctx.reply(deniedCard(kind, decision, doc));
    }
    // The private copy lives in a p2p chat, so its buttons may page in place.
    // Seeded and dated by the message, so a retried attempt renders this very card again (see messageUuid).
    card = await buildPeopleCard(kind, doc, 'p', deps, {
      sessionSeed: `${ctx.messageId}:${kind}`,
      asOf: ctx.asOf,
    });
  } catch (err) {
    return ctx.reply(presentOrRetry(err, ctx.log, ctx, doc ? { docUrl: doc.url } : {}));
  }
  if (!inGroup) return ctx.reply(card);
  await ctx.sendPrivately(card);
  await ctx.reply(buildSentPrivatelyCard({ what: kind, doc: cardDoc(doc) }));
}

/**
 * Page `index` of a people list inside paging session `sessionId` (a new session when absent). Throws
 * StalePageError when the session no longer knows how to reach that page.
 */
export async function buildPeopleCard(
  kind: PeopleKind,
  doc: ResolvedDoc,
  chat: ChatKind,
  deps: PeopleDeps,
  opts: {
    sessionId?: string;
    /** A new session's id is derived from this (see PagingSessions.start). */
    sessionSeed?: string;
    index?: number;
    refresh?: boolean;
    /** The time the card's "ago" and "as of" are counted from; default the bot's clock now. */
    asOf?: number;
  },
): Promise<Card> {
  const sessionId = opts.sessionId ?? (await deps.paging.start(opts.sessionSeed));
  const index = opts.index ?? 0;
  const token = await deps.paging.tokenFor(sessionId, index);
  if (token === undefined) throw new StalePageError('paging session expired or page not reached');

  const page = await deps.documents.peoplePage(
    kind,
    doc,
    token ?? undefined,
    opts.refresh ? { refresh: true } : {},
  );
  if (page.hasMore && page.pageToken) await deps.paging.remember(sessionId, index, page.pageToken);

  const d = toActionDoc(doc);
  const nav = {
    ...(index > 0
      ? { previous: encodeAction({ v: 1, a: kind, d, c: chat, s: sessionId, i: index - 1 }) }
      : {}),
    ...(page.hasMore && page.pageToken
      ? { next: encodeAction({ v: 1, a: kind, d, c: chat, s: sessionId, i: index + 1 }) }
      : {}),
    back: encodeAction({ v: 1, a: 'back', d, c: chat }),
  };
  const common = {
    doc: cardDoc(doc),
    page: index + 1,
    pageSize: PEOPLE_PAGE_SIZE,
    hasMore: page.hasMore,
    now: new Date(opts.asOf ?? deps.now()),
    nav,
  };
  return kind === 'viewers'
    ? buildViewersCard({ ...common, items: page.items as Parameters<typeof buildViewersCard>[0]['items'] })
    : buildLikesCard({ ...common, items: page.items as Parameters<typeof buildLikesCard>[0]['items'] });
}

export function deniedCard(
  kind: PeopleKind,
  decision: Exclude<AccessDecision, { allowed: true }>,
  doc?: ResolvedDoc,
): Card {
  return buildAccessDeniedCard({
    what: kind,
    reason: decision.reason,
    ...(decision.reason === 'missing_scope' ? { scope: decision.scope } : {}),
    ...(doc ? { doc: cardDoc(doc) } : {}),
  });
}

export async function resolveWithTitle(link: string, documents: DocumentService): Promise<ResolvedDoc> {
  const doc = await documents.resolve(link);
  if (doc.title) return doc;
  const title = await documents.title(doc);
  return title ? { ...doc, title } : doc;
}

export function cardDoc(doc: ResolvedDoc): { url: string; type: string; title?: string } {
  return { url: doc.url, type: doc.type, ...(doc.title ? { title: doc.title } : {}) };
}
