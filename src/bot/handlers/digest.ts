import type { Logger } from 'pino';
import {
  type Bilingual,
  buildAccessDeniedCard,
  buildDigestPermissionCard,
  buildSubscriptionsCard,
  type Card,
  type DigestPermissionCardInput,
  describeCadence,
  digestName,
  escapeMarkdown,
  ordinalDay,
  weekdayName,
} from '../../../cards/index.js';
import type { ChatDirectory } from '../../data/chats.js';
import type { DocumentService, ResolvedDoc } from '../../data/documents.js';
import type { TenantData } from '../../data/tenant-data.js';
import type { DigestSettings } from '../../digest/runner.js';
import { addDays, cadenceOf, formatDigestTime, localDate, nextDigestAt } from '../../digest/schedule.js';
import {
  addItem,
  MAX_DIGEST_ITEMS,
  recordRemoval,
  removedBy,
  removeItem,
  removeItemByKey,
  type SubscriptionStore,
  setCadence,
  setTime,
} from '../../digest/subscriptions.js';
import {
  type ChatSubscription,
  type DigestCadence,
  type DigestItem,
  type DigestTime,
  itemKey,
} from '../../digest/types.js';
import { isMissingScope } from '../../feishu/codes.js';
import type { ChatInfo } from '../../feishu/types.js';
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

export type Notice = NonNullable<Parameters<typeof buildSubscriptionsCard>[0]['notice']>;

/**
 * `digest …` (订阅): edits this chat's subscription and answers with the list as it now stands. Adding a document
 * follows the `stats` rule (anyone in the chat, as long as the bot can read the document's statistics: checked
 * now, so a missing grant is explained today rather than failing silently at 10:30 tomorrow); tenant-wide items
 * need a bot admin, as the `workplace` and `app` commands do, to add and to remove. Turning the digest off,
 * moving its time, changing its cadence or removing its last item undoes someone's set-up: see `decideSchedule`.
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
    case 'remove':
      return ctx.reply(await removeAt(ctx, action.index, deps));
    case 'time': {
      const time = { hour: action.hour, minute: action.minute };
      const now = deps.now();
      const outcome = await updateUnderScheduleRule<
        { denied: DigestPermissionCardInput } | { cadence: DigestCadence | undefined }
      >(ctx.chatId, standingOf(ctx, deps), ctx.log, deps, (current, mayChange) => {
        const decision = mayChange();
        if (!decision.allowed)
          return { next: current, result: { denied: deniedInput('time', decision, current) } };
        const next = setTime(current, ctx.chatId, time, now, ctx.senderOpenId);
        return { next, result: { cadence: next.cadence } };
      });
      if ('denied' in outcome) return ctx.reply(refuse(ctx, outcome.denied));
      const cadence = outcome.cadence?.kind === 'daily' ? undefined : outcome.cadence;
      const name = digestName(cadence?.kind);
      const at = `${formatDigestTime(time)} (${deps.digest.timeZone})`;
      // A daily digest says only the time, as it always did; the others say the day too.
      const when =
        cadence === undefined ? { zh: ` ${at} `, en: `at ${at}` } : scheduleWords(cadence, time, deps);
      return ctx.reply(
        await buildSubscriptionsReply(ctx.chatId, deps, {
          kind: 'success',
          text: { zh: `${name.zh}将在${when.zh}发送。`, en: `The ${name.en} will be sent ${when.en}.` },
        }),
      );
    }
    case 'cadence':
      return ctx.reply(await changeCadence(ctx, action.cadence, deps));
    case 'off': {
      const outcome = await updateUnderScheduleRule<
        { denied: DigestPermissionCardInput } | { items: number; cadence: DigestCadence | undefined }
      >(ctx.chatId, standingOf(ctx, deps), ctx.log, deps, (current, mayChange) => {
        const decision = mayChange();
        if (!decision.allowed)
          return { next: current, result: { denied: deniedInput('off', decision, current) } };
        return { next: null, result: { items: current?.items.length ?? 0, cadence: current?.cadence } };
      });
      if ('denied' in outcome) return ctx.reply(refuse(ctx, outcome.denied));
      ctx.log.info({ items: outcome.items }, 'digest turned off');
      const name = digestName(outcome.cadence?.kind);
      return ctx.reply(
        await buildSubscriptionsReply(ctx.chatId, deps, {
          kind: 'info',
          text: {
            zh: `已关闭本群的${name.zh}。发送 \`digest add <文档链接>\` 可重新订阅。`,
            en: `This chat's ${name.en} is off. Send \`digest add <document link>\` to start again.`,
          },
        }),
      );
    }
  }
}

/**
 * `digest daily | weekly [day] | monthly [day]`: the same rule as `digest time` (whoever set the digest up, the
 * group's owner and managers, bot admins), decided on the subscription as it is under the lock. The time stays;
 * the schedule restarts from now, so the new cadence starts at its next occurrence.
 */
