import { setTimeout as delay } from 'node:timers/promises';
import * as lark from '@larksuiteoapi/node-sdk';
import { type AxiosError, isAxiosError } from 'axios';
import type { Logger } from 'pino';
import { FeishuApiError } from '../errors.js';
import {
  createHttpInstance,
  destroyHttpAgents,
  type ResponseHeaders,
  readResponseHeaders,
  toPlainHeaders,
} from './http.js';
import { createSdkLogger } from './sdk-logger.js';
import type { BotInfo, DocMeta, DocRef, FileStatistics, WikiNode } from './types.js';

export interface FeishuClientOptions {
  appId: string;
  appSecret: string;
  /** Full base URL, already resolved: `https://open.feishu.cn`, or a loopback emulator. */
  domain: string;
  logger: Logger;
  /** Per HTTP request; default 10 s. */
  timeoutMs?: number;
  /** Cap on honouring `x-ogw-ratelimit-reset`; default 10 s. */
  maxRateLimitWaitMs?: number;
  sleep?: (ms: number) => Promise<void>;
}

export interface FeishuClient {
  getBotInfo(): Promise<BotInfo>;
  getFileStatistics(doc: DocRef): Promise<FileStatistics>;
  getWikiNode(token: string): Promise<WikiNode>;
  /** Keyed by document token; documents Feishu could not read (`failed_list`) are simply absent. */
  batchQueryMetas(docs: DocRef[]): Promise<Map<string, DocMeta>>;
  replyCard(messageId: string, card: object, uuid: string): Promise<{ messageId: string }>;
  sendCard(chatId: string, card: object, uuid: string): Promise<{ messageId: string }>;
  close(): void;
}

/** Endpoint name on errors raised while fetching the tenant access token. */
export const TENANT_TOKEN_ENDPOINT = 'auth.v3.tenantAccessToken.internal';

// https://open.feishu.cn/document/server-docs/api-call-guide/generic-error-code
const TOKEN_REJECTED_CODES = new Set([99991661, 99991663, 99991668]);
const RATE_LIMITED_CODE = 99991400;
const MAX_RATE_LIMITED_ATTEMPTS = 3;
const DEFAULT_RATE_LIMIT_WAIT_MS = 1_000;
const MAX_JITTER_MS = 250;
// https://open.feishu.cn/document/server-docs/docs/drive-v1/file/batch_query: at most 200 docs per request.
const METAS_PER_REQUEST = 200;

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

/** Only Feishu's own code, msg, status and log id survive: never the request config, headers or tokens. */
function toFeishuApiError(endpoint: string, error: unknown): FeishuApiError | undefined {
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
        body.msg ?? '',
        error.response?.status,
        readLogId(headers, body),
      );
    }
    return new FeishuApiError(
      name,
      -1,
      describeTransportFailure(error),
      error.response?.status,
      readLogId(headers, undefined),
    );
  }
  const tokenRefusal = error instanceof Error ? SDK_TOKEN_ERROR.exec(error.message) : null;
  if (tokenRefusal) {
    return new FeishuApiError(TENANT_TOKEN_ENDPOINT, Number(tokenRefusal[1]), tokenRefusal[2] ?? '', 200);
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

  deleteUnlessRenewed(key: unknown, namespace: string, seenGeneration: number): void {
    if (this.generation === seenGeneration) this.#namespaces.get(namespace)?.delete(key);
  }
}

