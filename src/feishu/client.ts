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
import type { RateLimiter } from './rate-limits.js';
import { createSdkLogger } from './sdk-logger.js';
import type {
  AppUsageCycle,
  AppUsageOverview,
  AppUsageQuery,
  BotInfo,
  DocLike,
  DocMeta,
  DocRef,
  FileStatistics,
  Page,
  PermissionMember,
  ViewRecord,
  WikiNode,
  WorkplaceAccessDay,
} from './types.js';

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
  /** Asked before every HTTP attempt (retries included, the token request excluded); none = no client-side limit. */
  rateLimiter?: RateLimiter;
}

export interface PageOptions {
  pageToken?: string;
  pageSize?: number;
}

export interface FeishuClient {
  getBotInfo(): Promise<BotInfo>;
  getFileStatistics(doc: DocRef): Promise<FileStatistics>;
  getWikiNode(token: string): Promise<WikiNode>;
  /** Keyed by document token; documents Feishu could not read (`failed_list`) are simply absent. */
  batchQueryMetas(docs: DocRef[]): Promise<Map<string, DocMeta>>;
  /** Most recent first; `pageSize` 1–50, default 20. */
  listViewRecords(doc: DocRef, opts?: PageOptions): Promise<Page<ViewRecord>>;
  /** Most recent first; only doc, docx and file have likes. `pageSize` 1–50, default 20. */
  listLikes(doc: DocRef, opts?: PageOptions): Promise<Page<DocLike>>;
  /** One page of days (yyyy-MM-dd, both ends included); `pageSize` 1–200, default 200. */
  searchWorkplaceAccessData(
    opts: { fromDate: string; toDate: string } & PageOptions,
  ): Promise<Page<WorkplaceAccessDay>>;
  /** 211011 (no data, HTTP 200) and 211004 (tenant edition) throw like any other Feishu code. */
  getAppUsageOverview(query: AppUsageQuery): Promise<AppUsageOverview>;
  /** Every collaborator of the document (the owner is in the metas, not necessarily here). */
  listPermissionMembers(doc: DocRef): Promise<PermissionMember[]>;
  /** `chatId` puts the reply under the per-chat message limit. */
  replyCard(
    messageId: string,
    card: object,
    uuid: string,
    opts?: { chatId?: string },
  ): Promise<{ messageId: string }>;
  sendCard(
    receiveId: string,
    card: object,
    uuid: string,
    opts?: { receiveIdType?: 'chat_id' | 'open_id' },
  ): Promise<{ messageId: string }>;
  /** Replaces the card of a message the bot sent (the card needs `config.update_multi: true`). */
  patchCard(messageId: string, card: object): Promise<void>;
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
// View records and likes take 1–50 per page; the bot shows 20 people per card.
const DEFAULT_PEOPLE_PAGE_SIZE = 20;
const MAX_PEOPLE_PAGE_SIZE = 50;
// Workplace access data takes 1–200 days per page: ask for the most, so a month is one call.
const MAX_WORKPLACE_PAGE_SIZE = 200;
const CYCLE_TYPES: Record<AppUsageCycle, number> = { day: 1, week: 2, month: 3 };

/** Within Feishu's bounds: an out-of-range page_size is a 400 for the whole request. */
function pageSize(requested: number | undefined, fallback: number, max: number): number {
  if (requested === undefined || !Number.isFinite(requested)) return fallback;
  return Math.min(max, Math.max(1, Math.trunc(requested)));
}

/** `last_view_time` / `last_liked_time` arrive as strings of epoch seconds. */
function epochSeconds(value: string | number | undefined): number {
  const seconds = Number(value);
  return Number.isFinite(seconds) ? seconds : 0;
}

/** A page token is only worth keeping when Feishu says there is more to fetch with it. */
function toPage<T>(items: T[], data: { has_more?: boolean; page_token?: string }): Page<T> {
  const pageToken = data.has_more ? data.page_token || undefined : undefined;
  return pageToken ? { items, hasMore: true, pageToken } : { items, hasMore: false };
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

  function failure<T>(endpoint: string, error: unknown, tokenGeneration: number): Outcome<T> {
    const apiError = toFeishuApiError(endpoint, error);
    if (!apiError) throw error;
    const headers =
      isAxiosError(error) && error.response ? toPlainHeaders(error.response.headers) : undefined;
    return { ok: false, error: apiError, headers, tokenGeneration };
  }

  async function attempt<T>(endpoint: string, send: () => Promise<T>, scope?: string): Promise<Outcome<T>> {
    let tokenGeneration = tokens.generation;
    try {
      await ensureTenantToken();
      tokenGeneration = tokens.generation;
    } catch (error) {
      return failure(endpoint, error, tokenGeneration);
    }
    // After the token (not limited, and a slow fetch must not eat the slot) and outside the try: running out
    // of client-side wait is final, not a Feishu 99991400 to back off from and retry.
    await opts.rateLimiter?.acquire(endpoint, scope);
    try {
      const body = await send();
      // HTTP 200 with `code ≠ 0` resolves instead of throwing (FEISHU.md, SDK section).
      if (isFeishuBody(body) && body.code !== 0) {
        const headers = readResponseHeaders(body);
        const error = new FeishuApiError(endpoint, body.code, body.msg ?? '', 200, readLogId(headers, body));
        return { ok: false, error, headers, tokenGeneration };
      }
      return { ok: true, body };
    } catch (error) {
      return failure(endpoint, error, tokenGeneration);
    }
  }

  function rateLimitWaitMs(headers: ResponseHeaders | undefined): number {
    const raw = headers?.['x-ogw-ratelimit-reset']?.trim();
    const seconds = raw ? Number(raw) : Number.NaN;
    const base = Number.isFinite(seconds) && seconds >= 0 ? seconds * 1000 : DEFAULT_RATE_LIMIT_WAIT_MS;
    return Math.min(base + Math.floor(Math.random() * MAX_JITTER_MS), maxRateLimitWaitMs);
  }

  /**
   * One place for error normalisation, the single token refresh and rate-limit backoff. `scope` (a chat or
   * message id) selects the per-chat / per-message tiers of the client-side limiter.
   */
  async function call<T>(endpoint: string, send: () => Promise<T>, scope?: string): Promise<T> {
    let tokenRefreshed = false;
    let rateLimited = 0;
    for (;;) {
      const outcome = await attempt(endpoint, send, scope);
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
  type ViewRecordFileType = NonNullable<
    Parameters<typeof sdk.drive.v1.fileViewRecord.list>[0]
  >['params']['file_type'];
  type LikeFileType = NonNullable<Parameters<typeof sdk.drive.v2.fileLike.list>[0]>['params']['file_type'];
  type MemberDocType = NonNullable<
    Parameters<typeof sdk.drive.v1.permissionMember.list>[0]
  >['params']['type'];

  async function sendMessage(
    endpoint: string,
    send: () => Promise<{ data?: { message_id?: string } }>,
    scope: string | undefined,
  ): Promise<{ messageId: string }> {
    const body = await call(endpoint, send, scope);
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

    async listViewRecords(doc, page) {
      const endpoint = 'drive.v1.fileViewRecord.list';
      const body = await call(endpoint, () =>
        sdk.drive.v1.fileViewRecord.list({
          path: { file_token: doc.token },
          params: {
            file_type: doc.type as ViewRecordFileType,
            page_size: pageSize(page?.pageSize, DEFAULT_PEOPLE_PAGE_SIZE, MAX_PEOPLE_PAGE_SIZE),
            viewer_id_type: 'open_id',
            ...(page?.pageToken ? { page_token: page.pageToken } : {}),
          },
        }),
      );
      if (!body.data) throw malformed(endpoint, body, 'data');
      const items: ViewRecord[] = [];
      // An entry without a viewer cannot be shown or linked to anyone; skip it rather than invent one.
      for (const item of body.data.items ?? []) {
        if (!item.viewer_id) continue;
        items.push({
          viewerId: item.viewer_id,
          name: item.name || undefined,
          avatarUrl: item.avatar_url || undefined,
          lastViewTime: epochSeconds(item.last_view_time),
        });
      }
      return toPage(items, body.data);
    },

    async listLikes(doc, page) {
      const endpoint = 'drive.v2.fileLike.list';
      const body = await call(endpoint, () =>
        sdk.drive.v2.fileLike.list({
          path: { file_token: doc.token },
          params: {
            // Only doc, docx and file have likes; Feishu answers 1061002 for anything else.
            file_type: doc.type as LikeFileType,
            page_size: pageSize(page?.pageSize, DEFAULT_PEOPLE_PAGE_SIZE, MAX_PEOPLE_PAGE_SIZE),
            user_id_type: 'open_id',
            ...(page?.pageToken ? { page_token: page.pageToken } : {}),
          },
        }),
      );
      if (!body.data) throw malformed(endpoint, body, 'data');
      const items = (body.data.items ?? []).map(
        (item): DocLike => ({
          userId: item.user_id ?? '',
          name: item.user_name || undefined,
          enName: item.user_en_name || undefined,
          avatarUrl: item.user_avatar_url || undefined,
          lastLikedTime: epochSeconds(item.last_liked_time),
          // Names and avatars are withheld for desensitised users; a liker without an id is one too.
          desensitized: item.user_is_desensitized ?? !item.user_id,
        }),
      );
      return toPage(items, body.data);
    },

    async searchWorkplaceAccessData(query) {
      const endpoint = 'workplace.v1.workplaceAccessData.search';
      // POST, yet every parameter is a query parameter and the body is empty:
      // https://open.feishu.cn/document/workplace-v1/workplace_access_data/search
      const body = await call(endpoint, () =>
        sdk.workplace.v1.workplaceAccessData.search({
          params: {
            from_date: query.fromDate,
            to_date: query.toDate,
            page_size: pageSize(query.pageSize, MAX_WORKPLACE_PAGE_SIZE, MAX_WORKPLACE_PAGE_SIZE),
            ...(query.pageToken ? { page_token: query.pageToken } : {}),
          },
        }),
      );
      if (!body.data) throw malformed(endpoint, body, 'data');
      const items: WorkplaceAccessDay[] = [];
      for (const item of body.data.items ?? []) {
        if (!item.date) continue;
        items.push({
          date: item.date,
          allWorkplace: { pv: item.all_workplace?.pv ?? 0, uv: item.all_workplace?.uv ?? 0 },
          defaultWorkplace: { pv: item.default_workplace?.pv ?? 0, uv: item.default_workplace?.uv ?? 0 },
        });
      }
      return toPage(items, body.data);
    },

    async getAppUsageOverview(query) {
      const endpoint = 'application.v6.applicationAppUsage.overview';
      // https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
      const body = await call(endpoint, () =>
        sdk.application.v6.applicationAppUsage.overview({
          path: { app_id: query.appId },
          params: { department_id_type: 'open_department_id' },
          data: {
            date: query.date,
            cycle_type: CYCLE_TYPES[query.cycle],
            ability: query.ability,
            ...(query.departmentId ? { department_id: query.departmentId } : {}),
          },
        }),
      );
      if (!body.data) throw malformed(endpoint, body, 'data');
      const metrics: AppUsageOverview['metrics'] = {};
      for (const item of body.data.items ?? []) {
        if (typeof item.metric_name === 'string' && typeof item.metric_value === 'number') {
          metrics[item.metric_name] = item.metric_value;
        }
      }
      return { metrics };
    },

    async listPermissionMembers(doc) {
      const endpoint = 'drive.v1.permissionMember.list';
      // Not paginated: one answer holds every collaborator. `fields` asks for `type` (user, chat, department…),
      // which is left out by default; names and avatars are not needed for an access check.
      // https://open.feishu.cn/document/server-docs/docs/permission/permission-member/list
      const body = await call(endpoint, () =>
        sdk.drive.v1.permissionMember.list({
          path: { token: doc.token },
          params: { type: doc.type as MemberDocType, fields: 'type' },
        }),
      );
      if (!body.data) throw malformed(endpoint, body, 'data');
      return (body.data.items ?? []).map((item) => ({
        memberType: item.member_type,
        memberId: item.member_id,
        perm: item.perm,
        ...(item.type ? { type: item.type } : {}),
      }));
    },

    replyCard(messageId, card, uuid, options) {
      return sendMessage(
        'im.v1.message.reply',
        () =>
          sdk.im.v1.message.reply({
            path: { message_id: messageId },
            // `uuid` makes the reply idempotent for an hour, so the retries in `call` cannot double-post.
            data: { msg_type: 'interactive', content: JSON.stringify(card), uuid },
          }),
        options?.chatId,
      );
    },

    sendCard(receiveId, card, uuid, options) {
      const receiveIdType = options?.receiveIdType ?? 'chat_id';
      return sendMessage(
        'im.v1.message.create',
        () =>
          sdk.im.v1.message.create({
            params: { receive_id_type: receiveIdType },
            data: { receive_id: receiveId, msg_type: 'interactive', content: JSON.stringify(card), uuid },
          }),
        // Feishu limits sends per user as well as per group: either id is the recipient's scope.
        receiveId,
      );
    },

    async patchCard(messageId, card) {
      // 5 updates/s per message on top of the app-wide limits (FEISHU.md, Sending).
      await call(
        'im.v1.message.patch',
        () =>
          sdk.im.v1.message.patch({
            path: { message_id: messageId },
            data: { content: JSON.stringify(card) },
          }),
        messageId,
      );
    },

    close() {
      destroyHttpAgents(httpInstance);
    },
  };
}
