import { createCipheriv, createHash, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEDUPE_TTL_MS } from '../src/bot/dedupe.js';
import { MalformedRequestError, RequestVerificationError, type VerificationFailure } from '../src/errors.js';
import {
  computeFeishuSignature,
  decryptFeishuPayload,
  isValidFeishuRequest,
  MAX_CLOCK_SKEW_SECONDS,
  MAX_REQUEST_AGE_SECONDS,
  openFeishuRequest,
  type RawRequest,
  type VerifyOptions,
  verifyFeishuRequest,
} from '../src/ingress/verify-request.js';

// Distinctive secrets so the "never in error messages" test can look for them.
const ENCRYPT_KEY = 'ek-9Qx7-Sk3y-secret';
const TOKEN = 'vt-Lm4Pz8-secret-token';
const NOW_MS = 1_700_000_000_000;
const NOW_S = NOW_MS / 1000;
const clock = () => NOW_MS;
const MINUTE = 60;
const HOUR = 60 * MINUTE;
/** Feishu re-pushes an unanswered event 15 s, 5 min, 1 h and 6 h after the previous attempt. */
const FEISHU_RETRY_GAPS_S = [15, 5 * MINUTE, HOUR, 6 * HOUR];
/** When each re-push arrives, counted from the original delivery (the last one after about 7 h 5 min). */
const FEISHU_RETRY_AT_S = FEISHU_RETRY_GAPS_S.map((_, i) =>
  FEISHU_RETRY_GAPS_S.slice(0, i + 1).reduce((a, b) => a + b, 0),
);

// Real-shaped bodies from the Feishu docs; the token is swapped for ours.
// https://open.feishu.cn/document/server-docs/im-v1/message/events/receive
const v2MessageEvent = (overrides: { token?: string; eventId?: string | null } = {}) => ({
  schema: '2.0',
  header: {
    ...(overrides.eventId === null
      ? {}
      : { event_id: overrides.eventId ?? '5e3702a84e847582be8db7fb73283c02' }),
    event_type: 'im.message.receive_v1',
    create_time: '1608725989000',
    token: overrides.token ?? TOKEN,
    app_id: 'cli_9f5343c580712544',
    tenant_key: '2ca1d211f64f6438',
  },
  event: {
    sender: {
      sender_id: {
        union_id: 'on_8ed6aa67826108097d9ee143816345',
        user_id: 'e33ggbyz',
        open_id: 'ou_84aad35d084aa403a838cf73ee18467',
      },
      sender_type: 'user',
      tenant_key: '736588c9260f175e',
    },
    message: {
      message_id: 'om_5ce6d572455d361153b7cb51da133945',
      create_time: '1609073151345',
      chat_id: 'oc_5ce6d572455d361153b7xx51da133945',
      chat_type: 'group',
      message_type: 'text',
      content: '{"text":"@_user_1 stats https://sample.feishu.cn/docx/doxcnAJ9VRRJqVMYZ1MyKnayXWe"}',
      mentions: [
        {
          key: '@_user_1',
          id: {
            union_id: 'on_8ed6aa67826108097d9ee143816345',
            open_id: 'ou_84aad35d084aa403a838cf73ee18467',
          },
          name: 'Stats Bot',
          tenant_key: '736588c9260f175e',
        },
      ],
    },
  },
});

// v1 ("event_callback") delivery from the docs: uuid, top-level token, app_id/tenant_key inside event.
const v1P2pChatCreate = (token = TOKEN) => ({
  ts: '1502199207.7171419',
  uuid: 'bc447199585340d1f3728d26b1c0297a',
  token,
  type: 'event_callback',
  event: {
    app_id: 'cli_9c8609450f78d102',
    chat_id: 'oc_26b66a5eb603162b849f91bcd8815b20',
    operator: { open_id: 'ou_2d2c0399b53d06fd195bb393cd1e38f2', user_id: 'gfa21d92' },
    tenant_key: '736588c9260f175c',
    type: 'p2p_chat_create',
    user: { name: '张三', open_id: 'ou_7dede290d6a27698b969a7fd70ca53da', user_id: 'gfa21d92' },
  },
});

