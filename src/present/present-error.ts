import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import {
  type Bilingual,
  buildErrorCard,
  buildToast,
  buildUsageCard,
  type Card,
  type ErrorCardInput,
  explainFeishuCode,
  type Toast,
} from '../../cards/index.js';
import {
  CommandUsageError,
  NotADocumentError,
  NotFeishuLinkError,
  UnsupportedDocumentError,
} from '../errors.js';
import { classifyFeishuError, isMissingScope, isTransient } from '../feishu/codes.js';
import {
  FeishuApiError,
  FeishuUnexpectedResponseError,
  missingScopes,
  TRANSPORT_FAILURE,
} from '../feishu/errors.js';
import { InvalidPathParameterError } from '../feishu/path.js';
import { DeadlineExceededError } from '../util/deadline.js';

/** Where an error is being handled: a queued job that will run again, or the last chance to tell the user. */
export interface RetryPolicy {
  /** True when no later attempt will come (in-memory mode, a card callback, or the job's last attempt). */
  finalAttempt: boolean;
}

export interface PresentContext {
  /** The document the command was about: the error card links to it. */
  docUrl?: string;
  /**
   * The scopes to name for a missing scope (99991672) when Feishu's message names none: what the call that failed
   * needs (e.g. `im:chat.members:read` for a chat's members).
   */
  scopeHint?: readonly string[];
}

/**
 * The one place an error becomes what a reader sees and what the operator sees. Each failure is understood once
 * (`understand`): one structured log line, and the words for each form it can take — an error card in reply to a
 * command, a toast for a button, a line in a digest. Every form is bilingual, so Feishu shows the reader's language.
 */
interface Understood {
  card: () => Card;
  /** A toast's one line: the title, with the Feishu code when there is one. */
  short: Bilingual;
  /** A digest line: what happened to this item today. */
  line: Bilingual;
}

const NO_FIGURES_TODAY: Bilingual = { zh: '今天暂时无法获取数据。', en: 'Figures were not available today.' };

function understand(err: unknown, log: Logger, context: PresentContext = {}): Understood {
  if (err instanceof FeishuApiError) return understandFeishu(err, log, context);
  if (err instanceof FeishuUnexpectedResponseError) {
    log.error(
      { endpoint: err.endpoint, missing: err.missing, http_status: err.httpStatus, log_id: err.logId },
      'Feishu answered in an undocumented shape',
    );
    const input: ErrorCardInput = {
      kind: 'unexpected_response',
      endpoint: err.endpoint,
      ...(err.logId ? { logId: err.logId } : {}),
    };
    const short = { zh: '飞书返回了无法识别的数据', en: 'Feishu sent an answer the bot cannot read' };
    return { card: () => buildErrorCard(input), short, line: NO_FIGURES_TODAY };
  }
  if (err instanceof NotADocumentError) {
    log.info({ what: err.what }, 'link is not a document');
    return plain(buildErrorCard({ kind: 'not_document', url: err.url, what: err.what }));
  }
  if (err instanceof NotFeishuLinkError) {
    log.info('link is not a Feishu document link');
    return plain(buildErrorCard({ kind: 'not_feishu_link', url: err.url }));
  }
  if (err instanceof UnsupportedDocumentError) {
    log.info({ doc_type: err.docType }, 'document type has no statistics');
    return plain(buildErrorCard({ kind: 'unsupported_type', docType: err.docType, url: err.url }));
  }
  if (err instanceof InvalidPathParameterError) {
    // Refused before any Feishu call (src/feishu/path.ts): the id came from a link, a button or Feishu's own answer.
    log.warn({ err_code: err.code }, 'refused an id that cannot be sent to Feishu');
    return {
      card: () => buildErrorCard({ kind: 'invalid_id' }),
      short: { zh: '链接或 ID 无效', en: 'This link or id is not valid' },
      line: { zh: '该项的链接或 ID 无效。', en: 'The link or id of this item is not valid.' },
    };
  }
  if (err instanceof DeadlineExceededError) {
    // This caller's time ran out waiting for a Feishu call another caller started; that call goes on for others.
    log.warn({ err_code: err.code }, 'deadline passed while waiting for a shared Feishu call');
    return {
      card: () => buildErrorCard({ kind: 'timeout' }),
      short: { zh: '飞书响应超时', en: 'Feishu took too long to answer' },
      line: NO_FIGURES_TODAY,
    };
  }
  if (err instanceof CommandUsageError) {
    log.info({ command: err.command, problem: err.problem }, 'command usage error');
    return plain(buildUsageCard({ command: err.command, problem: err.problem, detail: err.detail }));
  }
  // Anything else is a bug: give the user an id they can quote and the operator the stack under the same id.
  const errorId = randomBytes(4).toString('hex');
  log.error({ err, error_id: errorId }, 'internal error');
  return {
    card: () => buildErrorCard({ kind: 'internal', errorId }),
    short: { zh: '出错了，请重试。', en: 'Something went wrong. Please try again.' },
    line: NO_FIGURES_TODAY,
  };
}

