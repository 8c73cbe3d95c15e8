/**
 * A loopback Feishu Open Platform for end-to-end tests: the real bot (and the real SDK) talk to it through
 * `FEISHU_DOMAIN=http://127.0.0.1:<port>`. Paths, HTTP statuses, body shapes and error codes follow the
 * published endpoint docs, because a bot that only passes against a lenient fake fails on a real tenant.
 *
 * Shape: one route table (method + path pattern → handler). Authentication, injected failures, latency and
 * call recording are applied around every route, so adding an endpoint is one table entry.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type EmulatedDocType = 'doc' | 'docx' | 'sheet' | 'bitable' | 'mindnote' | 'file' | 'slides';

export interface EmulatedError {
  httpStatus: number;
  code: number;
  msg: string;
  headers?: Record<string, string>;
}

export interface EmulatedDoc {
  token: string;
  type: EmulatedDocType;
  title: string;
  ownerId: string;
  url?: string;
  statistics: {
    uv: number;
    pv: number;
    like_count: number;
    timestamp?: number;
    uv_today: number;
    pv_today: number;
    like_count_today: number;
  };
  /** Per-document failure for the statistics endpoint, e.g. { httpStatus: 403, code: 1069603, msg: 'forbidden' }. */
  statisticsError?: EmulatedError;
}

export interface RecordedCall {
  method: string;
  /** Full pathname, e.g. `/open-apis/drive/v1/files/T/statistics`. */
  path: string;
  query: Record<string, string>;
  /** Lower-case names; `authorization` is `[redacted]` when present and missing otherwise. */
  headers: Record<string, string>;
  /** Parsed JSON body (secrets redacted), the raw text when not JSON, `undefined` when empty. */
  body: unknown;
  status: number;
  at: number;
}

export interface SentMessage {
  kind: 'reply' | 'create';
  /** Message id replied to, or `receive_id` for a create. */
  targetId: string;
  msgType: string;
  /** Parsed JSON content; replaced by the latest content after a PATCH. */
  content: unknown;
  uuid?: string;
  messageId: string;
  at: number;
  /** Set when the message was updated with PATCH. */
  updatedAt?: number;
}

export interface FeishuEmulator {
  readonly url: string;
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly tenantKey: string;
  readonly calls: RecordedCall[];
  /** Distinct messages actually created (uuid repeats do not add). */
  readonly messages: SentMessage[];
  /** `path` as a string may omit `/open-apis` and may contain `:param` segments. */
  callsTo(method: string, path: string | RegExp): RecordedCall[];
  addDoc(doc: Partial<EmulatedDoc> & { token: string }): EmulatedDoc;
  addWikiNode(nodeToken: string, target: { objToken: string; objType: string; title?: string }): void;
  /** Injected failures for matching calls, consumed in the order they were added. */
  failNext(method: string, path: string | RegExp, error: EmulatedError, times?: number): void;
  setLatency(ms: number): void;
  /** Every issued token becomes invalid (→ 99991663). */
  expireTokens(): void;
  waitForMessages(count: number, timeoutMs?: number): Promise<SentMessage[]>;
  /** Clears calls, messages, failures and latency; keeps docs, wiki nodes and issued tokens. */
  reset(): void;
  close(): Promise<void>;
}

export interface FeishuEmulatorOptions {
  appId?: string;
  appSecret?: string;
  botOpenId?: string;
  botName?: string;
  tokenTtlSeconds?: number;
  /**
   * HTTP status for 99991661/99991663. Pages disagree (FEISHU.md says "often 200"; error reports show 400),
   * so tests can run the bot against either.
   */
  authErrorStatus?: number;
  /** HTTP status for 10003/10014 from the token endpoint; Lark's own CLI tests expect 200. */
  credentialErrorStatus?: number;
}

interface RouteContext {
  method: string;
  path: string;
  params: Record<string, string>;
  query: Record<string, string>;
  body: unknown;
}

