import {
  type Bilingual,
  buildAccessDeniedCard,
  buildSubscriptionsCard,
  type Card,
  escapeMarkdown,
} from '../../../cards/index.js';
import type { DocumentService } from '../../data/documents.js';
import type { TenantData } from '../../data/tenant-data.js';
import type { DigestSettings } from '../../digest/runner.js';
import { addDays, formatDigestTime, localDate, nextDigestAt } from '../../digest/schedule.js';
import {
  addItem,
  MAX_DIGEST_ITEMS,
  removeItem,
  removeItemByKey,
  type SubscriptionStore,
  setTime,
} from '../../digest/subscriptions.js';
import { type DigestItem, itemKey } from '../../digest/types.js';
import { presentOrRetry } from '../../present/present-error.js';
import type { AccessPolicy } from '../access.js';
import { encodeAction } from '../actions.js';
import type { DigestAction, DigestTarget } from '../commands.js';
import type { MessageContext } from '../context.js';

export interface DigestDeps {
  subscriptions: SubscriptionStore;
  documents: DocumentService;
  access: AccessPolicy;
  tenant: TenantData;
  digest: DigestSettings;
  now: () => number;
}

type Notice = NonNullable<Parameters<typeof buildSubscriptionsCard>[0]['notice']>;

/**
 * `digest …` (订阅): edits this chat's subscription and answers with the list as it now stands. Adding a document
 * follows the `stats` rule (anyone in the chat, as long as the bot can read the document's statistics: checked
 * now, so a missing grant is explained today rather than failing silently at 10:30 tomorrow); tenant-wide items
 * need a bot admin, as the `workplace` and `app` commands do.
 */
export async function runDigestCommand(
  ctx: MessageContext,
  action: DigestAction,
  deps: DigestDeps,
): Promise<void> {
  switch (action.kind) {
    case 'list':
      return ctx.reply(await buildSubscriptionsReply(ctx.chatId, deps));
    case 'add':
      return ctx.reply(await addTarget(ctx, action.target, deps));
    case 'remove': {
      let removed: DigestItem | undefined;
      let size = 0;
      await deps.subscriptions.update(ctx.chatId, (current) => {
        if (!current) return current;
        size = current.items.length;
        const result = removeItem(current, action.index);
        removed = result.removed;
        return result.sub;
      });
      const notice: Notice = removed
        ? { kind: 'success', text: removedText(removed) }
        : {
            kind: 'warning',
            text: {
              zh: `没有第 ${action.index} 项：当前订阅共 ${size} 项。`,
              en: `There is no item ${action.index}: this chat's digest has ${size}.`,
            },
          };
      return ctx.reply(await buildSubscriptionsReply(ctx.chatId, deps, notice));
    }
    case 'time': {
      const time = { hour: action.hour, minute: action.minute };
      const now = deps.now();
      await deps.subscriptions.update(ctx.chatId, (current) => setTime(current, ctx.chatId, time, now));
      const at = `${formatDigestTime(time)} (${deps.digest.timeZone})`;
      return ctx.reply(
        await buildSubscriptionsReply(ctx.chatId, deps, {
          kind: 'success',
          text: { zh: `每日数据将在 ${at} 发送。`, en: `The daily digest will be sent at ${at}.` },
        }),
      );
    }
    case 'off': {
      const had = await deps.subscriptions.get(ctx.chatId);
      await deps.subscriptions.delete(ctx.chatId);
      ctx.log.info({ items: had?.items.length ?? 0 }, 'digest turned off');
      return ctx.reply(
        await buildSubscriptionsReply(ctx.chatId, deps, {
          kind: 'info',
          text: {
            zh: '已关闭本群的每日数据。发送 `digest add <文档链接>` 可重新订阅。',
            en: "This chat's daily digest is off. Send `digest add <document link>` to start again.",
          },
        }),
      );
    }
  }
}

async function addTarget(ctx: MessageContext, target: DigestTarget, deps: DigestDeps): Promise<Card> {
  if (target.kind !== 'doc') {
    const decision = deps.access.canSeeTenantData(ctx.senderOpenId);
    if (!decision.allowed) {
      ctx.log.info({ target: target.kind }, 'digest add denied: tenant data needs a bot admin');
      return buildAccessDeniedCard({ what: target.kind, reason: 'not_allowed' });
    }
  }
  let item: DigestItem;
  let docUrl: string | undefined;
  try {
    item = await checkTarget(target, deps, (url) => {
      docUrl = url;
    });
  } catch (err) {
    return presentOrRetry(err, ctx.log, ctx, docUrl ? { docUrl } : {});
  }
  let outcome: 'added' | 'duplicate' | 'full' = 'added';
  const now = deps.now();
  await deps.subscriptions.update(ctx.chatId, (current) => {
    const result = addItem(current, ctx.chatId, item, now);
    outcome = result.outcome;
    return result.sub;
  });
  ctx.log.info({ item: itemKey(item), outcome }, 'digest add');
  return buildSubscriptionsReply(ctx.chatId, deps, addedNotice(outcome, item));
}

