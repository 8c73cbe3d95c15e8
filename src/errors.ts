/**
 * One class per failure mode, each with a stable string `code` so logs, metrics and the error card can
 * switch on it without `instanceof` chains across module boundaries.
 */

export abstract class BotError extends Error {
  abstract readonly code: string;
  /**
   * A later attempt may succeed (our Redis briefly away, a lock another edit holds): a queued job rethrows it so
   * the queue runs it again. Feishu errors answer this from the code table in `feishu/codes.ts`.
   */
  get transient(): boolean {
    return false;
  }
  override get name(): string {
    return this.constructor.name;
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

/** A document of a type Feishu's statistics and view records do not cover (slides). */
export class UnsupportedDocumentError extends BotError {
  readonly code = 'UNSUPPORTED_DOCUMENT';
  constructor(
    readonly url: string,
    readonly docType: string,
  ) {
    super(`${docType} documents have no statistics`);
  }
}
