import {
  type Bilingual,
  buildAccessDeniedCard,
  buildDigestPermissionCard,
  buildSubscriptionsCard,
  type Card,
  type DigestPermissionCardInput,
  escapeMarkdown,
} from '../../../cards/index.js';
import type { ChatDirectory } from '../../data/chats.js';
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
import { type ChatSubscription, type DigestItem, itemKey } from '../../digest/types.js';
import { isMissingScope } from '../../feishu/codes.js';
import { presentOrRetry } from '../../present/present-error.js';
import type { AccessPolicy } from '../access.js';
import { encodeAction } from '../actions.js';
import type { DigestAction, DigestTarget } from '../commands.js';
import type { MessageContext } from '../context.js';

export interface DigestDeps {
  subscriptions: SubscriptionStore;
  documents: DocumentService;
  access: AccessPolicy;
  /** The group's owner and managers, who may change a digest someone else set up. */
  chats: ChatDirectory;
  tenant: TenantData;
  digest: DigestSettings;
  now: () => number;
}

type Notice = NonNullable<Parameters<typeof buildSubscriptionsCard>[0]['notice']>;

/**
 * `digest …` (订阅): edits this chat's subscription and answers with the list as it now stands. Adding a document
 * follows the `stats` rule (anyone in the chat, as long as the bot can read the document's statistics: checked
 * now, so a missing grant is explained today rather than failing silently at 10:30 tomorrow); tenant-wide items
 * need a bot admin, as the `workplace` and `app` commands do, to add and to remove. Turning the digest off or
 * moving its time undoes someone's set-up: see `canChangeSchedule`.
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
      let kept: DigestItem | undefined;
      let size = 0;
      const admin = deps.access.isAdmin(ctx.senderOpenId);
      await deps.subscriptions.update(ctx.chatId, (current) => {
        if (!current) return current;
        size = current.items.length;
        // Decided on the list as it is under the lock: an item that moved into position n since the
        // sender last looked is judged as what it is now.
        const target = current.items[action.index - 1];
        if (target && isTenantItem(target) && !admin) {
          kept = target;
          return current;
        }
        const result = removeItem(current, action.index);
        removed = result.removed;
        return result.sub;
      });
      if (kept) {
        ctx.log.info({ item: itemKey(kept) }, 'digest remove denied: tenant items need a bot admin');
        return ctx.reply(buildDigestPermissionCard({ change: 'remove', reason: 'not_allowed', item: kept }));
      }
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
      const denied = await checkSchedule(ctx, 'time', deps);
      if (denied) return ctx.reply(denied);
      const time = { hour: action.hour, minute: action.minute };
      const now = deps.now();
      await deps.subscriptions.update(ctx.chatId, (current) =>
        setTime(current, ctx.chatId, time, now, ctx.senderOpenId),
      );
      const at = `${formatDigestTime(time)} (${deps.digest.timeZone})`;
      return ctx.reply(
        await buildSubscriptionsReply(ctx.chatId, deps, {
          kind: 'success',
          text: { zh: `每日数据将在 ${at} 发送。`, en: `The daily digest will be sent at ${at}.` },
        }),
      );
    }
    case 'off': {
      const denied = await checkSchedule(ctx, 'off', deps);
      if (denied) return ctx.reply(denied);
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
    const result = addItem(current, ctx.chatId, item, now, ctx.senderOpenId);
    outcome = result.outcome;
    return result.sub;
  });
  ctx.log.info({ item: itemKey(item), outcome }, 'digest add');
  return buildSubscriptionsReply(ctx.chatId, deps, addedNotice(outcome, item));
}

/** Workplace and app items describe the whole tenant: added and removed by bot admins only. */
function isTenantItem(item: DigestItem): boolean {
  return item.kind !== 'doc';
}

export type ScheduleDecision =
  | { allowed: true; via: 'no_digest' | 'private_chat' | 'admin' | 'subscriber' | 'owner' | 'manager' }
  | { allowed: false; reason: 'not_allowed' | 'cannot_verify' }
  | { allowed: false; reason: 'missing_scope'; scope: string };

