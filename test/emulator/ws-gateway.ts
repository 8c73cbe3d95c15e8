/**
 * Feishu's long-connection gateway, emulated for the SDK's `WSClient`: `POST /callback/ws/endpoint` hands out a
 * one-time WebSocket URL, and the socket carries protobuf `pbbp2.Frame`s. The client pings, the gateway pongs
 * with the ClientConfig; the gateway pushes events as data frames (split into `sum` fragments when large) and
 * the client answers each one with the same frame, `biz_rt` added, payload `{code, data: base64(JSON)}`.
 *
 * The protocol has no published page: shapes follow @larksuiteoapi/node-sdk 1.74 (`class WSClient` in
 * lib/index.js) and the Go and Python SDKs (larksuite/oapi-sdk-go ws/client.go, oapi-sdk-python ws/client.py).
 * Error codes and messages the SDKs do not name are marked UNCONFIRMED.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { type IncomingMessage, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import protobuf from 'protobufjs';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';

/** Seconds, as the endpoint and every pong carry them; the SDK multiplies by 1000 and trusts them blindly. */
export interface WsClientConfig {
  PingInterval: number;
  /** Negative: retry forever. */
  ReconnectCount: number;
  ReconnectInterval: number;
  /** The first reconnect waits a random 0…ReconnectNonce; 0 reconnects at once. */
  ReconnectNonce: number;
}

export type WsFrameType = 'event' | 'card';

export interface WsSendOptions {
  /** Split the payload bytes into this many fragments (`sum`), each its own frame. Default 1. */
  fragments?: number;
  /** Send the fragments last first, to exercise reassembly by `seq`. */
  fragmentOrder?: 'in-order' | 'reversed';
  /**
   * Header `type`. Default `event`, which is also how `card.action.trigger` callbacks travel. Every SDK drops
   * `card` frames (the legacy card protocol) without answering, so a `card` send never resolves by itself.
   */
  type?: WsFrameType;
  /** Header `message_id`, the key fragments are reassembled by (not the IM message id). Default random. */
  messageId?: string;
  traceId?: string;
  /** Which open connection gets the frame: Feishu picks one at random (the default). */
  connection?: 'random' | 'first' | 'newest' | number;
  /** Reject when no answer frame arrives within this. Default 10 s. */
  timeoutMs?: number;
}

/** The client's answer to a data frame, decoded. */
export interface WsAnswer {
  /** 200, or 500 when the handler threw. */
  code: number;
  /** Headers of the answer frame: those of the (last) frame it answers, plus `biz_rt`. */
  headers: Record<string, string>;
  /** The handler's return value (`JSON.parse` of the base64 `data`), `undefined` when it returned nothing. */
  data: unknown;
  messageId: string;
  connectionId: number;
  /** From sending the first fragment to receiving the answer. */
  elapsedMs: number;
}

export interface WsConnectionRecord {
  id: number;
  deviceId: string;
  serviceId: number;
  openedAt: number;
  closedAt?: number;
  /** As the gateway saw it: 1005 for a close frame without a code, 1006 when the peer vanished (terminate). */
  closeCode?: number;
  closedBy?: 'gateway' | 'client';
  pingsReceived: number;
  pongsSent: number;
  dataFramesSent: number;
  answersReceived: number;
}

/** A control frame the client sent (so far only pings exist). */
export interface WsControlFrame {
  connectionId: number;
  type: string;
  service: number;
  at: number;
}

export interface WsRefusal {
  code: number;
  msg: string;
  /** HTTP status of the endpoint answer. Default 200: the SDK only reads `code` from a 200; any 4xx/5xx is an
   * AxiosError it retries forever (seen in the field as "Request failed with status code 400"). */
  httpStatus?: number;
  /** How many consecutive endpoint calls get it. Default 1. */
  times?: number;
}

export interface WsHandshakeRefusal {
  /** `handshake-status` header; the Go/Python SDKs know 403 (forbidden) and 514 (auth failed). Default 514. */
  status?: number;
  /** `handshake-autherrcode`; with status 514, 1000040350 means too many connections. */
  authErrCode?: number;
  msg?: string;
  /** UNCONFIRMED: ByteDance's frontier gateways answer a refused upgrade with a plain non-101 status. Default 200. */
  httpStatus?: number;
}

