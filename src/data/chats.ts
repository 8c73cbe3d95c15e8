import type { Logger } from 'pino';
import type { FeishuClient } from '../feishu/client.js';
import type { ChatInfo } from '../feishu/types.js';
import type { JsonCache } from '../store/cache.js';

/**
 * A chat's mode never changes and its owner and managers rarely do: ten minutes, as for a document's owner.
 * A manager appointed (or removed) just now is seen within that.
 */
export const CHAT_INFO_TTL_MS = 10 * 60_000;

/**
 * What a chat is and who runs it, from `im/v1/chats/:chat_id` through the cache. Used where the event does not
 * say it (a card callback carries only `open_chat_id`) or does not know it (the group's owner and managers).
 * Needs one of `im:chat:readonly`, `im:chat:read`, `im:chat`.
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get
 */
export class ChatDirectory {
  constructor(
    private readonly feishu: Pick<FeishuClient, 'getChatInfo'>,
    private readonly cache: JsonCache,
    private readonly log: Logger,
  ) {}

  /** Throws what Feishu threw; failures are not cached, so the next ask tries again. */
  async info(chatId: string): Promise<ChatInfo> {
    const { value } = await this.cache.getOrLoad(`chat:${chatId}`, () => this.feishu.getChatInfo(chatId), {
      ttlMs: CHAT_INFO_TTL_MS,
    });
    return value;
  }

  /**
   * True only when Feishu says the chat is a p2p chat the bot is in: its one other member is then the only
   * person who can see (and click) a card in it. A chat the bot is not in comes back without a mode, and a
   * failed lookup proves nothing either: both are false, which callers treat as "somewhere others may see".
   */
  async isPrivate(chatId: string | undefined): Promise<boolean> {
    if (!chatId) return false;
    try {
      return (await this.info(chatId)).mode === 'p2p';
    } catch (err) {
      this.log.warn({ err, chat_id: chatId }, 'chat info unavailable; treating the chat as not private');
      return false;
    }
  }
}
