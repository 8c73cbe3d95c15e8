/**
 * Fuzz (issue 9, "Tests that must exist"): a few thousand generated hostile bodies against the real app and the
 * emulator. Seeded, so every run sends the same bodies (only the signature timestamps follow the clock, as they
 * must to be inside the window). Two phases:
 *
 * - unauthenticated: malformed JSON, wrong ciphertexts, bad signatures, stale timestamps, oversized bodies, wrong
 *   content types and methods. Each must get the 4xx its kind calls for, and none may cause a Feishu call.
 * - signed and encrypted with the real key: real-shaped events with hostile fields (wrong types, nulls, huge
 *   strings, numeric keys, arrays where objects belong, ids that leave their path segment). Each is answered 200
 *   (or 400 for an envelope without id, type or event), no handler crashes, and every Feishu call the bot makes
 *   lands on a route the emulator serves, never somewhere else through an id.
 *
 * Then the process still answers: `/healthz`, and a valid `stats` gets its card. No timing is asserted.
 */
import { createCipheriv, createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEFAULT_VERIFICATION_TOKEN, signFeishuRequest } from './emulator/fixtures.js';
import { cardText, TEST_ENCRYPT_KEY } from './helper.js';
import { useE2e } from './support/e2e.js';

const SEED = 0x5eed0908;
const DOC = 'doxcnFuzzE2eAbCdEfGhIjKlMnO';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const BODY_LIMIT = 256 * 1024;
const CONCURRENCY = 8;
const HOUR = 3600;
/** Each phase takes a few seconds here; the bound is for a loaded CI machine, never a figure asserted. */
const PHASE_TIMEOUT_MS = 120_000;

const { emulator, bot } = useE2e({
  docs: [
    {
      token: DOC,
      type: 'docx',
      title: 'Fuzz target',
      statistics: { uv: 77, pv: 1234, like_count: 9, uv_today: 1, pv_today: 3, like_count_today: 0 },
    },
  ],
  // No client-side rate limit: hostile events that are still valid are answered at once, not queued for minutes.
  rateLimits: {},
  logLevel: 'info',
});

/** Every route the bot may reach on Feishu; a call anywhere else came from an id that left its segment. */
const KNOWN_ROUTES = [
  /^\/open-apis\/auth\/v3\/tenant_access_token\/internal$/,
  /^\/open-apis\/bot\/v3\/info$/,
  /^\/open-apis\/drive\/v1\/files\/[^/]+\/(statistics|view_records)$/,
  /^\/open-apis\/drive\/v2\/files\/[^/]+\/likes$/,
  /^\/open-apis\/drive\/v1\/permissions\/[^/]+\/members$/,
  /^\/open-apis\/drive\/v1\/metas\/batch_query$/,
  /^\/open-apis\/wiki\/v2\/spaces\/get_node$/,
  /^\/open-apis\/im\/v1\/messages$/,
  /^\/open-apis\/im\/v1\/messages\/[^/]+(\/reply)?$/,
  /^\/open-apis\/im\/v1\/chats\/[^/]+$/,
];

// ── deterministic randomness ─────────────────────────────────────────────────────────────────────────────

/** mulberry32: small, fast, and the same sequence on every machine. */
class Rng {
  #state: number;
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(maxExclusive: number): number {
    return Math.floor(this.next() * maxExclusive);
  }
  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)] as T;
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(256);
    return out;
  }
  hex(bytes: number): string {
    return this.bytes(bytes).toString('hex');
  }
}

// ── building requests ────────────────────────────────────────────────────────────────────────────────────

type Route = 'event' | 'card';

interface FuzzCase {
  kind: string;
  route: Route;
  method?: string;
  body: Buffer;
  headers: Record<string, string>;
  /** The statuses this body may get. */
  allowed: readonly number[];
  /** What was done to it, for the failure message (paths only: some values are 40 KB). */
  note: string;
}

interface Outcome {
  fuzz: FuzzCase;
  status: number;
}

const nowSec = () => Math.floor(Date.now() / 1000);
const JSON_TYPE = { 'content-type': 'application/json' };

