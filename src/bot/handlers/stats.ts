import type { Logger } from 'pino';
import { buildStatsCard, type Card } from '../../../cards/index.js';
import type { MessageContext } from '../context.js';
import type { DocumentService } from '../documents.js';
import { presentError } from '../present-error.js';

/**
 * `stats <link…>`: one card per link, in the order given. Links are fetched concurrently (each through the
 * cache), replies go out in order so the chat reads like the request.
 */
export async function runStats(
  ctx: MessageContext,
  links: readonly string[],
  documents: DocumentService,
): Promise<void> {
  const cards = await Promise.all(links.map((link) => buildStatsReply(link, documents, ctx.log)));
  for (const card of cards) await ctx.reply(card);
}

/** Never throws: a failure for one link becomes that link's error card. */
export async function buildStatsReply(
  link: string,
  documents: DocumentService,
  log: Logger,
  opts: { refresh?: boolean } = {},
): Promise<Card> {
  let docUrl: string | undefined;
  try {
    const doc = await documents.resolve(link);
    docUrl = doc.url;
    const [figures, title] = await Promise.all([
      documents.statistics(doc, opts),
      doc.title ? Promise.resolve(doc.title) : documents.title(doc),
    ]);
    log.info({ doc_type: doc.type, cached: figures.cached }, 'stats answered');
    return buildStatsCard({
      doc: { url: doc.url, token: doc.token, type: doc.type, ...(title ? { title } : {}) },
      stats: figures.stats,
      fetchedAt: figures.fetchedAt,
    });
  } catch (err) {
    return presentError(err, log, docUrl ? { docUrl } : {});
  }
}