export function createFeishuClient(opts: FeishuClientOptions): FeishuClient {
  const log = opts.logger.child({ component: 'feishu-client' });
  const sleep = opts.sleep ?? ((ms: number) => delay(ms).then(() => undefined));
  const maxRateLimitWaitMs = opts.maxRateLimitWaitMs ?? 10_000;
  const httpInstance = createHttpInstance({ timeoutMs: opts.timeoutMs ?? 10_000 });
  const tokens = new TokenCache();
  const sdk = new lark.Client({
    appId: opts.appId,
    appSecret: opts.appSecret,
    domain: opts.domain,
    appType: lark.AppType.SelfBuild,
    // Axios types say calls resolve to responses; the interceptor makes them resolve to bodies, as HttpInstance says.
    httpInstance: httpInstance as unknown as lark.HttpInstance,
    cache: tokens,
    logger: createSdkLogger(opts.logger),
    // Everything reaches createSdkLogger, which maps levels and asks pino whether they are enabled.
    loggerLevel: lark.LoggerLevel.trace,
  });
  // `tokenManager` is typed `any` in the SDK; this is the one method used.
  const tokenManager: { getTenantAccessToken(): Promise<unknown> } = sdk.tokenManager;

  let warmUp: Promise<void> | undefined;

  /** The SDK would let every concurrent call on an empty cache fetch its own token: fetch once, share it. */
  function ensureTenantToken(): Promise<void> {
    if (tokens.peek(lark.CTenantAccessToken, opts.appId) !== undefined) return Promise.resolve();
    warmUp ??= tokenManager
      .getTenantAccessToken()
      .then(
        () => undefined,
        (error: unknown) => {
          throw toFeishuApiError(TENANT_TOKEN_ENDPOINT, error) ?? error;
        },
      )
      .finally(() => {
        warmUp = undefined;
      });
    return warmUp;
  }

  async function attempt<T>(endpoint: string, send: () => Promise<T>): Promise<Outcome<T>> {
    let tokenGeneration = tokens.generation;
    try {
      await ensureTenantToken();
      tokenGeneration = tokens.generation;
      const body = await send();
      // HTTP 200 with `code ≠ 0` resolves instead of throwing (FEISHU.md, SDK section).
      if (isFeishuBody(body) && body.code !== 0) {
        const headers = readResponseHeaders(body);
        const error = new FeishuApiError(endpoint, body.code, body.msg ?? '', 200, readLogId(headers, body));
        return { ok: false, error, headers, tokenGeneration };
      }
      return { ok: true, body };
    } catch (error) {
      const apiError = toFeishuApiError(endpoint, error);
      if (!apiError) throw error;
      const headers =
        isAxiosError(error) && error.response ? toPlainHeaders(error.response.headers) : undefined;
      return { ok: false, error: apiError, headers, tokenGeneration };
    }
  }

  function rateLimitWaitMs(headers: ResponseHeaders | undefined): number {
    const raw = headers?.['x-ogw-ratelimit-reset']?.trim();
    const seconds = raw ? Number(raw) : Number.NaN;
    const base = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_RATE_LIMIT_WAIT_MS;
    return Math.min(base + Math.floor(Math.random() * MAX_JITTER_MS), maxRateLimitWaitMs);
  }

  /** One place for error normalisation, the single token refresh and rate-limit backoff. */
  async function call<T>(endpoint: string, send: () => Promise<T>): Promise<T> {
    let tokenRefreshed = false;
    let rateLimited = 0;
    for (;;) {
      const outcome = await attempt(endpoint, send);
      if (outcome.ok) return outcome.body;
      const { error, headers, tokenGeneration } = outcome;
      if (TOKEN_REJECTED_CODES.has(error.feishuCode) && !tokenRefreshed) {
        // Feishu can revoke a token before the cached expiry; nothing in the SDK notices.
        tokenRefreshed = true;
        tokens.deleteUnlessRenewed(lark.CTenantAccessToken, opts.appId, tokenGeneration);
        log.warn({ endpoint, feishuCode: error.feishuCode }, 'tenant token rejected; refreshing it once');
        continue;
      }
      if (error.feishuCode === RATE_LIMITED_CODE && ++rateLimited < MAX_RATE_LIMITED_ATTEMPTS) {
        // https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
        const waitMs = rateLimitWaitMs(headers);
        log.warn({ endpoint, attempt: rateLimited, waitMs }, 'feishu rate limit hit; waiting before retry');
        await sleep(waitMs);
        continue;
      }
      throw error;
    }
  }

  function malformed(endpoint: string, body: unknown, what: string): FeishuApiError {
    return new FeishuApiError(
      endpoint,
      -1,
      `unexpected response: no ${what}`,
      200,
      readLogId(readResponseHeaders(body), body),
    );
  }

  type StatisticsFileType = NonNullable<
    Parameters<typeof sdk.drive.v1.fileStatistics.get>[0]
  >['params']['file_type'];
  type MetaDocType = NonNullable<
    Parameters<typeof sdk.drive.v1.meta.batchQuery>[0]
  >['data']['request_docs'][number]['doc_type'];

  async function sendMessage(
    endpoint: string,
    send: () => Promise<{ data?: { message_id?: string } }>,
  ): Promise<{ messageId: string }> {
    const body = await call(endpoint, send);
    const messageId = body.data?.message_id;
    if (!messageId) throw malformed(endpoint, body, 'data.message_id');
    return { messageId };
  }

  return {
    async getBotInfo() {
      const endpoint = 'bot.v3.info';
      // Not a typed call in the SDK; `bot` sits at the top level, not under `data`.
      const body: unknown = await call(endpoint, () =>
        sdk.request({ url: '/open-apis/bot/v3/info', method: 'GET' }),
      );
      const bot = (body as { bot?: { open_id?: unknown; app_name?: unknown } } | undefined)?.bot;
      if (typeof bot?.open_id !== 'string') throw malformed(endpoint, body, 'bot.open_id');
      return { openId: bot.open_id, appName: typeof bot.app_name === 'string' ? bot.app_name : '' };
    },

    async getFileStatistics(doc) {
      const endpoint = 'drive.v1.fileStatistics.get';
      const body = await call(endpoint, () =>
        sdk.drive.v1.fileStatistics.get({
          path: { file_token: doc.token },
          // The SDK's union lags the API (no `slides`); Feishu itself answers 1069602 for a bad type.
          params: { file_type: doc.type as StatisticsFileType },
        }),
      );
      const stats = body.data?.statistics;
      if (!stats) throw malformed(endpoint, body, 'data.statistics');
      return {
        uv: stats.uv ?? 0,
        pv: stats.pv ?? 0,
        likeCount: stats.like_count ?? -1,
        timestamp: stats.timestamp ?? 0,
        uvToday: stats.uv_today ?? 0,
        pvToday: stats.pv_today ?? 0,
        likeCountToday: stats.like_count_today ?? 0,
      };
    },

    async getWikiNode(token) {
      const endpoint = 'wiki.v2.space.getNode';
      const body = await call(endpoint, () => sdk.wiki.v2.space.getNode({ params: { token } }));
      const node = body.data?.node;
      if (!node?.obj_token || !node.obj_type) throw malformed(endpoint, body, 'data.node.obj_token');
      return { objToken: node.obj_token, objType: node.obj_type, title: node.title };
    },

    async batchQueryMetas(docs) {
      const endpoint = 'drive.v1.meta.batchQuery';
      const unique = [...new Map(docs.map((doc) => [`${doc.type}:${doc.token}`, doc])).values()];
      const metas = new Map<string, DocMeta>();
      // Sequential on purpose: chunks share one rate-limit bucket.
      for (let start = 0; start < unique.length; start += METAS_PER_REQUEST) {
        const chunk = unique.slice(start, start + METAS_PER_REQUEST);
        const body = await call(endpoint, () =>
          sdk.drive.v1.meta.batchQuery({
            data: {
              request_docs: chunk.map((doc) => ({ doc_token: doc.token, doc_type: doc.type as MetaDocType })),
              with_url: true,
            },
            params: { user_id_type: 'open_id' },
          }),
        );
        for (const meta of body.data?.metas ?? []) {
          metas.set(meta.doc_token, {
            token: meta.doc_token,
            type: meta.doc_type,
            title: meta.title,
            ownerId: meta.owner_id || undefined,
            url: meta.url || undefined,
          });
        }
      }
      return metas;
    },

    replyCard(messageId, card, uuid) {
      return sendMessage('im.v1.message.reply', () =>
        sdk.im.v1.message.reply({
          path: { message_id: messageId },
          // `uuid` makes the reply idempotent for an hour, so the retries in `call` cannot double-post.
          data: { msg_type: 'interactive', content: JSON.stringify(card), uuid },
        }),
      );
    },

    sendCard(chatId, card, uuid) {
      return sendMessage('im.v1.message.create', () =>
        sdk.im.v1.message.create({
          params: { receive_id_type: 'chat_id' },
          data: { receive_id: chatId, msg_type: 'interactive', content: JSON.stringify(card), uuid },
        }),
      );
    },

    close() {
      destroyHttpAgents(httpInstance);
    },
  };
}