async function changeCadence(ctx: MessageContext, cadence: DigestCadence, deps: DigestDeps): Promise<Card> {
  const now = deps.now();
  const outcome = await updateUnderScheduleRule<
    { denied: DigestPermissionCardInput } | { changed: boolean; time: DigestTime | undefined }
  >(ctx.chatId, standingOf(ctx, deps), ctx.log, deps, (current, mayChange) => {
    const decision = mayChange();
    if (!decision.allowed)
      return { next: current, result: { denied: deniedInput('cadence', decision, current) } };
    const next = setCadence(current, ctx.chatId, cadence, now, ctx.senderOpenId);
    return { next, result: { changed: next !== current, time: next.time } };
  });
  if ('denied' in outcome) return refuse(ctx, outcome.denied);
  ctx.log.info({ cadence: cadence.kind, changed: outcome.changed }, 'digest cadence');
  const when = scheduleWords(cadence, outcome.time ?? deps.digest.time, deps);
  const name = digestName(cadence.kind);
  const what: { zh: string; en: string } =
    cadence.kind === 'weekly'
      ? { zh: '，显示近 7 天的新增', en: ', with what each item gained in the last 7 days' }
      : cadence.kind === 'monthly'
        ? { zh: '，显示与上月同一天相比的新增', en: ', with the change since the same day last month' }
        : { zh: '', en: '' };
  return buildSubscriptionsReply(
    ctx.chatId,
    deps,
    outcome.changed
      ? {
          kind: 'success',
          text: {
            zh: `本会话改为${name.zh}：${when.zh}发送${what.zh}。`,
            en: `This chat now gets a ${name.en}: ${when.en}${what.en}.`,
          },
        }
      : {
          kind: 'info',
          text: {
            zh: `本会话已经是${name.zh}：${when.zh}发送。`,
            en: `This chat already gets a ${name.en}: ${when.en}.`,
          },
        },
  );
}

/** "on Mondays at 10:30 (Asia/Shanghai)" / 每周一 10:30（Asia/Shanghai）: when the digest goes out, in a sentence. */
function scheduleWords(
  cadence: DigestCadence,
  time: DigestTime,
  deps: Pick<DigestDeps, 'digest'>,
): { zh: string; en: string } {
  const at = formatDigestTime(time);
  const zone = deps.digest.timeZone;
  const zh = `${describeCadence(cadence, at).zh}（${zone}）`;
  switch (cadence.kind) {
    case 'weekly':
      return { zh, en: `on ${weekdayName(cadence.weekday).en}s at ${at} (${zone})` };
    case 'monthly':
      return { zh, en: `on the ${ordinalDay(cadence.day)} of every month at ${at} (${zone})` };
    case 'daily':
      return { zh, en: `every day at ${at} (${zone})` };
  }
}

/**
 * `digest remove <n>`. Decided on the list as it is under the lock: an item that moved into position n since the
 * sender last looked is judged as what it is now. The removal is recorded with the message id in the same write,
 * so a retry of this event (its reply failed) answers as the first attempt did instead of removing whatever is
 * item n by then.
 */
