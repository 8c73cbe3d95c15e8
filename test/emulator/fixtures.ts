/**
 * Real-shaped inbound deliveries for end-to-end tests, plus the crypto Feishu applies to them.
 * The crypto is written from the platform docs with node:crypto only, never by calling src/, so a bug in the
 * bot's verifier cannot hide behind the same bug here.
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case
 */
import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import type { EventEnvelope, MessageMention, MessageReceiveEvent } from '../../src/feishu/events.js';

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