/** The test-facing side, `emulator.ws`. */
export interface FeishuWsGateway {
  /** Sockets open now. */
  readonly connections: number;
  /** Every accepted socket since the last reset, open or closed, oldest first. */
  readonly connectionLog: readonly WsConnectionRecord[];
  /** Calls that reached `POST /callback/ws/endpoint` (refused ones included, `failNext` ones not). */
  readonly endpointCalls: number;
  /** Control frames received, in order. */
  readonly controlFrames: readonly WsControlFrame[];
  readonly pings: number;
  /** Every answer frame received, matched to a send or not. */
  readonly answers: readonly WsAnswer[];
  /** Frames from the client that were not valid pbbp2 frames. */
  readonly malformedFrames: number;
  readonly clientConfig: Readonly<WsClientConfig>;
  /** Served by the endpoint from the next call on, and in every pong from now on. */
  setClientConfig(config: Partial<WsClientConfig>): void;
  /** Feishu allows 50 connections per app; beyond it the endpoint answers 1000040350. */
  setMaxConnections(max: number): void;
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** One data frame (or `fragments` of them) to one open connection; resolves with the decoded answer. */
  sendEvent(payload: object, opts?: WsSendOptions): Promise<WsAnswer>;
  /** The gateway closes every open socket (default: terminate, no close frame), as when Feishu restarts a node. */
  dropAll(how?: 'terminate' | 'close'): number;
  /**
   * `false`: pings go unanswered, so only the SDK's `pingTimeout` watchdog notices. With `connection`, only that
   * connection's pings (a replacement connection is answered again).
   */
  setPongs(enabled: boolean, opts?: { connection: number }): void;
  /** The next endpoint call(s) answer `{code, msg, data: {}}`, e.g. 1000040350 (too many connections). */
  refuseNext(code: number, msg: string, opts?: Omit<WsRefusal, 'code' | 'msg'>): void;
  /** The next WebSocket upgrade is refused with `handshake-*` headers instead of 101. */
  refuseNextHandshake(refusal?: WsHandshakeRefusal): void;
}

export interface WsGatewayOptions {
  appId: string;
  appSecret: string;
  /** `http://127.0.0.1:<port>` of the emulator; read when a URL is issued, after it listens. */
  baseUrl: () => string;
}

export const WS_ENDPOINT_PATH = '/callback/ws/endpoint';
/** The real URL reads `wss://msg-frontier.feishu.cn/ws/v2?fpid=…&aid=…&device_id=…&access_key=…&service_id=…&ticket=…`. */
const WS_PATH = '/ws/v2';
const METHOD_CONTROL = 0;
const METHOD_DATA = 1;
/** The SDK's own defaults (WSConfig in lib/index.js); what Feishu serves varies by app and over time. */
const DEFAULT_CLIENT_CONFIG: WsClientConfig = {
  PingInterval: 120,
  ReconnectCount: -1,
  ReconnectInterval: 120,
  ReconnectNonce: 30,
};
const DEFAULT_MAX_CONNECTIONS = 50;
const DEFAULT_ANSWER_TIMEOUT_MS = 10_000;
const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
// Codes the SDKs name (ErrorCode in lib/index.js); the credential ones come from field reports
// (1000040345 for an invalid id/secret, 1000040344 for an empty one). Messages are UNCONFIRMED.
const CODE_EMPTY_CREDENTIALS = 1000040344;
const CODE_INVALID_CREDENTIALS = 1000040345;
const CODE_EXCEED_CONN_LIMIT = 1000040350;

/** pbbp2.proto as the SDKs compile it; proto2, so the SDK's decoder insists on the four required fields. */
const PBBP2_PROTO = `
syntax = "proto2";
package pbbp2;
message Header {
  required string key = 1;
  required string value = 2;
}
message Frame {
  required uint64 SeqID = 1;
  required uint64 LogID = 2;
  required int32 service = 3;
  required int32 method = 4;
  repeated Header headers = 5;
  optional string payload_encoding = 6;
  optional string payload_type = 7;
  optional bytes payload = 8;
  optional string LogIDNew = 9;
}
`;
// The SDK sets protobufjs's global `util.Long` to undefined when it loads (64-bit fields as plain numbers). Types
// built while Long was still defined then fail on first use, so this module does the same before building its own:
// one state whatever the import order.
protobuf.util.Long = undefined as unknown as typeof protobuf.util.Long;
protobuf.configure();
const FRAME = protobuf.parse(PBBP2_PROTO).root.lookupType('pbbp2.Frame');

