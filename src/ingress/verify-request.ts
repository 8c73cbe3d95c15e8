/**
 * Verification and decryption of Feishu webhook deliveries, as pure functions over the raw bytes.
 * The route calls `openFeishuRequest` and gets a challenge to answer, a verified event, or a typed error;
 * nothing here returns an event that has not been verified.
 * https://open.feishu.cn/document/ukTMukTMukTM/uYDNxYjL2QTM24iN0EjN/event-subscription-configure-/encrypt-key-encryption-configuration-case
 */
import { createDecipheriv, createHash, timingSafeEqual } from 'node:crypto';
import { MalformedRequestError, RequestVerificationError } from '../errors.js';
import type { EventEnvelope, EventHeader } from '../feishu/events.js';

export interface VerifyOptions {
  /** FEISHU_ENCRYPT_KEY: when set, Feishu encrypts every body and signs every event. */
  encryptKey?: string;
  /** FEISHU_VERIFICATION_TOKEN: echoed inside each body; the only check Feishu offers without an Encrypt Key. */
  verificationToken?: string;
  /** Epoch milliseconds; injectable so tests can sign stale or future requests. */
  now?: () => number;
  /** Oldest accepted request timestamp, in seconds before `now()`. Default `MAX_REQUEST_AGE_SECONDS`. */
  maxAgeSeconds?: number;
  /** Furthest accepted request timestamp, in seconds after `now()`. Default `MAX_CLOCK_SKEW_SECONDS`. */
  maxClockSkewSeconds?: number;
}

/** Header names lower-cased, as Node gives them. */
export interface RawRequest {
  rawBody: Buffer;
  headers: Record<string, string | string[] | undefined>;
}

export type OpenedRequest =
  | { kind: 'challenge'; challenge: string }
  | { kind: 'event'; envelope: EventEnvelope };

const HEADER_TIMESTAMP = 'x-lark-request-timestamp';
const HEADER_NONCE = 'x-lark-request-nonce';
const HEADER_SIGNATURE = 'x-lark-signature';

/**
 * How old a signed request may be: 12 h, the dedupe retention (`DEDUPE_TTL_MS`: BullMQ job ids with Redis, store
 * claims without), not Slack's 5 min. Feishu re-pushes an unanswered event after 15 s, 5 min, 1 h and 6 h (~7.1 h;
 * https://open.feishu.cn/document/server-docs/event-subscription-guide/event-subscription-configure-/request-url-configuration-case),
 * and nothing published says whether a re-push is signed anew: the docs define the signature but no window, and
 * none of the official SDKs checks the timestamp at all (larksuite/node-sdk `checkIsEventValidated`,
 * larksuite/oapi-sdk-go `event/dispatcher/dispatcher.go` `VerifySign`, larksuite/oapi-sdk-python
 * `lark_oapi/event/dispatcher_handler.py` `_verify_sign`, larksuite/oapi-sdk-java `EventDispatcher.verifySign`).
 * openclaw/openclaw#143484 says Feishu signs at send time, without a source; other platforms do re-send the original
 * timestamp (Bird: schemalabz/opencouncil#389, Linear: vercel/eve#1570). If Feishu kept it, a 5 min window would
 * refuse every retry and an event we answered 503 (queue down) would be lost; at 12 h a replay of a genuinely signed
 * request can only deliver again an event that dedupe already holds, so it is dropped. Keep this ≤ DEDUPE_TTL_MS
 * (test/verify-request.test.ts checks it).
 */
export const MAX_REQUEST_AGE_SECONDS = 12 * 60 * 60;
/** A timestamp ahead of our clock is never a retry, only clock skew: allow 5 min of it, as Slack does both ways. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;
/** Seconds-since-epoch stay below this until the year 33658; anything larger must be milliseconds. */
const MILLISECOND_TIMESTAMP_THRESHOLD = 1e12;
const AES_BLOCK_BYTES = 16;
const STANDARD_BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const NUMERIC = /^\d+(?:\.\d+)?$/;
/** Stateless without `stream`, so one serves every request; `fatal`: malformed UTF-8 throws, never becomes U+FFFD. */
const UTF8 = new TextDecoder('utf-8', { fatal: true });
/** SHA-256 of each configured secret (see `secretDigest`). */
const secretDigests = new Map<string, Buffer>();

type JsonObject = Record<string, unknown>;

/** hex(sha256(timestamp + nonce + encrypt_key + raw_body)), hashing the body bytes exactly as received. */
export function computeFeishuSignature(
  timestamp: string,
  nonce: string,
  encryptKey: string,
  rawBody: Buffer | string,
): string {
  const hash = createHash('sha256').update(`${timestamp}${nonce}${encryptKey}`, 'utf8');
  // Feishu signs the bytes it sent; re-serialised JSON differs in whitespace and key order.
  hash.update(typeof rawBody === 'string' ? Buffer.from(rawBody, 'utf8') : rawBody);
  return hash.digest('hex');
}

