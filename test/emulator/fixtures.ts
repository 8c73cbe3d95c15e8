/**
 * Real-shaped inbound deliveries for end-to-end tests, plus the crypto Feishu applies to them.
 * The crypto is written from the platform docs with node:crypto only, never by calling src/, so a bug in the
 * bot's verifier cannot hide behind the same bug here.
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type {
  BotMenuEvent,
  CardActionEvent,
  EventEnvelope,
  MessageMention,
  MessageReceiveEvent,
} from '../../src/feishu/events.js';
import type { EmulatedDoc, EmulatedLike, EmulatedViewer } from './feishu-emulator.js';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');

/** Post (rich text) content as it arrives in `im.message.receive_v1`: no locale wrapper. */
export interface PostContent {
  title?: string;
  content: Array<Array<Record<string, unknown>>>;
}

export interface MessageEventOptions {
  /** Text message body; mention keys (`@_user_1`) stay in the text exactly as Feishu sends them. */
  text?: string;
  /** Sends a `post` message instead of `text`. */
  post?: PostContent;
  chatType?: 'p2p' | 'group';
  chatId?: string;
  messageId?: string;
  eventId?: string;
  senderOpenId?: string;
  senderType?: string;
  mentions?: MessageMention[];
  rootId?: string;
  parentId?: string;
  /** `header.token`: the Verification Token from the console. */
  verificationToken?: string;
  appId?: string;
  tenantKey?: string;
}

export const DEFAULT_TENANT_KEY = '736588c9260f175e';
export const DEFAULT_VERIFICATION_TOKEN = 'rvaYgkND1GOiu5MM0E1rncYC6PLtF7JV';
export const DEFAULT_DOC_URL = 'https://sample.feishu.cn/docx/doxcnAJ9VRRJqVMYZ1MyKnayXWe';

/**
 * A v2 `im.message.receive_v1` envelope.
 * https://open.feishu.cn/document/server-docs/im-v1/message/events/receive
 */
export function messageEvent(opts: MessageEventOptions = {}): EventEnvelope<MessageReceiveEvent> {
  const tenantKey = opts.tenantKey ?? DEFAULT_TENANT_KEY;
  const mentions = opts.mentions ?? [];
  const chatType = opts.chatType ?? (mentions.length > 0 ? 'group' : 'p2p');
  const defaultText = [...mentions.map((m) => m.key), `stats ${DEFAULT_DOC_URL}`].join(' ');
  const now = Date.now();
  const openId = opts.senderOpenId ?? `ou_${hex(16)}`;
  return {
    schema: '2.0',
    header: {
      event_id: opts.eventId ?? hex(16),
      event_type: 'im.message.receive_v1',
      // Milliseconds on this page, seconds on others: consumers must treat it as opaque.
      create_time: String(now),
      token: opts.verificationToken ?? DEFAULT_VERIFICATION_TOKEN,
      app_id: opts.appId ?? `cli_${hex(8)}`,
      tenant_key: tenantKey,
    },
    event: {
      sender: {
        sender_id: { union_id: `on_${hex(16)}`, user_id: hex(4), open_id: openId },
        sender_type: opts.senderType ?? 'user',
        tenant_key: tenantKey,
      },
      message: {
        message_id: opts.messageId ?? `om_${hex(16)}`,
        ...(opts.rootId ? { root_id: opts.rootId } : {}),
        ...(opts.parentId ? { parent_id: opts.parentId } : {}),
        create_time: String(now),
        chat_id: opts.chatId ?? `oc_${hex(16)}`,
        chat_type: chatType,
        message_type: opts.post ? 'post' : 'text',
        // Feishu delivers content as a JSON *string*.
        content: JSON.stringify(opts.post ?? { text: opts.text ?? defaultText }),
        ...(mentions.length > 0 ? { mentions } : {}),
      },
    },
  };
}

/** The bot as it appears in `mentions`; Feishu leaves `user_id` empty for bots. */
export function botMention(
  botOpenId: string,
  key = '@_user_1',
  tenantKey = DEFAULT_TENANT_KEY,
): MessageMention {
  return {
    key,
    id: { open_id: botOpenId, union_id: `on_${hex(16)}`, user_id: '' },
    name: 'Stats Bot',
    tenant_key: tenantKey,
  };
}

/** A person mentioned next to the bot, e.g. to test that only the bot's open_id counts. */
export function userMention(openId: string, name: string, key = '@_user_2'): MessageMention {
  return {
    key,
    id: { open_id: openId, union_id: `on_${hex(16)}`, user_id: hex(4) },
    name,
    tenant_key: DEFAULT_TENANT_KEY,
  };
}

/** `@所有人` carries empty ids, so matching on ids alone never mistakes it for the bot. */
export function allMention(): MessageMention {
  return {
    key: '@_all',
    id: { open_id: '', union_id: '', user_id: '' },
    name: '所有人',
    tenant_key: DEFAULT_TENANT_KEY,
  };
}

