import type { Logger } from 'pino';
import { NotADocumentError, NotFeishuLinkError, UnsupportedDocumentError } from '../errors.js';
import type { FeishuClient } from '../feishu/client.js';
import { isCacheableFailure } from '../feishu/codes.js';
import { parseDocLink } from '../feishu/doc-link.js';
import type { DocLike, DocRef, FileStatistics, Page, ViewRecord } from '../feishu/types.js';
import type { JsonCache } from '../store/cache.js';
import { cachedResult } from './cached-result.js';

/** A link resolved to a concrete document, with whatever title we learnt on the way. */
export interface ResolvedDoc extends DocRef {
  /** Canonical link to open the document (the wiki link when the user gave one). */
  url: string;
  title?: string;
}

export interface DocumentStatistics {
  stats: FileStatistics;
  /** When the bot fetched the figures from Feishu (not when this answer was served). */
  fetchedAt: Date;
  cached: boolean;
}

/** How long each kind of answer may be served from the cache. */
export const CACHE_TTL = {
  /** Statistics move all day; one minute keeps a busy chat from hammering the "special" rate limit. */
  statistics: 60_000,
  /** A wiki node keeps its object for its whole life; an hour bounds the damage of a moved node. */
  wikiNode: 60 * 60_000,
  title: 10 * 60_000,
  /** Who viewed / liked: fresh enough for a person paging through, cheap on the 5/s likes limit. */
  people: 2 * 60_000,
} as const;

/**
 * Answers that will not change in the next half minute (the code table's `cacheable`: the document does not exist,
 * the token and type do not match) are remembered briefly, so a chat repeating a bad link does not spend rate
 * limit on it. Permission errors are not: the fix (adding the bot to the document) should work on the very next try.
 */
export const ERROR_TTL_MS = 30_000;

export function errorTtlMs(err: unknown): number {
  return isCacheableFailure(err) ? ERROR_TTL_MS : 0;
}

export type PeopleKind = 'viewers' | 'likes';
export type PeopleItem<K extends PeopleKind> = K extends 'viewers' ? ViewRecord : DocLike;
export type PeoplePage<K extends PeopleKind> = Page<PeopleItem<K>>;

/** A list read page after page, most recent first; `more` when Feishu had more than the walk read. */
export interface PeopleWalk<K extends PeopleKind> {
  items: PeopleItem<K>[];
  more: boolean;
  pages: number;
}

/** Likes exist only for these types (drive/v2 likes accepts doc, docx and file). */
export const LIKEABLE_TYPES: ReadonlySet<string> = new Set(['doc', 'docx', 'file']);
export const PEOPLE_PAGE_SIZE = 20;
/**
 * The most entries a walk through a whole list (`unread`, `export`) reads: 40 pages of 50. Pages come one after
 * another (each needs the previous page's token), so this is what fits the command's 20 s budget at Feishu's
 * usual latency, and 8 s of the likes limit (5/s).
 */
export const MAX_PEOPLE_WALK = 2_000;
/** Both lists take page_size 1–50; a walk asks for the most per call. */
const WALK_PAGE_SIZE = 50;
/** Pages past what the item bound needs before a walk is cut off anyway (pages smaller than asked for). */
const WALK_EXTRA_PAGES = 5;
/** The `file_type`s statistics and view records document (a wiki link is resolved to one of these first). */
const STATISTICS_TYPES: ReadonlySet<string> = new Set([
  'doc',
  'docx',
  'sheet',
  'bitable',
  'mindnote',
  'file',
]);

export interface DocumentServiceOptions {
  /**
   * Told of every statistics answer fetched from Feishu (not of one served from the cache), before it is returned:
   * the bot records the day's snapshot with it (src/digest/snapshot-recorder.ts). A hook, so this layer knows nothing of digests. Its failure
   * is logged and never fails the answer.
   */
  onStatistics?: (doc: DocRef, figures: DocumentStatistics) => Promise<void>;
}

/**
 * Turns links into documents and documents into figures, through the cache. Concurrent identical requests share
 * one upstream call (JsonCache's single flight), so a chat pasting the same link five times costs one call.
 */
export class DocumentService {
  constructor(
    private readonly feishu: FeishuClient,
    private readonly cache: JsonCache,
    private readonly log: Logger,
    private readonly opts: DocumentServiceOptions = {},
  ) {}

  /**
   * Throws NotFeishuLinkError / NotADocumentError for links that have no statistics, and UnsupportedDocumentError
   * for a document type the statistics and view-records endpoints do not document (slides, also behind a wiki
   * link): sending it would only come back as 1069602, which reads as a token mismatch.
   * https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get (file_type: doc, sheet, mindnote, bitable,
   * wiki, file, docx)
   */
  async resolve(link: string): Promise<ResolvedDoc> {
    const parsed = parseDocLink(link);
    if (!parsed) throw new NotFeishuLinkError(link);
    if (parsed.kind === 'not_document') throw new NotADocumentError(parsed.url, parsed.what);
    if (parsed.kind === 'document') {
      if (!STATISTICS_TYPES.has(parsed.type)) throw new UnsupportedDocumentError(parsed.url, parsed.type);
      return { token: parsed.token, type: parsed.type, url: parsed.url };
    }

    // Wiki links carry a node token, not the document's: resolve through get_node (100/min, so cache it).
    // https://open.feishu.cn/document/server-docs/docs/wiki-v2/space-node/get_node
    const { value: node } = await cachedResult(
      this.cache,
      `wiki:${parsed.token}`,
      () => this.feishu.getWikiNode(parsed.token),
      { ttlMs: CACHE_TTL.wikiNode, errorTtlMs },
    );
    if (!STATISTICS_TYPES.has(node.objType)) throw new UnsupportedDocumentError(parsed.url, node.objType);
    return {
      token: node.objToken,
      type: node.objType,
      url: parsed.url,
      ...(node.title ? { title: node.title } : {}),
    };
  }

