/**
 * One class per failure mode, each with a stable string `code` so logs, metrics and the error card can
 * switch on it without `instanceof` chains across module boundaries.
 */

export abstract class BotError extends Error {
  abstract readonly code: string;
  override get name(): string {
    return this.constructor.name;
  }
}

/** A Feishu Open Platform call failed: thrown AxiosError and `code ≠ 0` in a 200 both end up here. */
export class FeishuApiError extends BotError {
  readonly code = 'FEISHU_API_ERROR';
  constructor(
    /** Logical endpoint name, e.g. `drive.v1.fileStatistics.get`. */
    readonly endpoint: string,
    /** Feishu's business code (`code` in the body); -1 when the transport failed before a body arrived. */
    readonly feishuCode: number,
    readonly feishuMsg: string,
    readonly httpStatus?: number,
    /** `x-tt-logid` header or `error.log_id`: what Feishu support asks for. */
    readonly logId?: string,
  ) {
    super(`${endpoint} failed: ${feishuCode} ${feishuMsg}${httpStatus ? ` (HTTP ${httpStatus})` : ''}`);
  }
}

export type VerificationFailure =
  | 'missing_headers'
  | 'bad_signature'
  | 'stale_timestamp'
  | 'bad_token'
  | 'decrypt_failed';

/** The request did not prove it came from Feishu. Always answered with 401 and never dispatched. */
export class RequestVerificationError extends BotError {
  readonly code = 'REQUEST_VERIFICATION_FAILED';
  constructor(
    readonly reason: VerificationFailure,
    message: string,
  ) {
    super(message);
  }
}

/** The user typed a command the bot understood but could not run as written. */
export class CommandUsageError extends BotError {
  readonly code = 'COMMAND_USAGE';
  constructor(
    readonly command: string,
    /** Stable key of the problem, e.g. `no_link`, `too_many_links`; cards map it to words. */
    readonly problem: string,
    /** Values the usage card quotes back, e.g. `{ max: 366, days: 400 }`. */
    readonly detail: Readonly<Record<string, string | number>> = {},
  ) {
    super(`${command}: ${problem}`);
  }
}

/** The person asking may not see this data. */
export class AccessDeniedError extends BotError {
  readonly code = 'ACCESS_DENIED';
  constructor(
    readonly resource: string,
    readonly reason: string,
  ) {
    super(`access to ${resource} denied: ${reason}`);
  }
}

/** A link that points at something other than a document (a folder, wiki settings, …). */
export class NotADocumentError extends BotError {
  readonly code = 'NOT_A_DOCUMENT';
  constructor(
    readonly url: string,
    readonly what: string,
  ) {
    super(`${url} is not a document (${what})`);
  }
}

/** Environment is missing or malformed; `problems` lists every bad variable with a hint. */
export class ConfigError extends BotError {
  readonly code = 'CONFIG_INVALID';
  constructor(readonly problems: readonly string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** The body is not a Feishu request at all (not JSON, no envelope). Answered with 400, never dispatched. */
export class MalformedRequestError extends BotError {
  readonly code = 'MALFORMED_REQUEST';
}

/** A link that is not a Feishu/Lark document link at all (another site, or not a URL). */
export class NotFeishuLinkError extends BotError {
  readonly code = 'NOT_FEISHU_LINK';
  constructor(readonly url: string) {
    super(`${url} is not a Feishu document link`);
  }
}
