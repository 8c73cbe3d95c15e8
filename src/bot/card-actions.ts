import type { Logger } from 'pino';
import {
  type Bilingual,
  buildToast,
  type Card,
  lastItemToastText,
  TENANT_ITEM_RULE,
  type Toast,
} from '../../cards/index.js';
import { LIKEABLE_TYPES, type PeopleKind } from '../data/documents.js';
import type { FeishuClient } from '../feishu/client.js';
import type { CardActionEvent, EventEnvelope } from '../feishu/events.js';
import type { Metrics } from '../metrics.js';
import { presentToast } from '../present/present-error.js';
import type { Store } from '../store/store.js';
import type { AccessDecision } from './access.js';
import { type CardAction, decodeAction, fromActionDoc } from './actions.js';
import { messageUuid } from './context.js';
import { claimDelivery } from './dedupe.js';
import { addDocumentToDigest, type DigestDeps, removeFromDigest } from './handlers/digest.js';
import { buildPeopleCard, type PeopleDeps, StalePageError } from './handlers/people.js';
import { buildStatsCardFor } from './handlers/stats.js';
import { buildAppReply, buildWorkplaceReply, type TenantDeps } from './handlers/tenant.js';
import { type RemindOutcome, remindUnread } from './handlers/unread.js';

/** `{toast, card}` answer to `card.action.trigger`. https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication */
export interface CardCallbackAnswer {
  toast?: Toast;
  card?: { type: 'raw'; data: Card };
}

export interface CardActionDeps extends PeopleDeps, TenantDeps, DigestDeps {
  feishu: FeishuClient;
  store: Store;
  logger: Logger;
  metrics: Metrics;
}

/**
 * Button clicks. Every click is re-checked for the person who clicked (in a group that is often not the person who
 * asked), answered with the updated card when the work is quick, and never shows a people list to a whole group.
 */
export class CardActions {
  constructor(private readonly deps: CardActionDeps) {}

  async handle(envelope: EventEnvelope): Promise<CardCallbackAnswer> {
    const event = envelope.event as CardActionEvent;
    const eventId = envelope.header.event_id;
    const log = this.deps.logger.child({ event_id: eventId, message_id: event?.context?.open_message_id });
    const action = decodeAction(event?.action?.value);
    if (!action) {
      this.deps.metrics.events.inc({ type: 'card.action.trigger', outcome: 'stale' });
      log.info('card action not recognised (stale or foreign card)');
      return toast('error', {
        en: 'This card is out of date. Send the command again.',
        zh: '这张卡片已过期，请重新发送命令。',
      });
    }
    let first: boolean;
    try {
      first = await claimDelivery(this.deps.store, { eventId });
    } catch (err) {
      // The store (Redis) is unreachable, so the click cannot be claimed. A 5xx would only show the clicker
      // Feishu's generic failure; answer 200 with what happened and that another click will do (the event route
      // answers 503 for the same reason, so Feishu delivers again). Nothing ran, so nothing can run twice.
      this.deps.metrics.events.inc({ type: 'card.action.trigger', outcome: 'unavailable' });
      log.warn({ err }, 'card action not claimed: store unavailable');
      return toast('error', {
        en: 'The bot cannot take clicks right now. Try again in a moment.',
        zh: '机器人暂时无法处理点击，请稍后再试。',
      });
    }
    if (!first) {
      this.deps.metrics.events.inc({ type: 'card.action.trigger', outcome: 'duplicate' });
      return {};
    }
    this.deps.metrics.events.inc({ type: 'card.action.trigger', outcome: 'handled' });
    this.deps.metrics.commands.inc({ command: `button:${action.a}` });
    const operator = event.operator?.open_id;
    try {
      return await this.run(action, operator, eventId, log, event.context?.open_chat_id);
    } catch (err) {
      return { toast: presentToast(err, log) };
    }
  }