/** Feishu's encryption with the IV from the seeded generator, so the ciphertext is the same on every run. */
function encrypt(rng: Rng, plain: string | Buffer, key = TEST_ENCRYPT_KEY): string {
  const iv = rng.bytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
  const data = typeof plain === 'string' ? Buffer.from(plain, 'utf8') : plain;
  return Buffer.concat([iv, cipher.update(data), cipher.final()]).toString('base64');
}

/** A body as Feishu sends it: `{"encrypt": …}`, plus the signature headers over exactly those bytes. */
function sealed(
  rng: Rng,
  payload: unknown,
  opts: { key?: string; timestamp?: number; text?: string } = {},
): { body: string; headers: Record<string, string> } {
  const text = opts.text ?? JSON.stringify(payload);
  const body = JSON.stringify({ encrypt: encrypt(rng, text, opts.key) });
  const headers = signFeishuRequest(
    body,
    opts.key ?? TEST_ENCRYPT_KEY,
    opts.timestamp ?? nowSec(),
    rng.hex(8),
  );
  return { body, headers: { ...JSON_TYPE, ...headers } };
}

// ── real-shaped events (from the Feishu docs), with seeded ids ───────────────────────────────────────────

function header(rng: Rng, eventType: string) {
  return {
    event_id: rng.hex(16),
    event_type: eventType,
    create_time: String(Date.UTC(2026, 0, 5) + rng.int(1e9)),
    token: DEFAULT_VERIFICATION_TOKEN,
    app_id: `cli_${rng.hex(8)}`,
    tenant_key: '736588c9260f175e',
  };
}

/** `im.message.receive_v1`: a private `help`, a group message to someone else, or a group message to the bot. */
function messageEnvelope(rng: Rng, botOpenId: string) {
  const shape = rng.pick(['p2p', 'group-other', 'group-bot'] as const);
  const mentions =
    shape === 'p2p'
      ? undefined
      : [
          {
            key: '@_user_1',
            id: {
              open_id: shape === 'group-bot' ? botOpenId : `ou_${rng.hex(16)}`,
              union_id: `on_${rng.hex(16)}`,
              user_id: '',
            },
            name: 'Someone',
            tenant_key: '736588c9260f175e',
          },
        ];
  const text = rng.pick(['help', 'stats', `stats ${DOC_URL}`, '帮助', '']);
  return {
    schema: '2.0',
    header: header(rng, 'im.message.receive_v1'),
    event: {
      sender: {
        sender_id: { union_id: `on_${rng.hex(16)}`, user_id: rng.hex(4), open_id: `ou_${rng.hex(16)}` },
        sender_type: 'user',
        tenant_key: '736588c9260f175e',
      },
      message: {
        message_id: `om_${rng.hex(16)}`,
        root_id: `om_${rng.hex(16)}`,
        create_time: String(Date.UTC(2026, 0, 5)),
        chat_id: `oc_${rng.hex(16)}`,
        chat_type: shape === 'p2p' ? 'p2p' : 'group',
        message_type: 'text',
        content: JSON.stringify({ text: mentions ? `@_user_1 ${text}` : text }),
        ...(mentions ? { mentions } : {}),
      },
    },
  };
}

/** `card.action.trigger`: a stale value, a Refresh on the document, or a button value from nowhere. */
function cardEnvelope(rng: Rng) {
  const value = rng.pick([
    { v: 1, a: 'refresh', d: { t: DOC, y: 'docx', u: DOC_URL }, c: 'g' },
    { v: 1, a: 'viewers', d: { t: DOC, y: 'docx', u: DOC_URL }, c: 'p' },
    { v: 1, a: 'digest_remove', k: `doc-${DOC}` },
    { v: 0, a: 'old' },
  ]);
  return {
    schema: '2.0',
    header: header(rng, 'card.action.trigger'),
    event: {
      operator: {
        tenant_key: '736588c9260f175e',
        user_id: rng.hex(4),
        open_id: `ou_${rng.hex(16)}`,
        union_id: `on_${rng.hex(16)}`,
      },
      token: `c-${rng.hex(20)}`,
      action: { value, tag: 'button' },
      host: 'im_message',
      context: { open_message_id: `om_${rng.hex(16)}`, open_chat_id: `oc_${rng.hex(16)}` },
    },
  };
}

