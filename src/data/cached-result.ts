import { FeishuApiError } from '../feishu/errors.js';
import type { CacheResult, CacheTtl, JsonCache } from '../store/cache.js';

/** The fields of a FeishuApiError that survive a trip through the store. */
interface StoredFeishuError {
  name: string;
  code: string;
  feishuCode: number;
  feishuMsg: string;
  endpoint: string;
  httpStatus?: number;
  logId?: string;
}

type Outcome<T> = { ok: T } | { err: StoredFeishuError };

export interface CachedResultOptions<T> {
  ttlMs: CacheTtl<T>;
  /**
   * How long a failure may be replayed from the cache; 0 means "do not cache it". Only FeishuApiError is
   * cached (e.g. 1069604 document not found for 30 s); every other error is rethrown and never stored.
   */
  errorTtlMs: (err: unknown) => number;
  refresh?: boolean;
}

/**
 * `cache.getOrLoad` that also remembers Feishu errors which will not change soon, so a chat repeating a link
 * to a deleted document does not spend rate limit on it. A cached error is rethrown as a FeishuApiError with
 * the original fields. Keys used here hold outcomes, not bare values: do not share them with `getOrLoad`.
 */
export async function cachedResult<T>(
  cache: JsonCache,
  key: string,
  load: () => Promise<T>,
  opts: CachedResultOptions<T>,
): Promise<CacheResult<T>> {
  // Set only in the call whose `load` ran; its caller gets the original error, with its stack and cause.
  let thrown: { error: FeishuApiError; ttlMs: number } | undefined;
  const loadOutcome = async (): Promise<Outcome<T>> => {
    try {
      const value = await load();
      // `{ ok: undefined }` would serialise as `{}`; null keeps the outcome recognisable.
      return { ok: value === undefined ? (null as T) : value };
    } catch (err) {
      const ttlMs = opts.errorTtlMs(err);
      if (!(err instanceof FeishuApiError) || !(ttlMs > 0)) throw err;
      thrown = { error: err, ttlMs };
      return { err: storeFeishuError(err) };
    }
  };
  const ttlMs = (outcome: Outcome<T>): number => {
    if ('err' in outcome) return thrown?.ttlMs ?? 0;
    return typeof opts.ttlMs === 'function' ? opts.ttlMs(outcome.ok) : opts.ttlMs;
  };

  let result = await cache.getOrLoad(key, loadOutcome, {
    ttlMs,
    ...(opts.refresh ? { refresh: true } : {}),
  });
  // A value written before this key held outcomes (an older release): replace it rather than misread it.
  if (!isOutcome(result.value)) result = await cache.getOrLoad(key, loadOutcome, { ttlMs, refresh: true });
  const outcome = result.value as Outcome<T>;
  if ('err' in outcome) throw thrown?.error ?? restoreFeishuError(outcome.err);
  return { value: outcome.ok, cached: result.cached, storedAt: result.storedAt };
}

function storeFeishuError(err: FeishuApiError): StoredFeishuError {
  return {
    name: err.name,
    code: err.code,
    feishuCode: err.feishuCode,
    feishuMsg: err.feishuMsg,
    endpoint: err.endpoint,
    ...(err.httpStatus !== undefined ? { httpStatus: err.httpStatus } : {}),
    ...(err.logId !== undefined ? { logId: err.logId } : {}),
  };
}

function restoreFeishuError(stored: StoredFeishuError): FeishuApiError {
  return new FeishuApiError(
    stored.endpoint,
    stored.feishuCode,
    stored.feishuMsg,
    stored.httpStatus,
    stored.logId,
  );
}

function isOutcome(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if ('ok' in value) return true;
  if (!('err' in value)) return false;
  const { err } = value;
  return (
    typeof err === 'object' &&
    err !== null &&
    'endpoint' in err &&
    typeof err.endpoint === 'string' &&
    'feishuCode' in err &&
    typeof err.feishuCode === 'number' &&
    'feishuMsg' in err &&
    typeof err.feishuMsg === 'string'
  );
}
