import type { Store } from '../store/store.js';

/**
 * Feishu delivers at least once and retries for about seven hours (15 s, 5 min, 1 h, 6 h), so a claim must outlive
 * the whole retry window. https://open.feishu.cn/document/server-docs/event-subscription-guide/overview
 */
export const DEDUPE_TTL_MS = 12 * 60 * 60 * 1000;

const EVENT_PREFIX = 'fsb:seen:event:';
const MESSAGE_PREFIX = 'fsb:seen:msg:';

/**
 * Claim one delivery. The message-event page says to dedupe on `message_id`, the general pages on `event_id`:
 * claim both, so a retry (same event_id) and a re-emitted message (new event_id, same message_id) are both dropped.
 * Resolves true only for the first delivery.
 */
export async function claimDelivery(
  store: Store,
  ids: { eventId: string; messageId?: string },
): Promise<boolean> {
  if (!(await store.setIfAbsent(EVENT_PREFIX + ids.eventId, '1', DEDUPE_TTL_MS))) return false;
  if (
    ids.messageId &&
    !(await store.setIfAbsent(MESSAGE_PREFIX + ids.messageId, ids.eventId, DEDUPE_TTL_MS))
  ) {
    return false;
  }
  return true;
}