function botAddedEnvelope(rng: Rng) {
  return {
    schema: '2.0',
    header: header(rng, 'im.chat.member.bot.added_v1'),
    event: { chat_id: `oc_${rng.hex(16)}`, operator_id: { open_id: `ou_${rng.hex(16)}` }, name: 'Team' },
  };
}

/** v1 envelope, which ingress maps onto v2. https://open.feishu.cn/document/ukTMukTMukTM/uUTNz4SN1MjL1UzM */
function v1Envelope(rng: Rng) {
  return {
    uuid: rng.hex(16),
    token: DEFAULT_VERIFICATION_TOKEN,
    ts: String(Date.UTC(2026, 0, 5) / 1000),
    type: 'event_callback',
    event: { type: 'message', app_id: `cli_${rng.hex(8)}`, chat_type: 'private', text: 'help' },
  };
}

// ── hostile values ───────────────────────────────────────────────────────────────────────────────────────

const HUGE = 'A'.repeat(40_000);
const TRAVERSALS = [
  'om_x/../../auth',
  '../../../open-apis/auth/v3/tenant_access_token/internal',
  'om_%2e%2e',
  '%2e%2e',
  '..',
  '.',
  'oc_x?receive_id_type=open_id#',
  'om_x\\..\\..\\auth',
  'om_x%2F..%2F..%2Fauth',
  'ou_x/../../bot/v3/info',
  ' om_padded ',
];
const CONTENTS = [
  'not json',
  '{"text": 5}',
  '{"text": null}',
  '{"text": ["help"]}',
  '{"content": "x"}',
  '{"title": 1, "content": [[null, 5, {"tag": "a", "href": 7, "text": {}}]]}',
  '{"zh_cn": {"content": "x"}}',
  '[]',
  'null',
  '',
  JSON.stringify({ text: `stats ${'https://acme.feishu.cn/docx/'.repeat(300)}` }),
  JSON.stringify({ text: ':'.repeat(20_000) }),
  JSON.stringify({ text: '['.repeat(20_000) }),
  JSON.stringify({ text: `@_user_1 ${'@_user_1'.repeat(2_000)}` }),
  `${'['.repeat(5_000)}${']'.repeat(5_000)}`,
];
/** Anything JSON can carry where the bot expects something else. */
function hostileValue(rng: Rng): unknown {
  switch (rng.int(12)) {
    case 0:
      return rng.pick([null, true, false]);
    case 1:
      return rng.pick([0, -1, 123, 1e308, 0.5, -0]);
    case 2:
      return rng.pick([
        '',
        ' ',
        '\u0000',
        '\ud800',
        '<script>',
        '$' + '{jndi:x}',
        '__proto__',
        'constructor',
      ]);
    case 3:
      return HUGE;
    case 4:
      return rng.pick<unknown>([[], [null], [1, 'a'], [[[]]], [{}]]);
    case 5:
      return rng.pick<unknown>([{}, { a: 1 }, { 0: 'x', 1: 'y', length: 2 }, { toString: 'x', valueOf: 1 }]);
    case 6:
    case 7:
      return rng.pick(TRAVERSALS);
    case 8:
      return rng.pick(CONTENTS);
    case 9:
      // Numeric keys where arrays belong, and objects where ids belong.
      return rng.pick([{ 0: { key: '@_user_1', id: { open_id: 'ou_x' } } }, { open_id: 'ou_x' }]);
    case 10:
      return rng.pick(['p2p', 'group', 'user', 'app', 'text', 'post', 'card.action.trigger']);
    default:
      return `ou_${rng.hex(16)}`;
  }
}