/** `token: null` leaves the field out (a default parameter would swallow `undefined`). */
const urlVerification = (token: string | null = TOKEN, challenge = 'ajls384kdjx98XX') => ({
  challenge,
  ...(token === null ? {} : { token }),
  type: 'url_verification',
});

/** Written independently of computeFeishuSignature: hash the concatenated bytes in one go. */
function signIndependently(timestamp: string, nonce: string, key: string, body: Buffer): string {
  return createHash('sha256')
    .update(Buffer.concat([Buffer.from(timestamp + nonce + key, 'utf8'), body]))
    .digest('hex');
}

/** AES-256-CBC, key = sha256(encrypt_key), random IV, output base64(iv ‖ ciphertext). */
function encryptIndependently(plaintext: string, key: string): string {
  const iv = randomBytes(16);
  const cipher = createCipheriv('aes-256-cbc', createHash('sha256').update(key).digest(), iv);
  return Buffer.concat([iv, cipher.update(plaintext, 'utf8'), cipher.final()]).toString('base64');
}

interface SignOptions {
  timestamp?: string;
  nonce?: string;
  key?: string;
  omit?: string;
}

function signedRequest(body: Buffer | string, sign: SignOptions = {}): RawRequest {
  const rawBody = Buffer.isBuffer(body) ? body : Buffer.from(body, 'utf8');
  const timestamp = sign.timestamp ?? String(NOW_S);
  const nonce = sign.nonce ?? '3c2a81f6-nonce';
  const headers: RawRequest['headers'] = {
    'content-type': 'application/json',
    'x-lark-request-timestamp': timestamp,
    'x-lark-request-nonce': nonce,
    'x-lark-signature': signIndependently(timestamp, nonce, sign.key ?? ENCRYPT_KEY, rawBody),
  };
  if (sign.omit) delete headers[sign.omit];
  return { rawBody, headers };
}

const unsignedRequest = (body: string | object): RawRequest => ({
  rawBody: Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8'),
  headers: { 'content-type': 'application/json' },
});

const encryptedBody = (inner: object | string, key = ENCRYPT_KEY) =>
  JSON.stringify({
    encrypt: encryptIndependently(typeof inner === 'string' ? inner : JSON.stringify(inner), key),
  });

const keyOnly: VerifyOptions = { encryptKey: ENCRYPT_KEY, now: clock };
const keyAndToken: VerifyOptions = { encryptKey: ENCRYPT_KEY, verificationToken: TOKEN, now: clock };
const tokenOnly: VerifyOptions = { verificationToken: TOKEN, now: clock };

function thrownBy(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected the call to throw');
}

function expectVerificationFailure(fn: () => unknown, reason: VerificationFailure): RequestVerificationError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(RequestVerificationError);
  expect((err as RequestVerificationError).reason).toBe(reason);
  return err as RequestVerificationError;
}

function expectMalformed(fn: () => unknown): MalformedRequestError {
  const err = thrownBy(fn);
  expect(err).toBeInstanceOf(MalformedRequestError);
  return err as MalformedRequestError;
}

describe('computeFeishuSignature', () => {
  it('is hex sha256 over timestamp + nonce + key + body bytes, same for a Buffer and its UTF-8 string', () => {
    const body = '{"encrypt":"统计 abc"}';
    const expected = signIndependently('1700000000', 'nonce', ENCRYPT_KEY, Buffer.from(body, 'utf8'));
    expect(computeFeishuSignature('1700000000', 'nonce', ENCRYPT_KEY, Buffer.from(body, 'utf8'))).toBe(
      expected,
    );
    expect(computeFeishuSignature('1700000000', 'nonce', ENCRYPT_KEY, body)).toBe(expected);
  });
});

