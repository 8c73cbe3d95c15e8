import type { FeishuTransport } from './transport.js';

/** Messages: reply, send and update interactive cards. */
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
    replyCard(messageId, card, uuid, options) {
      return sendMessage(
        'im.v1.message.reply',
        () =>
          sdk.im.v1.message.reply({
            path: { message_id: messageId },
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
      await transport.call(
        'im.v1.message.patch',
        () =>
          sdk.im.v1.message.patch({
            path: { message_id: messageId },
            data: { content: JSON.stringify(card) },
          }),
        messageId,
      );
    },
  };
}