interface Frame {
  SeqID: number | string;
  LogID: number | string;
  service: number;
  method: number;
  headers: Array<{ key: string; value: string }>;
  payload?: Uint8Array;
  LogIDNew?: string;
}

interface PendingAnswer {
  messageId: string;
  sentAt: number;
  resolve: (answer: WsAnswer) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

interface Connection {
  socket: WebSocket;
  record: WsConnectionRecord;
  /** message_id → sends still waiting for an answer, oldest first (a re-sent id queues behind the first). */
  pending: Map<string, PendingAnswer[]>;
}

interface IssuedTicket {
  deviceId: string;
}

const hex = (bytes: number): string => randomBytes(bytes).toString('hex');
const digits = (count: number): string => Array.from(randomBytes(count), (b) => b % 10).join('');

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function encodeFrame(frame: Frame): Uint8Array {
  return FRAME.encode(FRAME.fromObject(frame)).finish();
}

function decodeFrame(bytes: Uint8Array): Frame {
  const decoded = FRAME.decode(bytes);
  return FRAME.toObject(decoded, { longs: String, defaults: true }) as Frame;
}

function rawToBuffer(data: RawData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}

function headerMap(frame: Frame): Record<string, string> {
  return Object.fromEntries(frame.headers.map((h) => [h.key, h.value]));
}

/** `count` contiguous, non-empty slices. */
function splitBytes(bytes: Buffer, count: number): Buffer[] {
  const size = Math.ceil(bytes.length / count);
  return Array.from({ length: count }, (_, i) =>
    bytes.subarray(i * size, Math.min(bytes.length, (i + 1) * size)),
  );
}

/** A refused upgrade: a plain HTTP answer on the raw socket, then hang up. */
function rejectUpgrade(socket: Duplex, httpStatus: number, headers: Record<string, string>): void {
  const head = [
    `HTTP/1.1 ${httpStatus} ${STATUS_CODES[httpStatus] ?? ''}`,
    ...Object.entries(headers).map(([name, value]) => `${name}: ${value}`),
    'Content-Length: 0',
    'Connection: close',
    '',
    '',
  ].join('\r\n');
  socket.end(head);
}

export class WsGateway implements FeishuWsGateway {
  private readonly appId: string;
  private readonly appSecret: string;
  private readonly baseUrl: () => string;
  private readonly wss = new WebSocketServer({ noServer: true, clientTracking: false });
  /** Per gateway, like Feishu's per-app service id: every ping carries it back as `Frame.service`. */
  private readonly serviceId = 33554678;
  private config: WsClientConfig = { ...DEFAULT_CLIENT_CONFIG };
  private maxConnections = DEFAULT_MAX_CONNECTIONS;
  private readonly open = new Map<number, Connection>();
  private records: WsConnectionRecord[] = [];
  private readonly tickets = new Map<string, IssuedTicket>();
  private refusals: WsRefusal[] = [];
  private handshakeRefusals: WsHandshakeRefusal[] = [];
  private pongs = true;
  /** Connections whose pings go unanswered whatever `pongs` says. */
  private readonly silentConnections = new Set<number>();
  private endpointCallCount = 0;
  private controls: WsControlFrame[] = [];
  private received: WsAnswer[] = [];
  private malformed = 0;
  private nextConnectionId = 1;
  private nextSeqId = 1;
  private connectionWaiters: Array<{ count: number; resolve: () => void }> = [];

  constructor(opts: WsGatewayOptions) {
    this.appId = opts.appId;
    this.appSecret = opts.appSecret;
    this.baseUrl = opts.baseUrl;
  }

  get connections(): number {
    return this.open.size;
  }

  get connectionLog(): readonly WsConnectionRecord[] {
    return this.records;
  }

  get endpointCalls(): number {
    return this.endpointCallCount;
  }

  get controlFrames(): readonly WsControlFrame[] {
    return this.controls;
  }

  get pings(): number {
    return this.controls.filter((c) => c.type === 'ping').length;
  }

  get answers(): readonly WsAnswer[] {
    return this.received;
  }

  get malformedFrames(): number {
    return this.malformed;
  }

  get clientConfig(): Readonly<WsClientConfig> {
    return { ...this.config };
  }

  setClientConfig(config: Partial<WsClientConfig>): void {
    this.config = { ...this.config, ...config };
  }