describe('verifyFeishuRequest', () => {
  const body = encryptedBody(v2MessageEvent());

  it('accepts a correctly signed request', () => {
    expect(() => verifyFeishuRequest(signedRequest(body), keyOnly)).not.toThrow();
  });

  it('rejects a body with one byte changed after signing (bad_signature)', () => {
    const req = signedRequest(body);
    const tampered = Buffer.from(req.rawBody);
    tampered[10] = (tampered[10] ?? 0) ^ 0x01;
    expectVerificationFailure(
      () => verifyFeishuRequest({ ...req, rawBody: tampered }, keyOnly),
      'bad_signature',
    );
  });

  it('rejects a request signed with another key (bad_signature)', () => {
    expectVerificationFailure(
      () => verifyFeishuRequest(signedRequest(body, { key: 'some-other-key' }), keyOnly),
      'bad_signature',
    );
  });

  it('treats a signature of the wrong length as bad, not as a crash', () => {
    const req = signedRequest(body);
    req.headers['x-lark-signature'] = 'abc123';
    expectVerificationFailure(() => verifyFeishuRequest(req, keyOnly), 'bad_signature');
  });

  describe('timestamp window: 12 h back (the dedupe retention), 5 min ahead (clock skew)', () => {
    const signedAt = (ts: number | string) => signedRequest(body, { timestamp: String(ts) });
    const accepts = (req: RawRequest, opts: VerifyOptions = keyOnly) =>
      expect(() => verifyFeishuRequest(req, opts)).not.toThrow();
    const refuses = (req: RawRequest, opts: VerifyOptions = keyOnly) =>
      expectVerificationFailure(() => verifyFeishuRequest(req, opts), 'stale_timestamp');

    it('is 12 h back and 5 min ahead by default', () => {
      expect(MAX_REQUEST_AGE_SECONDS).toBe(12 * HOUR);
      expect(MAX_CLOCK_SKEW_SECONDS).toBe(5 * MINUTE);
    });

    it('outlasts all of Feishu’s retries but never the dedupe that drops a replay', () => {
      const lastRetry = FEISHU_RETRY_AT_S.at(-1) ?? 0;
      expect(lastRetry).toBe(7 * HOUR + 5 * MINUTE + 15);
      expect(MAX_REQUEST_AGE_SECONDS).toBeGreaterThan(lastRetry + MAX_CLOCK_SKEW_SECONDS);
      expect(MAX_REQUEST_AGE_SECONDS * 1000).toBeLessThanOrEqual(DEDUPE_TTL_MS);
    });

    it.each(FEISHU_RETRY_AT_S)(
      'accepts a re-push %i s after the original, still carrying its timestamp',
      (after) => {
        accepts(signedAt(NOW_S - after));
      },
    );

    it('accepts a request signed 6 h ago', () => {
      accepts(signedAt(NOW_S - 6 * HOUR));
    });

    it('refuses a request signed 13 h ago (stale_timestamp)', () => {
      refuses(signedAt(NOW_S - 13 * HOUR));
    });

    it('refuses a request signed 10 min in the future (stale_timestamp)', () => {
      refuses(signedAt(NOW_S + 10 * MINUTE));
    });

    it('accepts exactly 12 h old and refuses 12 h + 1 s', () => {
      accepts(signedAt(NOW_S - 12 * HOUR));
      refuses(signedAt(NOW_S - 12 * HOUR - 1));
    });

    it('accepts exactly 5 min ahead and refuses 5 min + 1 s', () => {
      accepts(signedAt(NOW_S + 5 * MINUTE));
      refuses(signedAt(NOW_S + 5 * MINUTE + 1));
    });

    it('says which side of the window failed, so clock skew is not mistaken for a replay', () => {
      expect(
        expectVerificationFailure(
          () => verifyFeishuRequest(signedAt(NOW_S - 13 * HOUR), keyOnly),
          'stale_timestamp',
        ).message,
      ).toMatch(/old/);
      expect(
        expectVerificationFailure(
          () => verifyFeishuRequest(signedAt(NOW_S + 10 * MINUTE), keyOnly),
          'stale_timestamp',
        ).message,
      ).toMatch(/ahead.*clock/);
    });

    it('honours custom limits on either side', () => {
      refuses(signedAt(NOW_S - 61), { ...keyOnly, maxAgeSeconds: 60 });
      accepts(signedAt(NOW_S - 60), { ...keyOnly, maxAgeSeconds: 60 });
      refuses(signedAt(NOW_S + 1), { ...keyOnly, maxClockSkewSeconds: 0 });
      accepts(signedAt(NOW_S + 6 * MINUTE), { ...keyOnly, maxClockSkewSeconds: 10 * MINUTE });
    });

    it('reads a millisecond timestamp as milliseconds, to the millisecond at both edges', () => {
      accepts(signedAt(NOW_MS));
      accepts(signedAt(NOW_MS - 12 * HOUR * 1000));
      refuses(signedAt(NOW_MS - 12 * HOUR * 1000 - 1));
      accepts(signedAt(NOW_MS + 5 * MINUTE * 1000));
      refuses(signedAt(NOW_MS + 5 * MINUTE * 1000 + 1));
    });

    it('refuses a timestamp too large to be a date (parsed as Infinity)', () => {
      refuses(signedAt('9'.repeat(400)));
    });
  });

  it.each(['x-lark-request-timestamp', 'x-lark-request-nonce', 'x-lark-signature'])(
    'rejects a request without %s (missing_headers)',
    (header) => {
      expectVerificationFailure(
        () => verifyFeishuRequest(signedRequest(body, { omit: header }), keyOnly),
        'missing_headers',
      );
    },
  );

  it('treats an empty header as missing', () => {
    const req = signedRequest(body);
    req.headers['x-lark-request-nonce'] = '';
    expectVerificationFailure(() => verifyFeishuRequest(req, keyOnly), 'missing_headers');
  });

  it('rejects a non-numeric timestamp even when it is signed (missing_headers)', () => {
    expectVerificationFailure(
      () => verifyFeishuRequest(signedRequest(body, { timestamp: 'Tue, 14 Nov 2023 22:13:20 GMT' }), keyOnly),
      'missing_headers',
    );
  });

  it('hashes the raw bytes: odd whitespace and key order verify, the re-serialised JSON does not', () => {
    const raw = '{ "z_last" : 1,\n\t"encrypt":"abc==" ,  "备注": "统计"  }\n';
    const req = signedRequest(raw);
    expect(() => verifyFeishuRequest(req, keyOnly)).not.toThrow();
    const reserialised = Buffer.from(JSON.stringify(JSON.parse(raw)), 'utf8');
    expect(reserialised.equals(req.rawBody)).toBe(false);
    expectVerificationFailure(
      () => verifyFeishuRequest({ ...req, rawBody: reserialised }, keyOnly),
      'bad_signature',
    );
  });

  it('fails closed when no encrypt key is configured', () => {
    expectVerificationFailure(
      () => verifyFeishuRequest(signedRequest(body), { now: clock }),
      'bad_signature',
    );
  });
});