/** Proves the bot can fetch the item today, and turns the target into what the subscription stores. */
async function checkTarget(
  target: DigestTarget,
  deps: DigestDeps,
  onDocUrl: (url: string) => void,
): Promise<DigestItem> {
  switch (target.kind) {
    case 'doc': {
      const doc = await deps.documents.resolve(target.link);
      onDocUrl(doc.url);
      const [, title] = await Promise.all([
        deps.documents.statistics(doc),
        doc.title ? Promise.resolve(doc.title) : deps.documents.title(doc),
      ]);
      return {
        kind: 'doc',
        token: doc.token,
        type: doc.type,
        url: doc.url,
        ...(title ? { title: title.slice(0, 100) } : {}),
      };
    }
    case 'workplace':
      return { kind: 'workplace' };
    case 'app':
      // Unknown apps and tenants without app usage data fail here, with the card that explains the code.
      await deps.tenant.appOverview(
        { appId: target.appId, cycle: 'day', date: yesterday(deps), ability: 'app' },
        true,
      );
      return { kind: 'app', appId: target.appId };
  }
}

/** The chat's list as it stands, with a remove button per item; also the answer to a remove button. */
export async function buildSubscriptionsReply(
  chatId: string,
  deps: DigestDeps,
  notice?: Notice,
): Promise<Card> {
  const [sub, state] = await Promise.all([
    deps.subscriptions.get(chatId),
    deps.subscriptions.getState(chatId),
  ]);
  const next = sub ? nextDigestAt(sub, state ?? undefined, deps.now(), deps.digest) : null;
  return buildSubscriptionsCard({
    items: (sub?.items ?? []).map((item) => ({
      item,
      ...(item.kind === 'doc' && item.title ? { label: item.title } : {}),
      removeValue: encodeAction({ v: 1, a: 'digest_remove', k: itemKey(item) }),
    })),
    time: sub?.time ?? deps.digest.time,
    timeIsDefault: !sub?.time,
    timeZone: deps.digest.timeZone,
    ...(next !== null ? { nextDigestAt: next } : {}),
    ...(sub?.paused ? { paused: true } : {}),
    max: MAX_DIGEST_ITEMS,
    ...(notice ? { notice } : {}),
  });
}

/** The remove button: by item key, so a list that changed since the card was sent still removes the right one. */
export async function removeFromDigest(chatId: string, key: string, deps: DigestDeps): Promise<Card> {
  let removed: DigestItem | undefined;
  await deps.subscriptions.update(chatId, (current) => {
    if (!current) return current;
    const result = removeItemByKey(current, key);
    removed = result.removed;
    return result.sub;
  });
  return buildSubscriptionsReply(
    chatId,
    deps,
    removed
      ? { kind: 'success', text: removedText(removed) }
      : { kind: 'info', text: { zh: '该项已不在订阅中。', en: 'That item is no longer in the digest.' } },
  );
}

function addedNotice(outcome: 'added' | 'duplicate' | 'full', item: DigestItem): Notice {
  const name = describeItem(item);
  switch (outcome) {
    case 'added':
      return {
        kind: 'success',
        text: { zh: `已将 ${name.zh} 加入每日数据。`, en: `Added ${name.en} to this chat's daily digest.` },
      };
    case 'duplicate':
      return {
        kind: 'info',
        text: { zh: `${name.zh} 已在每日数据中。`, en: `${name.en} is already in the daily digest.` },
      };
    case 'full':
      return {
        kind: 'warning',
        text: {
          zh: `每个群最多订阅 ${MAX_DIGEST_ITEMS} 项，请先用 \`digest remove <序号>\` 移除一项。`,
          en: `A chat's digest holds at most ${MAX_DIGEST_ITEMS} items: remove one first with \`digest remove <n>\`.`,
        },
      };
  }
}

function removedText(item: DigestItem): Bilingual {
  const name = describeItem(item);
  return { zh: `已从每日数据中移除 ${name.zh}。`, en: `Removed ${name.en} from the daily digest.` };
}

function describeItem(item: DigestItem): Bilingual {
  switch (item.kind) {
    case 'doc': {
      const label = escapeMarkdown(item.title ?? item.url);
      return { zh: `「${label}」`, en: `“${label}”` };
    }
    case 'workplace':
      return { zh: '工作台访问数据', en: 'workplace usage' };
    case 'app':
      return { zh: `应用 ${item.appId}`, en: `app ${item.appId}` };
  }
}

function yesterday(deps: DigestDeps): string {
  return addDays(localDate(deps.now(), deps.digest.timeZone), -1);
}