async function removeAt(ctx: MessageContext, index: number, deps: DigestDeps): Promise<Card> {
  const standing = standingOf(ctx, deps);
  const now = deps.now();
  type Outcome =
    | { removed: DigestItem; again?: true; cadence?: DigestCadence['kind'] }
    | { kept: DigestItem }
    | { denied: DigestPermissionCardInput }
    | { missing: number };
  const outcome = await updateUnderScheduleRule<Outcome>(
    ctx.chatId,
    standing,
    ctx.log,
    deps,
    (current, mayChange) => {
      if (!current) return { next: current, result: { missing: 0 } };
      const earlier = removedBy(current, ctx.messageId, now);
      const cadence = current.cadence?.kind;
      if (earlier) return { next: current, result: { removed: earlier, again: true, cadence } };
      const target = current.items[index - 1];
      if (!target) return { next: current, result: { missing: current.items.length } };
      if (isTenantItem(target) && !standing.admin) return { next: current, result: { kept: target } };
      if (current.items.length === 1) {
        const decision = mayChange();
        if (!decision.allowed) {
          return { next: current, result: { denied: deniedInput('remove_last', decision, current) } };
        }
      }
      const { sub } = removeItem(current, index);
      return { next: recordRemoval(sub, ctx.messageId, target, now), result: { removed: target, cadence } };
    },
  );
  if ('kept' in outcome) {
    ctx.log.info({ item: itemKey(outcome.kept) }, 'digest remove denied: tenant items need a bot admin');
    return buildDigestPermissionCard({ change: 'remove', reason: 'not_allowed', item: outcome.kept });
  }
  if ('denied' in outcome) return refuse(ctx, outcome.denied);
  if ('removed' in outcome && outcome.again) {
    ctx.log.info({ item: itemKey(outcome.removed) }, 'digest remove repeated: answered as the first attempt');
  }
  const notice: Notice =
    'removed' in outcome
      ? { kind: 'success', text: removedText(outcome.removed, outcome.cadence) }
      : {
          kind: 'warning',
          text: {
            zh: `没有第 ${index} 项：当前订阅共 ${outcome.missing} 项。`,
            en: `There is no item ${index}: this chat's digest has ${outcome.missing}.`,
          },
        };
  return buildSubscriptionsReply(ctx.chatId, deps, notice);
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
  const { outcome, cadence } = await addToDigest(ctx.chatId, item, ctx.senderOpenId, ctx.log, deps);
  return buildSubscriptionsReply(ctx.chatId, deps, addedNotice(outcome, item, cadence));
}

type AddOutcome = 'added' | 'duplicate' | 'full';

/** Adds a checked item to the chat's subscription (creating it for `by`), under the chat's lock. */
async function addToDigest(
  chatId: string,
  item: DigestItem,
  by: string | undefined,
  log: Logger,
  deps: Pick<DigestDeps, 'subscriptions' | 'now'>,
): Promise<{ outcome: AddOutcome; cadence: DigestCadence['kind'] | undefined }> {
  let outcome: AddOutcome = 'added';
  const now = deps.now();
  const after = await deps.subscriptions.update(chatId, (current) => {
    const result = addItem(current, chatId, item, now, by);
    outcome = result.outcome;
    return result.sub;
  });
  log.info({ item: itemKey(item), outcome }, 'digest add');
  return { outcome, cadence: after?.cadence?.kind };
}

/**
 * The `trend` card's "Add to this chat's digest" button: `digest add <link>` for a document already resolved, by
 * the same rule (anyone in the chat, once the bot has read the document's statistics now). What to tell the
 * clicker is the notice the command's list card would carry.
 */
export async function addDocumentToDigest(
  chatId: string,
  doc: ResolvedDoc,
  by: string | undefined,
  log: Logger,
  deps: DigestDeps,
): Promise<Notice> {
  const item = await documentItem(doc, deps);
  const { outcome, cadence } = await addToDigest(chatId, item, by, log, deps);
  return addedNotice(outcome, item, cadence);
}

/** Workplace and app items describe the whole tenant: added and removed by bot admins only. */
function isTenantItem(item: DigestItem): boolean {
  return item.kind !== 'doc';
}

export type ScheduleDecision =
  | { allowed: true; via: 'no_digest' | 'private_chat' | 'admin' | 'subscriber' | 'owner' | 'manager' }
  | { allowed: false; reason: 'not_allowed' | 'cannot_verify' }
  | { allowed: false; reason: 'missing_scope'; scope: string };

type Refusal = Extract<ScheduleDecision, { allowed: false }>;

// Any one of im:chat:readonly, im:chat:read, im:chat reads a chat's owner and managers.
// https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get
const CHAT_SCOPE_HINT = 'im:chat:readonly';

/**
 * What is known of the person asking, none of which depends on the subscription: read before the lock. `group`
 * is the chat's owner and managers once looked up (or why that failed), also before the lock.
 */