describe('isValidFeishuRequest', () => {
  const body = encryptedBody(v2MessageEvent());
  const cases: Array<[string, RawRequest, VerifyOptions, boolean]> = [
    ['valid', signedRequest(body), keyOnly, true],
    ['other key', signedRequest(body, { key: 'nope' }), keyOnly, false],
    [
      'signed 6 h ago (a late retry)',
      signedRequest(body, { timestamp: String(NOW_S - 6 * HOUR) }),
      keyOnly,
      true,
    ],
    ['stale', signedRequest(body, { timestamp: String(NOW_S - 13 * HOUR) }), keyOnly, false],
    ['from the future', signedRequest(body, { timestamp: String(NOW_S + 10 * MINUTE) }), keyOnly, false],
    ['no nonce', signedRequest(body, { omit: 'x-lark-request-nonce' }), keyOnly, false],
    ['no key configured', signedRequest(body), { now: clock }, false],
  ];

  it.each(cases)('%s: the boolean agrees with verifyFeishuRequest', (_label, req, opts, valid) => {
    expect(isValidFeishuRequest(req, opts)).toBe(valid);
    if (valid) expect(() => verifyFeishuRequest(req, opts)).not.toThrow();
    else expect(thrownBy(() => verifyFeishuRequest(req, opts))).toBeInstanceOf(RequestVerificationError);
  });
});

