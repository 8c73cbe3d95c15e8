import { setTimeout as delay } from 'node:timers/promises';
import * as lark from '@larksuiteoapi/node-sdk';
import { type AxiosError, isAxiosError } from 'axios';
import type { Logger } from 'pino';
import { pauseDeadline, timeLeftMs, withoutDeadline } from '../util/deadline.js';
import { classifyFeishuCode } from './codes.js';
import { FeishuApiError, FeishuUnexpectedResponseError, TRANSPORT_FAILURE } from './errors.js';
import {
  createHttpInstance,
  destroyHttpAgents,
  type ResponseHeaders,
  readResponseHeaders,
  toPlainHeaders,
} from './http.js';
import type { RateLimiter } from './rate-limits.js';
import { createScrubber, type Scrubber } from './scrub.js';
import { createSdkLogger } from './sdk-logger.js';

export interface TransportOptions {
  appId: string;
  appSecret: string;
  /** Full base URL, already resolved: `https://open.feishu.cn`, or a loopback emulator. */
  domain: string;
  logger: Logger;
  /** Per HTTP request; default 10 s. */
  timeoutMs?: number;
  /**
   * Everything one call may spend waiting: for the client-side limiter, and for Feishu's rate-limit resets
   * between attempts. Default 60 s, Feishu's own window. A reset that would end past it fails the call at once
   * (the queue retries the job later) instead of retrying inside the same window.
   */
  callBudgetMs?: number;
  sleep?: (ms: number) => Promise<void>;
  /** Asked before every HTTP attempt (retries included, the token request excluded); none = no client-side limit. */
  rateLimiter?: RateLimiter;
  /**
   * Other configured secrets (encrypt key, verification token) to scrub from upstream text, besides the app
   * secret and the live tenant token, which the transport knows itself.
   */
  redact?: readonly (string | undefined)[];
  /**
   * Told of every request sent to Feishu (retries and the token fetch included) once it is answered or fails:
   * for metrics and for the monthly call accounting. Must not throw; it runs on the caller's path.
   */
  onAttempt?: (attempt: FeishuAttempt) => void;
  /** Told of every rate-limit wait: each pass through our limiter (0 s when a slot was free), each reset slept. */
  onWait?: (wait: RateLimitWait) => void;
}

/** Time a call spent waiting on a rate limit: ours (`client`), or a reset Feishu asked for (`feishu`). */
export interface RateLimitWait {
  endpoint: string;
  side: 'client' | 'feishu';
  seconds: number;
}

/** One HTTP request to Feishu, as `onAttempt` reports it. */
export interface FeishuAttempt {
  endpoint: string;
  /** 0 when Feishu answered `code: 0`, else Feishu's code, or TRANSPORT_FAILURE when no Feishu body came back. */
  code: number;
  /** HTTP status when a response arrived; absent when none did (refused, reset, timed out). */
  status?: number;
  seconds: number;
}

/** Endpoint name on errors raised while fetching the tenant access token. */
export const TENANT_TOKEN_ENDPOINT = 'auth.v3.tenantAccessToken.internal';

const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_CALL_BUDGET_MS = 60_000;
/** Attempts that met a rate limit, per call: the third refusal is the answer. */
const MAX_RATE_LIMITED_ATTEMPTS = 3;
/** When a rate limit names no reset, one second (the shortest window Feishu publishes). */
const DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;
const MAX_JITTER_MS = 250;

/**
 * The longest one call can hold on to a caller: its budget of waits, plus one request that started just before
 * the budget ran out. A lock held for the length of a call (the cache's single flight) lives at least this long.
 */
export function worstCaseCallMs(opts: Pick<TransportOptions, 'timeoutMs' | 'callBudgetMs'> = {}): number {
  return (opts.callBudgetMs ?? DEFAULT_CALL_BUDGET_MS) + (opts.timeoutMs ?? DEFAULT_TIMEOUT_MS);
}

interface FeishuBody {
  code: number;
  msg?: string;
  error?: { log_id?: string };
}

function isFeishuBody(value: unknown): value is FeishuBody {
  return (
    typeof value === 'object' && value !== null && typeof (value as { code?: unknown }).code === 'number'
  );
}

function readLogId(headers: ResponseHeaders | undefined, body: unknown): string | undefined {
  const fromBody = isFeishuBody(body) ? body.error?.log_id : undefined;
  return headers?.['x-tt-logid'] ?? (typeof fromBody === 'string' ? fromBody : undefined);
}