/** The challenge Feishu posts when the Request URL is saved in the console (plaintext form). */
export function urlVerification(
  challenge: string,
  token = DEFAULT_VERIFICATION_TOKEN,
): Record<string, string> {
  return { challenge, token, type: 'url_verification' };
}

/**
 * AES-256-CBC with PKCS7 padding, key = SHA-256(encryptKey), output = base64(iv ‖ ciphertext).
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/encrypt-key-encryption-configuration-case
 */
export function encryptForFeishu(plain: string, encryptKey: string): string {
  const key = createHash('sha256').update(encryptKey).digest();
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', key, iv);
  return Buffer.concat([iv, cipher.update(plain, 'utf8'), cipher.final()]).toString('base64');
}

/** Headers Feishu adds when an Encrypt Key is set: hex(sha256(timestamp + nonce + key + rawBody)). */
export function signFeishuRequest(
  rawBody: string,
  encryptKey: string,
  timestampSec: number,
  nonce: string,
): Record<string, string> {
  const timestamp = String(timestampSec);
  const signature = createHash('sha256')
    .update(timestamp + nonce + encryptKey)
    .update(rawBody, 'utf8')
    .digest('hex');
  return {
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': signature,
  };
}

/** A complete encrypted + signed delivery: `{ "encrypt": … }` body and the matching headers. */
export function buildEncryptedRequest(
  payload: unknown,
  encryptKey: string,
  opts: { timestampSec?: number; nonce?: string } = {},
): { body: string; headers: Record<string, string> } {
  const body = JSON.stringify({ encrypt: encryptForFeishu(JSON.stringify(payload), encryptKey) });
  const headers = signFeishuRequest(
    body,
    encryptKey,
    opts.timestampSec ?? Math.floor(Date.now() / 1000),
    opts.nonce ?? hex(8),
  );
  return { body, headers: { 'content-type': 'application/json', ...headers } };
}

// ── people: viewers, likers, card clicks ──────────────────────────────────────────────────────────────

const SURNAMES = [
  '王',
  '李',
  '张',
  '刘',
  '陈',
  '杨',
  '黄',
  '赵',
  '吴',
  '周',
  '徐',
  '孙',
  '马',
  '朱',
  '胡',
  '郭',
];
const SURNAMES_EN = [
  'Wang',
  'Li',
  'Zhang',
  'Liu',
  'Chen',
  'Yang',
  'Huang',
  'Zhao',
  'Wu',
  'Zhou',
  'Xu',
  'Sun',
  'Ma',
  'Zhu',
  'Hu',
  'Guo',
];
const GIVEN = [
  '伟',
  '芳',
  '娜',
  '敏',
  '静',
  '磊',
  '洋',
  '艳',
  '勇',
  '军',
  '杰',
  '娟',
  '涛',
  '明',
  '超',
  '霞',
];
const GIVEN_EN = [
  'Wei',
  'Fang',
  'Na',
  'Min',
  'Jing',
  'Lei',
  'Yang',
  'Yan',
  'Yong',
  'Jun',
  'Jie',
  'Juan',
  'Tao',
  'Ming',
  'Chao',
  'Xia',
];

/** Distinct names for the first 256 people, then the same pattern with a number, so n can be anything. */
function personName(index: number): { zh: string; en: string } {
  const surname = index % SURNAMES.length;
  const given = Math.floor(index / SURNAMES.length) % GIVEN.length;
  const round = Math.floor(index / (SURNAMES.length * GIVEN.length));
  const suffix = round > 0 ? String(round + 1) : '';
  return {
    zh: `${SURNAMES[surname]}${GIVEN[given]}${suffix}`,
    en: `${GIVEN_EN[given]} ${SURNAMES_EN[surname]}${suffix}`,
  };
}

/** Avatar URLs as Feishu serves them from its image CDN. */
function avatarUrl(): string {
  return `https://s1-imfile.feishucdn.com/static-resource/v1/v3_00${hex(2)}_${hex(4)}-${hex(2)}-${hex(2)}-${hex(2)}-${hex(6)}g~?image_size=72x72&cut_type=&quality=&format=image&sticker_format=.webp`;
}

/**
 * A document's statistics for `addDoc`: the totals a test checks, and small fixed figures for the rest (3 likes,
 * 1 visitor and 2 views today, no like today) unless it overrides them.
 */
export function docStatistics(
  figures: Pick<EmulatedDoc['statistics'], 'uv' | 'pv'> & Partial<EmulatedDoc['statistics']>,
): EmulatedDoc['statistics'] {
  return { like_count: 3, uv_today: 1, pv_today: 2, like_count_today: 0, ...figures };
}

export interface PeopleOptions {
  /** Epoch seconds of the most recent entry; default a minute ago. */
  newest?: number;
  /** Seconds between consecutive entries (each one older than the previous); default 17 minutes. */
  stepSeconds?: number;
}