const MESSAGE_PATHS = [
  'event',
  'event.sender',
  'event.sender.sender_id',
  'event.sender.sender_id.open_id',
  'event.sender.sender_id.union_id',
  'event.sender.sender_type',
  'event.message',
  'event.message.message_id',
  'event.message.root_id',
  'event.message.chat_id',
  'event.message.chat_type',
  'event.message.message_type',
  'event.message.content',
  'event.message.content',
  'event.message.mentions',
  'event.message.mentions.0',
  'event.message.mentions.0.key',
  'event.message.mentions.0.id',
  'event.message.mentions.0.id.open_id',
  'event.message.mentions.0.name',
];
const CARD_PATHS = [
  'event',
  'event.operator',
  'event.operator.open_id',
  'event.token',
  'event.action',
  'event.action.value',
  'event.action.value.a',
  'event.action.value.d',
  'event.action.value.d.t',
  'event.action.value.c',
  'event.action.value.k',
  'event.context',
  'event.context.open_message_id',
  'event.context.open_chat_id',
  'event.context.open_chat_id',
  'event.host',
];
const BOT_ADDED_PATHS = ['event', 'event.chat_id', 'event.chat_id', 'event.operator_id', 'event.name'];
const ENVELOPE_PATHS = ['schema', 'header', 'header.event_id', 'header.event_type', 'header.create_time'];
/**
 * A mutation here can make the envelope itself unreadable (no event id, type or event object): ingress answers
 * that 400 before any shape check, and 401 when the header holding the verification token is gone.
 */
const ENVELOPE_LEVEL = new Set(['schema', 'header', 'header.event_id', 'header.event_type', 'event']);

/** Sets (or, one time in eight, deletes) `path` in `target`, creating nothing: a missing parent is left alone. */
function mutate(rng: Rng, target: Record<string, unknown>, path: string): void {
  const keys = path.split('.');
  let node: unknown = target;
  for (const key of keys.slice(0, -1)) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string, unknown>)[key];
  }
  if (typeof node !== 'object' || node === null) return;
  const last = keys.at(-1) as string;
  if (rng.chance(1 / 8)) delete (node as Record<string, unknown>)[last];
  else (node as Record<string, unknown>)[last] = hostileValue(rng);
}

// ── the two phases' cases ────────────────────────────────────────────────────────────────────────────────