// Any one of im:chat:readonly, im:chat:read, im:chat reads a chat's owner and managers.
// https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get
const CHAT_SCOPE_HINT = 'im:chat:readonly';

/**
 * Who may turn a chat's digest off or move its time: the person who set it up, the group's owner and managers
 * (`im/v1/chats/:id`), and bot admins. In a private chat the one person there owns their digest; a chat without
 * a digest has nothing to undo. A subscription stored before the subscriber was recorded has none: the owner,
 * managers and admins still can. Cheapest first: the group lookup only for someone who is none of the others.
 */
export async function canChangeSchedule(
  chat: Pick<MessageContext, 'chatId' | 'chatType' | 'senderOpenId' | 'log'>,
  sub: ChatSubscription | null,
  deps: Pick<DigestDeps, 'access' | 'chats'>,
): Promise<ScheduleDecision> {
  const who = chat.senderOpenId;
  if (!sub) return { allowed: true, via: 'no_digest' };
  if (chat.chatType === 'p2p') return { allowed: true, via: 'private_chat' };
  if (!who) return { allowed: false, reason: 'not_allowed' };
  if (deps.access.isAdmin(who)) return { allowed: true, via: 'admin' };
  if (sub.subscriber === who) return { allowed: true, via: 'subscriber' };
  let owner: string | undefined;
  let managers: readonly string[];
  try {
    ({ ownerId: owner, managerIds: managers } = await deps.chats.info(chat.chatId));
  } catch (err) {
    // Deny on doubt, and say why: an operator can fix a missing scope, a user can retry a hiccup.
    if (isMissingScope(err)) {
      chat.log.warn('cannot read the group owner and managers: scope missing');
      return { allowed: false, reason: 'missing_scope', scope: CHAT_SCOPE_HINT };
    }
    chat.log.warn({ err }, 'cannot read the group owner and managers; denying');
    return { allowed: false, reason: 'cannot_verify' };
  }
  if (owner === who) return { allowed: true, via: 'owner' };
  if (managers.includes(who)) return { allowed: true, via: 'manager' };
  return { allowed: false, reason: 'not_allowed' };
}

/** The card that refuses `digest off` / `digest time`, or undefined when the sender may go ahead. */
async function checkSchedule(
  ctx: MessageContext,
  change: 'off' | 'time',
  deps: DigestDeps,
): Promise<Card | undefined> {
  const sub = await deps.subscriptions.get(ctx.chatId);
  const decision = await canChangeSchedule(ctx, sub, deps);
  if (decision.allowed) return undefined;
  ctx.log.info({ change, reason: decision.reason }, 'digest change denied');
  const input: DigestPermissionCardInput = {
    change,
    reason: decision.reason,
    ...(decision.reason === 'missing_scope' ? { scope: decision.scope } : {}),
    ...(sub?.subscriber ? { subscriber: sub.subscriber } : {}),
  };
  return buildDigestPermissionCard(input);
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

/**
 * The remove button: by item key, so a list that changed since the card was sent still removes the right one.
 * A workplace or app item is removed only for a bot admin (`operator`); anyone else gets `denied` and the card
 * stays as it is.
 */
export async function removeFromDigest(
  chatId: string,
  key: string,
  operator: string | undefined,
  deps: DigestDeps,
): Promise<{ card: Card } | { denied: DigestItem }> {
  let removed: DigestItem | undefined;
  let kept: DigestItem | undefined;
  const admin = deps.access.isAdmin(operator);
  await deps.subscriptions.update(chatId, (current) => {
    if (!current) return current;
    const target = current.items.find((item) => itemKey(item) === key);
    if (target && isTenantItem(target) && !admin) {
      kept = target;
      return current;
    }
    const result = removeItemByKey(current, key);
    removed = result.removed;
    return result.sub;
  });
  if (kept) return { denied: kept };
  return {
    card: await buildSubscriptionsReply(
      chatId,
      deps,
      removed
        ? { kind: 'success', text: removedText(removed) }
        : { kind: 'info', text: { zh: '该项已不在订阅中。', en: 'That item is no longer in the digest.' } },
    ),
  };
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
