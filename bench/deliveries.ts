/**
 * Webhook deliveries for the bench, made before any timing starts: real-shaped `im.message.receive_v1` events
 * (test/emulator/fixtures.ts), each with ids of its own, encrypted and signed the way Feishu does it. Every target is
 * started with `BENCH_KEYS`, so every body is valid for every target.
 */
import { randomBytes } from 'node:crypto';
import { type Agent, request } from 'node:http';
import {
  botMention,
  DEFAULT_VERIFICATION_TOKEN,
  encryptForFeishu,
  messageEvent,
  signFeishuRequest,
  userMention,
} from '../test/emulator/fixtures.js';

export const BENCH_KEYS = {
  encryptKey: 'bench-encrypt-key-Qm4x',
  verificationToken: DEFAULT_VERIFICATION_TOKEN,
} as const;

export const WEBHOOK_PATH = '/webhook/event';

export interface SignedDelivery {
  body: string;
  headers: Record<string, string>;
  /** `event.message.message_id`, to match the bot's reply. */
  messageId: string;
}

/**
 * - `chatter`: a group message that mentions a colleague, not the bot. Once the bot knows its own open_id it sees
 *   at the door that the message is not for it and acknowledges it without queueing anything (`Bot.ignoresAtOnce`),
 *   as the SDK anchor's empty handler does nothing: what is measured is the ingress, not a command.
 * - `command`: `@bot help` in a group of its own. A message for the bot cannot be acknowledged at the door, so with
 *   Redis each one is a job enqueued before the 200: the durable path itself. (The bot keeps to Feishu's 1,000
 *   messages a minute per app, so the replies trail far behind; what is measured is the ack.)
 * - `stats`: `@bot stats <link>` for one document from one person, so that after the first one every answer comes from
 *   the cache; each in a group of its own, as Feishu allows a bot 5 messages a second per group and the bot keeps to
 *   that (src/feishu/rate-limits.ts).
 */
export type DeliveryKind =
  | { kind: 'chatter' }
  | { kind: 'command'; botOpenId: string }
  | { kind: 'stats'; botOpenId: string; docUrl: string; senderOpenId: string };

const EVENT_ID = '__EVENT_ID__';
const MESSAGE_ID = '__MESSAGE_ID__';
const CHAT_ID = '__CHAT_ID__';

/** A maker of distinct deliveries: one envelope serialised once, ids substituted per delivery (cheap at 100k). */
export function deliveryMaker(what: DeliveryKind): () => SignedDelivery {
  const envelope =
    what.kind === 'chatter'
      ? messageEvent({
          eventId: EVENT_ID,
          messageId: `om_${MESSAGE_ID}`,
          chatType: 'group',
          text: '@_user_1 the numbers for Q3 are in https://sample.feishu.cn/docx/doxcnAJ9VRRJqVMYZ1MyKnayXWe',
          mentions: [userMention(`ou_${randomBytes(16).toString('hex')}`, '王芳', '@_user_1')],
        })
      : what.kind === 'command'
        ? messageEvent({
            eventId: EVENT_ID,
            messageId: `om_${MESSAGE_ID}`,
            chatId: `oc_${CHAT_ID}`,
            text: '@_user_1 help',
            mentions: [botMention(what.botOpenId)],
          })
        : messageEvent({
            eventId: EVENT_ID,
            messageId: `om_${MESSAGE_ID}`,
            chatId: `oc_${CHAT_ID}`,
            senderOpenId: what.senderOpenId,
            text: `@_user_1 stats ${what.docUrl}`,
            mentions: [botMention(what.botOpenId)],
          });
  const template = JSON.stringify(envelope);
  // 32 hex digits like Feishu's event ids: 8 random (distinct across runs and processes), 24 counted.
  const prefix = randomBytes(4).toString('hex');
  let counter = 0;
  return () => {
    const id = prefix + (counter++).toString(16).padStart(24, '0');
    const plain = template.replace(EVENT_ID, id).replace(MESSAGE_ID, id).replace(CHAT_ID, id);
    const body = JSON.stringify({ encrypt: encryptForFeishu(plain, BENCH_KEYS.encryptKey) });
    const headers = signFeishuRequest(body, BENCH_KEYS.encryptKey, Math.floor(Date.now() / 1000), id);
    return { body, headers: { 'content-type': 'application/json', ...headers }, messageId: `om_${id}` };
  };
}

/** POSTs one delivery and resolves with the status once the answer has been read. */
export function postDelivery(agent: Agent, base: URL, delivery: SignedDelivery): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: 'POST',
        path: WEBHOOK_PATH,
        headers: { ...delivery.headers, 'content-length': Buffer.byteLength(delivery.body) },
      },
      (res) => {
        res.resume();
        res.once('end', () => resolve(res.statusCode ?? 0));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(delivery.body);
  });
}