interface RouteResult {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

interface Route {
  method: string;
  pattern: string;
  matcher: RegExp;
  keys: string[];
  /** Whether the route requires `Authorization: Bearer <tenant_access_token>`. */
  auth: boolean;
  handle(ctx: RouteContext): RouteResult;
}

interface InjectedFailure {
  method: string;
  path: string | RegExp;
  error: EmulatedError;
  remaining: number;
}

interface StoredMessage {
  sent: SentMessage;
  chatId: string;
  rootId?: string;
  parentId?: string;
  threadId?: string;
  rawContent: string;
  createTime: number;
  updateTime: number;
}

interface WikiNode {
  nodeToken: string;
  spaceId: string;
  objToken: string;
  objType: string;
  title?: string;
  createdAt: number;
}

const API_PREFIX = '/open-apis';
const UUID_WINDOW_MS = 60 * 60 * 1000;
// Real tenants hand back the same token until fewer than 30 minutes remain.
// https://open.feishu.cn/document/server-docs/authentication-management/access-token/tenant_access_token_internal
const TOKEN_REUSE_MIN_REMAINING_MS = 30 * 60 * 1000;
const CARD_MAX_BYTES = 30 * 1024;
const TEXT_MAX_BYTES = 150 * 1024;
const MAX_REQUEST_BYTES = 1024 * 1024;
const RECEIVE_ID_TYPES = new Set(['open_id', 'user_id', 'union_id', 'email', 'chat_id']);
/** Types `drive/v1/metas/batch_query` accepts; anything else lands in `failed_list` with 970002. */
const META_DOC_TYPES = new Set(['doc', 'docx', 'sheet', 'bitable', 'mindnote', 'file', 'wiki', 'folder']);
const LIKE_TYPES = new Set<EmulatedDocType>(['doc', 'docx', 'file']);
const URL_SEGMENT: Record<EmulatedDocType, string> = {
  doc: 'docs',
  docx: 'docx',
  sheet: 'sheets',
  bitable: 'base',
  mindnote: 'mindnotes',
  file: 'file',
  slides: 'slides',
};

const MSG_MISSING_TOKEN =
  'Missing access token for authorization. Please make a request with token attached.';
const MSG_INVALID_TOKEN =
  'Invalid access token for authorization. Please make a request with token attached.';
const MSG_INVALID_PARAM = 'Your request contains an invalid request parameter.';
const MSG_CARD_FAILED = 'Failed to create card content.';
const MSG_TOO_LONG = 'The length of the message content reaches its limit.';

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `/a/:id/b` → a regex with one capture per `:param` segment. */
function compilePattern(pattern: string): { matcher: RegExp; keys: string[] } {
  const keys: string[] = [];
  const source = pattern
    .split('/')
    .map((segment) => {
      if (!segment.startsWith(':')) return escapeRegex(segment);
      keys.push(segment.slice(1));
      return '([^/]+)';
    })
    .join('/');
  return { matcher: new RegExp(`^${source}/?$`), keys };
}

function matchesPath(spec: string | RegExp, path: string): boolean {
  if (spec instanceof RegExp) return spec.test(path);
  const full = spec.startsWith(API_PREFIX) ? spec : `${API_PREFIX}${spec.startsWith('/') ? '' : '/'}${spec}`;
  return compilePattern(full).matcher.test(path);
}

/** Recorded bodies must never carry credentials: tests print them on failure. */
function redactSecrets(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(redactSecrets);
  if (!isRecord(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      /secret|access_token/i.test(key) ? '[redacted]' : redactSecrets(inner),
    ]),
  );
}

function success(data: unknown): RouteResult {
  return { status: 200, body: { code: 0, msg: 'success', data } };
}

function failure(status: number, code: number, msg: string, headers?: Record<string, string>): RouteResult {
  return { status, body: { code, msg }, headers };
}

/** Gateway-level validation failure for missing or malformed required fields. */
function fieldValidationFailed(field: string): RouteResult {
  return {
    status: 400,
    body: {
      code: 99992402,
      msg: 'field validation failed',
      error: { field_violations: [{ field, description: `${field} is invalid or missing` }] },
    },
  };
}

/** Log ids look like `20240101120000` + hex; bots copy them into error logs for Feishu support. */
function makeLogId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  return `${stamp}${hex(9).toUpperCase()}`;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_REQUEST_BYTES) chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

class FeishuEmulatorServer implements FeishuEmulator {
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly tenantKey = hex(8);
  readonly calls: RecordedCall[] = [];
  readonly messages: SentMessage[] = [];
  url = '';

