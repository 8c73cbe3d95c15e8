/**
 * Shapes of what Feishu delivers to the webhook, after decryption.
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
 */

/** Normalised envelope header; v1 (`uuid`) deliveries are mapped onto the v2 names. The verification token
 * is checked at ingress and not carried further. */
export interface EventHeader {
  event_id: string;
  event_type: string;
  /** Units differ between doc pages: opaque, for logs only. */
  create_time?: string;
  /** On the wire only: `openFeishuRequest` checks it and drops it from the envelope it returns. */
  token?: string;
  app_id?: string;
  tenant_key?: string;
}

export interface EventEnvelope<E = unknown> {
  schema: '2.0';
  header: EventHeader;
  event: E;
}

export interface UserId {
  open_id?: string;
  union_id?: string;
  user_id?: string;
}

export interface MessageMention {
  /** Placeholder in the text, e.g. `@_user_1`; `@_all` for @everyone. */
  key: string;
  id: UserId;
  name: string;
  tenant_key?: string;
}

/** `im.message.receive_v1` → `event`. https://open.feishu.cn/document/server-docs/im-v1/message/events/receive */
export interface MessageReceiveEvent {
  sender: {
    sender_id?: UserId;
    /** `user` for people; `app` for bots and apps. */
    sender_type: string;
    tenant_key?: string;
  };
  message: {
    message_id: string;
    root_id?: string;
    parent_id?: string;
    thread_id?: string;
    create_time?: string;
    chat_id: string;
    chat_type: 'p2p' | 'group' | string;
    message_type: string;
    /** JSON string whose shape depends on `message_type`. */
    content: string;
    mentions?: MessageMention[];
  };
}

/** `card.action.trigger` → `event` (card JSON 2.0 callbacks). */
export interface CardActionEvent {
  operator: { open_id?: string; user_id?: string; union_id?: string; tenant_key?: string };
  token?: string;
  action: {
    value?: Record<string, unknown>;
    tag?: string;
    name?: string;
    form_value?: Record<string, unknown>;
  };
  context?: { open_message_id?: string; open_chat_id?: string; url?: string; preview_token?: string };
  host?: string;
}

/** `im.chat.member.bot.added_v1` → `event`. */
export interface BotAddedEvent {
  chat_id: string;
  operator_id?: UserId;
  name?: string;
}

/**
 * `application.bot.menu_v6` → `event`: a click on a bot menu item whose action is "push event". Menus exist in the
 * private chat with the bot only, so the click always comes from there; the event names neither that chat nor a
 * message. `event_key` is what the console says for the item (1–30 characters); `timestamp` is when it was clicked
 * (a string in the docs, a number in the SDK's types).
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/bot/events/menu
 */
export interface BotMenuEvent {
  operator: { operator_name?: string; operator_id: UserId };
  event_key: string;
  timestamp?: string | number;
}

export const EVENT_MESSAGE_RECEIVE = 'im.message.receive_v1';
export const EVENT_CARD_ACTION = 'card.action.trigger';
export const EVENT_BOT_ADDED = 'im.chat.member.bot.added_v1';
export const EVENT_BOT_MENU = 'application.bot.menu_v6';
