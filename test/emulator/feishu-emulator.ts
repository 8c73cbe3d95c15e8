/**
 * A loopback Feishu Open Platform for end-to-end tests: the real bot (and the real SDK) talk to it through
 * `FEISHU_DOMAIN=http://127.0.0.1:<port>`. Paths, HTTP statuses, body shapes and error codes follow the
 * published endpoint docs, because a bot that only passes against a lenient fake fails on a real tenant.
 *
 * Shape: one route table (method + path pattern → handler). Authentication, injected failures, latency and
 * call recording are applied around every route, so adding an endpoint is one table entry.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type FeishuWsGateway, WS_ENDPOINT_PATH, WsGateway } from './ws-gateway.js';

export type EmulatedDocType = 'doc' | 'docx' | 'sheet' | 'bitable' | 'mindnote' | 'file' | 'slides';

export interface EmulatedError {
  httpStatus: number;
  code: number;
  msg: string;
  headers?: Record<string, string>;
  /**
   * The call takes effect (a message is stored) and then this error is the answer: Feishu did the work and the
   * answer was lost on the way back (a gateway 5xx, a dropped connection). Default: the call fails before any effect.
   */
  afterEffect?: boolean;
}

/** One `view_records` item as stored; served most recent first whatever the order here. */
export interface EmulatedViewer {
  viewer_id: string;
  name?: string;
  avatar_url?: string;
  /** Epoch seconds; the real API sends it as a string, numbers are accepted here for convenience. */
  last_view_time: string | number;
}

/** One `likes` item as stored; desensitised likers are served without name or avatar. */
export interface EmulatedLike {
  user_id: string;
  /** Epoch seconds (string on the wire). */
  last_liked_time: string | number;
  user_name?: string;
  user_en_name?: string;
  user_avatar_url?: string;
  user_is_desensitized?: boolean;
}

/** One collaborator of `permissions/:token/members`; `type`, `name`, `avatar`, `external_label` are served only when asked for with `fields`. */
export interface EmulatedMember {
  /** `openid`, `unionid`, `userid`, `email`, `openchat`, `opendepartmentid`, `groupid`, `wikispaceid`, … */
  member_type: string;
  member_id: string;
  perm: 'view' | 'edit' | 'full_access';
  perm_type?: 'container' | 'single_page';
  type?: string;
  name?: string;
  avatar?: string;
  external_label?: boolean;
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
  viewers: EmulatedViewer[];
  likes: EmulatedLike[];
  members: EmulatedMember[];
  /** Per-document failure for the statistics endpoint, e.g. { httpStatus: 403, code: 1069603, msg: 'forbidden' }. */
  statisticsError?: EmulatedError;
  /** Per-document failure for `view_records`, e.g. 403 1069603 when the tenant has access records switched off. */
  viewRecordsError?: EmulatedError;
  /** Per-document failure for `likes`, e.g. 403 1061004. */
  likesError?: EmulatedError;
  /** Per-document failure for `permissions/:token/members`, e.g. 403 1063002 when the bot may not see collaborators. */
  membersError?: EmulatedError;
  /** Serve `view_records` and `likes` pages of at most this many, whatever `page_size` asks: a short list over pages. */
  pageSizeCap?: number;
}

/**
 * A chat `im/v1/chats/:chat_id` knows. A chat nobody added answers as the bot's private (p2p) chat with one
 * person: a card clicked in a chat a test did not set up is then in a private chat, which is what paging tests
 * assume. Groups, their owners and managers are added with `addChat`.
 */
export interface EmulatedChat {
  chatId: string;
  /** `chat_mode`. Default `group`. */
  chatMode: 'group' | 'topic' | 'p2p';
  /** open_id of the owner; absent: the bot that created the group owns it (`owner_id_type` app_id). */
  ownerId?: string;
  /** open_ids of the people the owner made managers (`user_manager_id_list`). */
  managers: string[];
  name: string;
  /** `false`: the bot is not in the chat, so only name, avatar, member count and status are served. Default true. */
  botIsMember: boolean;
  /**
   * Who is in the chat, in the order `chats/:chat_id/members` pages through them; bots are kept here and left out
   * of every page, as Feishu does. Default: nobody.
   */
  members: EmulatedChatMember[];
  /** Page the members (bots included, before they are left out) by at most this many, whatever `page_size` asks. */
  pageSizeCap?: number;
}

export interface EmulatedChatMember {
  openId: string;
  name?: string;
  /** A bot in the chat: counted by `user_count`/`bot_count`, never listed by the members API. */
  bot?: boolean;
}

/** A file uploaded with `POST /im/v1/files`, as the multipart body carried it. */
export interface EmulatedFile {
  fileKey: string;
  fileType: string;
  /** The `file_name` field. */
  fileName: string;
  /** The `file` part's own `filename` and `Content-Type`. */
  partFilename: string;
  contentType?: string;
  bytes: Buffer;
}

export interface EmulatedAccessFigures {
  pv: number;
  uv: number;
}

export interface EmulatedWorkplaceDay {
  /** yyyy-MM-dd */
  date: string;
  all_workplace: EmulatedAccessFigures;
  default_workplace: EmulatedAccessFigures;
}

/** Order in which `workplace_access_data/search` hands out days across its pages. */
export type WorkplaceOrder = 'asc' | 'desc' | 'shuffled';

export type AppUsageAbility = 'app' | 'mp' | 'h5' | 'bot';

/** What an app-usage source is asked; the request body after validation. */
export interface EmulatedAppUsageQuery {
  appId: string;
  date: string;
  /** 1 day, 2 week (date is a Monday), 3 month (date is the 1st). */
  cycleType: 1 | 2 | 3;
  ability: AppUsageAbility;
  departmentId?: string;
  departmentIdType: 'open_department_id' | 'department_id';
}

/** Metric name → value; names the API would not return for the query are dropped before serving. */
export type AppUsageMetrics = Record<string, number | undefined>;

/** A fixed set of metrics for every query, or a function; `undefined` from the function means 211011. */
export type AppUsageSource =
  | AppUsageMetrics
  | ((query: EmulatedAppUsageQuery) => AppUsageMetrics | undefined);