function describeTransportFailure(error: AxiosError): string {
  switch (error.code) {
    case 'ECONNABORTED':
    case 'ETIMEDOUT':
      return 'timeout';
    case 'ECONNREFUSED':
      return 'connection refused';
    case 'ECONNRESET':
    case 'EPIPE':
      return 'connection reset';
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return 'DNS lookup failed';
    default:
      return error.response
        ? `HTTP ${error.response.status} without a Feishu body`
        : (error.code ?? 'network error');
  }
}

/** The SDK reports an HTTP-200 token refusal only as this message (TokenManager.requestToken). */
const SDK_TOKEN_ERROR = /^failed to get \w+, code: (-?\d+), msg: (.*)$/s;

/**
 * Only Feishu's own code, msg, status and log id survive: never the request config, headers or tokens. `msg` is
 * scrubbed here, once, so neither the error's message, its stack, a log line nor a card can carry what an
 * upstream echoed back.
 */
function toFeishuApiError(endpoint: string, error: unknown, scrub: Scrubber): FeishuApiError | undefined {
  if (error instanceof FeishuApiError) return error;
  if (isAxiosError(error)) {
    // A token fetch the SDK started by itself (cache expired mid-flight) fails at the auth endpoint.
    const name = error.config?.url?.includes('/open-apis/auth/v3/') ? TENANT_TOKEN_ENDPOINT : endpoint;
    const headers = error.response ? toPlainHeaders(error.response.headers) : undefined;
    const body: unknown = error.response?.data;
    if (isFeishuBody(body)) {
      return new FeishuApiError(
        name,
        body.code,
        scrub(body.msg ?? ''),
        error.response?.status,
        readLogId(headers, body),
      );
    }
    return new FeishuApiError(
      name,
      TRANSPORT_FAILURE,
      describeTransportFailure(error),
      error.response?.status,
      readLogId(headers, undefined),
    );
  }
  const tokenRefusal = error instanceof Error ? SDK_TOKEN_ERROR.exec(error.message) : null;
  if (tokenRefusal) {
    return new FeishuApiError(
      TENANT_TOKEN_ENDPOINT,
      Number(tokenRefusal[1]),
      scrub(tokenRefusal[2] ?? ''),
      200,
    );
  }
  return undefined;
}

type Outcome<T> =
  | { ok: true; body: T }
  /** `tokenGeneration`: the cache generation the call was sent with, so only that token gets dropped. */
  | { ok: false; error: FeishuApiError; headers?: ResponseHeaders; tokenGeneration: number };

/**
 * The SDK's `cache` option, one per client: the SDK's module-global `internalCache` would be shared by every
 * client in the process and offers no way to drop a token Feishu has rejected.
 */
interface CacheEntry {
  value: unknown;
  expireAt?: number;
}

class TokenCache {
  readonly #namespaces = new Map<string, Map<unknown, CacheEntry>>();
  /** Bumped on every write, so a stale rejection does not evict a token fetched after it was used. */
  generation = 0;

  // The SDK keys its tenant token with a Symbol; `unknown` keys accept both that and strings.
  async get(key: unknown, options?: { namespace?: string }): Promise<unknown> {
    return this.peek(key, options?.namespace);
  }

  async set(
    key: unknown,
    value: unknown,
    expireAt?: number,
    options?: { namespace?: string },
  ): Promise<boolean> {
    const namespace = options?.namespace ?? '';
    const entries = this.#namespaces.get(namespace) ?? new Map<unknown, CacheEntry>();
    entries.set(key, { value, expireAt });
    this.#namespaces.set(namespace, entries);
    this.generation += 1;
    return true;
  }

  peek(key: unknown, namespace = ''): unknown {
    const entry = this.#namespaces.get(namespace)?.get(key);
    if (!entry || (entry.expireAt !== undefined && entry.expireAt <= Date.now())) return undefined;
    return entry.value;
  }

  /** Every string held (the tenant token), for the scrubber. */
  *values(): Iterable<string> {
    for (const entries of this.#namespaces.values()) {
      for (const { value } of entries.values()) if (typeof value === 'string') yield value;
    }
  }

  deleteUnlessRenewed(key: unknown, namespace: string, seenGeneration: number): void {
    if (this.generation === seenGeneration) this.#namespaces.get(namespace)?.delete(key);
  }
}

/**
 * What every Feishu call goes through: the SDK client with our HTTP instance, one shared tenant token (dropped and
 * fetched again when Feishu rejects it), the client-side rate limiter, Feishu's rate-limit resets, and one error
 * type for both ways the SDK fails. Endpoint modules (`drive.ts`, `im.ts`, …) only map requests and bodies.
 */
