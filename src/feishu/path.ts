import { BotError } from '../errors.js';

/**
 * A value that cannot be one path segment, whatever its encoding: empty, `.` or `..`. Feishu never issues such an
 * id or token, so this is a bug or a hostile input upstream of the call, and the call is not made.
 */
export class InvalidPathParameterError extends BotError {
  readonly code = 'FEISHU_INVALID_PATH_PARAMETER';
  constructor() {
    super('refused a Feishu request path parameter that is empty, "." or ".."');
  }
}

/**
 * One path parameter of an SDK call, encoded. The SDK puts `path` values into its URL templates as they are
 * (`fillApiPath` in @larksuiteoapi/node-sdk 1.74.0 `lib/index.js` line 300; line 308 substitutes
 * `${pathPrefix}${pathSupplement[pathKey]}`), and axios then parses the URL by WHATWG rules, which resolve `..`:
 * a message id `om_x/../../auth` was sent to `POST /open-apis/im/v1/auth/reply`, and `?` or `#` in an id cut off
 * the rest of the path. Every value we did not create ourselves (ids from events, tokens from links or from
 * Feishu's own answers) goes through here; the webhook also refuses such ids at the edge (ingress/event-shape.ts).
 */
export function pathSegment(value: string): string {
  // `%2e` counts as a dot in a dot segment (WHATWG URL), so no encoding makes `.` or `..` safe: refuse them.
  if (value === '' || value === '.' || value === '..') throw new InvalidPathParameterError();
  return encodeURIComponent(value);
}