export interface Standing {
  who: string | undefined;
  /** From the message; a card click does not say, and the group lookup's `chat_mode` decides. */
  chatType?: string;
  admin: boolean;
  group?: ChatInfo | Refusal;
}

function standingOf(ctx: MessageContext, deps: DigestDeps): Standing {
  return { who: ctx.senderOpenId, chatType: ctx.chatType, admin: deps.access.isAdmin(ctx.senderOpenId) };
}

/**
 * Who may turn a chat's digest off, move its time, or remove its last item: the person who set it up, the group's
 * owner and managers (`im/v1/chats/:id`), and bot admins. In a private chat the one person there owns their
 * digest; a chat without a digest has nothing to undo. A subscription stored before the subscriber was recorded
 * has none: the owner, managers and admins still can. Pure, so it runs on the subscription as read under the lock;
 * undefined means the answer needs `standing.group`, which is fetched outside it (cheapest first: only for
 * someone who is none of the others).
 */
export function decideSchedule(
  sub: ChatSubscription | null,
  standing: Standing,
): ScheduleDecision | undefined {
  const { who, group } = standing;
  if (!sub) return { allowed: true, via: 'no_digest' };
  if (standing.chatType === 'p2p') return { allowed: true, via: 'private_chat' };
  if (!who) return { allowed: false, reason: 'not_allowed' };
  if (standing.admin) return { allowed: true, via: 'admin' };
  if (sub.subscriber === who) return { allowed: true, via: 'subscriber' };
  if (!group) return undefined;
  if ('allowed' in group) return group;
  if (standing.chatType === undefined && group.mode === 'p2p') return { allowed: true, via: 'private_chat' };
  if (group.ownerId === who) return { allowed: true, via: 'owner' };
  if (group.managerIds.includes(who)) return { allowed: true, via: 'manager' };
  return { allowed: false, reason: 'not_allowed' };
}

/** The chat's owner and managers, or the refusal that stands in for them when Feishu cannot say. */
async function lookUpGroup(
  chatId: string,
  log: Logger,
  deps: Pick<DigestDeps, 'chats'>,
): Promise<ChatInfo | Refusal> {
  try {
    return await deps.chats.info(chatId);
  } catch (err) {
    // Deny on doubt, and say why: an operator can fix a missing scope, a user can retry a hiccup.
    if (isMissingScope(err)) {
      log.warn('cannot read the group owner and managers: scope missing');
      return { allowed: false, reason: 'missing_scope', scope: CHAT_SCOPE_HINT };
    }
    log.warn({ err }, 'cannot read the group owner and managers; denying');
    return { allowed: false, reason: 'cannot_verify' };
  }
}

/** Thrown inside the locked edit when the decision needs the group lookup; the edit writes nothing. */
class GroupLookupNeeded extends Error {}

/**
 * Edits the chat's subscription under its lock, where `edit` may ask `mayChange()` whether the schedule
 * rule lets this person go ahead: decided on the record as it is under the lock, so an edit that landed since
 * (the digest turned off and set up again by someone else, the other items removed) counts. Feishu is never
 * asked while the lock is held: when the answer needs the group's owner and managers, the edit is abandoned
 * unwritten, they are looked up, and the edit runs again on what the subscription is then.
 */
async function updateUnderScheduleRule<T>(
  chatId: string,
  standing: Standing,
  log: Logger,
  deps: Pick<DigestDeps, 'subscriptions' | 'chats'>,
  edit: (
    current: ChatSubscription | null,
    mayChange: () => ScheduleDecision,
  ) => { next: ChatSubscription | null; result: T },
): Promise<T> {
  let known = standing;
  for (;;) {
    const done: { result?: T } = {};
    try {
      await deps.subscriptions.update(chatId, (current) => {
        const { next, result } = edit(current, () => {
          const decision = decideSchedule(current, known);
          if (!decision) throw new GroupLookupNeeded();
          return decision;
        });
        done.result = result;
        return next;
      });
    } catch (err) {
      // Once `group` is known every decision can be made, so this runs at most twice.
      if (!(err instanceof GroupLookupNeeded) || known.group) throw err;
      known = { ...known, group: await lookUpGroup(chatId, log, deps) };
      continue;
    }
    if (!('result' in done)) throw new Error('the subscription edit did not run');
    return done.result as T;
  }
}