function unauthenticatedCases(rng: Rng, botOpenId: string): FuzzCase[] {
  const cases: FuzzCase[] = [];
  const route = (): Route => (rng.chance(0.5) ? 'event' : 'card');
  const add = (
    kind: string,
    body: Buffer | string,
    headers: Record<string, string>,
    allowed: number[],
    note = '',
  ) => cases.push({ kind, route: route(), body: Buffer.from(body), headers, allowed, note });
  const validEvent = () =>
    rng.pick([messageEnvelope(rng, botOpenId), cardEnvelope(rng), botAddedEnvelope(rng)]);
  const someSignatureHeaders = (body: string) => {
    const all = signFeishuRequest(body, `${TEST_ENCRYPT_KEY}-not`, nowSec(), rng.hex(8));
    return Object.fromEntries(Object.entries(all).filter(() => rng.chance(0.5)));
  };

  // Malformed JSON and non-objects: 400 before anything is verified (or 401 for an object without `encrypt`).
  for (let i = 0; i < 300; i++) {
    const valid = sealed(rng, validEvent()).body;
    const body = rng.pick([
      () => rng.bytes(rng.int(2000)),
      () => valid.slice(0, rng.int(valid.length)),
      () => `{"encrypt": ${valid.slice(12, 12 + rng.int(40))}`,
      () => '['.repeat(1 + rng.int(100_000)),
      () => '{"a":'.repeat(1 + rng.int(20_000)),
      () => `\ufeff${valid}`,
      () => `${valid}garbage`,
      () =>
        Buffer.concat([
          Buffer.from('{"encrypt":"'),
          Buffer.from([0xed, 0xa0, 0x80, 0xff, 0xfe]),
          Buffer.from('"}'),
        ]),
      () => rng.pick(['', 'null', '0', '"encrypt"', '[]', 'true', '[{"encrypt":"x"}]', '{}', '{"a":1}']),
      () => JSON.stringify({ encrypt: rng.pick([5, null, [], {}, true]) }),
    ])();
    add('malformed-json', body, { ...JSON_TYPE, ...someSignatureHeaders(String(body)) }, [400, 401]);
  }

  // Ciphertexts that are not Feishu's, unsigned: only the URL check travels unsigned, so all are 401.
  for (let i = 0; i < 300; i++) {
    const encrypted = rng.pick([
      () => rng.bytes(rng.int(300)).toString('base64'),
      () => rng.bytes(16 * (2 + rng.int(20))).toString('base64'),
      () => rng.bytes(16 * (2 + rng.int(20))).toString('base64url'),
      () => `${rng.bytes(64).toString('base64')}\n${rng.bytes(32).toString('base64')}`,
      () => encrypt(rng, JSON.stringify(validEvent()), `${TEST_ENCRYPT_KEY}x`),
      () => encrypt(rng, JSON.stringify(validEvent())),
      () => encrypt(rng, rng.bytes(rng.int(200))),
      () => encrypt(rng, JSON.stringify({ type: 'url_verification', challenge: 'c', token: 'wrong-token' })),
      () => encrypt(rng, JSON.stringify({ type: 'url_verification', challenge: 'c' })),
      () => encrypt(rng, 'not json'),
      () => '====',
      () => `${'A'.repeat(16)}!${'A'.repeat(15)}`,
    ])();
    add('wrong-ciphertext', JSON.stringify({ encrypt: encrypted }), { ...JSON_TYPE }, [401]);
  }

  // A real event, encrypted with the real key, whose signature does not hold: 401 before decryption.
  for (let i = 0; i < 400; i++) {
    const { body, headers } = sealed(rng, validEvent());
    const sig = headers['x-lark-signature'] as string;
    const variant = rng.int(9);
    let sent = body;
    const h: Record<string, string> = { ...headers };
    if (variant === 0)
      h['x-lark-signature'] = sealed(rng, validEvent(), { key: 'other' }).headers[
        'x-lark-signature'
      ] as string;
    if (variant === 1)
      h['x-lark-signature'] = `${sig.slice(0, 10)}${sig[10] === '0' ? '1' : '0'}${sig.slice(11)}`;
    if (variant === 2)
      h['x-lark-signature'] = rng.pick(['', 'sha256=', sig.slice(0, 32), `${sig}00`, `sha256=${sig}`]);
    if (variant === 3)
      delete h[rng.pick(['x-lark-signature', 'x-lark-request-timestamp', 'x-lark-request-nonce'])];
    if (variant === 4)
      h['x-lark-request-timestamp'] = rng.pick(['abc', '1e9', '0x10', '-5', '1.5.5', 'NaN', 'Infinity']);
    if (variant === 5) h['x-lark-request-nonce'] = rng.hex(8);
    if (variant === 6) sent = body.replace('{"encrypt":"', '{"encrypt": "');
    if (variant === 7) sent = body.replace('"}', '","extra":1}');
    if (variant === 8) {
      const at = 12 + rng.int(body.length - 20);
      sent = `${body.slice(0, at)}${body[at] === 'A' ? 'B' : 'A'}${body.slice(at + 1)}`;
    }
    add('bad-signature', sent, h, [401], `variant ${variant}`);
  }

  // Correctly signed, outside the timestamp window (12 h back, 5 min ahead): 401.
  for (let i = 0; i < 300; i++) {
    const now = nowSec();
    const timestamp = rng.pick([
      now - 13 * HOUR,
      now - 30 * 24 * HOUR,
      now + 10 * 60,
      now + 365 * 24 * HOUR,
      0,
      1,
      (now - 13 * HOUR) * 1000,
      (now + HOUR) * 1000,
      1e15,
    ]);
    const { body, headers } = sealed(rng, validEvent(), { timestamp });
    add('stale-timestamp', body, headers, [401], `ts ${timestamp - now}`);
  }

  // Oversized: 413 before parsing.
  for (let i = 0; i < 20; i++) {
    const size = BODY_LIMIT + 1 + rng.int(150_000);
    add('oversized', JSON.stringify({ encrypt: 'A'.repeat(size) }), { ...JSON_TYPE }, [413]);
  }

  // Correctly signed bodies under content types that are not JSON: 415, or 400 where Fastify reads text.
  for (let i = 0; i < 150; i++) {
    const { body, headers } = sealed(rng, validEvent());
    const type = rng.pick([
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'application/octet-stream',
      'application/xml',
      'application/jsonx',
      'image/png',
      'text/plain',
      'text/plain; charset=utf-8',
      '',
    ]);
    const h: Record<string, string> = { ...headers };
    if (type) h['content-type'] = type;
    else delete h['content-type'];
    add('content-type', body, h, [400, 415], type || 'none');
  }

  // A plain (unencrypted) event while an Encrypt Key is set, with the right token or without: 401.
  for (let i = 0; i < 100; i++) {
    const envelope = validEvent();
    if (rng.chance(0.5))
      envelope.header.token = rng.pick(['', 'wrong', DEFAULT_VERIFICATION_TOKEN.toLowerCase()]);
    add('plaintext', JSON.stringify(envelope), { ...JSON_TYPE }, [401]);
  }

  // Other methods on the webhook paths.
  for (let i = 0; i < 30; i++) {
    const { body, headers } = sealed(rng, validEvent());
    cases.push({
      kind: 'method',
      route: route(),
      method: rng.pick(['PUT', 'PATCH', 'DELETE']),
      body: Buffer.from(body),
      headers,
      allowed: [404, 405],
      note: '',
    });
  }
  return cases;
}