  setMaxConnections(max: number): void {
    this.maxConnections = max;
  }

  waitForConnections(count: number, timeoutMs = DEFAULT_WAIT_TIMEOUT_MS): Promise<void> {
    if (this.open.size >= count) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const waiter = {
        count,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        this.connectionWaiters = this.connectionWaiters.filter((w) => w !== waiter);
        reject(
          new Error(
            `expected ${count} open long connection(s) within ${timeoutMs} ms, have ${this.open.size} ` +
              `(endpoint calls: ${this.endpointCallCount}, sockets accepted: ${this.records.length})`,
          ),
        );
      }, timeoutMs);
      this.connectionWaiters.push(waiter);
    });
  }

  async sendEvent(payload: object, opts: WsSendOptions = {}): Promise<WsAnswer> {
    const conn = this.pickConnection(opts.connection ?? 'random');
    const bytes = Buffer.from(JSON.stringify(payload), 'utf8');
    const fragments = opts.fragments ?? 1;
    if (!Number.isInteger(fragments) || fragments < 1 || fragments > bytes.length) {
      throw new Error(`fragments must be an integer from 1 to the payload size (${bytes.length} bytes)`);
    }
    const messageId = opts.messageId ?? `${hex(8)}-${digits(6)}`;
    const traceId = opts.traceId ?? hex(16);
    const type = opts.type ?? 'event';
    const chunks = splitBytes(bytes, fragments);
    const order = chunks.map((_, seq) => seq);
    if (opts.fragmentOrder === 'reversed') order.reverse();

    const answer = this.expectAnswer(conn, messageId, opts.timeoutMs ?? DEFAULT_ANSWER_TIMEOUT_MS);
    for (const seq of order) {
      const frame: Frame = {
        SeqID: this.nextSeqId++,
        LogID: Number.parseInt(digits(15), 10),
        service: this.serviceId,
        method: METHOD_DATA,
        // Always all five: the SDK reassembles even a single frame by sum/seq and drops one without them.
        headers: [
          { key: 'type', value: type },
          { key: 'message_id', value: messageId },
          { key: 'sum', value: String(fragments) },
          { key: 'seq', value: String(seq) },
          { key: 'trace_id', value: traceId },
        ],
        payload: chunks[seq] ?? Buffer.alloc(0),
        LogIDNew: `${Date.now()}${hex(8).toUpperCase()}`,
      };
      conn.socket.send(encodeFrame(frame), { binary: true });
      conn.record.dataFramesSent += 1;
    }
    return answer;
  }

  dropAll(how: 'terminate' | 'close' = 'terminate'): number {
    const dropped = [...this.open.values()];
    for (const conn of dropped) {
      conn.record.closedBy = 'gateway';
      // Gone from `connections` at once, so a test can wait for the replacement without seeing the old one.
      this.open.delete(conn.record.id);
      if (how === 'close') conn.socket.close(1000, 'gateway restart');
      else conn.socket.terminate();
    }
    return dropped.length;
  }

  setPongs(enabled: boolean, opts?: { connection: number }): void {
    if (!opts) {
      this.pongs = enabled;
      return;
    }
    if (enabled) this.silentConnections.delete(opts.connection);
    else this.silentConnections.add(opts.connection);
  }

  refuseNext(code: number, msg: string, opts: Omit<WsRefusal, 'code' | 'msg'> = {}): void {
    this.refusals.push({ code, msg, ...opts, times: opts.times ?? 1 });
  }

  refuseNextHandshake(refusal: WsHandshakeRefusal = {}): void {
    this.handshakeRefusals.push(refusal);
  }

  // ── wiring used by the emulator ─────────────────────────────────────────────────────────────────────

  /** `POST /callback/ws/endpoint`, body `{AppID, AppSecret}`. Errors keep `data: {}`: the SDK destructures it. */
  handleEndpoint(body: unknown): { status: number; body: unknown } {
    this.endpointCallCount += 1;
    const refusal = this.refusals[0];
    if (refusal) {
      refusal.times = (refusal.times ?? 1) - 1;
      if (refusal.times <= 0) this.refusals.shift();
      return this.endpointFailure(refusal.code, refusal.msg, refusal.httpStatus ?? 200);
    }
    const appId = isRecord(body) && typeof body.AppID === 'string' ? body.AppID : '';
    const appSecret = isRecord(body) && typeof body.AppSecret === 'string' ? body.AppSecret : '';
    if (!appId || !appSecret) {
      return this.endpointFailure(CODE_EMPTY_CREDENTIALS, 'app id or app secret is empty', 200);
    }
    if (appId !== this.appId || appSecret !== this.appSecret) {
      return this.endpointFailure(CODE_INVALID_CREDENTIALS, 'app id or app secret is invalid', 200);
    }
    if (this.open.size >= this.maxConnections) {
      return this.endpointFailure(CODE_EXCEED_CONN_LIMIT, 'exceed connection limit', 200);
    }
    const deviceId = `7${digits(18)}`;
    const ticket = randomUUID();
    this.tickets.set(ticket, { deviceId });
    // fpid first, as on Feishu: the SDK runs qs.parse over the whole URL, so the first key swallows the prefix.
    const query = new URLSearchParams({
      fpid: '493',
      aid: '552564',
      device_id: deviceId,
      access_key: hex(16),
      service_id: String(this.serviceId),
      ticket,
    });
    const url = `${this.baseUrl().replace(/^http/, 'ws')}${WS_PATH}?${query.toString()}`;
    return {
      status: 200,
      body: { code: 0, msg: 'ok', data: { URL: url, ClientConfig: { ...this.config } } },
    };
  }

  /** The HTTP server's `upgrade` event. A ticket is good for one socket: every reconnect asks the endpoint again. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on('error', () => {});
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== WS_PATH) {
      rejectUpgrade(socket, 404, {});
      return;
    }
    const ticket = url.searchParams.get('ticket') ?? '';
    const issued = this.tickets.get(ticket);
    if (!issued || issued.deviceId !== url.searchParams.get('device_id')) {
      rejectUpgrade(socket, 200, { 'handshake-status': '514', 'handshake-msg': 'invalid ticket' });
      return;
    }
    this.tickets.delete(ticket);
    const refusal = this.handshakeRefusals.shift();
    if (refusal) {
      rejectUpgrade(socket, refusal.httpStatus ?? 200, {
        'handshake-status': String(refusal.status ?? 514),
        'handshake-msg': refusal.msg ?? 'refused',
        ...(refusal.authErrCode !== undefined
          ? { 'handshake-autherrcode': String(refusal.authErrCode) }
          : {}),
      });
      return;
    }
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, issued.deviceId));
  }

  /** Clears records, injected refusals and pending answers (rejected), and turns pongs back on. Open sockets,
   * issued tickets, the client config and the connection limit stay. */
  reset(): void {
    this.endpointCallCount = 0;
    this.controls = [];
    this.received = [];
    this.malformed = 0;
    this.refusals = [];
    this.handshakeRefusals = [];
    this.pongs = true;
    this.silentConnections.clear();
    this.records = [...this.open.values()].map((conn) => conn.record);
    for (const conn of this.open.values()) {
      Object.assign(conn.record, { pingsReceived: 0, pongsSent: 0, dataFramesSent: 0, answersReceived: 0 });
      this.rejectPending(conn, 'the emulator was reset');
    }
  }

  async close(): Promise<void> {
    for (const conn of [...this.open.values()]) {
      conn.record.closedBy = 'gateway';
      this.open.delete(conn.record.id);
      this.rejectPending(conn, 'the emulator closed');
      conn.socket.terminate();
    }
    this.connectionWaiters = [];
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }

  // ── internals ───────────────────────────────────────────────────────────────────────────────────────

  private endpointFailure(code: number, msg: string, status: number): { status: number; body: unknown } {
    return { status, body: { code, msg, data: {} } };
  }

  private accept(socket: WebSocket, deviceId: string): void {
    const record: WsConnectionRecord = {
      id: this.nextConnectionId++,
      deviceId,
      serviceId: this.serviceId,
      openedAt: Date.now(),
      pingsReceived: 0,
      pongsSent: 0,
      dataFramesSent: 0,
      answersReceived: 0,
    };
    const conn: Connection = { socket, record, pending: new Map() };
    this.open.set(record.id, conn);
    this.records.push(record);
    socket.on('message', (data) => this.onFrame(conn, rawToBuffer(data)));
    socket.on('error', () => {});
    socket.on('close', (code) => {
      record.closedAt = Date.now();
      record.closeCode = code;
      record.closedBy ??= 'client';
      this.open.delete(record.id);
      this.rejectPending(conn, `long connection #${record.id} closed (${code}) before the answer`);
    });
    const ready = this.connectionWaiters.filter((w) => this.open.size >= w.count);
    this.connectionWaiters = this.connectionWaiters.filter((w) => this.open.size < w.count);
    for (const waiter of ready) waiter.resolve();
  }

  private onFrame(conn: Connection, bytes: Buffer): void {
    let frame: Frame;
    try {
      frame = decodeFrame(bytes);
    } catch {
      this.malformed += 1;
      return;
    }
    const headers = headerMap(frame);
    if (frame.method === METHOD_CONTROL) {
      const type = headers.type ?? '';
      this.controls.push({ connectionId: conn.record.id, type, service: frame.service, at: Date.now() });
      if (type !== 'ping') return;
      conn.record.pingsReceived += 1;
      if (!this.pongs || this.silentConnections.has(conn.record.id)) return;
      // The SDK overwrites its whole config from every pong: all four values must be present.
      const pong: Frame = {
        SeqID: frame.SeqID,
        LogID: frame.LogID,
        service: frame.service,
        method: METHOD_CONTROL,
        headers: [{ key: 'type', value: 'pong' }],
        payload: Buffer.from(JSON.stringify(this.config), 'utf8'),
      };
      conn.socket.send(encodeFrame(pong), { binary: true });
      conn.record.pongsSent += 1;
      return;
    }
    if (frame.method === METHOD_DATA) this.onAnswer(conn, frame, headers);
  }

  private onAnswer(conn: Connection, frame: Frame, headers: Record<string, string>): void {
    const messageId = headers.message_id ?? '';
    let body: unknown;
    try {
      body = JSON.parse(Buffer.from(frame.payload ?? []).toString('utf8'));
    } catch {
      this.malformed += 1;
      return;
    }
    const code = isRecord(body) && typeof body.code === 'number' ? body.code : Number.NaN;
    const encoded = isRecord(body) && typeof body.data === 'string' ? body.data : undefined;
    const data: unknown =
      encoded === undefined ? undefined : JSON.parse(Buffer.from(encoded, 'base64').toString('utf8'));
    const queue = conn.pending.get(messageId);
    const waiting = queue?.shift();
    if (queue && queue.length === 0) conn.pending.delete(messageId);
    const answer: WsAnswer = {
      code,
      headers,
      data,
      messageId,
      connectionId: conn.record.id,
      elapsedMs: waiting ? Date.now() - waiting.sentAt : 0,
    };
    conn.record.answersReceived += 1;
    this.received.push(answer);
    if (waiting) {
      clearTimeout(waiting.timer);
      waiting.resolve(answer);
    }
  }

  private expectAnswer(conn: Connection, messageId: string, timeoutMs: number): Promise<WsAnswer> {
    return new Promise((resolve, reject) => {
      const pending: PendingAnswer = {
        messageId,
        sentAt: Date.now(),
        resolve,
        reject,
        timer: setTimeout(() => {
          const rest = (conn.pending.get(messageId) ?? []).filter((p) => p !== pending);
          if (rest.length > 0) conn.pending.set(messageId, rest);
          else conn.pending.delete(messageId);
          reject(
            new Error(
              `no answer to message ${messageId} on long connection #${conn.record.id} within ${timeoutMs} ms`,
            ),
          );
        }, timeoutMs),
      };
      const queue = conn.pending.get(messageId) ?? [];
      queue.push(pending);
      conn.pending.set(messageId, queue);
    });
  }

  private rejectPending(conn: Connection, reason: string): void {
    for (const queue of conn.pending.values()) {
      for (const pending of queue) {
        clearTimeout(pending.timer);
        pending.reject(new Error(`message ${pending.messageId}: ${reason}`));
      }
    }
    conn.pending.clear();
  }

  private pickConnection(choice: NonNullable<WsSendOptions['connection']>): Connection {
    const open = [...this.open.values()];
    const conn =
      typeof choice === 'number'
        ? this.open.get(choice)
        : choice === 'first'
          ? open[0]
          : choice === 'newest'
            ? open[open.length - 1]
            : open[Math.floor(Math.random() * open.length)];
    if (!conn) {
      throw new Error(
        `no open long connection${typeof choice === 'number' ? ` #${choice}` : ''} to send on ` +
          `(endpoint calls: ${this.endpointCallCount}, sockets accepted: ${this.records.length})`,
      );
    }
    return conn;
  }
}