  private async run(
    action: CardAction,
    operator: string | undefined,
    eventId: string,
    log: Logger,
    chatId: string | undefined,
  ): Promise<CardCallbackAnswer> {
    const { deps } = this;
    switch (action.a) {
      case 'digest_remove': {
        // The chat comes from Feishu's callback context, not from the button: a copied value cannot reach
        // another chat's subscription.
        if (!chatId) return toast('error', { en: 'This card is out of date.', zh: '这张卡片已过期。' });
        const result = await removeFromDigest(chatId, action.k, operator, log, deps);
        if ('card' in result) return { card: raw(result.card) };
        if ('refused' in result) {
          const { reason } = result.refused;
          log.info(
            { item: action.k, reason },
            'digest remove denied on click: the last item needs the off rule',
          );
          const scope = result.refused.reason === 'missing_scope' ? result.refused.scope : undefined;
          return toast('error', lastItemToastText(reason, scope));
        }
        log.info({ item: action.k }, 'digest remove denied on click: tenant items need a bot admin');
        return toast('error', TENANT_ITEM_RULE);
      }
      case 'digest_add': {
        // As for Remove: the chat is Feishu's callback context, never the button's. Anyone may add a document, as
        // `digest add <link>` allows; the card stays as it is and the toast says what happened.
        if (!chatId) return toast('error', { en: 'This card is out of date.', zh: '这张卡片已过期。' });
        const notice = await addDocumentToDigest(chatId, fromActionDoc(action.d), operator, log, deps);
        return toast(notice.kind, notice.text);
      }
      case 'refresh':
      case 'back': {
        // Aggregate statistics are open to anyone in the chat: no access check.
        const doc = fromActionDoc(action.d);
        // Thrown failures become an error toast (handle's catch): the card on screen keeps its figures.
        const card = await buildStatsCardFor(doc, deps.documents, log, {
          chat: action.c,
          ...(action.a === 'refresh' ? { refresh: true } : {}),
        });
        return action.a === 'refresh'
          ? { ...toast('success', { en: 'Updated', zh: '已刷新' }), card: raw(card) }
          : { card: raw(card) };
      }
      case 'viewers':
      case 'likes':
        return this.people(action, operator, eventId, log, chatId);
      case 'remind':
        // Answered with a toast only: the card stays as it is, wherever it was forwarded to.
        return remindToast(await remindUnread(action.s, operator, eventId, log, deps));
      case 'workplace':
      case 'app': {
        if (!deps.access.canSeeTenantData(operator).allowed)
          return deniedToast(action.a, { allowed: false, reason: 'not_allowed' });
        const card =
          action.a === 'workplace'
            ? await buildWorkplaceReply(action.r, deps, { refresh: true })
            : await buildAppReply(
                {
                  appId: action.q.appId,
                  cycle: action.q.cycle,
                  date: action.q.date,
                  ability: action.q.ability,
                  ...(action.q.dept ? { departmentId: action.q.dept } : {}),
                },
                deps,
                { refresh: true },
              );
        return { ...toast('success', { en: 'Updated', zh: '已刷新' }), card: raw(card) };
      }
    }
  }

  private async people(
    action: Extract<CardAction, { a: PeopleKind }>,
    operator: string | undefined,
    eventId: string,
    log: Logger,
    chatId: string | undefined,
  ): Promise<CardCallbackAnswer> {
    const { deps } = this;
    const doc = fromActionDoc(action.d);
    if (action.a === 'likes' && !LIKEABLE_TYPES.has(doc.type)) {
      return toast('warning', {
        en: 'Likes are not available for this document type.',
        zh: '该类型的文档不支持点赞。',
      });
    }
    const decision = await deps.access.canSeePeople(doc, operator);
    if (!decision.allowed) {
      log.info({ kind: action.a, reason: decision.reason }, 'people list denied on click');
      return deniedToast(action.a, decision);
    }

    // A list is shown in place only in the clicker's private chat with the bot. The button's `c` says where the
    // card was sent, not where it is now: a card forwarded from a private chat into a group still says `p`, so
    // only Feishu's `open_chat_id` decides, looked up (cached) when the button claims a private chat.
    const inPlace = action.c === 'p' && (await deps.chats.isPrivate(chatId));
    if (!inPlace) {
      // A group card is shared by everyone in the chat: updating it would show the list to all of them.
      if (!operator) return deniedToast(action.a, { allowed: false, reason: 'not_allowed' });
      if (action.c === 'p') log.info({ kind: action.a }, 'private card clicked outside a private chat');
      const card = await buildPeopleCard(action.a, doc, 'p', deps, {});
      await deps.feishu.sendCard(operator, card, messageUuid(eventId, 'p1'), {
        receiveIdType: 'open_id',
      });
      return toast('success', {
        en: 'Sent to you in a private chat with the bot.',
        zh: '已通过与机器人的单聊私下发送给你。',
      });
    }

    try {
      const card = await buildPeopleCard(action.a, doc, 'p', deps, {
        ...(action.s ? { sessionId: action.s } : {}),
        ...(action.i !== undefined ? { index: action.i } : {}),
      });
      return { card: raw(card) };
    } catch (err) {
      if (!(err instanceof StalePageError)) throw err;
      const card = await buildPeopleCard(action.a, doc, 'p', deps, {});
      return {
        ...toast('warning', {
          en: 'That page has expired; showing the first page.',
          zh: '该页已过期，已回到第一页。',
        }),
        card: raw(card),
      };
    }
  }
}