  private readonly botName: string;
  private readonly tokenTtlMs: number;
  private readonly authErrorStatus: number;
  private readonly credentialErrorStatus: number;
  private readonly server: Server;
  private readonly routes: Route[];
  private readonly docs = new Map<string, EmulatedDoc>();
  private readonly wikiNodes = new Map<string, WikiNode>();
  private readonly tokens = new Map<string, { expiresAt: number; revoked: boolean }>();
  private currentToken: string | undefined;
  private readonly storedMessages = new Map<string, StoredMessage>();
  private readonly uuidIndex = new Map<string, { messageId: string; at: number }>();
  private failures: InjectedFailure[] = [];
  private latencyMs = 0;
  private waiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(opts: FeishuEmulatorOptions) {
    // A fresh app id per emulator matters: the SDK's default token cache is process-wide and keyed by app id,
    // so two emulators sharing one would see each other's (unknown to them) tokens.
    this.appId = opts.appId ?? `cli_${hex(8)}`;
    this.appSecret = opts.appSecret ?? hex(16);
    this.botOpenId = opts.botOpenId ?? `ou_${hex(16)}`;
    this.botName = opts.botName ?? 'Stats Bot';
    this.tokenTtlMs = (opts.tokenTtlSeconds ?? 7200) * 1000;
    this.authErrorStatus = opts.authErrorStatus ?? 400;
    this.credentialErrorStatus = opts.credentialErrorStatus ?? 200;
    this.routes = this.buildRoutes();
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        console.error('feishu emulator crashed on a request', error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => resolve());
    });
    const { port } = this.server.address() as AddressInfo;
    this.url = `http://127.0.0.1:${port}`;
  }

  callsTo(method: string, path: string | RegExp): RecordedCall[] {
    return this.calls.filter((c) => c.method === method.toUpperCase() && matchesPath(path, c.path));
  }

  addDoc(doc: Partial<EmulatedDoc> & { token: string }): EmulatedDoc {
    const type = doc.type ?? 'docx';
    const likes = LIKE_TYPES.has(type);
    const full: EmulatedDoc = {
      ...doc,
      token: doc.token,
      type,
      title: doc.title ?? `Emulated ${type} ${doc.token}`,
      ownerId: doc.ownerId ?? `ou_${hex(16)}`,
      // Numbers from the statistics doc example; like_count -1 marks types without likes.
      statistics: {
        uv: 10,
        pv: 15,
        like_count: likes ? 2 : -1,
        uv_today: 1,
        pv_today: 1,
        like_count_today: likes ? 1 : 0,
        ...doc.statistics,
      },
    };
    this.docs.set(full.token, full);
    return full;
  }

  addWikiNode(nodeToken: string, target: { objToken: string; objType: string; title?: string }): void {
    this.wikiNodes.set(nodeToken, {
      nodeToken,
      spaceId: `7${Date.now()}${String(Math.floor(Math.random() * 1e5)).padStart(5, '0')}`,
      objToken: target.objToken,
      objType: target.objType,
      title: target.title,
      createdAt: nowSeconds(),
    });
  }

  failNext(method: string, path: string | RegExp, error: EmulatedError, times = 1): void {
    this.failures.push({ method: method.toUpperCase(), path, error, remaining: times });
  }

  setLatency(ms: number): void {
    this.latencyMs = ms;
  }

  expireTokens(): void {
    for (const token of this.tokens.values()) token.revoked = true;
    this.currentToken = undefined;
  }

  waitForMessages(count: number, timeoutMs = 5000): Promise<SentMessage[]> {
    if (this.messages.length >= count) return Promise.resolve([...this.messages]);
    return new Promise((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve([...this.messages]);
        },
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        const seen = this.calls.map((c) => `${c.method} ${c.path} → ${c.status}`).join('\n  ');
        reject(
          new Error(
            `expected ${count} message(s) within ${timeoutMs} ms, got ${this.messages.length}; calls:\n  ${seen}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(waiter);
    });
  }

  reset(): void {
    this.calls.length = 0;
    this.messages.length = 0;
    this.storedMessages.clear();
    this.uuidIndex.clear();
    this.failures = [];
    this.latencyMs = 0;
  }

  async close(): Promise<void> {
    // Node's global agent keeps connections alive; without this, close() waits for their idle timeout.
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ── request pipeline ────────────────────────────────────────────────────────────────────────────────

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const at = Date.now();
    const method = (req.method ?? 'GET').toUpperCase();
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const query = Object.fromEntries(url.searchParams.entries());
    const headers = this.recordableHeaders(req);
    const raw = await readBody(req);
    const parsed = this.parseBody(raw, req.headers['content-type']);

    const result = parsed.ok
      ? this.dispatch(method, url.pathname, query, req.headers.authorization, parsed.value)
      : failure(400, 9499, 'bad request: body is not valid JSON');

    this.calls.push({
      method,
      path: url.pathname,
      query,
      headers,
      body: redactSecrets(parsed.ok ? parsed.value : raw),
      status: result.status,
      at,
    });
    if (this.latencyMs > 0) await sleep(this.latencyMs);
    this.send(res, result);
  }

  private dispatch(
    method: string,
    path: string,
    query: Record<string, string>,
    authorization: string | undefined,
    body: unknown,
  ): RouteResult {
    for (const route of this.routes) {
      if (route.method !== method) continue;
      const match = route.matcher.exec(path);
      if (!match) continue;
      const params = Object.fromEntries(
        route.keys.map((key, i) => [key, decodeURIComponent(match[i + 1] ?? '')]),
      );
      if (route.auth) {
        const denied = this.checkAuthorization(authorization);
        if (denied) return denied;
      }
      const injected = this.takeFailure(method, path);
      if (injected) return failure(injected.httpStatus, injected.code, injected.msg, injected.headers);
      return route.handle({ method, path, params, query, body });
    }
    return failure(404, 404, '404 page not found');
  }

  private checkAuthorization(header: string | undefined): RouteResult | undefined {
    const token = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')?.[1];
    if (!token) return failure(this.authErrorStatus, 99991661, MSG_MISSING_TOKEN);
    const issued = this.tokens.get(token);
    if (!issued || issued.revoked || issued.expiresAt <= Date.now()) {
      return failure(this.authErrorStatus, 99991663, MSG_INVALID_TOKEN);
    }
    return undefined;
  }

  private takeFailure(method: string, path: string): EmulatedError | undefined {
    const index = this.failures.findIndex((f) => f.method === method && matchesPath(f.path, path));
    const entry = this.failures[index];
    if (!entry) return undefined;
    entry.remaining -= 1;
    if (entry.remaining <= 0) this.failures.splice(index, 1);
    return entry.error;
  }

  private parseBody(raw: string, contentType: string | undefined): { ok: boolean; value: unknown } {
    if (raw.length === 0) return { ok: true, value: undefined };
    try {
      return { ok: true, value: JSON.parse(raw) };
    } catch {
      // Only a body that claims to be JSON is an error; anything else is recorded as text.
      return contentType?.includes('json') ? { ok: false, value: raw } : { ok: true, value: raw };
    }
  }

  private recordableHeaders(req: IncomingMessage): Record<string, string> {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(req.headers)) {
      if (value === undefined) continue;
      headers[name] =
        name === 'authorization' ? '[redacted]' : Array.isArray(value) ? value.join(', ') : value;
    }
    return headers;
  }

  private send(res: ServerResponse, result: RouteResult): void {
    const logId = makeLogId();
    let body = result.body;
    // Feishu attaches `error.log_id` to failures and `X-Tt-Logid` to every response.
    if (isRecord(body) && body.code !== 0) {
      body = { ...body, error: { ...(isRecord(body.error) ? body.error : {}), log_id: logId } };
    }
    const text = JSON.stringify(body);
    res.writeHead(result.status, {
      'Content-Type': 'application/json; charset=utf-8',
      'Content-Length': Buffer.byteLength(text),
      'X-Tt-Logid': logId,
      ...result.headers,
    });
    res.end(text);
  }

  private notifyWaiters(): void {
    const ready = this.waiters.filter((w) => this.messages.length >= w.count);
    this.waiters = this.waiters.filter((w) => this.messages.length < w.count);
    for (const waiter of ready) waiter.resolve();
  }

  // ── routes ──────────────────────────────────────────────────────────────────────────────────────────

  private buildRoutes(): Route[] {
    const route = (method: string, pattern: string, auth: boolean, handle: Route['handle']): Route => ({
      method,
      pattern,
      auth,
      handle,
      ...compilePattern(`${API_PREFIX}${pattern}`),
    });
    return [
      route('POST', '/auth/v3/tenant_access_token/internal', false, (ctx) => this.issueTenantToken(ctx)),
      route('GET', '/bot/v3/info', true, () => this.getBotInfo()),
      route('GET', '/drive/v1/files/:file_token/statistics', true, (ctx) => this.getFileStatistics(ctx)),
      route('GET', '/wiki/v2/spaces/get_node', true, (ctx) => this.getWikiNode(ctx)),
      route('POST', '/drive/v1/metas/batch_query', true, (ctx) => this.batchQueryMetas(ctx)),
      route('POST', '/im/v1/messages', true, (ctx) => this.createMessage(ctx)),
      route('POST', '/im/v1/messages/:message_id/reply', true, (ctx) => this.replyMessage(ctx)),
      route('PATCH', '/im/v1/messages/:message_id', true, (ctx) => this.patchMessage(ctx)),
    ];
  }

  /** Top-level token, no `data` wrapper. */
  private issueTenantToken(ctx: RouteContext): RouteResult {
    const body = isRecord(ctx.body) ? ctx.body : {};
    if (body.app_id !== this.appId) {
      return failure(this.credentialErrorStatus, 10003, 'invalid param');
    }
    if (body.app_secret !== this.appSecret) {
      return failure(this.credentialErrorStatus, 10014, 'app secret invalid');
    }
    const now = Date.now();
    const current = this.currentToken ? this.tokens.get(this.currentToken) : undefined;
    if (
      this.currentToken &&
      current &&
      !current.revoked &&
      current.expiresAt - now >= TOKEN_REUSE_MIN_REMAINING_MS
    ) {
      const expire = Math.floor((current.expiresAt - now) / 1000);
      return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: this.currentToken, expire } };
    }
    const token = `t-${hex(20)}`;
    this.tokens.set(token, { expiresAt: now + this.tokenTtlMs, revoked: false });
    this.currentToken = token;
    const expire = Math.floor(this.tokenTtlMs / 1000);
    return { status: 200, body: { code: 0, msg: 'ok', tenant_access_token: token, expire } };
  }

  /** `bot` sits at the top level, not under `data`. https://open.feishu.cn/document/client-docs/bot-v3/obtain-bot-info */
  private getBotInfo(): RouteResult {
    return {
      status: 200,
      body: {
        code: 0,
        msg: 'ok',
        bot: {
          activate_status: 2,
          app_name: this.botName,
          avatar_url: `https://s1-imfile.feishucdn.com/static-resource/v1/${hex(16)}~?image_size=noop`,
          ip_white_list: [],
          open_id: this.botOpenId,
        },
      },
    };
  }

  /** https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get (statistics) */
  private getFileStatistics(ctx: RouteContext): RouteResult {
    const fileType = ctx.query.file_type;
    const token = ctx.params.file_token ?? '';
    if (!fileType) return failure(400, 1069602, 'param error');
    const doc = this.docs.get(token);
    if (!doc) return failure(400, 1069604, 'document not found');
    // A wiki node token with file_type=wiki is unconfirmed on real tenants: be strict so the bot resolves first.
    if (doc.type !== fileType) return failure(400, 1069602, 'param error');
    if (doc.statisticsError) {
      const e = doc.statisticsError;
      return failure(e.httpStatus, e.code, e.msg, e.headers);
    }
    return success({
      file_token: doc.token,
      file_type: doc.type,
      statistics: { ...doc.statistics, timestamp: doc.statistics.timestamp ?? nowSeconds() },
    });
  }

  /** https://open.feishu.cn/document/server-docs/docs/wiki-v2/space-node/get_node — not found is HTTP 400, 131005. */
  private getWikiNode(ctx: RouteContext): RouteResult {
    const token = ctx.query.token;
    if (!token) return fieldValidationFailed('token');
    const objType = ctx.query.obj_type ?? 'wiki';
    const node =
      objType === 'wiki'
        ? this.wikiNodes.get(token)
        : [...this.wikiNodes.values()].find((n) => n.objToken === token && n.objType === objType);
    if (!node) return failure(400, 131005, 'not found');
    const doc = this.docs.get(node.objToken);
    const owner = doc?.ownerId ?? `ou_${hex(16)}`;
    const created = String(node.createdAt);
    return success({
      node: {
        space_id: node.spaceId,
        node_token: node.nodeToken,
        obj_token: node.objToken,
        obj_type: node.objType,
        parent_node_token: '',
        node_type: 'origin',
        origin_node_token: node.nodeToken,
        origin_space_id: node.spaceId,
        has_child: false,
        title: node.title ?? doc?.title ?? '',
        obj_create_time: created,
        obj_edit_time: created,
        node_create_time: created,
        creator: owner,
        owner,
        node_creator: owner,
      },
    });
  }

  /** https://open.feishu.cn/document/server-docs/docs/drive-v1/file/batch_query — per-doc failures in failed_list. */
  private batchQueryMetas(ctx: RouteContext): RouteResult {
    const body = isRecord(ctx.body) ? ctx.body : {};
    const requested = body.request_docs;
    if (!Array.isArray(requested) || requested.length < 1 || requested.length > 200) {
      return fieldValidationFailed('request_docs');
    }
    const withUrl = body.with_url === true;
    const metas: unknown[] = [];
    const failedList: Array<{ token: string; code: number }> = [];
    for (const item of requested) {
      const docToken = isRecord(item) && typeof item.doc_token === 'string' ? item.doc_token : '';
      const docType = isRecord(item) && typeof item.doc_type === 'string' ? item.doc_type : '';
      if (!docToken || !docType) return fieldValidationFailed('request_docs.doc_token');
      if (!META_DOC_TYPES.has(docType)) {
        failedList.push({ token: docToken, code: 970002 });
        continue;
      }
      const doc = this.docs.get(docToken);
      if (!doc || doc.type !== docType) {
        failedList.push({ token: docToken, code: 970005 });
        continue;
      }
      const time = String(doc.statistics.timestamp ?? nowSeconds());
      metas.push({
        doc_token: doc.token,
        doc_type: doc.type,
        title: doc.title,
        owner_id: doc.ownerId,
        create_time: time,
        latest_modify_user: doc.ownerId,
        latest_modify_time: time,
        ...(withUrl ? { url: this.docUrl(doc) } : {}),
      });
    }
    return success({ metas, failed_list: failedList });
  }

  /** https://open.feishu.cn/document/server-docs/im-v1/message/create */
  private createMessage(ctx: RouteContext): RouteResult {
    const receiveIdType = ctx.query.receive_id_type;
    if (!receiveIdType || !RECEIVE_ID_TYPES.has(receiveIdType))
      return fieldValidationFailed('receive_id_type');
    const body = isRecord(ctx.body) ? ctx.body : {};
    if (typeof body.receive_id !== 'string' || body.receive_id === '')
      return fieldValidationFailed('receive_id');
    const receiveId = body.receive_id;
    const chatId = receiveIdType === 'chat_id' ? receiveId : `oc_${hex(16)}`;
    return this.storeMessage('create', receiveId, body, { chatId });
  }

  /** https://open.feishu.cn/document/server-docs/im-v1/message/reply */
  private replyMessage(ctx: RouteContext): RouteResult {
    const targetId = ctx.params.message_id ?? '';
    if (!targetId.startsWith('om_')) return failure(400, 230001, MSG_INVALID_PARAM);
    const body = isRecord(ctx.body) ? ctx.body : {};
    const parent = this.storedMessages.get(targetId);
    return this.storeMessage('reply', targetId, body, {
      // Inbound user messages are unknown here; any chat id will do for them.
      chatId: parent?.chatId ?? `oc_${hex(16)}`,
      rootId: parent?.rootId ?? targetId,
      parentId: targetId,
      threadId: body.reply_in_thread === true ? (parent?.threadId ?? `omt_${hex(6)}`) : parent?.threadId,
    });
  }

  /** https://open.feishu.cn/document/server-docs/im-v1/message-card/patch */
  private patchMessage(ctx: RouteContext): RouteResult {
    const stored = this.storedMessages.get(ctx.params.message_id ?? '');
    if (!stored) return failure(400, 230001, MSG_INVALID_PARAM);
    if (stored.sent.msgType !== 'interactive') {
      return failure(400, 230054, 'This operation is not supported for this message type.');
    }
    const body = isRecord(ctx.body) ? ctx.body : {};
    if (typeof body.content !== 'string') return fieldValidationFailed('content');
    const checked = this.validateContent('interactive', body.content);
    if ('status' in checked) return checked;
    stored.rawContent = body.content;
    stored.updateTime = Date.now();
    stored.sent.content = checked.parsed;
    stored.sent.updatedAt = stored.updateTime;
    return success({});
  }

  private storeMessage(
    kind: SentMessage['kind'],
    targetId: string,
    body: Record<string, unknown>,
    place: { chatId: string; rootId?: string; parentId?: string; threadId?: string },
  ): RouteResult {
    const { msg_type: msgType, content, uuid } = body;
    if (typeof msgType !== 'string') return fieldValidationFailed('msg_type');
    if (typeof content !== 'string') return fieldValidationFailed('content');
    if (uuid !== undefined && (typeof uuid !== 'string' || uuid.length > 50))
      return fieldValidationFailed('uuid');

    // Same uuid within an hour: the first message comes back and nothing new is sent.
    const uuidKey = typeof uuid === 'string' && uuid !== '' ? `${kind}:${uuid}` : undefined;
    const previous = uuidKey ? this.uuidIndex.get(uuidKey) : undefined;
    if (uuidKey && previous && Date.now() - previous.at < UUID_WINDOW_MS) {
      const existing = this.storedMessages.get(previous.messageId);
      if (existing) return success(this.messageObject(existing));
    }

    const checked = this.validateContent(msgType, content);
    if ('status' in checked) return checked;

    const at = Date.now();
    const sent: SentMessage = {
      kind,
      targetId,
      msgType,
      content: checked.parsed,
      ...(typeof uuid === 'string' && uuid !== '' ? { uuid } : {}),
      messageId: `om_${hex(16)}`,
      at,
    };
    const stored: StoredMessage = { sent, ...place, rawContent: content, createTime: at, updateTime: at };
    this.storedMessages.set(sent.messageId, stored);
    if (uuidKey) this.uuidIndex.set(uuidKey, { messageId: sent.messageId, at });
    this.messages.push(sent);
    this.notifyWaiters();
    return success(this.messageObject(stored));
  }

  /**
   * Only `text` and `interactive` (Card JSON 2.0) are emulated; this bot sends nothing else.
   * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/im-v1/message/create_json
   */
  private validateContent(msgType: string, content: string): RouteResult | { parsed: unknown } {
    if (msgType !== 'interactive' && msgType !== 'text') return failure(400, 230001, MSG_INVALID_PARAM);
    const limit = msgType === 'interactive' ? CARD_MAX_BYTES : TEXT_MAX_BYTES;
    if (Buffer.byteLength(content, 'utf8') > limit) return failure(400, 230025, MSG_TOO_LONG);
    let parsed: unknown;
    try {
      parsed = JSON.parse(content);
    } catch {
      return msgType === 'interactive'
        ? failure(400, 230099, `${MSG_CARD_FAILED} content is not valid JSON`)
        : failure(400, 230001, MSG_INVALID_PARAM);
    }
    if (msgType === 'text') {
      return isRecord(parsed) && typeof parsed.text === 'string'
        ? { parsed }
        : failure(400, 230001, MSG_INVALID_PARAM);
    }
    const problem = describeCardProblem(parsed);
    return problem ? failure(400, 230099, `${MSG_CARD_FAILED} ${problem}`) : { parsed };
  }

  private messageObject(stored: StoredMessage): Record<string, unknown> {
    return {
      message_id: stored.sent.messageId,
      root_id: stored.rootId,
      parent_id: stored.parentId,
      thread_id: stored.threadId,
      msg_type: stored.sent.msgType,
      create_time: String(stored.createTime),
      update_time: String(stored.updateTime),
      deleted: false,
      updated: stored.updateTime !== stored.createTime,
      chat_id: stored.chatId,
      sender: { id: this.appId, id_type: 'app_id', sender_type: 'app', tenant_key: this.tenantKey },
      body: { content: stored.rawContent },
    };
  }

  private docUrl(doc: EmulatedDoc): string {
    return doc.url ?? `https://emulator.feishu.cn/${URL_SEGMENT[doc.type]}/${doc.token}`;
  }
}

/**
 * Card JSON 2.0 needs `schema: "2.0"` and a `body`; shared cards (update_multi) are the only kind 2.0 allows.
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-structure
 */
function describeCardProblem(card: unknown): string | undefined {
  if (!isRecord(card)) return 'card is not a JSON object';
  if (card.schema !== '2.0') return 'card schema must be "2.0"';
  if (!isRecord(card.body)) return 'card body is missing';
  if (card.body.elements !== undefined && !Array.isArray(card.body.elements))
    return 'body.elements is not an array';
  if (Array.isArray(card.body.elements) && card.body.elements.length > 200) return 'more than 200 elements';
  if (isRecord(card.config) && card.config.update_multi === false)
    return 'JSON 2.0 cards must be shared cards';
  return undefined;
}

export async function startFeishuEmulator(opts: FeishuEmulatorOptions = {}): Promise<FeishuEmulator> {
  const emulator = new FeishuEmulatorServer(opts);
  await emulator.listen();
  return emulator;
}
