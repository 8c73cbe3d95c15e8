import { buildErrorCard, buildExportCard, buildSentPrivatelyCard, type Card } from '../../../cards/index.js';
import {
  type DocumentService,
  LIKEABLE_TYPES,
  MAX_PEOPLE_WALK,
  type PeopleKind,
  type ResolvedDoc,
} from '../../data/documents.js';
import type { FeishuClient } from '../../feishu/client.js';
import { MAX_UPLOAD_BYTES } from '../../feishu/im.js';
import { presentOrRetry } from '../../present/present-error.js';
import { withoutDeadline } from '../../util/deadline.js';
import type { AccessPolicy } from '../access.js';
import { type MessageContext, messageUuid } from '../context.js';
import { buildExportFile, exportFileName } from '../export-csv.js';
import { cardDoc, deniedCard, resolveWithTitle } from './people.js';

export interface ExportDeps {
  documents: DocumentService;
  access: AccessPolicy;
  feishu: FeishuClient;
  /** DIGEST_TZ: the zone of the file's times and of the date in its name. */
  timeZone: string;
}

/**
 * What the failing step needs, named on the error card when Feishu's refusal (99991672) names none. Uploads take
 * `im:resource` (or `im:resource:upload`). https://open.feishu.cn/document/server-docs/im-v1/file/create
 */
function scopeFor(step: 'list' | 'upload', kind: PeopleKind): string {
  if (step === 'upload') return 'im:resource';
  return kind === 'viewers' ? 'drive:file:view_record:readonly' : 'drive:file.like:readonly';
}

/**
 * `export viewers|likes <link>`: the whole list (up to MAX_PEOPLE_WALK entries) as a CSV file, uploaded with the IM
 * file API and sent to the asker privately as a file message, then a card saying what it holds. It names people,
 * so the `viewers` / `likes` rule applies, checked before any list call; in a group the group only learns that it
 * was sent. A retried attempt uploads again (an unused upload costs nothing) but sends under the same uuid.
 */
export async function runExportCommand(
  ctx: MessageContext,
  kind: PeopleKind,
  link: string,
  deps: ExportDeps,
): Promise<void> {
  const inGroup = ctx.chatType !== 'p2p';
  let doc: ResolvedDoc | undefined;
  let step: 'list' | 'upload' | undefined;
  let summary: Card;
  try {
    doc = await resolveWithTitle(link, deps.documents);
    if (kind === 'likes' && !LIKEABLE_TYPES.has(doc.type)) {
      return ctx.reply(buildErrorCard({ kind: 'likes_unsupported', docType: doc.type, doc: cardDoc(doc) }));
    }
    const decision = await deps.access.canSeePeople(doc, ctx.senderOpenId);
    const asker = ctx.senderOpenId;
    if (!decision.allowed || !asker) {
      ctx.log.info({ kind, reason: decision.allowed ? 'no_open_id' : decision.reason }, 'export denied');
      return ctx.reply(
        deniedCard(kind, decision.allowed ? { allowed: false, reason: 'not_allowed' } : decision, doc),
      );
    }
    step = 'list';
    const walk = await deps.documents.walkPeople(kind, doc);
    step = undefined;
    // Even "nothing to export" and the file's size say something about the list: they go privately too.
    if (walk.items.length === 0) {
      summary = buildExportCard({ kind: 'empty', what: kind, doc: cardDoc(doc) });
      return deliver(ctx, inGroup, summary, doc);
    }

    // Named and dated from the first attempt's clock, so a retry makes the same file.
    const fileName = exportFileName(kind, doc, ctx.asOf, deps.timeZone);
    const file = buildExportFile(kind, walk.items, {
      fileName,
      timeZone: deps.timeZone,
      maxBytes: MAX_UPLOAD_BYTES,
    });
    if (!file.ok) {
      ctx.log.warn({ kind, bytes: file.bytes }, 'export larger than Feishu takes; not sent');
      summary = buildExportCard({
        kind: 'too_large',
        what: kind,
        doc: cardDoc(doc),
        bytes: file.bytes,
        maxBytes: file.maxBytes,
      });
      return deliver(ctx, inGroup, summary, doc);
    }
    step = 'upload';
    const { fileKey } = await deps.feishu.uploadFile({ fileName, bytes: file.bytes, fileType: 'stream' });
    step = undefined;
    // The file is the answer: once uploaded it is delivered, as a reply card would be, whatever the deadline.
    await withoutDeadline(() =>
      deps.feishu.sendFile(asker, fileKey, messageUuid(ctx.messageId, 'f1'), { receiveIdType: 'open_id' }),
    );
    ctx.log.info({ kind, rows: file.rows, bytes: file.bytes.length, pages: walk.pages }, 'export sent');
    summary = buildExportCard({
      kind: 'sent',
      what: kind,
      doc: cardDoc(doc),
      rows: file.rows,
      fileName,
      timeZone: deps.timeZone,
      ...(walk.more ? { cappedAt: MAX_PEOPLE_WALK } : {}),
    });
  } catch (err) {
    const scopeHint = step ? [scopeFor(step, kind)] : [];
    return ctx.reply(presentOrRetry(err, ctx.log, ctx, { ...(doc ? { docUrl: doc.url } : {}), scopeHint }));
  }
  return deliver(ctx, inGroup, summary, doc);
}

/** In a private chat the answer is the reply; in a group it goes to the asker and the group hears only that. */
async function deliver(ctx: MessageContext, inGroup: boolean, card: Card, doc: ResolvedDoc): Promise<void> {
  if (!inGroup) return ctx.reply(card);
  await ctx.sendPrivately(card);
  await ctx.reply(buildSentPrivatelyCard({ what: 'export', doc: cardDoc(doc) }));
}
