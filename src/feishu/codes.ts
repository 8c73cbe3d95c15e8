/**
 * The one table of what a Feishu business code means to the bot: whether to retry, wait, refresh the token,
 * remember the failure, pause a chat, or tell a person what to grant. The words a reader sees for each code live
 * in `cards/feishu-codes.ts`; what the bot *does* about a code is decided here and nowhere else.
 * Sources: the error tables of each endpoint page (shared/seeds/, the links below) and FEISHU.md.
 */
import { FeishuApiError, FeishuUnexpectedResponseError, TRANSPORT_FAILURE } from './errors.js';

export type FeishuCodeClass =
  /** Feishu says "try again": retried with backoff. */
  | 'transient'
  /** A Feishu rate limit: wait (the reset header when given), then retry. */
  | 'rate_limited'
  /** The tenant access token was refused: drop it, fetch a new one, retry once. */
  | 'token_rejected'
  /** Will not change in the next half minute (no such document, token and type mismatch): remembered briefly. */
  | 'cacheable'
  /** The bot is not in the chat any more (removed, or the chat dissolved): that chat's digest pauses. */
  | 'chat_gone'
  /** Someone must grant something (a collaborator right, a scope, availability): fixed once granted. */
  | 'permission'
  /** Anything else that fails the same way next time (bad parameters, plan limits, no data yet). */
  | 'permanent';

// https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code
const PLATFORM: [number, FeishuCodeClass][] = [
  [99991400, 'rate_limited'],
  [99991661, 'token_rejected'],
  [99991663, 'token_rejected'],
  [99991668, 'token_rejected'],
  [99991672, 'permission'],
];

// drive/v1 statistics and view_records. https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get
const STATISTICS: [number, FeishuCodeClass][] = [
  [1069601, 'transient'],
  [1069602, 'cacheable'],
  // Manage right missing or access records off: retrying right after the grant must work, so never cached.
  [1069603, 'permission'],
  [1069604, 'cacheable'],
];

// drive/v2 likes. https://open.feishu.cn/document/docs/drive-v1/like/list
const LIKES: [number, FeishuCodeClass][] = [
  [1061001, 'transient'],
  [1061002, 'cacheable'],
  [1061003, 'cacheable'],
  [1061004, 'permission'],
  [1061007, 'cacheable'],
];

// Wiki nodes. https://open.feishu.cn/document/server-docs/docs/wiki-v2/space-node/get_node
const WIKI: [number, FeishuCodeClass][] = [
  [131001, 'transient'],
  [131002, 'permanent'],
  [131005, 'cacheable'],
  [131006, 'permission'],
];

// Workplace access data. https://open.feishu.cn/document/workplace-v1/workplace_access_data/search
const WORKPLACE: [number, FeishuCodeClass][] = [
  [1628001, 'permanent'],
  [1628002, 'permanent'],
  [1628003, 'transient'],
  // The page token was refused: a re-run starts from the first page, which is what a retried job does.
  [1628004, 'transient'],
];

// App usage overview. https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
const APP_USAGE: [number, FeishuCodeClass][] = [
  [211004, 'permanent'],
  [211005, 'permanent'],
  [211006, 'permanent'],
  [211007, 'permanent'],
  [211008, 'permanent'],
  [211009, 'permanent'],
  [211010, 'permanent'],
  // No data yet: published around 10:00 the next day, so a retry seconds later cannot find it either.
  [211011, 'permanent'],
];

// Document collaborators. https://open.feishu.cn/document/server-docs/docs/permission/permission-member/list
const PERMISSION_MEMBERS: [number, FeishuCodeClass][] = [
  [1063001, 'permanent'],
  [1063002, 'permission'],
  [1063003, 'permission'],
  [1063004, 'permission'],
  [1063005, 'permanent'],
  [1063006, 'rate_limited'],
  [1066001, 'transient'],
  [1066002, 'transient'],
];

// Messages. https://open.feishu.cn/document/server-docs/im-v1/message/create
const MESSAGES: [number, FeishuCodeClass][] = [
  [230002, 'chat_gone'],
  // Outside the app's availability range: what a private people list to such a person hits.
  [230013, 'permission'],
  [230020, 'rate_limited'],
  [230025, 'permanent'],
  [230099, 'permanent'],
  // The chat was dissolved. https://open.feishu.cn/document/server-docs/im-v1/message/create (error codes)
  [232009, 'chat_gone'],
  // Message create / chat trigger frequency limits.
  [11232, 'rate_limited'],
  [11233, 'rate_limited'],
];

const TABLE: ReadonlyMap<number, FeishuCodeClass> = new Map([
  ...PLATFORM,
  ...STATISTICS,
  ...LIKES,
  ...WIKI,
  ...WORKPLACE,
  ...APP_USAGE,
  ...PERMISSION_MEMBERS,
  ...MESSAGES,
]);

/** Every code the bot knows, for tests that keep this table and the words in `cards/` in step. */
export const KNOWN_FEISHU_CODES: readonly number[] = [...TABLE.keys()];

/** The class of a code the table lists; undefined for one it does not. */
export function classifyFeishuCode(code: number): FeishuCodeClass | undefined {
  return TABLE.get(code);
}

/**
 * The class of a failed call: the code's, or for codes the table does not list, by what arrived. No answer at
 * all and HTTP 5xx are transient; an unknown code otherwise is taken to repeat itself.
 */
export function classifyFeishuError(err: FeishuApiError): FeishuCodeClass {
  if (err.feishuCode === TRANSPORT_FAILURE) return 'transient';
  const known = TABLE.get(err.feishuCode);
  if (known) return known;
  return err.httpStatus !== undefined && err.httpStatus >= 500 ? 'transient' : 'permanent';
}

const RETRIED: ReadonlySet<FeishuCodeClass> = new Set(['transient', 'rate_limited', 'token_rejected']);

/**
 * Whether a later attempt may succeed, for any error: Feishu errors by the table, a body of the wrong shape
 * never (the same request gets the same body), our own errors by their `transient` flag.
 */
export function isTransient(err: unknown): boolean {
  if (err instanceof FeishuApiError) return RETRIED.has(classifyFeishuError(err));
  if (err instanceof FeishuUnexpectedResponseError) return false;
  return typeof err === 'object' && err !== null && (err as { transient?: unknown }).transient === true;
}

/** Remembered for a short while: the same question gets the same answer for at least that long. */
export function isCacheableFailure(err: unknown): boolean {
  return err instanceof FeishuApiError && classifyFeishuError(err) === 'cacheable';
}

/** The bot is not in the chat any more: stop sending there until it is added back. */
export function isChatGone(err: unknown): err is FeishuApiError {
  return err instanceof FeishuApiError && classifyFeishuError(err) === 'chat_gone';
}

/** 99991672: the app lacks an API scope; its message names the scopes (see `missingScopes`). */
const MISSING_SCOPE = 99991672;

export function isMissingScope(err: unknown): err is FeishuApiError {
  return err instanceof FeishuApiError && err.feishuCode === MISSING_SCOPE;
}