/** `n` viewers, most recent first, with distinct `ou_` ids, names, avatars and strictly decreasing times. */
export function makeViewers(n: number, opts: PeopleOptions = {}): EmulatedViewer[] {
  const newest = opts.newest ?? Math.floor(Date.now() / 1000) - 60;
  const step = opts.stepSeconds ?? 17 * 60;
  return Array.from({ length: n }, (_, i) => ({
    viewer_id: `ou_${hex(16)}`,
    name: personName(i).zh,
    avatar_url: avatarUrl(),
    last_view_time: String(newest - i * step),
  }));
}

export interface LikesOptions extends PeopleOptions {
  /** Which likers (by index) Feishu desensitises: an index list or a predicate. */
  desensitized?: readonly number[] | ((index: number) => boolean);
}

/** `n` likers, most recent first; desensitised ones carry no name, English name or avatar, as the API sends them. */
export function makeLikes(n: number, opts: LikesOptions = {}): EmulatedLike[] {
  const newest = opts.newest ?? Math.floor(Date.now() / 1000) - 60;
  const step = opts.stepSeconds ?? 17 * 60;
  const rule = opts.desensitized;
  const isHidden = (i: number) => (typeof rule === 'function' ? rule(i) : (rule?.includes(i) ?? false));
  return Array.from({ length: n }, (_, i) => {
    const base = { user_id: `ou_${hex(16)}`, last_liked_time: String(newest - i * step) };
    if (isHidden(i)) return { ...base, user_is_desensitized: true };
    const name = personName(i);
    return {
      ...base,
      user_name: name.zh,
      user_en_name: name.en,
      user_avatar_url: avatarUrl(),
      user_is_desensitized: false,
    };
  });
}

export interface CardActionOptions {
  operatorOpenId: string;
  /** The clicked button's `behaviors[].value`. */
  value: Record<string, unknown>;
  openMessageId: string;
  openChatId: string;
  eventId?: string;
  /** `event.token`: the delayed-update token (30 min, at most 2 updates). Default `c-` + hex. */
  token?: string;
  /** `header.token`: the Verification Token from the console. */
  verificationToken?: string;
  tag?: string;
  name?: string;
  formValue?: Record<string, unknown>;
  appId?: string;
  tenantKey?: string;
}

/**
 * A v2 `card.action.trigger` envelope for a button on a Card JSON 2.0 message, field for field as the
 * callback doc shows it (`create_time` in microseconds there).
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 */
export function cardActionEvent(opts: CardActionOptions): EventEnvelope<CardActionEvent> {
  const tenantKey = opts.tenantKey ?? DEFAULT_TENANT_KEY;
  return {
    schema: '2.0',
    header: {
      event_id: opts.eventId ?? hex(16),
      event_type: 'card.action.trigger',
      create_time: String(Date.now() * 1000),
      token: opts.verificationToken ?? DEFAULT_VERIFICATION_TOKEN,
      app_id: opts.appId ?? `cli_${hex(8)}`,
      tenant_key: tenantKey,
    },
    event: {
      operator: {
        tenant_key: tenantKey,
        user_id: hex(4),
        open_id: opts.operatorOpenId,
        union_id: `on_${hex(16)}`,
      },
      token: opts.token ?? `c-${hex(20)}`,
      action: {
        value: opts.value,
        tag: opts.tag ?? 'button',
        ...(opts.name !== undefined ? { name: opts.name } : {}),
        ...(opts.formValue !== undefined ? { form_value: opts.formValue } : {}),
      },
      host: 'im_message',
      context: { open_message_id: opts.openMessageId, open_chat_id: opts.openChatId },
    },
  };
}

export interface MenuEventOptions {
  /** The push-event key the console has for the menu item (1–30 characters). */
  eventKey: string;
  operatorOpenId: string;
  operatorName?: string;
  eventId?: string;
  verificationToken?: string;
  appId?: string;
  tenantKey?: string;
}

/**
 * A v2 `application.bot.menu_v6` envelope: a click on a bot menu item whose action is "push event", in the private
 * chat with the bot (menus exist only there). The event names the person and the key, not the chat. `timestamp` is
 * a string in the docs (a number in the SDK's types); `operator_name` needs a scope of its own and may be absent.
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/bot/events/menu
 */
export function menuEvent(opts: MenuEventOptions): EventEnvelope<BotMenuEvent> {
  const now = Date.now();
  return {
    schema: '2.0',
    header: {
      event_id: opts.eventId ?? hex(16),
      event_type: 'application.bot.menu_v6',
      create_time: String(now),
      token: opts.verificationToken ?? DEFAULT_VERIFICATION_TOKEN,
      app_id: opts.appId ?? `cli_${hex(8)}`,
      tenant_key: opts.tenantKey ?? DEFAULT_TENANT_KEY,
    },
    event: {
      operator: {
        ...(opts.operatorName !== undefined ? { operator_name: opts.operatorName } : {}),
        operator_id: { union_id: `on_${hex(16)}`, user_id: hex(4), open_id: opts.operatorOpenId },
      },
      event_key: opts.eventKey,
      timestamp: String(now),
    },
  };
}