export interface RateLimitSpec {
  perSecond?: number;
  perMinute?: number;
  /** 429 on current APIs; some older ones answer 400 with the same body. Default 429. */
  httpStatus?: number;
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
  /** `receive_id_type` of a create (`chat_id`, or `open_id` for a private message to a person); absent on replies. */
  receiveIdType?: string;
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
  /** Files uploaded with `POST /im/v1/files`, in order. */
  readonly files: EmulatedFile[];
  /** `path` as a string may omit `/open-apis` and may contain `:param` segments. */
  callsTo(method: string, path: string | RegExp): RecordedCall[];
  addDoc(doc: Partial<EmulatedDoc> & { token: string }): EmulatedDoc;
  addWikiNode(nodeToken: string, target: { objToken: string; objType: string; title?: string }): void;
  /** A group (or topic, or p2p) chat for `GET /im/v1/chats/:chat_id`; adding the same id again replaces it. */
  addChat(chat: Partial<EmulatedChat> & { chatId: string }): EmulatedChat;
  /** Injected failures for matching calls, consumed in the order they were added. */
  failNext(method: string, path: string | RegExp, error: EmulatedError, times?: number): void;
  /** Every answer `ms` late; with `only`, just the answers of that route (a hanging endpoint). */
  setLatency(ms: number, only?: { method: string; path: string | RegExp }): void;
  /** Every issued token becomes invalid (→ 99991663). */
  expireTokens(): void;
  waitForMessages(count: number, timeoutMs?: number): Promise<SentMessage[]>;
  /** Days `workplace_access_data/search` knows about; each query serves the ones inside its range. */
  setWorkplaceDays(days: EmulatedWorkplaceDay[]): void;
  /** Default `asc`. `shuffled` is a fixed permutation, so paging still serves every day exactly once. */
  setWorkplaceOrder(order: WorkplaceOrder): void;
  /** Makes `appId` known to `app_usage/overview` (the emulator's own app id is always known, without data). */
  setAppUsage(appId: string, source: AppUsageSource): void;
  /** `false` → every overview call is 403 211004, as on tenants below the enterprise plan. */
  setAppUsagePlan(enabled: boolean): void;
  /** Departments the tenant has; once set, any other `department_id` is 211006. */
  setDepartments(ids: string[]): void;
  /**
   * Per-API limit in fixed windows aligned to the wall-clock second and minute, shared by all calls that
   * match `method` + `path`. Over the limit → 429 99991400 with `x-ogw-ratelimit-limit/-reset`.
   * Setting the same method + path again replaces the limit.
   */
  setRateLimit(method: string, path: string | RegExp, limit: RateLimitSpec): void;
  /** How many calls the rate limits refused (injected `failNext` 429s are not counted). */
  rateLimitedCount(method?: string, path?: string | RegExp): number;
  clearRateLimits(): void;
  /** The long connection (`WSClient`): `POST /callback/ws/endpoint` and the WebSocket it points to. */
  readonly ws: FeishuWsGateway;
  /**
   * Clears calls, messages, failures, latency and rate-limit counters; keeps docs, wiki nodes, chats, issued
   * tokens, workplace and app-usage data, and the rate limits themselves. On the long connection: clears its
   * records, refusals and pending answers; keeps open sockets and the client config.
   */
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
  /** Clock for rate-limit windows (epoch ms); tests pass a fake one to cross a window without waiting. */
  rateLimitClock?: () => number;
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

interface RateWindow {
  /** Epoch ms at which the current window opened. */
  start: number;
  count: number;
}

interface RateLimitRule {
  method: string;
  path: string | RegExp;
  perSecond?: number;
  perMinute?: number;
  httpStatus: number;
  second: RateWindow;
  minute: RateWindow;
}

/** Where an issued page token points: the list it belongs to and the offset of its first item. */
interface PageCursor {
  scope: string;
  offset: number;
}

type Paged<T> = { ok: true; items: T[]; hasMore: boolean; pageToken?: string } | { ok: false };

const API_PREFIX = '/open-apis';
const UUID_WINDOW_MS = 60 * 60 * 1000;
// Real tenants hand back the same token until fewer than 30 minutes remain.
// https://open.feishu.cn/document/server-docs/authentication-management/access-token/tenant_access_token_internal
const TOKEN_REUSE_MIN_REMAINING_MS = 30 * 60 * 1000;
const CARD_MAX_BYTES = 30 * 1024;
const TEXT_MAX_BYTES = 150 * 1024;
const MAX_REQUEST_BYTES = 1024 * 1024;
/** `im/v1/files` takes up to 30 MB; a multipart body may be that plus its fields. */
const FILE_MAX_BYTES = 30 * 1024 * 1024;
const MAX_MULTIPART_BYTES = FILE_MAX_BYTES + 64 * 1024;
const FILE_TYPES = new Set(['opus', 'mp4', 'pdf', 'doc', 'xls', 'ppt', 'stream']);
const MEMBERS_DEFAULT_PAGE = 20;
const MEMBERS_MAX_PAGE = 100;
const RECEIVE_ID_TYPES = new Set(['open_id', 'user_id', 'union_id', 'email', 'chat_id']);
/** Types `drive/v1/metas/batch_query` accepts; anything else lands in `failed_list` with 970002. */
const META_DOC_TYPES = new Set(['doc', 'docx', 'sheet', 'bitable', 'mindnote', 'file', 'wiki', 'folder']);
const LIKE_TYPES = new Set<EmulatedDocType>(['doc', 'docx', 'file']);
const USER_ID_TYPES = new Set(['open_id', 'union_id', 'user_id']);
/** `type` values `permissions/:token/members` accepts. https://open.feishu.cn/document/server-docs/docs/permission/permission-member/list */
const PERMISSION_TYPES = new Set([
  'doc',
  'sheet',
  'file',
  'wiki',
  'bitable',
  'docx',
  'mindnote',
  'minutes',
  'slides',
  'folder',
  'apps',
]);
const MEMBER_OPTIONAL_FIELDS = ['type', 'name', 'avatar', 'external_label'] as const;
const APP_ABILITIES = new Set<string>(['app', 'mp', 'h5', 'bot']);
/**
 * Which metrics each ability reports, in the order of the doc's example; `total_users` only for a day.
 * https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview (附录-统计指标说明)
 */
const APP_METRICS: Record<AppUsageAbility, readonly string[]> = {
  app: ['uv', 'total_users', 'new_users', 'pv', 'lifecycle'],
  mp: ['uv', 'pv', 'lifecycle'],
  h5: ['uv', 'pv', 'lifecycle'],
  bot: ['uv'],
};
const KNOWN_APP_METRICS = new Set(APP_METRICS.app);
const VIEW_RECORDS_MAX_PAGE = 50;
const LIKES_MAX_PAGE = 50;
const LIKES_DEFAULT_PAGE = 10;
const WORKPLACE_MAX_PAGE = 200;
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
const digits = (count: number): string => Array.from(randomBytes(count), (b) => b % 10).join('');
const lowerAlnum = (count: number): string =>
  Array.from(randomBytes(count), (b) => 'abcdefghijklmnopqrstuvwxyz0123456789'[b % 36]).join('');
const nowSeconds = (): number => Math.floor(Date.now() / 1000);
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `/a/:id/b` → a regex with one capture per `:param` segment. */
/** The emulator holds open_ids; another id type gets a stable stand-in derived from it. */
function idOfType(openId: string, idType: string): string {
  if (idType === 'open_id') return openId;
  const digest = createHash('sha256').update(openId).digest('hex');
  return idType === 'union_id' ? `on_${digest.slice(0, 32)}` : digest.slice(0, 8);
}

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

/** A strictly positive integer written in decimal, as query strings carry page sizes; otherwise undefined. */
function parseCount(raw: string | undefined): number | undefined {
  return raw !== undefined && /^\d{1,9}$/.test(raw) ? Number(raw) : undefined;
}

/** `yyyy-MM-dd` that names a real calendar day (2024-02-30 does not). */
function isCalendarDate(value: unknown): value is string {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value)) return false;
  const parsed = new Date(`${value}T00:00:00Z`);
  return !Number.isNaN(parsed.getTime()) && parsed.toISOString().slice(0, 10) === value;
}