/** What the refusal card says, naming whoever set up the digest as it was when the decision was made. */
function deniedInput(
  change: 'off' | 'time' | 'cadence' | 'remove_last',
  decision: Refusal,
  sub: ChatSubscription | null,
): DigestPermissionCardInput {
  return {
    change,
    reason: decision.reason,
    ...(decision.reason === 'missing_scope' ? { scope: decision.scope } : {}),
    ...(sub?.subscriber ? { subscriber: sub.subscriber } : {}),
    ...(sub?.cadence ? { cadence: sub.cadence.kind } : {}),
  };
}

function refuse(ctx: MessageContext, input: DigestPermissionCardInput): Card {
  ctx.log.info({ change: input.change, reason: input.reason }, 'digest change denied');
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
      return documentItem(doc, deps);
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

/** A document as a digest stores it, once the bot has fetched its statistics (a missing grant fails here). */
async function documentItem(doc: ResolvedDoc, deps: Pick<DigestDeps, 'documents'>): Promise<DigestItem> {
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
    ...(sub?.cadence ? { cadence: cadenceOf(sub) } : {}),
    timeZone: deps.digest.timeZone,
    ...(next !== null ? { nextDigestAt: next } : {}),
    ...(sub?.paused ? { paused: true } : {}),
    max: MAX_DIGEST_ITEMS,
    ...(notice ? { notice } : {}),
  });
}

/**
 * The remove button: by item key, so a list that changed since the card was sent still removes the right one (and
 * a second click on the same card finds it gone: the key makes the button idempotent). A workplace or app item is
 * removed only for a bot admin (`operator`), anyone else gets `denied`; the last item only for whoever may turn
 * the digest off, anyone else gets `refused`. Either way the card stays as it is.
 */
export async function removeFromDigest(
  chatId: string,
  key: string,
  operator: string | undefined,
  log: Logger,
  deps: DigestDeps,
): Promise<{ card: Card } | { denied: DigestItem } | { refused: Refusal }> {
  type Outcome =
    | { removed?: DigestItem; cadence?: DigestCadence['kind'] }
    | { denied: DigestItem }
    | { refused: Refusal };
  const standing: Standing = { who: operator, admin: deps.access.isAdmin(operator) };
  const outcome = await updateUnderScheduleRule<Outcome>(
    chatId,
    standing,
    log,
    deps,
    (current, mayChange) => {
      if (!current) return { next: current, result: {} };
      const target = current.items.find((item) => itemKey(item) === key);
      if (!target) return { next: current, result: {} };
      if (isTenantItem(target) && !standing.admin) return { next: current, result: { denied: target } };
      if (current.items.length === 1) {
        const decision = mayChange();
        if (!decision.allowed) return { next: current, result: { refused: decision } };
      }
      const { sub, removed } = removeItemByKey(current, key);
      return { next: sub, result: removed ? { removed, cadence: current.cadence?.kind } : {} };
    },
  );
  if ('denied' in outcome || 'refused' in outcome) return outcome;
  return {
    card: await buildSubscriptionsReply(
      chatId,
      deps,
      outcome.removed
        ? { kind: 'success', text: removedText(outcome.removed, outcome.cadence) }
        : { kind: 'info', text: { zh: '该项已不在订阅中。', en: 'That item is no longer in the digest.' } },
    ),
  };
}

/** `cadence` names the digest as the chat has it ("weekly digest"); absent means daily. */
function addedNotice(
  outcome: 'added' | 'duplicate' | 'full',
  item: DigestItem,
  cadence?: DigestCadence['kind'],
): Notice {
  const name = describeItem(item);
  const digest = digestName(cadence);
  switch (outcome) {
    case 'added':
      return {
        kind: 'success',
        text: {
          zh: `已将 ${name.zh} 加入${digest.zh}。`,
          en: `Added ${name.en} to this chat's ${digest.en}.`,
        },
      };
    case 'duplicate':
      return {
        kind: 'info',
        text: { zh: `${name.zh} 已在${digest.zh}中。`, en: `${name.en} is already in the ${digest.en}.` },
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

function removedText(item: DigestItem, cadence?: DigestCadence['kind']): Bilingual {
  const name = describeItem(item);
  const digest = digestName(cadence);
  return { zh: `已从${digest.zh}中移除 ${name.zh}。`, en: `Removed ${name.en} from the ${digest.en}.` };
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