describe('decryptFeishuPayload', () => {
  it('decrypts the example from the Feishu docs ("test key" → "hello world")', () => {
    expect(decryptFeishuPayload('P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'test key')).toBe(
      'hello world',
    );
  });

  it('decrypts what independent code encrypted with a random IV, including non-ASCII text', () => {
    const plaintext = JSON.stringify(v1P2pChatCreate());
    const a = encryptIndependently(plaintext, ENCRYPT_KEY);
    const b = encryptIndependently(plaintext, ENCRYPT_KEY);
    expect(a).not.toBe(b); // the IV really is per payload, so it must be read from the payload
    expect(decryptFeishuPayload(a, ENCRYPT_KEY)).toBe(plaintext);
    expect(decryptFeishuPayload(b, ENCRYPT_KEY)).toBe(plaintext);
  });

  it('fails with decrypt_failed for the docs example under another key', () => {
    expectVerificationFailure(
      () => decryptFeishuPayload('P37w+VZImNgPEO1RBhJ6RtKl7n6zymIbEG1pReEzghk=', 'other key'),
      'decrypt_failed',
    );
  });

  it.each([
    ['garbage that is not base64', '!!! not base64 at all !!!'],
    ['an empty string', ''],
    ['a short buffer', 'AAAA'],
    ['an IV with no ciphertext', randomBytes(16).toString('base64')],
    ['a ciphertext that is not whole blocks', randomBytes(16 + 20).toString('base64')],
  ])('fails with decrypt_failed for %s', (_label, payload) => {
    expectVerificationFailure(() => decryptFeishuPayload(payload, ENCRYPT_KEY), 'decrypt_failed');
  });
});

describe('openFeishuRequest: URL verification', () => {
  it('answers an encrypted challenge that carries no signature headers', () => {
    const req = unsignedRequest(encryptedBody(urlVerification()));
    expect(openFeishuRequest(req, keyOnly)).toEqual({ kind: 'challenge', challenge: 'ajls384kdjx98XX' });
    expect(openFeishuRequest(req, keyAndToken)).toEqual({ kind: 'challenge', challenge: 'ajls384kdjx98XX' });
  });

  it('rejects an encrypted challenge whose token does not match (bad_token)', () => {
    const req = unsignedRequest(encryptedBody(urlVerification('someone-elses-token')));
    expectVerificationFailure(() => openFeishuRequest(req, keyAndToken), 'bad_token');
  });

  it('answers a plain challenge with the right token', () => {
    expect(openFeishuRequest(unsignedRequest(urlVerification()), tokenOnly)).toEqual({
      kind: 'challenge',
      challenge: 'ajls384kdjx98XX',
    });
  });

  it.each([
    ['a wrong token', 'someone-elses-token'],
    ['no token', null],
  ])('rejects a plain challenge with %s (bad_token)', (_label, token) => {
    expectVerificationFailure(
      () => openFeishuRequest(unsignedRequest(urlVerification(token)), tokenOnly),
      'bad_token',
    );
  });

  it('treats a challenge without a challenge string as malformed', () => {
    expectMalformed(() => openFeishuRequest(unsignedRequest(urlVerification(TOKEN, '')), tokenOnly));
  });
});

describe('openFeishuRequest: encrypted events', () => {
  const expectedEnvelope = {
    schema: '2.0',
    header: {
      event_id: '5e3702a84e847582be8db7fb73283c02',
      event_type: 'im.message.receive_v1',
      create_time: '1608725989000',
      app_id: 'cli_9f5343c580712544',
      tenant_key: '2ca1d211f64f6438',
    },
    event: v2MessageEvent().event,
  };

  it('returns the decrypted v2 envelope of a signed request', () => {
    expect(openFeishuRequest(signedRequest(encryptedBody(v2MessageEvent())), keyAndToken)).toEqual({
      kind: 'event',
      envelope: expectedEnvelope,
    });
  });

  it('never returns an event whose signature does not match (bad_signature)', () => {
    const req = signedRequest(encryptedBody(v2MessageEvent()));
    const other = Buffer.from(encryptedBody(v2MessageEvent()), 'utf8');
    expectVerificationFailure(() => openFeishuRequest({ ...req, rawBody: other }, keyOnly), 'bad_signature');
  });

  it('rejects an encrypted event without signature headers (missing_headers)', () => {
    expectVerificationFailure(
      () => openFeishuRequest(unsignedRequest(encryptedBody(v2MessageEvent())), keyOnly),
      'missing_headers',
    );
  });

  it('returns the event of a retry that arrives 7 h later with its original timestamp and signature', () => {
    const req = signedRequest(encryptedBody(v2MessageEvent()));
    const sevenHoursLater = { ...keyAndToken, now: () => NOW_MS + (FEISHU_RETRY_AT_S.at(-1) ?? 0) * 1000 };
    expect(openFeishuRequest(req, sevenHoursLater)).toEqual({ kind: 'event', envelope: expectedEnvelope });
  });

  it('rejects a stale signed event (stale_timestamp)', () => {
    const req = signedRequest(encryptedBody(v2MessageEvent()), { timestamp: String(NOW_S - 13 * HOUR) });
    expectVerificationFailure(() => openFeishuRequest(req, keyOnly), 'stale_timestamp');
  });

  it('also checks the envelope token when a verification token is configured (bad_token)', () => {
    const req = signedRequest(encryptedBody(v2MessageEvent({ token: 'someone-elses-token' })));
    expectVerificationFailure(() => openFeishuRequest(req, keyAndToken), 'bad_token');
  });

  it('rejects a plaintext body when an encrypt key is configured, even with the right token', () => {
    const req = signedRequest(JSON.stringify(v2MessageEvent()));
    expect(thrownBy(() => openFeishuRequest(req, keyAndToken))).toBeInstanceOf(RequestVerificationError);
  });

  it('fails with decrypt_failed when a signed body cannot be decrypted', () => {
    const req = signedRequest(JSON.stringify({ encrypt: encryptIndependently('{}', 'a-different-key-xyz') }));
    expectVerificationFailure(() => openFeishuRequest(req, keyOnly), 'decrypt_failed');
  });

  it('treats a signed body that decrypts to non-JSON as malformed', () => {
    const req = signedRequest(encryptedBody('this is not json'));
    expectMalformed(() => openFeishuRequest(req, keyOnly));
  });

  it('answers 401, not 400, when unsigned ciphertext decrypts to non-JSON (no padding oracle)', () => {
    expectVerificationFailure(
      () => openFeishuRequest(unsignedRequest(encryptedBody('this is not json')), keyOnly),
      'decrypt_failed',
    );
  });
});

describe('openFeishuRequest: plain (token-only) events', () => {
  it('returns the v2 envelope with the checked token left behind', () => {
    const opened = openFeishuRequest(unsignedRequest(v2MessageEvent()), tokenOnly);
    expect(opened.kind).toBe('event');
    if (opened.kind !== 'event') return;
    expect(opened.envelope.header.event_id).toBe('5e3702a84e847582be8db7fb73283c02');
    expect(opened.envelope.event).toEqual(v2MessageEvent().event);
    expect(opened.envelope.header).not.toHaveProperty('token');
  });

  it('rejects a v2 event with a wrong token (bad_token)', () => {
    expectVerificationFailure(
      () => openFeishuRequest(unsignedRequest(v2MessageEvent({ token: 'someone-elses-token' })), tokenOnly),
      'bad_token',
    );
  });

  it('rejects a v2 event without header.token, even if a token sits at the top level (bad_token)', () => {
    const body = v2MessageEvent();
    const { token: _dropped, ...headerWithoutToken } = body.header;
    const req = unsignedRequest({ ...body, token: TOKEN, header: headerWithoutToken });
    expectVerificationFailure(() => openFeishuRequest(req, tokenOnly), 'bad_token');
  });

  it('maps a v1 delivery onto the v2 envelope', () => {
    const v1 = v1P2pChatCreate();
    expect(openFeishuRequest(unsignedRequest(v1), tokenOnly)).toEqual({
      kind: 'event',
      envelope: {
        schema: '2.0',
        header: {
          event_id: 'bc447199585340d1f3728d26b1c0297a',
          event_type: 'p2p_chat_create',
          create_time: '1502199207.7171419',
          app_id: 'cli_9c8609450f78d102',
          tenant_key: '736588c9260f175c',
        },
        event: v1.event,
      },
    });
  });

  it('rejects a v1 delivery with a wrong top-level token (bad_token)', () => {
    expectVerificationFailure(
      () => openFeishuRequest(unsignedRequest(v1P2pChatCreate('nope')), tokenOnly),
      'bad_token',
    );
  });

  it('rejects an encrypted body when no encrypt key is configured', () => {
    const req = unsignedRequest(encryptedBody(v2MessageEvent()));
    expect(thrownBy(() => openFeishuRequest(req, tokenOnly))).toBeInstanceOf(RequestVerificationError);
  });
});

describe('openFeishuRequest: configuration and shape', () => {
  it('fails closed when neither an encrypt key nor a verification token is configured', () => {
    const err = expectVerificationFailure(
      () => openFeishuRequest(unsignedRequest(urlVerification()), { now: clock }),
      'bad_token',
    );
    expect(err.message).toMatch(/FEISHU_VERIFICATION_TOKEN/);
    expect(err.message).toMatch(/FEISHU_ENCRYPT_KEY/);
  });

  it.each([
    ['not JSON', Buffer.from('challenge=abc&type=url_verification')],
    ['a JSON array', Buffer.from('[1,2,3]')],
    ['JSON null', Buffer.from('null')],
    ['invalid UTF-8', Buffer.from([0x7b, 0xff, 0xfe, 0x7d])],
  ])('treats a body that is %s as malformed', (_label, rawBody) => {
    const req: RawRequest = { rawBody, headers: {} };
    expectMalformed(() => openFeishuRequest(req, tokenOnly));
  });

  it.each([
    ['a v2 envelope without event_id', v2MessageEvent({ eventId: null })],
    ['a v1 envelope without uuid', { ...v1P2pChatCreate(), uuid: undefined }],
    ['a v2 envelope whose event is not an object', { ...v2MessageEvent(), event: 'im.message.receive_v1' }],
    ['an envelope with an unknown schema', { ...v2MessageEvent(), schema: '3.0' }],
  ])('treats %s as malformed', (_label, body) => {
    expectMalformed(() => openFeishuRequest(unsignedRequest(body), tokenOnly));
  });

  it('never puts the encrypt key, the token or decrypted content in an error message', () => {
    const secretPlaintext = 'PLAINTEXT-MARKER-4471 not json';
    const errors = [
      thrownBy(() => openFeishuRequest(signedRequest(encryptedBody(secretPlaintext)), keyAndToken)),
      thrownBy(() => openFeishuRequest(unsignedRequest(encryptedBody(secretPlaintext)), keyAndToken)),
      thrownBy(() =>
        openFeishuRequest(signedRequest(encryptedBody(v2MessageEvent({ token: 'x' }))), keyAndToken),
      ),
      thrownBy(() => openFeishuRequest(unsignedRequest(v2MessageEvent({ token: 'x' })), tokenOnly)),
      thrownBy(() => openFeishuRequest(unsignedRequest(`{"token":"${TOKEN}",`), tokenOnly)),
      thrownBy(() => verifyFeishuRequest(signedRequest('{}', { key: 'other' }), keyOnly)),
      thrownBy(() => decryptFeishuPayload(encryptIndependently(secretPlaintext, 'other'), ENCRYPT_KEY)),
    ];
    for (const err of errors) {
      expect(err).toBeInstanceOf(Error);
      const message = (err as Error).message;
      expect(message).not.toContain(ENCRYPT_KEY);
      expect(message).not.toContain(TOKEN);
      expect(message).not.toContain('PLAINTEXT-MARKER');
    }
  });
});
