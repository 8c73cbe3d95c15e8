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