/**
 * Checks the signature headers and the timestamp window. Throws `RequestVerificationError`.
 * Feishu only signs when an Encrypt Key is configured, so without one nothing can be verified here.
 */
export function verifyFeishuRequest(req: RawRequest, opts: VerifyOptions): void {
  const encryptKey = opts.encryptKey;
  if (!encryptKey) {
    throw new RequestVerificationError(
      'bad_signature',
      'Cannot verify the x-lark-signature header without an Encrypt Key: set FEISHU_ENCRYPT_KEY',
    );
  }
  const timestamp = readHeader(req.headers, HEADER_TIMESTAMP);
  const nonce = readHeader(req.headers, HEADER_NONCE);
  const signature = readHeader(req.headers, HEADER_SIGNATURE);
  if (timestamp === undefined || nonce === undefined || signature === undefined) {
    const missing = [
      [HEADER_TIMESTAMP, timestamp],
      [HEADER_NONCE, nonce],
      [HEADER_SIGNATURE, signature],
    ]
      .filter(([, value]) => value === undefined)
      .map(([name]) => name);
    throw new RequestVerificationError(
      'missing_headers',
      `Missing or empty header(s): ${missing.join(', ')}`,
    );
  }
  if (!NUMERIC.test(timestamp)) {
    throw new RequestVerificationError('missing_headers', `${HEADER_TIMESTAMP} is not a number`);
  }

  // Checked before hashing, as bolt-js does: an expired request is rejected without touching the key.
  const maxAge = opts.maxAgeSeconds ?? MAX_REQUEST_AGE_SECONDS;
  const maxSkew = opts.maxClockSkewSeconds ?? MAX_CLOCK_SKEW_SECONDS;
  const ageSeconds = (opts.now ?? Date.now)() / 1000 - toEpochSeconds(Number(timestamp));
  if (!(ageSeconds <= maxAge)) {
    throw new RequestVerificationError(
      'stale_timestamp',
      `${HEADER_TIMESTAMP} is ${Math.round(ageSeconds)} s old (limit ${maxAge} s)`,
    );
  }
  if (!(-ageSeconds <= maxSkew)) {
    throw new RequestVerificationError(
      'stale_timestamp',
      `${HEADER_TIMESTAMP} is ${Math.round(-ageSeconds)} s ahead of server time (limit ${maxSkew} s): check the clock`,
    );
  }

  const expected = computeFeishuSignature(timestamp, nonce, encryptKey, req.rawBody);
  if (!sameDigest(expected, signature.toLowerCase())) {
    throw new RequestVerificationError(
      'bad_signature',
      `${HEADER_SIGNATURE} does not match the request body`,
    );
  }
}

/** Boolean twin of `verifyFeishuRequest`, for callers that only branch on the outcome. */
export function isValidFeishuRequest(req: RawRequest, opts: VerifyOptions): boolean {
  try {
    verifyFeishuRequest(req, opts);
    return true;
  } catch (err) {
    if (err instanceof RequestVerificationError) return false;
    throw err;
  }
}

/**
 * AES-256-CBC with PKCS7 padding; key = SHA-256(encrypt_key); payload = base64(iv[16] ‖ ciphertext).
 * Every failure is `decrypt_failed`, and the message never carries the key or any plaintext.
 */
export function decryptFeishuPayload(encrypt: string, encryptKey: string): string {
  if (!STANDARD_BASE64.test(encrypt)) {
    throw new RequestVerificationError('decrypt_failed', 'Encrypted payload is not base64');
  }
  // Node's base64 decoder skips bad characters silently, hence the strict pattern above.
  const payload = Buffer.from(encrypt, 'base64');
  if (payload.length < 2 * AES_BLOCK_BYTES || payload.length % AES_BLOCK_BYTES !== 0) {
    throw new RequestVerificationError(
      'decrypt_failed',
      `Encrypted payload has ${payload.length} bytes; expected a 16-byte IV and whole AES blocks`,
    );
  }
  try {
    const decipher = createDecipheriv(
      'aes-256-cbc',
      secretDigest(encryptKey),
      payload.subarray(0, AES_BLOCK_BYTES),
    );
    const plain = Buffer.concat([decipher.update(payload.subarray(AES_BLOCK_BYTES)), decipher.final()]);
    // `fatal` turns a wrong key that happens to leave valid padding into an error instead of mojibake.
    return UTF8.decode(plain);
  } catch {
    throw new RequestVerificationError(
      'decrypt_failed',
      'Could not decrypt the payload: wrong FEISHU_ENCRYPT_KEY or corrupt data',
    );
  }
}