/** What the clicker of **Remind them** is told; the group sees only the reminder itself. */
function remindToast(outcome: RemindOutcome): CardCallbackAnswer {
  switch (outcome.kind) {
    case 'sent': {
      const n = outcome.mentioned;
      const rest = outcome.unread - n;
      // One message @mentions at most MAX_REMINDER_MENTIONS; it counts the rest.
      return toast('success', {
        en: `Reminded ${n} ${n === 1 ? 'person' : 'people'} in the group${rest > 0 ? `; it also says ${rest} more have not opened it` : ''}.`,
        zh: `已在群里提醒 ${n} 位成员${rest > 0 ? `，并说明另有 ${rest} 位也未打开` : ''}。`,
      });
    }
    case 'already_sent':
      return toast('info', {
        en: 'A reminder for this card was already posted in the group. Send unread again for a new one.',
        zh: '这张卡片的提醒已经发到群里了。如需再次提醒，请重新发送「未读」。',
      });
    case 'nobody':
      return toast('success', {
        en: 'Everyone in the group has opened it now, so nothing was posted.',
        zh: '群里所有成员现在都已打开，没有发送提醒。',
      });
    case 'not_member':
      return toast('error', {
        en: 'Only members of that group can remind it.',
        zh: '只有该群的成员才能在群里发送提醒。',
      });
    case 'expired':
      return toast('error', {
        en: 'This card has expired. Send unread again in the group.',
        zh: '这张卡片已过期，请在群里重新发送「未读」。',
      });
    case 'denied':
      return deniedToast('viewers', outcome.decision);
  }
}

function raw(card: Card): { type: 'raw'; data: Card } {
  return { type: 'raw', data: card };
}

export function toast(type: Toast['type'], text: Bilingual): { toast: Toast } {
  return { toast: buildToast(type, text) };
}

function deniedToast(
  what: PeopleKind | 'workplace' | 'app',
  decision: Exclude<AccessDecision, { allowed: true }>,
): CardCallbackAnswer {
  if (decision.reason === 'missing_scope') {
    return toast('error', {
      en: `The bot cannot check document permissions: an admin must add the ${decision.scope} scope.`,
      zh: `机器人无法检查文档权限：需要管理员为应用开通 ${decision.scope} 权限。`,
    });
  }
  if (decision.reason === 'cannot_verify') {
    return toast('error', {
      en: 'Could not check your access to this document. Try again in a moment.',
      zh: '暂时无法确认你对该文档的权限，请稍后再试。',
    });
  }
  return what === 'workplace' || what === 'app'
    ? toast('error', {
        en: 'Only bot admins can see tenant-wide usage.',
        zh: '只有机器人管理员可以查看企业级使用数据。',
      })
    : toast('error', {
        en: 'Only the document owner, people with full access and bot admins can see who viewed or liked it.',
        zh: '只有文档所有者、拥有“可管理”权限的协作者和机器人管理员可以查看访问者和点赞者。',
      });
}
