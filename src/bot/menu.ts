/**
 * The bot menu (`application.bot.menu_v6`): each menu item's push-event key stands for a command, which runs as if
 * the person had typed it in their private chat with the bot, so a click answers with exactly the card the typed
 * command would. Menus exist in private chats only, and up to 3 menus of 5 items each are configured in the
 * console (Bot → custom menu → push event, with the keys below).
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/bot/events/menu
 */
import type { ChatDirectory } from '../data/chats.js';
import type { SubscriptionStore } from '../digest/subscriptions.js';
import type { Store } from '../store/store.js';

export interface MenuEntry {
  /** The command text the key stands for, parsed as a typed message would be. */
  text: string;
  /**
   * The command reads this chat's state (the digest list): the person's private chat is looked up first. Such a
   * command must only read: when no chat is known it runs on the chat id `''`, which has no digest.
   */
  needsChat: boolean;
}

/**
 * The keys to enter in the console, and what each runs. Stable English words: renaming one breaks the menus of every
 * deployment that entered it. `stats` needs a link, which a menu cannot carry: it answers with the usage card that
 * says how to ask (`stats` typed alone).
 */
export const MENU_KEYS: ReadonlyMap<string, MenuEntry> = new Map([
  ['help', { text: 'help', needsChat: false }],
  ['stats', { text: 'stats', needsChat: false }],
  ['digest', { text: 'digest', needsChat: true }],
  ['workplace', { text: 'workplace', needsChat: false }],
  ['app', { text: 'app', needsChat: false }],
  ['usage', { text: 'usage', needsChat: false }],
]);

/** What an unknown key (a typo in the console, an item since removed from this list) answers with. */
const UNKNOWN_KEY: MenuEntry = { text: 'help', needsChat: false };

/** The command a menu key stands for; case and surrounding spaces are forgiven, anything else unknown is help. */
export function resolveMenuKey(eventKey: string): { entry: MenuEntry; known: boolean } {
  const entry = MENU_KEYS.get(eventKey.trim().toLowerCase());
  return entry ? { entry, known: true } : { entry: UNKNOWN_KEY, known: false };
}

// ── the person's private chat ───────────────────────────────────────────────────────────────────────────────

/**
 * A menu event names the person, not their private chat with the bot, and the digest list is kept per chat. Feishu
 * documents no lookup from an open_id to that chat (a send to the open_id lands in it, and the send's response
 * names it in `chat_id`, but only once the card is out), so the bot remembers it from the person's own private
 * messages: every command typed there carries `chat_id` with `chat_type: p2p`. A person who never wrote privately
 * has no private digest (adding one takes a typed `digest add`), and gets the empty list, as typed `digest` would.
 */
const PRIVATE_CHAT_PREFIX = 'fsb:p2p:';
/** Refreshed by every private message; a person silent for this long is looked up again (below). */
const PRIVATE_CHAT_TTL_MS = 180 * 24 * 60 * 60 * 1000;

export async function rememberPrivateChat(store: Store, openId: string, chatId: string): Promise<void> {
  await store.set(PRIVATE_CHAT_PREFIX + openId, chatId, PRIVATE_CHAT_TTL_MS);
}

export interface PrivateChatDeps {
  store: Store;
  subscriptions: SubscriptionStore;
  chats: ChatDirectory;
}

/**
 * The person's private chat with the bot: remembered, or else the private digest they set up before the bot
 * remembered chats (or so long ago that the memory lapsed), found as a subscription they made in a chat Feishu says
 * is p2p (one cached `im/v1/chats/:chat_id` per digest of theirs, on that first click only). Undefined: none known,
 * so no private digest either.
 */
export async function findPrivateChat(openId: string, deps: PrivateChatDeps): Promise<string | undefined> {
  const remembered = await deps.store.get(PRIVATE_CHAT_PREFIX + openId);
  if (remembered) return remembered;
  const theirs = (await deps.subscriptions.all()).filter((sub) => sub.subscriber === openId);
  for (const sub of theirs) {
    if (!(await deps.chats.isPrivate(sub.chatId))) continue;
    await rememberPrivateChat(deps.store, openId, sub.chatId);
    return sub.chatId;
  }
  return undefined;
}