export class FeishuTransport {
  /** The typed SDK calls; endpoint modules send through `call`, never directly. */
  readonly sdk: lark.Client;
  readonly #appId: string;
  readonly #log: Logger;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #callBudgetMs: number;
  readonly #rateLimiter: RateLimiter | undefined;
  readonly #http: ReturnType<typeof createHttpInstance>;
  readonly #tokens = new TokenCache();
  readonly #scrub: Scrubber;
  /** `tokenManager` is typed `any` in the SDK; this is the one method used. */
  readonly #tokenManager: { getTenantAccessToken(): Promise<unknown> };
  readonly #onAttempt: ((attempt: FeishuAttempt) => void) | undefined;
  readonly #onWait: ((wait: RateLimitWait) => void) | undefined;
  #warmUp: Promise<void> | undefined;

  constructor(opts: TransportOptions) {
    this.#appId = opts.appId;
    this.#log = opts.logger.child({ component: 'feishu-client' });
    this.#sleep = opts.sleep ?? ((ms: number) => delay(ms).then(() => undefined));
    this.#callBudgetMs = opts.callBudgetMs ?? DEFAULT_CALL_BUDGET_MS;
    this.#rateLimiter = opts.rateLimiter;
    this.#onAttempt = opts.onAttempt;
    this.#onWait = opts.onWait;
    this.#http = createHttpInstance({ timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS });
    this.#scrub = createScrubber([opts.appSecret, ...(opts.redact ?? [])], () => this.#tokens.values());
    this.sdk = new lark.Client({
      appId: opts.appId,
      appSecret: opts.appSecret,
      domain: opts.domain,
      appType: lark.AppType.SelfBuild,
      // Axios types say calls resolve to responses; the interceptor makes them resolve to bodies, as HttpInstance says.
      httpInstance: this.#http as unknown as lark.HttpInstance,
      cache: this.#tokens,
      logger: createSdkLogger(opts.logger, this.#scrub),
      // Everything reaches createSdkLogger, which maps levels and asks pino whether they are enabled.
      loggerLevel: lark.LoggerLevel.trace,
    });
    this.#tokenManager = this.sdk.tokenManager;
  }

  /**
   * One Feishu call: the single token refresh and the rate-limit waits happen here. `scope` (a chat or message
   * id) selects the per-chat / per-message tiers of the client-side limiter.
   */
  async call<T>(endpoint: string, send: () => Promise<T>, scope?: string): Promise<T> {
    const started = performance.now();
    // Time left for Feishu's own rate-limit resets: the call budget, and the deadline of the command the call
    // serves (src/util/deadline.ts). Queueing behind our own limiter is bounded by the call budget alone.
    const leftMs = (): number =>
      Math.min(this.#callBudgetMs - (performance.now() - started), timeLeftMs() ?? Number.POSITIVE_INFINITY);
    let tokenRefreshed = false;
    let rateLimited = 0;
    for (;;) {
      const queueMs = this.#callBudgetMs - (performance.now() - started);
      const outcome = await this.#attempt(endpoint, send, scope, queueMs);
      if (outcome.ok) return outcome.body;
      const { error, headers, tokenGeneration } = outcome;
      const kind = classifyFeishuCode(error.feishuCode);
      if (kind === 'token_rejected' && !tokenRefreshed) {
        // Feishu can revoke a token before the cached expiry; nothing in the SDK notices.
        tokenRefreshed = true;
        this.#tokens.deleteUnlessRenewed(lark.CTenantAccessToken, this.#appId, tokenGeneration);
        this.#log.warn(
          { endpoint, feishuCode: error.feishuCode },
          'tenant token rejected; refreshing it once',
        );
        continue;
      }
      if (kind === 'rate_limited' && ++rateLimited < MAX_RATE_LIMITED_ATTEMPTS) {
        // https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
        const waitMs = rateLimitWaitMs(headers);
        if (waitMs > leftMs()) {
          // Retrying before the reset only meets the same refusal; the caller (a queued job) retries later.
          this.#log.warn(
            { endpoint, waitMs, leftMs: leftMs() },
            'feishu rate limit resets past this call budget',
          );
          throw error;
        }
        this.#log.warn(
          { endpoint, attempt: rateLimited, waitMs },
          'feishu rate limit hit; waiting before retry',
        );
        await this.#sleep(waitMs);
        this.#onWait?.({ endpoint, side: 'feishu', seconds: waitMs / 1000 });
        continue;
      }
      throw error;
    }
  }

  /** A body without what the endpoint documents: its own error, never retried (see FeishuUnexpectedResponseError). */
  unexpected(endpoint: string, body: unknown, missing: string): FeishuUnexpectedResponseError {
    return new FeishuUnexpectedResponseError(
      endpoint,
      missing,
      200,
      readLogId(readResponseHeaders(body), body),
    );
  }

  close(): void {
    destroyHttpAgents(this.#http);
  }

  /** The SDK would let every concurrent call on an empty cache fetch its own token: fetch once, share it. */
  #ensureTenantToken(): Promise<void> {
    if (this.#tokens.peek(lark.CTenantAccessToken, this.#appId) !== undefined) return Promise.resolve();
    // Shared by every caller, so bound by none of their deadlines (only by the request timeout).
    const started = performance.now();
    this.#warmUp ??= withoutDeadline(() => this.#tokenManager.getTenantAccessToken())
      .then(
        () => this.#report(TENANT_TOKEN_ENDPOINT, started, 0, 200),
        (error: unknown) => {
          const apiError = toFeishuApiError(TENANT_TOKEN_ENDPOINT, error, this.#scrub);
          this.#report(
            TENANT_TOKEN_ENDPOINT,
            started,
            apiError?.feishuCode ?? TRANSPORT_FAILURE,
            apiError?.httpStatus,
          );
          throw apiError ?? error;
        },
      )
      .finally(() => {
        this.#warmUp = undefined;
      });
    return this.#warmUp;
  }

  #report(endpoint: string, started: number, code: number, status: number | undefined): void {
    if (!this.#onAttempt) return;
    const seconds = (performance.now() - started) / 1000;
    this.#onAttempt(status === undefined ? { endpoint, code, seconds } : { endpoint, code, status, seconds });
  }

  #failure<T>(endpoint: string, error: unknown, tokenGeneration: number): Outcome<T> {
    const apiError = toFeishuApiError(endpoint, error, this.#scrub);
    if (!apiError) throw error;
    const headers =
      isAxiosError(error) && error.response ? toPlainHeaders(error.response.headers) : undefined;
    return { ok: false, error: apiError, headers, tokenGeneration };
  }

  async #attempt<T>(
    endpoint: string,
    send: () => Promise<T>,
    scope: string | undefined,
    maxWaitMs: number,
  ): Promise<Outcome<T>> {
    let tokenGeneration = this.#tokens.generation;
    try {
      await this.#ensureTenantToken();
      tokenGeneration = this.#tokens.generation;
    } catch (error) {
      return this.#failure(endpoint, error, tokenGeneration);
    }
    // After the token (not limited, and a slow fetch must not eat the slot) and outside the try: running out
    // of client-side wait is final, not a Feishu 99991400 to back off from and retry.
    // Our own queue is not Feishu failing: the command's deadline does not run while we wait in it.
    // Resumed also when the wait runs out: a pause left open would stop the clock of every caller waiting.
    if (this.#rateLimiter) {
      const waitStarted = performance.now();
      const resume = pauseDeadline();
      try {
        await this.#rateLimiter.acquire(endpoint, scope, Math.max(0, maxWaitMs));
      } finally {
        resume();
        this.#onWait?.({ endpoint, side: 'client', seconds: (performance.now() - waitStarted) / 1000 });
      }
    }
    const started = performance.now();
    try {
      const body = await send();
      // HTTP 200 with `code ≠ 0` resolves instead of throwing (FEISHU.md, SDK section).
      if (isFeishuBody(body) && body.code !== 0) {
        this.#report(endpoint, started, body.code, 200);
        const headers = readResponseHeaders(body);
        const msg = this.#scrub(body.msg ?? '');
        const error = new FeishuApiError(endpoint, body.code, msg, 200, readLogId(headers, body));
        return { ok: false, error, headers, tokenGeneration };
      }
      this.#report(endpoint, started, 0, 200);
      return { ok: true, body };
    } catch (error) {
      const outcome = this.#failure<T>(endpoint, error, tokenGeneration);
      if (!outcome.ok) this.#report(endpoint, started, outcome.error.feishuCode, outcome.error.httpStatus);
      return outcome;
    }
  }
}

/** Feishu's `x-ogw-ratelimit-reset` (seconds) when it sends one, plus jitter so replicas do not retry in step. */
function rateLimitWaitMs(headers: ResponseHeaders | undefined): number {
  const raw = headers?.['x-ogw-ratelimit-reset']?.trim();
  const seconds = raw ? Number(raw) : Number.NaN;
  const base = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_RATE_LIMIT_WAIT_MS;
  return base + Math.floor(Math.random() * MAX_JITTER_MS);
}
