import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { type Card, cardByteSize, MAX_CARD_BYTES } from '../../cards/index.js';
import type { FeishuClient } from '../feishu/client.js';
import type { MessageReceiveEvent } from '../feishu/events.js';
import type { Metrics } from '../metrics.js';
import { withoutDeadline } from '../util/deadline.js';
import type { ExtractedMessage } from './message.js';

/** Everything a command handler may know about the message it answers; it never sees Fastify or the envelope. */
export interface MessageContext {
  readonly eventId: string;
  readonly messageId: string;
  readonly chatId: string;
  readonly chatType: string;
  readonly senderOpenId: string | undefined;
  readonly message: ExtractedMessage;
  /** Child logger carrying event_id and message_id. */
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
  /** Reply to the user's message with a card. Idempotent across retries of the same event. */
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
  log: Logger;
  metrics: Metrics;
  /** Asked when a failure happens: the answer depends on how much of the command's budget is left by then. */
  isFinalAttempt: () => boolean;
  asOf: number;
}): MessageContext {
  const { event, feishu, metrics } = deps;
  const messageId = event.message.message_id;
  const log = deps.log.child({ event_id: deps.eventId, message_id: messageId });
  let replies = 0;
  let privates = 0;
  const checkSize = (card: Card): boolean => {
    const size = cardByteSize(card);
    if (size <= MAX_CARD_BYTES) return true;
    // Feishu would answer 230025; the card builders are meant to make this impossible, so it is our bug.
    log.error({ card_bytes: size }, 'card over the 30 KB limit not sent');
    metrics.inc('fsb_replies_total', { outcome: 'too_large' });
    return false;
  };
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
      if (!checkSize(card)) return;
      try {
        // Outside the command's deadline: an answer already computed is always delivered.
        await withoutDeadline(() =>
          feishu.replyCard(messageId, card, messageUuid(messageId, `r${replies}`), {
            chatId: event.message.chat_id,
          }),
        );
        metrics.inc('fsb_replies_total', { outcome: 'sent' });
      } catch (err) {
        metrics.inc('fsb_replies_total', { outcome: 'failed' });
        throw err;
      }
    },
    async sendPrivately(card) {
      privates += 1;
      const openId = event.sender.sender_id?.open_id;
      if (!openId) throw new Error('sender has no open_id');
      if (!checkSize(card)) return;
      try {
        await withoutDeadline(() =>
          feishu.sendCard(openId, card, messageUuid(messageId, `p${privates}`), {
            receiveIdType: 'open_id',
          }),
        );
        metrics.inc('fsb_replies_total', { outcome: 'sent' });
      } catch (err) {
        metrics.inc('fsb_replies_total', { outcome: 'failed' });
        throw err;
      }
    },
  };
}