const epochOf = (time: string | number): number => Number(time);

/** Log ids look like `20240101120000` + hex; bots copy them into error logs for Feishu support. */
function makeLogId(): string {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  return `${stamp}${hex(9).toUpperCase()}`;
}

/** The body's bytes, up to `limit`; `size` is what arrived in all (more than `limit` when it was cut). */
function readBody(req: IncomingMessage, limit: number): Promise<{ bytes: Buffer; size: number }> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
    });
    req.on('end', () => resolve({ bytes: Buffer.concat(chunks), size }));
    req.on('error', reject);
  });
}

/** A `multipart/form-data` body: text fields, and parts that came with a filename. */
interface MultipartBody {
  kind: 'multipart';
  fields: Record<string, string>;
  files: Record<string, { filename: string; contentType?: string; bytes: Buffer }>;
  /** More bytes arrived than a multipart body may hold. */
  oversized: boolean;
}

function isMultipart(body: unknown): body is MultipartBody {
  return isRecord(body) && body.kind === 'multipart';
}

/** What a recorded call keeps of a multipart body: the fields, and each file's name, type and size. */
function describeMultipart(body: MultipartBody): unknown {
  const files = Object.fromEntries(
    Object.entries(body.files).map(([name, f]) => [
      name,
      { filename: f.filename, contentType: f.contentType, size: f.bytes.length },
    ]),
  );
  return { multipart: { fields: body.fields, files } };
}

/**
 * RFC 7578, as far as uploads need it: parts between `--boundary` lines, each with `Content-Disposition: form-data;
 * name=…[; filename=…]`. A part without a filename is a field (as Go's and most servers' form readers take it).
 */
function parseMultipart(bytes: Buffer, boundary: string): Omit<MultipartBody, 'oversized'> | undefined {
  const delimiter = Buffer.from(`--${boundary}`);
  const fields: Record<string, string> = {};
  const files: MultipartBody['files'] = {};
  let at = bytes.indexOf(delimiter);
  if (at < 0) return undefined;
  for (;;) {
    at += delimiter.length;
    if (bytes.subarray(at, at + 2).toString() === '--') return { kind: 'multipart', fields, files };
    const headerEnd = bytes.indexOf('\r\n\r\n', at);
    const next = bytes.indexOf(delimiter, at);
    if (headerEnd < 0 || next < 0 || headerEnd > next) return undefined;
    const headers = bytes.subarray(at, headerEnd).toString('utf8');
    // The part's content ends with the CRLF that precedes the next delimiter.
    const content = bytes.subarray(headerEnd + 4, next - 2);
    const name = /name="([^"]*)"/i.exec(headers)?.[1];
    const filename = /filename="([^"]*)"/i.exec(headers)?.[1];
    const contentType = /content-type:\s*([^\r\n]+)/i.exec(headers)?.[1]?.trim();
    if (name !== undefined) {
      if (filename !== undefined)
        files[name] = { filename, ...(contentType ? { contentType } : {}), bytes: content };
      else fields[name] = content.toString('utf8');
    }
    at = next;
  }
}

class FeishuEmulatorServer implements FeishuEmulator {
  readonly appId: string;
  readonly appSecret: string;
  readonly botOpenId: string;
  readonly tenantKey = hex(8);
  readonly calls: RecordedCall[] = [];
  readonly messages: SentMessage[] = [];
  readonly files: EmulatedFile[] = [];
  readonly ws: WsGateway;
  url = '';