  async statistics(doc: DocRef, opts: { refresh?: boolean } = {}): Promise<DocumentStatistics> {
    const { value, cached, storedAt } = await cachedResult(
      this.cache,
      `stats:${doc.type}:${doc.token}`,
      () => this.feishu.getFileStatistics(doc),
      { ttlMs: CACHE_TTL.statistics, errorTtlMs, ...(opts.refresh ? { refresh: true } : {}) },
    );
    const figures = { stats: value, fetchedAt: new Date(storedAt), cached };
    // Figures from the cache were offered when they were fetched (on whichever replica): recording them again
    // would only cost a cached answer a store round trip.
    if (this.opts.onStatistics && !cached) {
      try {
        await this.opts.onStatistics({ token: doc.token, type: doc.type }, figures);
      } catch (err) {
        this.log.warn({ err, doc_type: doc.type }, 'statistics snapshot not recorded; answering without it');
      }
    }
    return figures;
  }

  /** One page of who viewed / who liked, most recent first. `pageToken` undefined → the first page. */
  async peoplePage<K extends PeopleKind>(
    kind: K,
    doc: DocRef,
    pageToken: string | undefined,
    opts: { refresh?: boolean } = {},
  ): Promise<PeoplePage<K>> {
    const load = (): Promise<Page<ViewRecord> | Page<DocLike>> =>
      kind === 'viewers'
        ? this.feishu.listViewRecords(doc, {
            pageSize: PEOPLE_PAGE_SIZE,
            ...(pageToken ? { pageToken } : {}),
          })
        : this.feishu.listLikes(doc, { pageSize: PEOPLE_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) });
    const { value } = await cachedResult(
      this.cache,
      `${kind}:${doc.type}:${doc.token}:${pageToken ?? 'first'}`,
      load,
      {
        ttlMs: CACHE_TTL.people,
        errorTtlMs,
        ...(opts.refresh ? { refresh: true } : {}),
      },
    );
    return value as PeoplePage<K>;
  }

  /**
   * The document title for the card header. Optional by nature: the metas API needs its own scope, and a card
   * without a title is better than no card, so failures are logged and swallowed.
   */
  async title(doc: DocRef): Promise<string | undefined> {
    try {
      const { value } = await this.cache.getOrLoad(
        `title:${doc.type}:${doc.token}`,
        async () => (await this.feishu.batchQueryMetas([doc])).get(doc.token)?.title ?? '',
        { ttlMs: CACHE_TTL.title },
      );
      return value || undefined;
    } catch (err) {
      this.log.warn({ err, doc_type: doc.type }, 'document title unavailable; card sent without it');
      return undefined;
    }
  }

  /**
   * Every entry of who viewed / who liked, most recent first, up to `maxItems` (default {@link MAX_PEOPLE_WALK}),
   * or until `enough` says the entries so far answer the question. Not cached: each walk answers one command
   * (`unread`, `export`), which wants the list as it is now, and 2,000 entries are a lot to keep for a second
   * ask that rarely comes. Someone whose newer visit moves them to the front while the walk runs would come
   * twice: each id is kept once, at its first (newest) place. Hidden likers may come without an id; all are kept.
   */
  async walkPeople<K extends PeopleKind>(
    kind: K,
    doc: DocRef,
    opts: { maxItems?: number; enough?: (items: readonly PeopleItem<K>[]) => boolean } = {},
  ): Promise<PeopleWalk<K>> {
    const maxItems = opts.maxItems ?? MAX_PEOPLE_WALK;
    const items: PeopleItem<K>[] = [];
    const seen = new Set<string>();
    let pageToken: string | undefined;
    let pages = 0;
    // The SDK's listWithIterator swallows errors (FEISHU.md), so walk the pages ourselves.
    for (;;) {
      const page = await this.fetchWalkPage(kind, doc, pageToken);
      pages += 1;
      for (const item of page.items) {
        const id = kind === 'viewers' ? (item as ViewRecord).viewerId : (item as DocLike).userId;
        if (id && seen.has(id)) continue;
        if (id) seen.add(id);
        items.push(item as PeopleItem<K>);
      }
      const next = page.hasMore ? page.pageToken : undefined;
      // A token Feishu repeats would loop forever; treat it as the end, as the workplace walk does.
      const more = next !== undefined && next !== pageToken;
      if (items.length >= maxItems)
        return { items: items.slice(0, maxItems), more: more || items.length > maxItems, pages };
      if (!more || opts.enough?.(items)) return { items, more, pages };
      // Pages of people already seen (or none) with ever new tokens would never reach the bound: pages do.
      if (pages >= Math.ceil(maxItems / WALK_PAGE_SIZE) + WALK_EXTRA_PAGES)
        return { items, more: true, pages };
      pageToken = next;
    }
  }

  private fetchWalkPage(
    kind: PeopleKind,
    doc: DocRef,
    pageToken: string | undefined,
  ): Promise<Page<ViewRecord> | Page<DocLike>> {
    const page = { pageSize: WALK_PAGE_SIZE, ...(pageToken ? { pageToken } : {}) };
    return kind === 'viewers' ? this.feishu.listViewRecords(doc, page) : this.feishu.listLikes(doc, page);
  }
}
