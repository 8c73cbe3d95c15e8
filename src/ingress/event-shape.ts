/**
 * The shape check every verified event passes before anything acts on it: the fields the bot reads, for the event
 * types it handles, have the types the handlers assume. Feishu signs what it sends, so a mismatch is not an attack
 * to refuse but an event the bot cannot read: the caller drops it with one log line, instead of a handler throwing
 * on `mentions.some` or sending a message id with `/` in it into a request path.
 *
 * Pure and independent of any ingress (webhook today, long connection later): in an envelope, out the same
 * envelope, typed, or the first field that failed and why. The why names the type found, never the value.
 *
 * Hand-written rather than JSON Schema: ajv reaches us only through Fastify (`@fastify/ajv-compiler`), so importing
 * it would be an undeclared dependency at whatever version Fastify picks, and this would no longer be free of
 * Fastify. The schema is a dozen fields; the checkers below say the same in a few lines and report the first
 * failing field as a path, which is all the log line needs.
 */
import {
  EVENT_BOT_ADDED,
  EVENT_BOT_MENU,
  EVENT_CARD_ACTION,
  EVENT_MESSAGE_RECEIVE,
  type EventEnvelope,
} from '../feishu/events.js';

export type EventShapeCheck =
  | { ok: true; envelope: EventEnvelope }
  | {
      ok: false;
      /** `header.event_type` when it is a string (it names the schema that failed), else undefined. */
      eventType: string | undefined;
      /** `header.event_id` when it passed its own check, for the log line; else undefined. */
      eventId: string | undefined;
      /** Path of the first field that failed, e.g. `event.message.mentions[0].id.open_id`. */
      field: string;
      /** What was wrong, by type only: `missing`, `expected an array, got null`, `not a message id (om_…)`, … */
      problem: string;
    };

/**
 * Ids go into request paths, store keys and job ids. Feishu documents their prefixes (`om_` message, `oc_` chat,
 * `ou_` open id) and sends letters, digits and `_` after them; the prefix means a chat id cannot pass for a message
 * id, and the alphabet keeps it one URL path segment.
 * https://open.feishu.cn/document/server-docs/im-v1/message/events/receive
 */
const ID_KINDS = {
  message: { pattern: /^om_[A-Za-z0-9_-]{1,125}$/, problem: 'not a message id (om_…)' },
  chat: { pattern: /^oc_[A-Za-z0-9_-]{1,125}$/, problem: 'not a chat id (oc_…)' },
  open: { pattern: /^ou_[A-Za-z0-9_-]{1,125}$/, problem: 'not an open_id (ou_…)' },
} as const;
/** Event ids are 32 hex digits in practice but opaque; bounded so a log line or store key stays small. */
const MAX_EVENT_ID_LENGTH = 256;
/** Menu keys are 1–30 characters in the console; a little slack, and still small enough to log. */
const MAX_MENU_KEY_LENGTH = 64;

interface Mismatch {
  field: string;
  problem: string;
}

/** Checks one value at `field`; undefined when it fits. */
type Check = (value: unknown, field: string) => Mismatch | undefined;

/** Checks `envelope` against the fields the bot reads. Unknown event types pass with only the envelope checked. */
export function checkEventShape(envelope: unknown): EventShapeCheck {
  const header = isRecord(envelope) && isRecord(envelope.header) ? envelope.header : {};
  const eventType = typeof header.event_type === 'string' ? header.event_type : undefined;
  const mismatch =
    ENVELOPE(envelope, '') ?? EVENT_SHAPES.get(eventType ?? '')?.((envelope as EventEnvelope).event, 'event');
  if (!mismatch) return { ok: true, envelope: envelope as EventEnvelope };
  const eventId =
    mismatch.field !== 'header.event_id' && typeof header.event_id === 'string' ? header.event_id : undefined;
  return { ok: false, eventType, eventId, ...mismatch };
}

// ── checkers ──────────────────────────────────────────────────────────────────────────────────────────────

const str: Check = (value, field) =>
  typeof value === 'string' ? undefined : expected('a string', value, field);

const nonEmptyString: Check = (value, field) =>
  str(value, field) ?? (value === '' ? { field, problem: 'empty' } : undefined);

function boundedString(max: number): Check {
  return (value, field) =>
    nonEmptyString(value, field) ??
    ((value as string).length > max ? { field, problem: `longer than ${max}` } : undefined);
}

/** A Feishu id of one kind: present, non-empty, with its prefix, URL-safe. */
function id(kind: keyof typeof ID_KINDS): Check {
  const { pattern, problem } = ID_KINDS[kind];
  return (value, field) =>
    nonEmptyString(value, field) ?? (pattern.test(value as string) ? undefined : { field, problem });
}