function signedHostileCases(rng: Rng, botOpenId: string): FuzzCase[] {
  const cases: FuzzCase[] = [];
  for (let i = 0; i < 1500; i++) {
    const family = rng.pick([
      'message',
      'message',
      'message',
      'card',
      'card',
      'bot-added',
      'v1',
      'challenge',
    ]);
    let envelope: Record<string, unknown>;
    let paths: string[];
    let route: Route;
    if (family === 'message') {
      envelope = messageEnvelope(rng, botOpenId);
      paths = MESSAGE_PATHS;
      route = rng.chance(0.1) ? 'card' : 'event';
    } else if (family === 'card') {
      envelope = cardEnvelope(rng);
      paths = CARD_PATHS;
      route = rng.chance(0.1) ? 'event' : 'card';
    } else if (family === 'bot-added') {
      envelope = botAddedEnvelope(rng);
      paths = BOT_ADDED_PATHS;
      route = 'event';
    } else if (family === 'v1') {
      envelope = v1Envelope(rng);
      paths = ['uuid', 'ts', 'event', 'event.type', 'event.app_id', 'event.text'];
      route = 'event';
    } else {
      envelope = { type: 'url_verification', token: DEFAULT_VERIFICATION_TOKEN, challenge: 'c' };
      paths = ['challenge'];
      route = rng.chance(0.5) ? 'event' : 'card';
    }
    const chosen: string[] = [];
    const count = 1 + rng.int(3);
    for (let m = 0; m < count; m++) {
      const path =
        rng.chance(0.1) && family !== 'v1' && family !== 'challenge'
          ? rng.pick(ENVELOPE_PATHS)
          : rng.pick(paths);
      chosen.push(path);
      mutate(rng, envelope, path);
    }
    // One 40 KB value at most, so the body stays under the 256 KB limit.
    const text = JSON.stringify(envelope);
    if (text.split(HUGE).length > 2) continue;
    const { body, headers } = sealed(rng, envelope, { text });
    const envelopeLevel =
      family === 'v1' || family === 'challenge' || chosen.some((path) => ENVELOPE_LEVEL.has(path));
    cases.push({
      kind: `signed-${family}`,
      route,
      body: Buffer.from(body),
      headers,
      // 401: an envelope whose header (and so its verification token) was replaced is refused as unauthenticated.
      allowed: envelopeLevel ? [200, 400, 401] : [200],
      note: chosen.join(', '),
    });
  }
  return cases;
}