function understandFeishu(err: FeishuApiError, log: Logger, context: PresentContext): Understood {
  const fields = {
    endpoint: err.endpoint,
    feishu_code: err.feishuCode,
    feishu_msg: err.feishuMsg,
    http_status: err.httpStatus,
    log_id: err.logId,
    feishu_class: classifyFeishuError(err),
  };
  if (err.feishuCode === TRANSPORT_FAILURE) {
    log.warn(fields, 'Feishu unreachable or timed out');
    // Said as it happened: an HTTP error page from something in between is not a timeout, nor is a refusal.
    const input: ErrorCardInput =
      err.httpStatus !== undefined
        ? { kind: 'server_error', httpStatus: err.httpStatus }
        : err.feishuMsg === 'timeout'
          ? { kind: 'timeout' }
          : { kind: 'unreachable' };
    const explained = explainFeishuCode(TRANSPORT_FAILURE);
    return {
      card: () => buildErrorCard(input),
      short: explained?.title ?? { zh: '无法连接飞书', en: 'Could not reach Feishu' },
      line: NO_FIGURES_TODAY,
    };
  }
  const known = explainFeishuCode(err.feishuCode);
  // Feishu's message is never shown (an upstream may echo anything into it), only the scopes a 99991672 names.
  const named = missingScopes(err.feishuMsg);
  const scopes = named.length === 0 && isMissingScope(err) ? [...(context.scopeHint ?? [])] : named;
  // Known codes are the user's to fix (permissions, links): warn. Unknown ones may be ours: error.
  if (known) log.warn(fields, 'Feishu API error');
  else log.error(fields, 'unexpected Feishu API error');
  const input: ErrorCardInput = {
    kind: 'feishu',
    feishuCode: err.feishuCode,
    // An unknown code's words say "try again later": nothing is known that a person could change first.
    retryable: known ? isTransient(err) : true,
    ...(scopes.length ? { scopes } : {}),
    endpoint: err.endpoint,
    ...(err.logId ? { logId: err.logId } : {}),
    ...(context.docUrl ? { docUrl: context.docUrl } : {}),
  };
  const title = known?.title ?? { zh: '飞书返回错误', en: 'Feishu returned an error' };
  return {
    card: () => buildErrorCard(input),
    short: { zh: `${title.zh}（${err.feishuCode}）`, en: `${title.en} (${err.feishuCode})` },
    line: known?.meaning ?? {
      zh: `飞书返回错误 ${err.feishuCode}，今天暂无数据。`,
      en: `Feishu answered with error ${err.feishuCode}; no figures today.`,
    },
  };
}

/** Failures that are the reader's own input: the card says it all, the toast and digest line say less. */
function plain(card: Card): Understood {
  return {
    card: () => card,
    short: { zh: '无法处理该请求。', en: 'That could not be done.' },
    line: NO_FIGURES_TODAY,
  };
}

/** The error card answering a command. */
export function presentError(err: unknown, log: Logger, context: PresentContext = {}): Card {
  return understand(err, log, context).card();
}

/**
 * The error each toast of `presentToast` was made from. A callback answer that misses its deadline is delivered
 * later by other means (src/bot/card-callbacks.ts), which must know what failed, not only what to say: a private
 * notice about a private send that Feishu refused would be refused the same way.
 */
const toastCauses = new WeakMap<Toast, unknown>();

/** The toast answering a button click. */
export function presentToast(err: unknown, log: Logger): Toast {
  const toast = buildToast('error', understand(err, log).short);
  toastCauses.set(toast, err);
  return toast;
}

/** What `presentToast` made this toast from; undefined for a toast it did not make. */
export function toastCause(toast: Toast): unknown {
  return toastCauses.get(toast);
}

/** The line a digest shows for an item whose figures could not be fetched. */
export function presentDigestLine(err: unknown, log: Logger): Bilingual {
  return understand(err, log).line;
}

/**
 * Rethrows a transient failure of a job that will run again, so the queue retries it with backoff: the reader
 * then sees the answer, or one error after the last attempt, never both.
 */
export function retryIfTransient(err: unknown, log: Logger, policy: RetryPolicy): void {
  if (policy.finalAttempt || !isTransient(err)) return;
  log.info({ err_code: errorCode(err) }, 'transient failure; the job will run again');
  throw err;
}

/** `presentError`, after `retryIfTransient`. */
export function presentOrRetry(
  err: unknown,
  log: Logger,
  policy: RetryPolicy,
  context: PresentContext = {},
): Card {
  retryIfTransient(err, log, policy);
  return presentError(err, log, context);
}

function errorCode(err: unknown): number | string | undefined {
  if (err instanceof FeishuApiError) return err.feishuCode;
  return err instanceof Error ? err.name : undefined;
}
