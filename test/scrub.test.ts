import { describe, expect, it } from 'vitest';
import { missingScopes } from '../src/feishu/errors.js';
import { createScrubber, scrubPatterns } from '../src/feishu/scrub.js';

const SECRET = 'Zq8mVw3LrT6yHc1NxK0pUeB4sJd7Gf2a';
const ENCRYPT_KEY = 'kYl3y9Qm2Z8pR1vT';
const TOKEN = 't-g1044ghJIQ3QXJ5Y2M3ZjEyNDFmMmE0YjVkMzNiNzQ';

describe('createScrubber', () => {
  const scrub = createScrubber([SECRET, ENCRYPT_KEY, undefined, 'abc'], () => ['live-token-value-42']);

  it.each([
    ['the configured secret anywhere', `bad request, you sent ${SECRET}!`],
    ['the encrypt key', `key=${ENCRYPT_KEY}`],
    ['a value only known at run time', 'echo: live-token-value-42'],
    ['a JSON app_secret', `{"app_id":"cli_1","app_secret":"${'s'.repeat(20)}"}`],
    ['key: value', `app_secret: ${'s'.repeat(20)}`],
    ['an Authorization header', `Authorization: Bearer ${'x'.repeat(30)}`],
    ['a bare tenant token', `token ${TOKEN} expired`],
    ['tenant_access_token=', `tenant_access_token=${'x'.repeat(30)}`],
  ])('removes %s', (_what, text) => {
    const out = scrub(text);
    expect(out).toContain('[redacted]');
    for (const leaked of [
      SECRET,
      ENCRYPT_KEY,
      'live-token-value-42',
      's'.repeat(20),
      'x'.repeat(30),
      TOKEN,
    ]) {
      expect(out).not.toContain(leaked);
    }
  });

  it("removes the long connection's one-time access_key and ticket from its URL, keeping the rest", () => {
    const url =
      'wss://msg-frontier.feishu.cn/ws/v2?fpid=493&aid=552564&device_id=7311&access_key=ab12cd34ef&service_id=3355&ticket=0f9e8d7c-6b5a';
    const out = scrubPatterns(`get connect config success, ws url: ${url}`);
    expect(out).not.toContain('ab12cd34ef');
    expect(out).not.toContain('0f9e8d7c-6b5a');
    expect(out).toContain('access_key=[redacted]&service_id=3355&ticket=[redacted]');
  });

  it('leaves ordinary words alone, and secrets too short to be told from words', () => {
    expect(scrub('the document was deleted (abc)')).toBe('the document was deleted (abc)');
    expect(scrubPatterns('request trigger frequency limit')).toBe('request trigger frequency limit');
  });

  it('is linear on hostile text: 100 KB of near-misses scrub in well under a second', () => {
    for (const text of [
      'secret'.repeat(20_000),
      `token:${'"'.repeat(100_000)}`,
      `bearer ${' '.repeat(100_000)}`,
      `t-${'a'.repeat(100_000)}`,
      `${'secret: '.repeat(12_000)}`,
    ]) {
      const started = performance.now();
      scrub(text);
      // A quadratic pattern takes seconds here; the bound is 100× what a linear pass needs.
      expect(performance.now() - started).toBeLessThan(500);
    }
  });
});

describe('missingScopes', () => {
  it("reads the scopes a 99991672 names, as Feishu's message lists them", () => {
    expect(
      missingScopes(
        'Access denied. One of the following scopes is required: [drive:drive.metadata:readonly, drive:drive:readonly].',
      ),
    ).toEqual(['drive:drive.metadata:readonly', 'drive:drive:readonly']);
  });

  it('keeps only what looks like a scope, so echoed text cannot pass through', () => {
    expect(missingScopes(`[<at id=all></at>, ${SECRET}, drive:drive:readonly]`)).toEqual([
      'drive:drive:readonly',
    ]);
    expect(missingScopes('no brackets here')).toEqual([]);
    expect(missingScopes('[unclosed drive:drive:readonly')).toEqual([]);
  });

  it('is linear on 100 KB of brackets', () => {
    const started = performance.now();
    expect(missingScopes('['.repeat(100_000))).toEqual([]);
    expect(performance.now() - started).toBeLessThan(500);
  });
});