/**
 * The single entry point for the webhook route. Throws `RequestVerificationError` (answer 401) or
 * `MalformedRequestError` (answer 400); both messages are safe to log.
 */
export function openFeishuRequest(req: RawRequest, opts: VerifyOptions): OpenedRequest {
  if (!opts.encryptKey && !opts.verificationToken) {
    // Fail closed: accepting unauthenticated events would let anyone drive the bot.
    throw new RequestVerificationError(
      'bad_token',
      'Webhook verification is not configured: set FEISHU_VERIFICATION_TOKEN or FEISHU_ENCRYPT_KEY ' +
        '(Feishu developer console → Events & Callbacks → Encryption Strategy)',
    );
  }
  const body = parseJsonObject(decodeUtf8(req.rawBody), 'Request body');
  return opts.encryptKey ? openEncrypted(req, body, opts.encryptKey, opts) : openPlain(body, opts);
}

function openEncrypted(
  req: RawRequest,
  body: JsonObject,
  encryptKey: string,
  opts: VerifyOptions,
): OpenedRequest {
  const encrypt = body.encrypt;
  if (typeof encrypt !== 'string') {
    // With an Encrypt Key configured Feishu encrypts everything, so a plaintext body was not sent by Feishu.
    throw new RequestVerificationError(
      'bad_signature',
      'Expected an encrypted body {"encrypt": …} because FEISHU_ENCRYPT_KEY is set; got a plaintext body',
    );
  }

  const signed = [HEADER_TIMESTAMP, HEADER_NONCE, HEADER_SIGNATURE].some(
    (name) => req.headers[name] !== undefined,
  );
  if (!signed) {
    // Only the URL check is sent unsigned. Every failure on this path is a 401, so that the status code
    // does not reveal whether unauthenticated ciphertext had valid padding (a padding oracle).
    const plain = decryptFeishuPayload(encrypt, encryptKey);
    const inner = tryParseJsonObject(plain);
    if (!inner) {
      throw new RequestVerificationError('decrypt_failed', 'Decrypted payload is not a JSON object');
    }
    if (inner.type !== 'url_verification') {
      throw new RequestVerificationError(
        'missing_headers',
        `Encrypted event without ${HEADER_TIMESTAMP}, ${HEADER_NONCE} and ${HEADER_SIGNATURE}`,
      );
    }
    return answerChallenge(inner, opts);
  }

  // Authenticate the ciphertext before decrypting it.
  verifyFeishuRequest(req, opts);
  const inner = parseJsonObject(decryptFeishuPayload(encrypt, encryptKey), 'Decrypted payload');
  if (inner.type === 'url_verification') return answerChallenge(inner, opts);
  // Defence in depth: the signature already proves origin, the token also pins the app.
  if (opts.verificationToken) checkToken(envelopeToken(inner), opts.verificationToken);
  return { kind: 'event', envelope: normaliseEnvelope(inner) };
}

function openPlain(body: JsonObject, opts: VerifyOptions): OpenedRequest {
  if ('encrypt' in body) {
    throw new RequestVerificationError(
      'decrypt_failed',
      'Received an encrypted body but FEISHU_ENCRYPT_KEY is not set: copy the Encrypt Key from the developer console',
    );
  }
  // openFeishuRequest has already failed closed when neither secret is set.
  const token = opts.verificationToken ?? '';
  if (body.type === 'url_verification') return answerChallenge(body, opts);
  // Without an Encrypt Key Feishu sends no signature, so the token is the only proof of origin (and there is
  // no timestamp to stop replays): configure an Encrypt Key in production.
  checkToken(envelopeToken(body), token);
  return { kind: 'event', envelope: normaliseEnvelope(body) };
}

/** URL check: `{challenge, token, type: "url_verification"}`, answered with `{challenge}` within 1 s. */
function answerChallenge(body: JsonObject, opts: VerifyOptions): OpenedRequest {
  if (opts.verificationToken) checkToken(body.token, opts.verificationToken);
  const challenge = body.challenge;
  if (typeof challenge !== 'string' || challenge === '') {
    throw new MalformedRequestError('url_verification body has no challenge string');
  }
  return { kind: 'challenge', challenge };
}

/** v2 carries the token in `header.token`; v1 at the top level. */
function envelopeToken(body: JsonObject): unknown {
  if ('schema' in body) return isJsonObject(body.header) ? body.header.token : undefined;
  return body.token;
}

function checkToken(received: unknown, expected: string): void {
  if (typeof received !== 'string' || received === '') {
    throw new RequestVerificationError('bad_token', 'Request carries no verification token');
  }
  if (!constantTimeEqual(received, expected)) {
    throw new RequestVerificationError(
      'bad_token',
      'Verification token does not match FEISHU_VERIFICATION_TOKEN',
    );
  }
}

