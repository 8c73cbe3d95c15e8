import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { buildErrorCard, buildUsageCard, type Card, explainFeishuCode } from '../../cards/index.js';
import { SubscriptionBusyError } from '../digest/subscriptions.js';
import { CommandUsageError, FeishuApiError, NotADocumentError, NotFeishuLinkError } from '../errors.js';
import { StoreUnavailableError } from '../store/redis-store.js';

/**
 * Failures that a later attempt may not meet: Feishu unreachable or slow (-1), its 5xx answers, codes its docs
 * call temporary (rate limits, "system busy"), our own Redis being briefly away, and a digest list another edit
 * held locked. Anything else (permissions,
 * bad links, unknown codes) will fail the same way next time, so it becomes the error card at once.
 */
export function isTransientError(err: unknown): boolean {
  if (err instanceof StoreUnavailableError || err instanceof SubscriptionBusyError) return true;
  if (!(err instanceof FeishuApiError)) return false;
  if (err.feishuCode === -1 || (err.httpStatus !== undefined && err.httpStatus >= 500)) return true;
  return explainFeishuCode(err.feishuCode)?.retryable === true;
}

/** Where an error is being handled: a queued job that will run again, or the last chance to tell the user. */
export interface RetryPolicy {
  /** True when no later attempt will come (in-memory mode, a card callback, or the job's last attempt). */
  finalAttempt: boolean;
}

/**
 * `presentError`, except that a transient failure in a job that will run again is rethrown so the queue retries
 * it with backoff: the user then sees the answer, or one error card after the last attempt, never both.
 */
export function presentOrRetry(
  err: unknown,
  log: Logger,
  policy: RetryPolicy,
  context: { docUrl?: string } = {},
): Card {
  if (!policy.finalAttempt && isTransientError(err)) {
    log.info({ err_code: errorCode(err) }, 'transient failure; the job will run again');
    throw err;
  }
  return presentError(err, log, context);
}

function errorCode(err: unknown): number | string | undefined {
  if (err instanceof FeishuApiError) return err.feishuCode;
  return err instanceof Error ? err.name : undefined;
}

/**
 * The one place an error becomes what the user sees (a card that says what happened and what to do) and what the
 * operator sees (one structured log line). Handlers catch, call this, and reply with the card.
 */
export function presentError(err: unknown, log: Logger, context: { docUrl?: string } = {}): Card {
  if (err instanceof FeishuApiError) {
    const fields = {
      endpoint: err.endpoint,
      feishu_code: err.feishuCode,
      feishu_msg: err.feishuMsg,
      http_status: err.httpStatus,
      log_id: err.logId,
    };
    if (err.feishuCode === -1) {
      log.warn(fields, 'Feishu unreachable or timed out');
      return buildErrorCard({ kind: 'timeout' });
    }
    // Known codes are the user's to fix (permissions, links): warn. Unknown ones may be ours: error.
    if (explainFeishuCode(err.feishuCode)) log.warn(fields, 'Feishu API error');
    else log.error(fields, 'unexpected Feishu API error');
    return buildErrorCard({
      kind: 'feishu',
      feishuCode: err.feishuCode,
      feishuMsg: err.feishuMsg,
      endpoint: err.endpoint,
      ...(err.logId ? { logId: err.logId } : {}),
      ...(context.docUrl ? { docUrl: context.docUrl } : {}),
    });
  }
  if (err instanceof NotADocumentError) {
    log.info({ what: err.what }, 'link is not a document');
    return buildErrorCard({ kind: 'not_document', url: err.url, what: err.what });
  }
  if (err instanceof NotFeishuLinkError) {
    log.info('link is not a Feishu document link');
    return buildErrorCard({ kind: 'not_feishu_link', url: err.url });
  }
  if (err instanceof CommandUsageError) {
    log.info({ command: err.command, problem: err.problem }, 'command usage error');
    return buildUsageCard({ command: err.command, problem: err.problem, detail: err.detail });
  }
  // Anything else is a bug: give the user an id they can quote and the operator the stack under the same id.
  const errorId = randomBytes(4).toString('hex');
  log.error({ err, error_id: errorId }, 'internal error while handling a command');
  return buildErrorCard({ kind: 'internal', errorId });
}
