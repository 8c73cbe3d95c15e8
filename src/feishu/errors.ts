import { BotError } from '../errors.js';

/**
 * Not a Feishu code: the request failed before any Feishu body came back (timeout, refused, reset, DNS, or an
 * HTTP status from something in between that carries no `{code, msg}`).
 */
export const TRANSPORT_FAILURE = -1;

/** A Feishu Open Platform call failed: a thrown AxiosError and `code ≠ 0` in an HTTP 200 both end up here. */
export class FeishuApiError extends BotError {
  readonly code = 'FEISHU_API_ERROR';
  constructor(
    /** Logical endpoint name, e.g. `drive.v1.fileStatistics.get`. */
    readonly endpoint: string,
    /** Feishu's business code (`code` in the body); TRANSPORT_FAILURE when no body arrived. */
    readonly feishuCode: number,
    readonly feishuMsg: string,
    readonly httpStatus?: number,
    /** `x-tt-logid` header or `error.log_id`: what Feishu support asks for. */
    readonly logId?: string,
  ) {
    super(`${endpoint} failed: ${feishuCode} ${feishuMsg}${httpStatus ? ` (HTTP ${httpStatus})` : ''}`);
  }
}

/**
 * Feishu answered `code: 0` (or no code at all) with a body that lacks what the endpoint documents. Neither a
 * timeout nor worth retrying: the same request gets the same body. Most likely a proxy in between, an API change,
 * or a bug in our mapping, so it is reported as one.
 */
export class FeishuUnexpectedResponseError extends BotError {
  readonly code = 'FEISHU_UNEXPECTED_RESPONSE';
  constructor(
    readonly endpoint: string,
    /** What was missing, e.g. `data.statistics`. */
    readonly missing: string,
    readonly httpStatus?: number,
    readonly logId?: string,
  ) {
    super(`${endpoint} answered without ${missing}`);
  }
}

/** A scope as Feishu names one: `docs:permission.member:readonly`, `drive:file.like:readonly`, … */
const SCOPE_NAME = /^[a-z][a-z_]{0,40}:[\w.:-]{1,120}$/i;

/**
 * The scopes a 99991672 message names, e.g. "Access denied. One of the following scopes is required: [a, b]".
 * The only part of Feishu's own words a card may show: each is checked to look like a scope, so an upstream that
 * echoes text cannot smuggle anything else through. Linear: one bracket pair, found with indexOf.
 */
export function missingScopes(msg: string): string[] {
  const open = msg.indexOf('[');
  const close = open < 0 ? -1 : msg.indexOf(']', open + 1);
  if (close < 0) return [];
  return msg
    .slice(open + 1, close)
    .split(',')
    .map((part) => part.trim())
    .filter((part) => SCOPE_NAME.test(part))
    .slice(0, 5);
}
