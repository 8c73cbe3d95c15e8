import { Readable } from 'node:stream';
import { type PageOptions, pageSize, toPage } from './pages.js';
import { pathSegment } from './path.js';
import type { FeishuTransport } from './transport.js';
import type { ChatInfo, ChatMember, ChatMembersPage, PostContent, UploadFile } from './types.js';

/**
 * `im/v1/files` takes at most 30 MB and no empty file.
 * https://open.feishu.cn/document/server-docs/im-v1/file/create
 */
export const MAX_UPLOAD_BYTES = 30 * 1024 * 1024;
// Chat members: page_size 1–100 (default 20). https://open.feishu.cn/document/server-docs/group/chat-member/get
const DEFAULT_MEMBERS_PAGE_SIZE = 20;
const MAX_MEMBERS_PAGE_SIZE = 100;

/**
 * Messages: reply, send and update interactive cards, send files and rich text; upload files; what kind of chat a
 * chat is, who runs it and who is in it.
 */
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
  /** One page of the chat's members as open_ids; Feishu leaves bots out, so a page may be short. */
  listChatMembers(chatId: string, opts?: PageOptions): Promise<ChatMembersPage>;
  /** Uploads a file for a file message; resolves to its `file_key`. */
  uploadFile(file: UploadFile): Promise<{ fileKey: string }>;
  /** A `msg_type: file` message with an uploaded file. */
  sendFile(
    receiveId: string,
    fileKey: string,
    uuid: string,
    opts?: { receiveIdType?: 'chat_id' | 'open_id' },
  ): Promise<{ messageId: string }>;
  /** A `msg_type: post` (rich text) message: its `at` nodes are real @mentions. */
  sendPost(
    receiveId: string,
    post: PostContent,
    uuid: string,
    opts?: { receiveIdType?: 'chat_id' | 'open_id' },
  ): Promise<{ messageId: string }>;
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

  function createMessage(
    receiveId: string,
    msgType: 'interactive' | 'file' | 'post',
    content: object,
    uuid: string,
    receiveIdType: 'chat_id' | 'open_id' = 'chat_id',
  ): Promise<{ messageId: string }> {
    return sendMessage(
      'im.v1.message.create',
      () =>
        sdk.im.v1.message.create({
          params: { receive_id_type: receiveIdType },
          // `uuid` makes the send idempotent for an hour, so the transport's retries cannot double-post.
          data: { receive_id: receiveId, msg_type: msgType, content: JSON.stringify(content), uuid },
        }),
      // Feishu limits sends per user as well as per group: either id is the recipient's scope.
      receiveId,
    );
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
      return createMessage(receiveId, 'interactive', card, uuid, options?.receiveIdType);
    },

    // https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/im-v1/message/create_json (file: `{file_key}`)
    sendFile(receiveId, fileKey, uuid, options) {
      return createMessage(receiveId, 'file', { file_key: fileKey }, uuid, options?.receiveIdType);
    },

    // Same page (post): one body per language, `{tag: "at", user_id: <open_id>}` mentions a person.
    sendPost(receiveId, post, uuid, options) {
      return createMessage(receiveId, 'post', post, uuid, options?.receiveIdType);
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

    async listChatMembers(chatId, page) {
      const endpoint = 'im.v1.chatMembers.get';
      // The bot must be in the chat; bots are never listed, so a page may hold fewer than page_size, and people
      // who joined at the same moment come together, so it may also hold more.
      // https://open.feishu.cn/document/server-docs/group/chat-member/get
      const id = pathSegment(chatId);
      const body = await transport.call(endpoint, () =>
        sdk.im.v1.chatMembers.get({
          path: { chat_id: id },
          params: {
            member_id_type: 'open_id',
            page_size: pageSize(page?.pageSize, DEFAULT_MEMBERS_PAGE_SIZE, MAX_MEMBERS_PAGE_SIZE),
            ...(page?.pageToken ? { page_token: page.pageToken } : {}),
          },
        }),
      );
      if (!body.data) throw transport.unexpected(endpoint, body, 'data');
      const items: ChatMember[] = [];
      for (const item of body.data.items ?? []) {
        // Asked for open_ids: anything else could never match a viewer or be @mentioned.
        if (typeof item.member_id !== 'string' || !item.member_id.startsWith('ou_')) continue;
        if (item.member_id_type !== undefined && item.member_id_type !== 'open_id') continue;
        items.push({ openId: item.member_id, ...(item.name ? { name: item.name } : {}) });
      }
      const total = body.data.member_total;
      return {
        ...toPage(items, body.data),
        ...(typeof total === 'number' && Number.isFinite(total) ? { memberTotal: total } : {}),
      };
    },

    async uploadFile(file) {
      const endpoint = 'im.v1.file.create';
      if (file.bytes.length === 0 || file.bytes.length > MAX_UPLOAD_BYTES) {
        throw new RangeError(`a file for im/v1/files must hold 1 byte to 30 MB, not ${file.bytes.length}`);
      }
      // Not the typed `im.v1.file.create`: it resolves `body.data` only, so an HTTP 200 with `code ≠ 0` (a token
      // Feishu rejects, say) would come back as `null` with its code lost, and it sends a Buffer as a part without
      // a filename, which multipart servers read as a plain field. `request` resolves the whole body; a stream with
      // a `path` gives the part a filename and a content type (form-data reads both from it). A new stream for
      // every attempt: the transport retries (a refreshed token, a rate-limit wait) and a stream is read once.
      // The part's own filename is a raw header value: kept to printable ASCII without quotes or slashes (form-data
      // neither escapes nor encodes it); the name people see is `file_name`.
      // https://open.feishu.cn/document/server-docs/im-v1/file/create
      const partName = file.fileName.replace(/[^\x20-\x7e]|["\\/]/g, '_');
      const body: unknown = await transport.call(endpoint, () =>
        sdk.request({
          url: '/open-apis/im/v1/files',
          method: 'POST',
          headers: { 'Content-Type': 'multipart/form-data' },
          data: {
            file_type: file.fileType ?? 'stream',
            file_name: file.fileName,
            file: Object.assign(Readable.from([file.bytes]), { path: partName }),
          },
        }),
      );
      const fileKey = (body as { data?: { file_key?: unknown } } | undefined)?.data?.file_key;
      if (typeof fileKey !== 'string' || fileKey === '')
        throw transport.unexpected(endpoint, body, 'data.file_key');
      return { fileKey };
    },
  };
}
