import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { type Card, cardByteSize, MAX_CARD_BYTES } from '../../cards/index.js';
import type { FeishuClient } from '../feishu/client.js';
import type { MessageReceiveEvent } from '../feishu/events.js';
import type { Metrics } from '../metrics.js';
import { withoutDeadline } from '../util/deadline.js';
import type { ExtractedMessage } from './message.js';

/**
 * Everything a command handler may know about the message it answers; it never sees Fastify or the envelope. A bot
 * menu click is answered through the same context (`createMenuContext`): the command the menu key stands for, as
 * if the person had typed it in their private chat with the bot.
 */
export interface MessageContext {
  readonly eventId: string;
  /** For a menu click, which has no message, the event id: what retries of the same click share. */
  readonly messageId: string;
  /**
   * For a menu click, the person's private chat with the bot when the bot knows it (see `src/bot/menu.ts`), else
   * `''`: a chat the bot has never heard of has no digest.
   */
  readonly chatId: string;
  readonly chatType: string;
  readonly senderOpenId: string | undefined;
  readonly message: ExtractedMessage;
  /** Child logger carrying event_id and message_id (or, for a menu click, event_id and event_key). */
  readonly log: Logger;
  /**
   * False while a durable queue will run this event again after a transient failure and the command's budget
   * leaves room for that attempt (read when a failure happens): handlers then throw such failures (see
   * `presentOrRetry`) instead of answering with an error card.
   */
  readonly finalAttempt: boolean;
  /**
   * The bot's clock when the event's first attempt started, the same on every attempt: cards that show "as of" times
   * render from it, so a retried attempt sends the same content (see `messageUuid`).
   */
  readonly asOf: number;
  /**
   * Reply to the user's message with a card (a menu click: send it to the person's private chat). Idempotent across
   * retries of the same event.
   */
  reply(card: Card): Promise<void>;
  /** Send a card to the sender in a private chat (lists that name people, asked for in a group). */
  sendPrivately(card: Card): Promise<void>;
}

/**
 * Feishu makes a send idempotent for an hour when it carries the same `uuid` (≤ 50 chars), and silently drops a
 * later send under a uuid it has seen, even when the content differs (its docs: change the uuid when the content
 * changes). The uuid is the event and the send's position (`r1`, `r2`, … for replies, `p1`, … for private
 * sends), so a retried attempt never posts twice; and what a retry renders is made the same as the first attempt
 * (cached figures, the paging session seeded by the message, "as of" times from the first attempt's start), so
 * the send Feishu keeps is the one the reader should see. A command that changed state on its first attempt (a
 * digest edit) may render differently on the retry: Feishu then keeps the first card, which told the truth.
 * https://open.feishu.cn/document/server-docs/im-v1/message/create (uuid)
 */
export function messageUuid(eventOrMessageId: string, slot: string): string {
  const uuid = `${eventOrMessageId}-${slot}`;
  return uuid.length <= 50 ? uuid : createHash('sha256').update(uuid).digest('hex').slice(0, 48);
}

export function createMessageContext(deps: {
  eventId: string;
  event: MessageReceiveEvent;
  message: ExtractedMessage;
  feishu: FeishuClient;
  /** Already carrying event_id and message_id (the caller logs with it before the context exists). */
  log: Logger;
  metrics: Metrics;
  /** Asked when a failure happens: the answer depends on how much of the command's budget is left by then. */
  isFinalAttempt: () => boolean;
  asOf: number;
}): MessageContext {
  const { event, feishu } = deps;
  const messageId = event.message.message_id;
  const { log } = deps;
  const send = cardSender(log, deps.metrics);
  let replies = 0;
  let privates = 0;
  return {
    eventId: deps.eventId,
    messageId,
    chatId: event.message.chat_id,
    chatType: event.message.chat_type,
    senderOpenId: event.sender.sender_id?.open_id,
    message: deps.message,
    log,
    get finalAttempt() {
      return deps.isFinalAttempt();
    },
    asOf: deps.asOf,
    async reply(card) {
      replies += 1;
      const uuid = messageUuid(messageId, `r${replies}`);
      return send(card, () => feishu.replyCard(messageId, card, uuid, { chatId: event.message.chat_id }));
    },
    async sendPrivately(card) {
      privates += 1;
      const openId = event.sender.sender_id?.open_id;
      if (!openId) throw new Error('sender has no open_id');
      const uuid = messageUuid(messageId, `p${privates}`);
      return send(card, () => feishu.sendCard(openId, card, uuid, { receiveIdType: 'open_id' }));
    },
  };
}

/**
 * A bot menu click (`application.bot.menu_v6`) as a command typed in the private chat: `message` is the command the
 * key stands for. There is no message to reply to, so every card goes to the person by open_id, which Feishu
 * delivers into their private chat with the bot; the uuids are the event id and the send's position, as for a
 * message, so a retried job or a redelivered click that got past the dedupe posts each card once.
 * https://open.feishu.cn/document/server-docs/im-v1/message/create (receive_id_type=open_id)
 */
export function createMenuContext(deps: {
  eventId: string;
  operatorOpenId: string;
  /** The person's private chat with the bot, or `''` when the bot does not know it. */
  chatId: string;
  message: ExtractedMessage;
  feishu: FeishuClient;
  /** Already carrying event_id and event_key. */
  log: Logger;
  metrics: Metrics;
  isFinalAttempt: () => boolean;
  asOf: number;
}): MessageContext {
  const { eventId, operatorOpenId, feishu } = deps;
  const send = cardSender(deps.log, deps.metrics);
  let sends = 0;
  // `reply` and `sendPrivately` reach the same chat here: one counter, so two cards never share a uuid.
  const sendToOperator = async (card: Card): Promise<void> => {
    sends += 1;
    const uuid = messageUuid(eventId, `m${sends}`);
    return send(card, () => feishu.sendCard(operatorOpenId, card, uuid, { receiveIdType: 'open_id' }));
  };
  return {
    eventId,
    messageId: eventId,
    chatId: deps.chatId,
    chatType: 'p2p',
    senderOpenId: operatorOpenId,
    message: deps.message,
    log: deps.log,
    get finalAttempt() {
      return deps.isFinalAttempt();
    },
    asOf: deps.asOf,
    reply: sendToOperator,
    sendPrivately: sendToOperator,
  };
}

/** Sends one card outside the command's deadline, counting the outcome; a card over the size limit is not sent. */
function cardSender(
  log: Logger,
  metrics: Metrics,
): (card: Card, post: () => Promise<unknown>) => Promise<void> {
  return async (card, post) => {
    const size = cardByteSize(card);
    if (size > MAX_CARD_BYTES) {
      // Feishu would answer 230025; the card builders are meant to make this impossible, so it is our bug.
      log.error({ card_bytes: size }, 'card over the 30 KB limit not sent');
      metrics.replies.inc({ outcome: 'too_large' });
      return;
    }
    try {
      // Outside the command's deadline: an answer already computed is always delivered.
      await withoutDeadline(post);
      metrics.replies.inc({ outcome: 'sent' });
    } catch (err) {
      metrics.replies.inc({ outcome: 'failed' });
      throw err;
    }
  };
}
