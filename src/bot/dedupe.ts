import { createHash } from 'node:crypto';
import { EVENT_MESSAGE_RECEIVE, type EventEnvelope, type MessageReceiveEvent } from '../feishu/events.js';
import type { Store } from '../store/store.js';

/**
 * Feishu delivers at least once and retries for about seven hours (15 s, 5 min, 1 h, 6 h), so a claim must outlive
 * the whole retry window. https://open.feishu.cn/document/server-docs/event-subscription-guide/overview
 */
export const DEDUPE_TTL_MS = 12 * 60 * 60 * 1000;

const EVENT_PREFIX = 'fsb:seen:event:';
const MESSAGE_PREFIX = 'fsb:seen:msg:';

/**
 * Claim one delivery. The message-event page says to dedupe on `message_id`, the general pages on `event_id`. A
 * message event is claimed by its message_id alone: a retry (same event_id) carries the same message_id, and so does
 * the message re-emitted under a new event_id, so one key drops both (as `deliveryJobId` does with Redis). Every
 * other event is claimed by its event_id. Resolves true only for the first delivery.
 */
export async function claimDelivery(
  store: Store,
  ids: { eventId: string; messageId?: string },
): Promise<boolean> {
  // One key per event, not two: in memory each claim is held for DEDUPE_TTL_MS, so this halves what a busy day keeps.
  const key = ids.messageId ? MESSAGE_PREFIX + ids.messageId : EVENT_PREFIX + ids.eventId;
  return store.setIfAbsent(key, '1', DEDUPE_TTL_MS);
}

/** The ids a delivery is deduplicated on; `messageId` only for message events. */
export function deliveryIds(envelope: EventEnvelope): { eventId: string; messageId?: string } {
  const eventId = envelope.header.event_id;
  if (envelope.header.event_type !== EVENT_MESSAGE_RECEIVE) return { eventId };
  const messageId = (envelope.event as Partial<MessageReceiveEvent> | undefined)?.message?.message_id;
  return typeof messageId === 'string' && messageId !== '' ? { eventId, messageId } : { eventId };
}

/**
 * The durable queue's job id for a delivery, so Redis itself refuses a second job for the same message (a retry,
 * or the message re-emitted under a new event_id). BullMQ ids may not contain `:` nor look like integers, hence
 * the prefix and the restricted alphabet; an id that would need escaping is hashed instead.
 */
export function deliveryJobId(envelope: EventEnvelope): string {
  const { eventId, messageId } = deliveryIds(envelope);
  const [prefix, id] = messageId ? ['msg', messageId] : ['evt', eventId];
  return /^[A-Za-z0-9_-]{1,100}$/.test(id)
    ? `${prefix}-${id}`
    : `${prefix}-h${createHash('sha256').update(id).digest('hex').slice(0, 40)}`;
}