/**
 * An id Feishu may leave empty: `@_all` mentions carry `open_id: ""`, and the code treats "" as no id. Anything
 * else must be a real id, since it may end up in a request.
 */
function idOrEmpty(kind: keyof typeof ID_KINDS): Check {
  const check = id(kind);
  return (value, field) => (value === '' ? undefined : check(value, field));
}

/** A string or a finite number: fields the docs and the SDK's types disagree on. */
const stringOrNumber: Check = (value, field) =>
  typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))
    ? undefined
    : expected('a string or a number', value, field);

function literal(want: string): Check {
  return (value, field) =>
    str(value, field) ?? (value === want ? undefined : { field, problem: `not "${want}"` });
}

/** Absent is fine; `null` is not: Feishu omits what it does not send, and the handlers only default `undefined`. */
function optional(check: Check): Check {
  return (value, field) => (value === undefined ? undefined : check(value, field));
}

/** An object whose listed fields pass their checks; fields not listed are not looked at. */
function object(fields: Record<string, Check>): Check {
  // Listed once here, not on every event: this runs for each object of every event the webhook accepts.
  const checks = Object.entries(fields);
  return (value, field) => {
    if (!isRecord(value)) return expected('an object', value, field);
    for (const [key, check] of checks) {
      const mismatch = check(value[key], field ? `${field}.${key}` : key);
      if (mismatch) return mismatch;
    }
    return undefined;
  };
}

function arrayOf(item: Check): Check {
  return (value, field) => {
    if (!Array.isArray(value)) return expected('an array', value, field);
    for (const [index, element] of value.entries()) {
      const mismatch = item(element, `${field}[${index}]`);
      if (mismatch) return mismatch;
    }
    return undefined;
  };
}

// ── the envelope and the events the bot handles: every field src/bot reads, and nothing else ─────────────────

/** v2 envelope as `openFeishuRequest` hands it on (v1 deliveries are mapped onto it there). */
const ENVELOPE = object({
  schema: literal('2.0'),
  header: object({ event_id: boundedString(MAX_EVENT_ID_LENGTH), event_type: nonEmptyString }),
  event: object({}),
});

/** Mention `id`s: only `open_id` is compared (with the bot's own). */
const USER_ID = object({ open_id: optional(idOrEmpty('open')) });

/** https://open.feishu.cn/document/server-docs/im-v1/message/events/receive */
const MESSAGE_RECEIVE = object({
  sender: object({
    sender_type: str,
    sender_id: optional(USER_ID),
  }),
  message: object({
    message_id: id('message'),
    chat_id: id('chat'),
    chat_type: nonEmptyString,
    message_type: nonEmptyString,
    // A JSON string whose shape depends on message_type; the message parser reads it defensively.
    content: str,
    mentions: optional(arrayOf(object({ key: str, id: USER_ID }))),
  }),
});

/** https://open.feishu.cn/document/server-docs/group/chat-member/event/added-2 */
const BOT_ADDED = object({ chat_id: id('chat') });

/**
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 * `action.value` is not checked here: the button-value decoder answers one it cannot read as a stale card.
 */
const CARD_ACTION = object({
  operator: object({ open_id: optional(idOrEmpty('open')) }),
  action: object({}),
  context: optional(
    object({
      open_message_id: optional(idOrEmpty('message')),
      open_chat_id: optional(idOrEmpty('chat')),
    }),
  ),
});

/**
 * The card goes to `operator_id.open_id` (a request body, and a store key for the person's private chat), so it
 * must be there and be an open id; `timestamp` is only logged.
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/application-v6/bot/events/menu
 */
const BOT_MENU = object({
  operator: object({ operator_id: object({ open_id: id('open') }) }),
  event_key: boundedString(MAX_MENU_KEY_LENGTH),
  timestamp: optional(stringOrNumber),
});

const EVENT_SHAPES: ReadonlyMap<string, Check> = new Map([
  [EVENT_MESSAGE_RECEIVE, MESSAGE_RECEIVE],
  [EVENT_BOT_ADDED, BOT_ADDED],
  [EVENT_CARD_ACTION, CARD_ACTION],
  [EVENT_BOT_MENU, BOT_MENU],
]);

function expected(what: string, value: unknown, field: string): Mismatch {
  return { field, problem: value === undefined ? 'missing' : `expected ${what}, got ${typeOf(value)}` };
}

/** The JSON type of a value: what the log may say about it. */
function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : typeof value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
