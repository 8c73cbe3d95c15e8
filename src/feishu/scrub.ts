/**
 * Removes secrets and tokens from text that came from upstream (Feishu's `msg`, an SDK error) before it is kept
 * in an error, logged, or shown. An upstream that echoes the request would otherwise hand back the app secret or
 * the `Authorization` header in its error message.
 *
 * Every pattern is linear: literal keywords, bounded separators and values, no nested or overlapping
 * quantifiers, so hostile text cannot make scrubbing slow.
 */

const REDACTED = '[redacted]';
/** Anything shorter is too likely to occur in ordinary text to be replaced everywhere. */
const MIN_SECRET_LENGTH = 6;

const PATTERNS: ReadonlyArray<readonly [RegExp, string]> = [
  // `app_secret: x`, `"tenant_access_token":"x"`, `encrypt_key=x`, `Authorization: Bearer x`, `password = "x"`.
  [
    /(secret|token|authorization|encrypt_?key|password|signature)("?\s{0,3}[:=]\s{0,3}"?)(bearer\s{1,3})?[^\s"'&,;}\]]{1,2048}/gi,
    `$1$2$3${REDACTED}`,
  ],
  [/\bbearer\s{1,3}[\w.~+/=-]{1,2048}/gi, `Bearer ${REDACTED}`],
  // The long connection's one-time URL: `wss://…/ws/v2?…&access_key=x&…&ticket=x`, logged by the SDK at debug.
  [/\b(access_key|ticket)=[^\s"'&]{1,2048}/gi, `$1=${REDACTED}`],
  // Tenant (`t-…`) and user (`u-…`) access tokens, e.g. `t-g1044ghJIQ3Q…`.
  [/\b[tu]-[\w.-]{10,2048}/g, REDACTED],
];

export type Scrubber = (text: string) => string;

/**
 * A scrubber for this deployment: every configured secret (app secret, encrypt key, verification token) wherever
 * it appears, then the token and key-value patterns above. `live()` adds values known only at run time (the
 * current tenant access token).
 */
export function createScrubber(
  secrets: readonly (string | undefined)[],
  live?: () => Iterable<string>,
): Scrubber {
  const fixed = secrets.filter((s): s is string => typeof s === 'string' && s.length >= MIN_SECRET_LENGTH);
  return (text) => {
    let out = text;
    for (const secret of [...fixed, ...(live?.() ?? [])]) {
      if (secret.length >= MIN_SECRET_LENGTH && out.includes(secret)) out = out.split(secret).join(REDACTED);
    }
    for (const [pattern, replacement] of PATTERNS) out = out.replace(pattern, replacement);
    return out;
  };
}

/** The patterns alone, for text scrubbed where the configured secrets are not at hand. */
export const scrubPatterns: Scrubber = createScrubber([]);