async function send(cases: readonly FuzzCase[]): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let next = 0;
  const worker = async () => {
    while (next < cases.length) {
      const fuzz = cases[next++] as FuzzCase;
      const res = await fetch(`${bot.url}/webhook/${fuzz.route}`, {
        method: fuzz.method ?? 'POST',
        headers: fuzz.headers,
        body: fuzz.body,
      });
      await res.arrayBuffer();
      outcomes.push({ fuzz, status: res.status });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  return outcomes;
}

/** Outcomes outside what their kind allows, described without values; `[]` when all is well. */
function unexpected(outcomes: readonly Outcome[]): string[] {
  return outcomes
    .filter(({ fuzz, status }) => !fuzz.allowed.includes(status))
    .map(({ fuzz, status }) => `${fuzz.kind} → ${status} (allowed ${fuzz.allowed.join('/')}; ${fuzz.note})`);
}

function countBy(outcomes: readonly Outcome[]): string {
  const counts = new Map<string, number>();
  for (const { status } of outcomes) counts.set(String(status), (counts.get(String(status)) ?? 0) + 1);
  return [...counts].map(([status, n]) => `${status}×${n}`).join(' ');
}

// ── the test ─────────────────────────────────────────────────────────────────────────────────────────────

describe('fuzz: hostile bodies against the real app', () => {
  it(
    'no unauthenticated body gets past verification or makes a Feishu call',
    async () => {
      await bot.settle();
      const callsBefore = emulator.calls.length;
      const cases = unauthenticatedCases(new Rng(SEED), emulator.botOpenId);
      expect(cases.length).toBeGreaterThan(1500);
      const outcomes = await send(cases);
      await bot.settle(30_000);

      expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
      expect(unexpected(outcomes)).toEqual([]);
      expect(emulator.calls.slice(callsBefore).map((c) => `${c.method} ${c.path}`)).toEqual([]);
      for (const route of ['event', 'card']) {
        expect(
          await bot.app.metrics.value('fsb_webhook_requests_total', { route, outcome: 'accepted' }),
        ).toBe(0);
      }
      console.info(`[figure] fuzz unauthenticated: ${cases.length} bodies, ${countBy(outcomes)}`);
    },
    PHASE_TIMEOUT_MS,
  );

  it(
    'signed events with hostile fields are answered, crash no handler and reach only known Feishu routes',
    async () => {
      const cases = signedHostileCases(new Rng(SEED + 1), emulator.botOpenId);
      expect(cases.length).toBeGreaterThan(1000);
      const from = bot.logs.lines.length;
      const outcomes = await send(cases);
      await bot.settle(30_000);

      expect(outcomes.filter((o) => o.status >= 500)).toEqual([]);
      expect(unexpected(outcomes)).toEqual([]);
      const records = bot.logs.records().slice(from);
      const crashes = records.filter(
        (r) => (r.level as number) >= 50 && /crash|unhandled|uncaught/i.test(String(r.msg)),
      );
      expect(crashes.map((r) => `${r.msg}: ${JSON.stringify(r.err ?? '').slice(0, 200)}`)).toEqual([]);
      const astray = emulator.calls.filter((c) => !KNOWN_ROUTES.some((route) => route.test(c.path)));
      expect(astray.map((c) => `${c.method} ${c.path} → ${c.status}`)).toEqual([]);
      const dropped = records.filter((r) => /not in the shape/.test(String(r.msg))).length;
      console.info(
        `[figure] fuzz signed: ${cases.length} bodies, ${countBy(outcomes)}; ${dropped} dropped by the shape check, ` +
          `${emulator.calls.length} Feishu calls, all on known routes`,
      );
    },
    PHASE_TIMEOUT_MS,
  );

  it('still answers afterwards: /healthz and a valid stats command', async () => {
    const health = await fetch(`${bot.url}/healthz`);
    expect(health.status).toBe(200);
    const rng = new Rng(SEED + 2);
    const envelope = messageEnvelope(rng, emulator.botOpenId);
    envelope.event.message.chat_type = 'p2p';
    delete envelope.event.message.mentions;
    envelope.event.message.content = JSON.stringify({ text: `stats ${DOC_URL}` });
    const { body, headers } = sealed(rng, envelope);
    const res = await fetch(`${bot.url}/webhook/event`, { method: 'POST', headers, body });
    expect(res.status).toBe(200);
    const [reply] = await emulator.waitForMessages(1, 10_000);
    expect(reply?.targetId).toBe(envelope.event.message.message_id);
    expect(cardText(reply?.content)).toContain('1,234');
  });
});
