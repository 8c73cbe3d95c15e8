import type { Logger } from 'pino';
import { buildStatsCard, type Card, type CardAction } from '../../../cards/index.js';
import { type DocumentService, LIKEABLE_TYPES, type ResolvedDoc } from '../../data/documents.js';
import { presentOrRetry, type RetryPolicy } from '../../present/present-error.js';
import { type ChatKind, encodeAction, toActionDoc } from '../actions.js';
import type { MessageContext } from '../context.js';

/**
 * `stats <link…>`: one card per link, in the order given. Links are fetched concurrently (each through the
 * cache), replies go out in order so the chat reads like the request.
 */
export async function runStats(
  ctx: MessageContext,
  links: readonly string[],
  documents: DocumentService,
): Promise<void> {
  const chat: ChatKind = ctx.chatType === 'p2p' ? 'p' : 'g';
  const cards = await Promise.all(
    links.map((link) => buildStatsReply(link, documents, ctx.log, { chat, retry: ctx })),
  );
  for (const card of cards) await ctx.reply(card);
}

/**
 * A failure for one link becomes that link's error card; only a transient one while `retry` says another attempt
 * will come is thrown (card callbacks pass no policy: they answer now or never).
 */
export async function buildStatsReply(
  link: string | ResolvedDoc,
  documents: DocumentService,
  log: Logger,
  opts: { refresh?: boolean; chat: ChatKind; retry?: RetryPolicy },
): Promise<Card> {
  let docUrl: string | undefined;
  try {
    const doc = typeof link === 'string' ? await documents.resolve(link) : link;
    docUrl = doc.url;
    return await buildStatsCardFor(doc, documents, log, opts);
  } catch (err) {
    return presentOrRetry(err, log, opts.retry ?? { finalAttempt: true }, docUrl ? { docUrl } : {});
  }
}

/**
 * The stats card of a resolved document; failures are thrown. A button uses this one: a failed Refresh keeps the
 * figures on screen and says what went wrong in a toast, rather than replacing them with an error card.
 */
export async function buildStatsCardFor(
  doc: ResolvedDoc,
  documents: DocumentService,
  log: Logger,
  opts: { refresh?: boolean; chat: ChatKind },
): Promise<Card> {
  const [figures, title] = await Promise.all([
    documents.statistics(doc, opts.refresh ? { refresh: true } : {}),
    doc.title ? Promise.resolve(doc.title) : documents.title(doc),
  ]);
  log.info({ doc_type: doc.type, cached: figures.cached, refresh: Boolean(opts.refresh) }, 'stats answered');
  return buildStatsCard({
    doc: { url: doc.url, token: doc.token, type: doc.type, ...(title ? { title } : {}) },
    stats: figures.stats,
    fetchedAt: figures.fetchedAt,
    actions: statsActions({ ...doc, ...(title ? { title } : {}) }, opts.chat),
  });
}

/** The stats card is the hub for one document: refresh it, or drill into who viewed / liked it. */
function statsActions(doc: ResolvedDoc, chat: ChatKind): CardAction[] {
  const d = toActionDoc(doc);
  const actions: CardAction[] = [
    {
      key: 'refresh',
      label: { zh: '刷新', en: 'Refresh' },
      value: encodeAction({ v: 1, a: 'refresh', d, c: chat }),
    },
    {
      key: 'viewers',
      label: { zh: '谁看过', en: 'Viewers' },
      value: encodeAction({ v: 1, a: 'viewers', d, c: chat }),
    },
  ];
  if (LIKEABLE_TYPES.has(doc.type)) {
    actions.push({
      key: 'likes',
      label: { zh: '谁点赞', en: 'Likes' },
      value: encodeAction({ v: 1, a: 'likes', d, c: chat }),
    });
  }
  return actions;
}