/**
 * v2 is kept as is; v1 (`uuid`, `event.type`, no `schema`) is mapped onto v2 names. The verification token is
 * left behind: it has been checked, and an envelope without it can be queued and logged without leaking it.
 * https://open.feishu.cn/document/ukTMukTMukTM/uUTNz4SN1MjL1UzM
 */
function normaliseEnvelope(body: JsonObject): EventEnvelope {
  if ('schema' in body) {
    const header = body.header;
    if (body.schema !== '2.0' || !isJsonObject(header)) {
      throw new MalformedRequestError('Event envelope has an unknown schema or no header');
    }
    return buildEnvelope(header.event_id, header.event_type, body.event, {
      create_time: header.create_time,
      app_id: header.app_id,
      tenant_key: header.tenant_key,
    });
  }
  const event = body.event;
  // v1 puts app_id and tenant_key inside `event`, next to its `type`.
  const inner = isJsonObject(event) ? event : {};
  return buildEnvelope(body.uuid, inner.type, event, {
    create_time: body.ts,
    app_id: inner.app_id,
    tenant_key: inner.tenant_key,
  });
}

function buildEnvelope(
  eventId: unknown,
  eventType: unknown,
  event: unknown,
  optional: Record<'create_time' | 'app_id' | 'tenant_key', unknown>,
): EventEnvelope {
  if (typeof eventId !== 'string' || eventId === '') {
    throw new MalformedRequestError('Event envelope has no event_id (v2) or uuid (v1)');
  }
  if (typeof eventType !== 'string' || eventType === '') {
    throw new MalformedRequestError('Event envelope has no event_type (v2) or event.type (v1)');
  }
  if (!isJsonObject(event)) {
    throw new MalformedRequestError('Event envelope has no event object');
  }
  const header: EventHeader = { event_id: eventId, event_type: eventType };
  // create_time units differ between doc pages and it is sometimes a number: keep it as an opaque string.
  const createTime = optional.create_time;
  if (typeof createTime === 'string' || typeof createTime === 'number')
    header.create_time = String(createTime);
  if (typeof optional.app_id === 'string') header.app_id = optional.app_id;
  if (typeof optional.tenant_key === 'string') header.tenant_key = optional.tenant_key;
  return { schema: '2.0', header, event };
}

/** Node joins repeated custom headers into one string; an array here means something unusual, so refuse it. */
function readHeader(headers: RawRequest['headers'], name: string): string | undefined {
  const value = headers[name];
  const single = Array.isArray(value) ? (value.length === 1 ? value[0] : undefined) : value;
  return single === undefined || single.trim() === '' ? undefined : single.trim();
}

/** The header is in seconds in practice, but the docs do not say so (FEISHU.md: UNCONFIRMED). */
function toEpochSeconds(timestamp: number): number {
  return timestamp > MILLISECOND_TIMESTAMP_THRESHOLD ? timestamp / 1000 : timestamp;
}

/**
 * `received` against a configured secret. Hashing first gives equal-length inputs for timingSafeEqual and hides the
 * secret's length; the secret's own digest is computed once.
 */
function constantTimeEqual(received: string, secret: string): boolean {
  return timingSafeEqual(createHash('sha256').update(received, 'utf8').digest(), secretDigest(secret));
}

/**
 * Two hex SHA-256 digests, compared in constant time. Their length is no secret (64), so unlike
 * `constantTimeEqual` nothing needs hashing first; anything else (non-hex, another length) is simply unequal.
 */
function sameDigest(expected: string, received: string): boolean {
  const receivedBytes = Buffer.from(received, 'utf8');
  return (
    receivedBytes.length === expected.length &&
    timingSafeEqual(Buffer.from(expected, 'latin1'), receivedBytes)
  );
}

/**
 * SHA-256 of a configured secret: the AES key is SHA-256(encrypt_key), and `constantTimeEqual` compares digests.
 * The secrets are the same on every request (a process has one or two), so each is hashed once.
 */
function secretDigest(secret: string): Buffer {
  let digest = secretDigests.get(secret);
  if (!digest) {
    digest = createHash('sha256').update(secret, 'utf8').digest();
    secretDigests.set(secret, digest);
  }
  return digest;
}

function decodeUtf8(bytes: Buffer): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new MalformedRequestError('Request body is not UTF-8');
  }
}

/** JSON.parse errors quote the input, which may hold the token or decrypted data: never pass them on. */
function parseJsonObject(text: string, what: string): JsonObject {
  const parsed = tryParseJsonObject(text);
  if (!parsed) throw new MalformedRequestError(`${what} is not a JSON object`);
  return parsed;
}

function tryParseJsonObject(text: string): JsonObject | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return undefined;
  }
  return isJsonObject(parsed) ? parsed : undefined;
}

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