  private readonly botName: string;
  private readonly tokenTtlMs: number;
  private readonly authErrorStatus: number;
  private readonly credentialErrorStatus: number;
  private readonly server: Server;
  private readonly routes: Route[];
  private readonly docs = new Map<string, EmulatedDoc>();
  private readonly wikiNodes = new Map<string, WikiNode>();
  private readonly chats = new Map<string, EmulatedChat>();
  private readonly tokens = new Map<string, { expiresAt: number; revoked: boolean }>();
  private currentToken: string | undefined;
  private readonly storedMessages = new Map<string, StoredMessage>();
  private readonly uuidIndex = new Map<string, { messageId: string; at: number }>();
  private failures: InjectedFailure[] = [];
  private latencyMs = 0;
  private routeLatency: Array<{ method: string; path: string | RegExp; ms: number }> = [];
  private waiters: Array<{ count: number; resolve: () => void }> = [];
  private readonly rateLimitClock: () => number;
  private rateLimits: RateLimitRule[] = [];
  private rateLimitedCalls: Array<{ method: string; path: string }> = [];
  /** Page token → position, and the reverse, so a position always gets the same token (Previous buttons reuse them). */
  private readonly cursors = new Map<string, PageCursor>();
  private readonly cursorTokens = new Map<string, string>();
  private workplaceDays: EmulatedWorkplaceDay[] = [];
  private workplaceOrder: WorkplaceOrder = 'asc';
  private readonly appUsage = new Map<string, AppUsageSource>();
  private appUsagePlan = true;
  private departments: Set<string> | undefined;
  /** One p2p chat per person, so private messages to the same open_id land in the same chat. */
  private readonly p2pChats = new Map<string, string>();

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
    this.rateLimitClock = opts.rateLimitClock ?? Date.now;
    this.ws = new WsGateway({ appId: this.appId, appSecret: this.appSecret, baseUrl: () => this.url });
    this.routes = this.buildRoutes();
    this.server = createServer((req, res) => {
      this.serve(req, res).catch((error: unknown) => {
        console.error('feishu emulator crashed on a request', error);
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
    });
    this.server.on('upgrade', (req, socket, head) => this.ws.handleUpgrade(req, socket, head));
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
      viewers: doc.viewers ?? [],
      likes: doc.likes ?? [],
      members: doc.members ?? [],
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

  addChat(chat: Partial<EmulatedChat> & { chatId: string }): EmulatedChat {
    const full: EmulatedChat = {
      ...chat,
      chatMode: chat.chatMode ?? 'group',
      managers: chat.managers ?? [],
      name: chat.name ?? `Emulated chat ${chat.chatId}`,
      botIsMember: chat.botIsMember ?? true,
      members: chat.members ?? [],
    };
    this.chats.set(full.chatId, full);
    return full;
  }

  failNext(method: string, path: string | RegExp, error: EmulatedError, times = 1): void {
    this.failures.push({ method: method.toUpperCase(), path, error, remaining: times });
  }

  setLatency(ms: number, only?: { method: string; path: string | RegExp }): void {
    if (!only) {
      this.latencyMs = ms;
      return;
    }
    this.routeLatency.push({ method: only.method.toUpperCase(), path: only.path, ms });
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

  setWorkplaceDays(days: EmulatedWorkplaceDay[]): void {
    this.workplaceDays = days.map((day) => ({ ...day }));
  }

  setWorkplaceOrder(order: WorkplaceOrder): void {
    this.workplaceOrder = order;
  }

  setAppUsage(appId: string, source: AppUsageSource): void {
    this.appUsage.set(appId, source);
  }

  setAppUsagePlan(enabled: boolean): void {
    this.appUsagePlan = enabled;
  }

  setDepartments(ids: string[]): void {
    this.departments = new Set(ids);
  }

  setRateLimit(method: string, path: string | RegExp, limit: RateLimitSpec): void {
    const upper = method.toUpperCase();
    const key = String(path);
    this.rateLimits = this.rateLimits.filter((r) => !(r.method === upper && String(r.path) === key));
    this.rateLimits.push({
      method: upper,
      path,
      perSecond: limit.perSecond,
      perMinute: limit.perMinute,
      httpStatus: limit.httpStatus ?? 429,
      second: { start: 0, count: 0 },
      minute: { start: 0, count: 0 },
    });
  }

  rateLimitedCount(method?: string, path?: string | RegExp): number {
    return this.rateLimitedCalls.filter(
      (c) =>
        (method === undefined || c.method === method.toUpperCase()) &&
        (path === undefined || matchesPath(path, c.path)),
    ).length;
  }

  clearRateLimits(): void {
    this.rateLimits = [];
    this.rateLimitedCalls = [];
  }

  reset(): void {
    this.calls.length = 0;
    this.messages.length = 0;
    this.storedMessages.clear();
    this.files.length = 0;
    this.uuidIndex.clear();
    this.failures = [];
    this.latencyMs = 0;
    this.routeLatency = [];
    this.rateLimitedCalls = [];
    for (const rule of this.rateLimits) {
      rule.second = { start: 0, count: 0 };
      rule.minute = { start: 0, count: 0 };
    }
    this.ws.reset();
  }

  async close(): Promise<void> {
    // Upgraded sockets are no longer the HTTP server's to close.
    await this.ws.close();
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
    const contentType = req.headers['content-type'];
    const multipart = /^multipart\/form-data;\s*boundary=("?)([^";]+)\1/i.exec(contentType ?? '');
    const body = await readBody(req, multipart ? MAX_MULTIPART_BYTES : MAX_REQUEST_BYTES);
    const raw = body.bytes.toString('utf8');
    const parsed = multipart
      ? this.parseMultipartBody(body, multipart[2] ?? '')
      : this.parseBody(raw, contentType);

    const result = parsed.ok
      ? this.dispatch(method, url.pathname, query, req.headers.authorization, parsed.value)
      : failure(400, 9499, 'bad request: body is not valid JSON');

    this.calls.push({
      method,
      path: url.pathname,
      query,
      headers,
      body: isMultipart(parsed.value)
        ? describeMultipart(parsed.value)
        : redactSecrets(parsed.ok ? parsed.value : raw),
      status: result.status,
      at,
    });
    const routeMs = this.routeLatency.find(
      (l) => l.method === method && matchesPath(l.path, url.pathname),
    )?.ms;
    const latencyMs = routeMs ?? this.latencyMs;
    if (latencyMs > 0) await sleep(latencyMs);
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
      const limited = this.checkRateLimits(method, path);
      if (limited) return limited;
      const injected = this.takeFailure(method, path);
      if (injected) {
        if (injected.afterEffect) route.handle({ method, path, params, query, body });
        return failure(injected.httpStatus, injected.code, injected.msg, injected.headers);
      }
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

  /**
   * Fixed windows aligned to the second and the minute, as Feishu counts them; a refused call uses no
   * capacity. The reset header is the whole seconds until the exceeded window closes, at least 1.
   * https://open.feishu.cn/document/server-docs/api-call-guide/frequency-control
   */
  private checkRateLimits(method: string, path: string): RouteResult | undefined {
    const rules = this.rateLimits.filter((r) => r.method === method && matchesPath(r.path, path));
    if (rules.length === 0) return undefined;
    const now = this.rateLimitClock();
    let refusal: { limit: number; resetSec: number; httpStatus: number } | undefined;
    for (const rule of rules) {
      const windows = [
        { key: 'second', size: 1000, limit: rule.perSecond },
        { key: 'minute', size: 60_000, limit: rule.perMinute },
      ] as const;
      for (const { key, size, limit } of windows) {
        const start = Math.floor(now / size) * size;
        if (rule[key].start !== start) rule[key] = { start, count: 0 };
        if (limit === undefined || rule[key].count < limit) continue;
        const resetSec = Math.max(1, Math.ceil((start + size - now) / 1000));
        if (!refusal || resetSec > refusal.resetSec)
          refusal = { limit, resetSec, httpStatus: rule.httpStatus };
      }
    }
    if (refusal) {
      this.rateLimitedCalls.push({ method, path });
      return failure(refusal.httpStatus, 99991400, 'request trigger frequency limit', {
        'x-ogw-ratelimit-limit': String(refusal.limit),
        'x-ogw-ratelimit-reset': String(refusal.resetSec),
      });
    }
    for (const rule of rules) {
      rule.second.count += 1;
      rule.minute.count += 1;
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

  private parseMultipartBody(
    body: { bytes: Buffer; size: number },
    boundary: string,
  ): { ok: boolean; value: unknown } {
    const parts = parseMultipart(body.bytes, boundary);
    // A body the parser cannot split is answered by the route as a missing field, not as bad JSON.
    return {
      ok: true,
      value: {
        ...(parts ?? { kind: 'multipart', fields: {}, files: {} }),
        oversized: body.size > body.bytes.length,
      },
    };
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
      route('GET', '/drive/v1/files/:file_token/view_records', true, (ctx) => this.listViewRecords(ctx)),
      route('GET', '/drive/v2/files/:file_token/likes', true, (ctx) => this.listLikes(ctx)),
      route('GET', '/drive/v1/permissions/:token/members', true, (ctx) => this.listPermissionMembers(ctx)),
      route('POST', '/workplace/v1/workplace_access_data/search', true, (ctx) =>
        this.searchWorkplaceAccess(ctx),
      ),
      route('POST', '/application/v6/applications/:app_id/app_usage/overview', true, (ctx) =>
        this.getAppUsageOverview(ctx),
      ),
      route('GET', '/wiki/v2/spaces/get_node', true, (ctx) => this.getWikiNode(ctx)),
      route('POST', '/drive/v1/metas/batch_query', true, (ctx) => this.batchQueryMetas(ctx)),
      route('POST', '/im/v1/messages', true, (ctx) => this.createMessage(ctx)),
      route('POST', '/im/v1/messages/:message_id/reply', true, (ctx) => this.replyMessage(ctx)),
      route('PATCH', '/im/v1/messages/:message_id', true, (ctx) => this.patchMessage(ctx)),
      route('GET', '/im/v1/chats/:chat_id', true, (ctx) => this.getChat(ctx)),
      route('GET', '/im/v1/chats/:chat_id/members', true, (ctx) => this.listChatMembers(ctx)),
      route('POST', '/im/v1/files', true, (ctx) => this.uploadFile(ctx)),
      // Outside /open-apis, unauthenticated: the credentials are in the body.
      {
        method: 'POST',
        pattern: WS_ENDPOINT_PATH,
        auth: false,
        handle: (ctx) => this.ws.handleEndpoint(ctx.body),
        ...compilePattern(WS_ENDPOINT_PATH),
      },
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

  /**
   * Most recent first; `page_size` is required. Unlike statistics, an unknown file is HTTP 404.
   * https://open.feishu.cn/document/server-docs/docs/drive-v1/file-view_record/list
   */
  private listViewRecords(ctx: RouteContext): RouteResult {
    const invalid = () => failure(400, 1069602, 'invalid param');
    const pageSize = parseCount(ctx.query.page_size);
    if (pageSize === undefined || pageSize < 1 || pageSize > VIEW_RECORDS_MAX_PAGE) return invalid();
    const fileType = ctx.query.file_type;
    if (!fileType || !USER_ID_TYPES.has(ctx.query.viewer_id_type ?? 'open_id')) return invalid();
    const doc = this.docs.get(ctx.params.file_token ?? '');
    if (!doc) return failure(404, 1069604, 'not found');
    if (doc.type !== fileType) return invalid();
    if (doc.viewRecordsError) return this.docFailure(doc.viewRecordsError);

    const newestFirst = [...doc.viewers].sort(
      (a, b) => epochOf(b.last_view_time) - epochOf(a.last_view_time),
    );
    // Real tokens read `<last_view_time>--<snowflake>`, e.g. 1674037112--7189934631754563585.
    const page = this.paginate(
      `view_records:${doc.token}`,
      newestFirst,
      Math.min(pageSize, doc.pageSizeCap ?? pageSize),
      ctx.query.page_token,
      (last) => `${epochOf(last.last_view_time)}--7${digits(18)}`,
    );
    if (!page.ok) return invalid();
    const items = page.items.map((v) => ({
      viewer_id: v.viewer_id,
      ...(v.name !== undefined ? { name: v.name } : {}),
      ...(v.avatar_url !== undefined ? { avatar_url: v.avatar_url } : {}),
      last_view_time: String(epochOf(v.last_view_time)),
    }));
    return success(this.pageBody(items, page));
  }

  /**
   * Most recent first; only doc, docx and file have likes, and a desensitised liker comes without name or avatar.
   * https://open.feishu.cn/document/docs/drive-v1/like/list
   */
  private listLikes(ctx: RouteContext): RouteResult {
    const invalid = () => failure(400, 1061002, 'invalid params');
    const fileType = ctx.query.file_type ?? '';
    if (!LIKE_TYPES.has(fileType as EmulatedDocType)) return invalid();
    const pageSize = ctx.query.page_size === undefined ? LIKES_DEFAULT_PAGE : parseCount(ctx.query.page_size);
    if (pageSize === undefined || pageSize < 1 || pageSize > LIKES_MAX_PAGE) return invalid();
    if (!USER_ID_TYPES.has(ctx.query.user_id_type ?? 'open_id')) return invalid();
    const doc = this.docs.get(ctx.params.file_token ?? '');
    if (!doc) return failure(404, 1061003, 'file not found');
    if (doc.type !== fileType) return invalid();
    if (doc.likesError) return this.docFailure(doc.likesError);

    const newestFirst = [...doc.likes].sort(
      (a, b) => epochOf(b.last_liked_time) - epochOf(a.last_liked_time),
    );
    const served = Math.min(pageSize, doc.pageSizeCap ?? pageSize);
    const page = this.paginate(`likes:${doc.token}`, newestFirst, served, ctx.query.page_token, () =>
      randomBytes(150).toString('base64url'),
    );
    if (!page.ok) return invalid();
    const items = page.items.map((like) => {
      const base = { user_id: like.user_id, last_liked_time: String(epochOf(like.last_liked_time)) };
      if (like.user_is_desensitized) return { ...base, user_is_desensitized: true };
      return {
        ...base,
        ...(like.user_name !== undefined ? { user_name: like.user_name } : {}),
        ...(like.user_en_name !== undefined ? { user_en_name: like.user_en_name } : {}),
        ...(like.user_avatar_url !== undefined ? { user_avatar_url: like.user_avatar_url } : {}),
        user_is_desensitized: false,
      };
    });
    return success(this.pageBody(items, page));
  }

  /**
   * Collaborators in one unpaginated list. `type`/`name`/`avatar`/`external_label` come only when `fields`
   * asks for them (`*` for all). A document that does not exist is 1063001 like a token/type mismatch.
   * https://open.feishu.cn/document/server-docs/docs/permission/permission-member/list
   */
  private listPermissionMembers(ctx: RouteContext): RouteResult {
    const invalid = () => failure(400, 1063001, 'Invalid parameter');
    const type = ctx.query.type ?? '';
    if (!PERMISSION_TYPES.has(type)) return invalid();
    const permType = ctx.query.perm_type;
    if (permType !== undefined && permType !== 'container' && permType !== 'single_page') return invalid();
    const token = ctx.params.token ?? '';
    const node = type === 'wiki' ? this.wikiNodes.get(token) : undefined;
    const doc = this.docs.get(node ? node.objToken : token);
    if (!doc || (type !== 'wiki' && doc.type !== type)) return invalid();
    if (doc.membersError) return this.docFailure(doc.membersError);

    const requested = new Set((ctx.query.fields ?? '').split(',').map((f) => f.trim()));
    const wanted = MEMBER_OPTIONAL_FIELDS.filter((f) => requested.has('*') || requested.has(f));
    const items = doc.members.map((m) => {
      const item: Record<string, unknown> = {
        member_type: m.member_type,
        member_id: m.member_id,
        perm: m.perm,
        perm_type: m.perm_type ?? 'container',
      };
      for (const field of wanted) if (m[field] !== undefined) item[field] = m[field];
      return item;
    });
    return success({ items });
  }

  /**
   * Query parameters on a POST with no body; every day of the range that has data, over as many pages as needed.
   * The doc names no maximum range, so none is enforced.
   * https://open.feishu.cn/document/workplace-v1/workplace_access_data/search
   */
  private searchWorkplaceAccess(ctx: RouteContext): RouteResult {
    const { from_date: from, to_date: to } = ctx.query;
    if (!from) return fieldValidationFailed('from_date');
    if (!to) return fieldValidationFailed('to_date');
    const pageSize = parseCount(ctx.query.page_size);
    if (pageSize === undefined || pageSize < 1 || pageSize > WORKPLACE_MAX_PAGE)
      return fieldValidationFailed('page_size');
    if (!isCalendarDate(from) || !isCalendarDate(to)) return failure(400, 1628001, 'invalid  time format');
    if (from > to) return failure(400, 1628002, "from_date can't be greater than to_date");

    const inRange = this.workplaceDays.filter((d) => d.date >= from && d.date <= to);
    const ordered = this.orderWorkplaceDays(inRange);
    const page = this.paginate(`workplace:${from}:${to}`, ordered, pageSize, ctx.query.page_token, () =>
      lowerAlnum(12),
    );
    if (!page.ok) return failure(400, 1628004, 'invalid page_token');
    const items = page.items.map((d) => ({
      date: d.date,
      all_workplace: { ...d.all_workplace },
      default_workplace: { ...d.default_workplace },
    }));
    return success(this.pageBody(items, page));
  }

  private orderWorkplaceDays(days: EmulatedWorkplaceDay[]): EmulatedWorkplaceDay[] {
    const byDate = [...days].sort((a, b) => a.date.localeCompare(b.date));
    if (this.workplaceOrder === 'asc') return byDate;
    if (this.workplaceOrder === 'desc') return byDate.reverse();
    // A fixed permutation (by hash of the date), so successive pages of one query never overlap.
    const rank = (day: EmulatedWorkplaceDay) => createHash('sha256').update(day.date).digest('hex');
    return byDate.sort((a, b) => rank(a).localeCompare(rank(b)));
  }

  /**
   * Custom apps, enterprise plans only. 211011 (no data) is an HTTP 200 that the SDK resolves instead of throwing.
   * https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
   */
  private getAppUsageOverview(ctx: RouteContext): RouteResult {
    if (!this.appUsagePlan) return failure(403, 211004, 'no authority for quota limit');
    const appId = ctx.params.app_id ?? '';
    const source = this.appUsage.get(appId);
    if (source === undefined && appId !== this.appId) return failure(400, 211005, 'invalid app id');
    const body = isRecord(ctx.body) ? ctx.body : {};
    const { date, cycle_type: cycleType, ability, department_id: departmentId } = body;
    if (!isCalendarDate(date)) return failure(400, 211007, 'invalid date format');
    if (cycleType !== 1 && cycleType !== 2 && cycleType !== 3)
      return failure(400, 211009, 'invalid cycle type');
    const day = new Date(`${date}T00:00:00Z`);
    if ((cycleType === 2 && day.getUTCDay() !== 1) || (cycleType === 3 && day.getUTCDate() !== 1)) {
      return failure(400, 211010, 'invalid date range');
    }
    if (typeof ability !== 'string' || !APP_ABILITIES.has(ability))
      return failure(400, 211008, 'invalid ability');
    const departmentIdType = ctx.query.department_id_type ?? 'open_department_id';
    if (departmentIdType !== 'open_department_id' && departmentIdType !== 'department_id')
      return fieldValidationFailed('department_id_type');
    if (departmentId !== undefined && departmentId !== '') {
      const wellFormed =
        typeof departmentId === 'string' &&
        (departmentIdType === 'department_id' || /^od-[0-9a-z]+$/i.test(departmentId));
      if (!wellFormed || (this.departments && !this.departments.has(departmentId))) {
        return failure(400, 211006, 'invalid department id');
      }
    }

    const query: EmulatedAppUsageQuery = {
      appId,
      date,
      cycleType,
      ability: ability as AppUsageAbility,
      ...(typeof departmentId === 'string' && departmentId !== '' ? { departmentId } : {}),
      departmentIdType,
    };
    const metrics = typeof source === 'function' ? source(query) : source;
    const items = metrics ? this.selectAppMetrics(metrics, query) : [];
    if (items.length === 0) return { status: 200, body: { code: 211011, msg: 'data not found' } };
    return success({ items });
  }

  /** Drops what the API would not return: bots report `uv` only; `total_users` exists only for a day of the whole app. */
  private selectAppMetrics(
    metrics: AppUsageMetrics,
    query: EmulatedAppUsageQuery,
  ): Array<{ metric_name: string; metric_value: number }> {
    const allowed = APP_METRICS[query.ability].filter((m) => m !== 'total_users' || query.cycleType === 1);
    // Names this emulator does not know pass through (except for bots), so the bot can be tested on new metrics.
    const extra =
      query.ability === 'bot' ? [] : Object.keys(metrics).filter((name) => !KNOWN_APP_METRICS.has(name));
    return [...allowed, ...extra].flatMap((name) => {
      const value = metrics[name];
      return value === undefined ? [] : [{ metric_name: name, metric_value: value }];
    });
  }

  /**
   * Offset paging behind opaque tokens. A token is valid only for the list it came from, stays valid, and the
   * same position always gets the same token.
   */
  private paginate<T>(
    scope: string,
    items: readonly T[],
    pageSize: number,
    pageToken: string | undefined,
    makeToken: (lastOnPage: T) => string,
  ): Paged<T> {
    let offset = 0;
    if (pageToken !== undefined && pageToken !== '') {
      const cursor = this.cursors.get(pageToken);
      if (!cursor || cursor.scope !== scope) return { ok: false };
      offset = cursor.offset;
    }
    const pageItems = items.slice(offset, offset + pageSize);
    const next = offset + pageItems.length;
    const last = pageItems[pageItems.length - 1];
    if (next >= items.length || last === undefined) return { ok: true, items: pageItems, hasMore: false };
    const key = `${scope}\n${next}`;
    let token = this.cursorTokens.get(key);
    if (!token) {
      token = makeToken(last);
      this.cursorTokens.set(key, token);
      this.cursors.set(token, { scope, offset: next });
    }
    return { ok: true, items: pageItems, hasMore: true, pageToken: token };
  }

  /** `page_token` only when `has_more`, as every list endpoint documents. */
  private pageBody<T>(items: T[], page: { hasMore: boolean; pageToken?: string }): Record<string, unknown> {
    return { items, has_more: page.hasMore, ...(page.pageToken ? { page_token: page.pageToken } : {}) };
  }

  private docFailure(e: EmulatedError): RouteResult {
    return failure(e.httpStatus, e.code, e.msg, e.headers);
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
    if (receiveIdType === 'open_id' && !receiveId.startsWith('ou_'))
      return fieldValidationFailed('receive_id');
    const chatId = receiveIdType === 'chat_id' ? receiveId : this.p2pChatWith(receiveId);
    return this.storeMessage('create', receiveId, body, { chatId }, receiveIdType);
  }

  private p2pChatWith(receiveId: string): string {
    let chatId = this.p2pChats.get(receiveId);
    if (!chatId) {
      chatId = `oc_${hex(16)}`;
      this.p2pChats.set(receiveId, chatId);
    }
    return chatId;
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

  /**
   * Ids in the `user_id_type` asked for (default open_id), managers in `user_manager_id_list`. A caller outside
   * the chat gets only name, avatar, member count and status.
   * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get
   */
  private getChat(ctx: RouteContext): RouteResult {
    const chatId = ctx.params.chat_id ?? '';
    if (!chatId.startsWith('oc_'))
      return failure(400, 232006, 'Your request specifies a chat_id which is invalid.');
    const idType = ctx.query.user_id_type ?? 'open_id';
    if (!USER_ID_TYPES.has(idType)) return fieldValidationFailed('user_id_type');
    const chat = this.chats.get(chatId) ?? {
      chatId,
      chatMode: 'p2p',
      managers: [],
      name: '',
      botIsMember: true,
      members: [],
    };
    const basics = {
      avatar: `https://s1-imfile.feishucdn.com/static-resource/v1/${hex(16)}~?image_size=100x100`,
      name: chat.name,
      i18n_names: { zh_cn: chat.name, en_us: chat.name, ja_jp: '' },
      user_count: String(
        chat.members.length > 0
          ? chat.members.filter((m) => !m.bot).length
          : 1 + chat.managers.length + (chat.ownerId ? 1 : 0),
      ),
      chat_status: 'normal',
    };
    if (!chat.botIsMember) return success(basics);
    const owner =
      chat.ownerId !== undefined
        ? { owner_id_type: idType, owner_id: idOfType(chat.ownerId, idType) }
        : chat.chatMode === 'p2p'
          ? {}
          : { owner_id_type: 'app_id', owner_id: this.appId };
    return success({
      ...basics,
      description: '',
      add_member_permission: 'all_members',
      share_card_permission: 'allowed',
      at_all_permission: 'all_members',
      edit_permission: 'all_members',
      ...owner,
      user_manager_id_list: chat.managers.map((id) => idOfType(id, idType)),
      bot_manager_id_list: [],
      group_message_type: 'chat',
      chat_mode: chat.chatMode,
      chat_type: 'private',
      chat_tag: 'inner',
      join_message_visibility: 'all_members',
      leave_message_visibility: 'all_members',
      membership_approval: 'no_approval_required',
      moderation_permission: 'all_members',
      external: false,
      tenant_key: this.tenantKey,
      bot_count: String(Math.max(1, chat.members.filter((m) => m.bot).length)),
    });
  }

  /**
   * Members as `member_id_type` ids (default open_id), paged over everyone in the chat with its bots then left out
   * of each page, so a page may be short, as the doc warns. `member_total` counts the people listed.
   * https://open.feishu.cn/document/server-docs/group/chat-member/get
   */
  private listChatMembers(ctx: RouteContext): RouteResult {
    const chatId = ctx.params.chat_id ?? '';
    if (!chatId.startsWith('oc_'))
      return failure(400, 232006, 'Your request specifies a chat_id which is invalid.');
    const idType = ctx.query.member_id_type ?? 'open_id';
    if (!USER_ID_TYPES.has(idType)) return fieldValidationFailed('member_id_type');
    const pageSize =
      ctx.query.page_size === undefined ? MEMBERS_DEFAULT_PAGE : parseCount(ctx.query.page_size);
    if (pageSize === undefined || pageSize < 1 || pageSize > MEMBERS_MAX_PAGE)
      return fieldValidationFailed('page_size');
    const chat = this.chats.get(chatId);
    // The caller must be in the chat. (Code as Feishu's IM tables give it: 232011 operator not in the chat.)
    if (chat && !chat.botIsMember) return failure(400, 232011, 'Operator can NOT be out of the chat.');
    const everyone = chat?.members ?? [];
    const served = Math.min(pageSize, chat?.pageSizeCap ?? pageSize);
    const page = this.paginate(`members:${chatId}`, everyone, served, ctx.query.page_token, () =>
      lowerAlnum(24),
    );
    if (!page.ok) return fieldValidationFailed('page_token');
    const items = page.items
      .filter((m) => !m.bot)
      .map((m) => ({
        member_id_type: idType,
        member_id: idOfType(m.openId, idType),
        name: m.name ?? '',
        tenant_key: this.tenantKey,
      }));
    return success({
      ...this.pageBody(items, page),
      member_total: everyone.filter((m) => !m.bot).length,
    });
  }

  /**
   * Multipart: `file_type`, `file_name` and a `file` part with a filename; at most 30 MB, never empty. Answers the
   * `file_key` a file message sends.
   * https://open.feishu.cn/document/server-docs/im-v1/file/create
   */
  private uploadFile(ctx: RouteContext): RouteResult {
    const invalid = () => failure(400, 234001, 'Invalid request param.');
    if (!isMultipart(ctx.body)) return invalid();
    const { fields, files, oversized } = ctx.body;
    const fileType = fields.file_type;
    if (!fileType || !FILE_TYPES.has(fileType)) return fieldValidationFailed('file_type');
    if (!fields.file_name) return fieldValidationFailed('file_name');
    const file = files.file;
    if (!file) return fieldValidationFailed('file');
    if (oversized || file.bytes.length > FILE_MAX_BYTES || file.bytes.length === 0) return invalid();
    const fileKey = `file_v3_${hex(4)}_${hex(16)}`;
    this.files.push({
      fileKey,
      fileType,
      fileName: fields.file_name,
      partFilename: file.filename,
      ...(file.contentType ? { contentType: file.contentType } : {}),
      bytes: Buffer.from(file.bytes),
    });
    return success({ file_key: fileKey });
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
    receiveIdType?: string,
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
      ...(receiveIdType ? { receiveIdType } : {}),
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
   * `text`, `interactive` (Card JSON 2.0), `post` (one body per language) and `file` (an uploaded `file_key`) are
   * emulated; this bot sends nothing else. Cards and posts may be 30 KB, text 150 KB.
   * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/im-v1/message/create_json
   */
  private validateContent(msgType: string, content: string): RouteResult | { parsed: unknown } {
    if (!['interactive', 'text', 'post', 'file'].includes(msgType))
      return failure(400, 230001, MSG_INVALID_PARAM);
    const limit = msgType === 'text' ? TEXT_MAX_BYTES : CARD_MAX_BYTES;
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
    if (msgType === 'file') {
      const known = isRecord(parsed) && this.files.some((f) => f.fileKey === parsed.file_key);
      return known ? { parsed } : failure(400, 230001, MSG_INVALID_PARAM);
    }
    if (msgType === 'post') return isPost(parsed) ? { parsed } : failure(400, 230001, MSG_INVALID_PARAM);
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

/** A post: at least one language, each with at least one node, every node with a `tag`. An empty post is refused. */
function isPost(value: unknown): boolean {
  if (!isRecord(value)) return false;
  const bodies = Object.values(value);
  return (
    bodies.length > 0 &&
    bodies.every(
      (body) =>
        isRecord(body) &&
        Array.isArray(body.content) &&
        body.content.some((paragraph) => Array.isArray(paragraph) && paragraph.length > 0) &&
        body.content.every(
          (paragraph) =>
            Array.isArray(paragraph) &&
            paragraph.every((node) => isRecord(node) && typeof node.tag === 'string'),
        ),
    )
  );
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
