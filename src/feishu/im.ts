import { pathSegment } from './path.js';
import type { FeishuTransport } from './transport.js';
import type { ChatInfo } from './types.js';

/** Messages: reply, send and update interactive cards; and what kind of chat a chat is, and who runs it. */
export interface ImApi {
  /** `chatId` puts the reply under the per-chat message limit. */
  replyCard(
    messageId: string,
    card: object,
    uuid: string,
    opts?: { chatId?: string },
  ): Promise<{ messageId: string }>;
  sendCard(
    receiveId: string,
    card: object,
    uuid: string,
    opts?: { receiveIdType?: 'chat_id' | 'open_id' },
  ): Promise<{ messageId: string }>;
  /** Replaces the card of a message the bot sent (the card needs `config.update_multi: true`). */
  patchCard(messageId: string, card: object): Promise<void>;
  /** Chat mode, owner and managers (open_ids). */
  getChatInfo(chatId: string): Promise<ChatInfo>;
}

// https://open.feishu.cn/document/server-docs/im-v1/message/create and …/message/reply, …/message-card/patch
export function createImApi(transport: FeishuTransport): ImApi {
  const { sdk } = transport;

  async function sendMessage(
    endpoint: string,
    send: () => Promise<{ data?: { message_id?: string } }>,
    scope: string | undefined,
  ): Promise<{ messageId: string }> {
    const body = await transport.call(endpoint, send, scope);
    const messageId = body.data?.message_id;
    if (!messageId) throw transport.unexpected(endpoint, body, 'data.message_id');
    return { messageId };
  }

  return {
    async replyCard(messageId, card, uuid, options) {
      // Before transport.call: an id no path can carry costs neither a token fetch nor a rate-limit slot.
      const id = pathSegment(messageId);
      return sendMessage(
        'im.v1.message.reply',
        () =>
          sdk.im.v1.message.reply({
            path: { message_id: id },
            // `uuid` makes the reply idempotent for an hour, so the transport's retries cannot double-post.
            data: { msg_type: 'interactive', content: JSON.stringify(card), uuid },
          }),
        options?.chatId,
      );
    },

    sendCard(receiveId, card, uuid, options) {
      const receiveIdType = options?.receiveIdType ?? 'chat_id';
      return sendMessage(
        'im.v1.message.create',
        () =>
          sdk.im.v1.message.create({
            params: { receive_id_type: receiveIdType },
            data: { receive_id: receiveId, msg_type: 'interactive', content: JSON.stringify(card), uuid },
          }),
        // Feishu limits sends per user as well as per group: either id is the recipient's scope.
        receiveId,
      );
    },

    async patchCard(messageId, card) {
      // 5 updates/s per message on top of the app-wide limits (FEISHU.md, Sending).
      const id = pathSegment(messageId);
      await transport.call(
        'im.v1.message.patch',
        () =>
          sdk.im.v1.message.patch({
            path: { message_id: id },
            data: { content: JSON.stringify(card) },
          }),
        messageId,
      );
    },

    async getChatInfo(chatId) {
      const endpoint = 'im.v1.chat.get';
      // Ids come back in the type asked for (`owner_id_type` echoes it); the managers are
      // `user_manager_id_list`, there is no separate list endpoint (chat.managers only adds and deletes).
      // https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get
      const id = pathSegment(chatId);
      const body = await transport.call(endpoint, () =>
        sdk.im.v1.chat.get({ path: { chat_id: id }, params: { user_id_type: 'open_id' } }),
      );
      const data = body.data;
      if (!data || typeof data !== 'object') throw transport.unexpected(endpoint, body, 'data');
      const managers = Array.isArray(data.user_manager_id_list) ? data.user_manager_id_list : [];
      return {
        chatId,
        ...(typeof data.chat_mode === 'string' && data.chat_mode ? { mode: data.chat_mode } : {}),
        // Only a person's open_id can match a sender; a group a bot created is owned by that bot.
        ...(data.owner_id_type === 'open_id' && typeof data.owner_id === 'string' && data.owner_id
          ? { ownerId: data.owner_id }
          : {}),
        managerIds: managers.filter((id): id is string => typeof id === 'string' && id !== ''),
      };
    },
  };
}
