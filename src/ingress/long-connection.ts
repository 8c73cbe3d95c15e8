import * as lark from '@larksuiteoapi/node-sdk';
import type { Logger } from 'pino';
import { EventRefusedError } from '../bot/dispatcher.js';
import { EVENT_CARD_ACTION, type EventEnvelope } from '../feishu/events.js';
import { createScrubber, type Scrubber } from '../feishu/scrub.js';
import { createSdkLogger } from '../feishu/sdk-logger.js';
import type { LongConnectionMetrics, Metrics } from '../metrics.js';
import { checkEventShape } from './event-shape.js';

/**
 * Seconds a ping may go unanswered before the SDK replaces the connection. Its watchdog is off by default, and
 * without it a socket that died quietly (NAT timeout, a gateway gone) never reconnects and events silently stop
 * (larksuite/openclaw-lark#543, #599). The SDK re-arms it on every ping, so it must stay below the ping interval
 * Feishu configures (90–120 s in practice).
 */
export const PING_TIMEOUT_S = 10;
/** A handshake that neither opens nor fails within this is abandoned and retried (no limit by default). */
const HANDSHAKE_TIMEOUT_MS = 10_000;
/** How long start waits for the first connection before going on with `/readyz` at 503 until it comes. */
export const START_WAIT_MS = 10_000;

/** Codes the endpoint (`POST /callback/ws/endpoint`) answers with, in the SDK's `pullConnectConfig failed`. */
const CODE_TOO_MANY_CONNECTIONS = 1000040350;
const CODE_SYSTEM_BUSY = 1;
/** Answers that say the App ID or secret is wrong; field reports give these two (empty, and wrong secret). */
const CREDENTIAL_CODES: ReadonlySet<number> = new Set([1000040344, 1000040345]);

const CREDENTIALS_HINT = 'Developer Console → your app → Credentials & Basic Info (凭证与基础信息)';

export interface LongConnectionOptions {
  appId: string;
  appSecret: string;
  /** Open Platform base URL (`config.feishu.domain`). */
  domain: string;
  logger: Logger;
  metrics: Metrics;
  /** Hands an event on to the dispatcher; resolves once it is accepted, rejects when it is not. */
  accept(envelope: EventEnvelope): Promise<void>;
  /** Answers a card callback within its deadline (`CardCallbacks.answer`). */
  answerCard(envelope: EventEnvelope): Promise<unknown>;
  /** Other secrets to keep out of the SDK's log lines (encrypt key, verification token). */
  redact?: readonly string[];
  pingTimeoutS?: number;
  startWaitMs?: number;
  /** After the SDK gives up (it does for every refusal but one), start again this long later, doubling. */
  restartDelayMs?: { first: number; max: number };
}

/** Why the long connection could not be opened at start; the process exits with this message. */
export class LongConnectionStartError extends Error {
  override name = 'LongConnectionStartError';
}

type State = 'idle' | 'connecting' | 'connected' | 'reconnecting' | 'closed';

/**
 * Feishu's long connection as a second ingress beside the webhook: the SDK's `WSClient` holds the socket (endpoint
 * discovery, pbbp2 frames, fragments, ping/pong, reconnects), and this class gives it one handler and supervises it.
 *
 * The handler does what the webhook routes do after verification (the socket itself is authenticated: opening it
 * took the app secret, and frames carry no signature): the same shape check, then an event is only *accepted*
 * (handed to the dispatcher, which dedupes by job id or claim, exactly as for the webhook), because the SDK sends the
 * frame's answer only when the handler returns; a card callback goes to the one callback owner, whose answer
 * (`{toast, card}`) is what the SDK puts in the answer frame. An event the dispatcher refuses (shutting down, backlog
 * full, Redis away) fails the handler, the SDK answers 500, and Feishu delivers the event again later.
 *
 * Supervision: the SDK reconnects by itself after a drop, but gives up for good on any refusal by the endpoint (too
 * many connections, system busy, a wrong secret …), calling `onError` and going idle: from then on no event would
 * ever arrive. At start a refusal that will not pass by itself (a wrong secret) fails `start`, so the process exits
 * saying what to fix; any other, and any later, is logged with what it means and the client is started again with
 * backoff.
 */
export class LongConnection {
  readonly #opts: LongConnectionOptions;
  readonly #metrics: LongConnectionMetrics;
  readonly #log: Logger;
  readonly #client: lark.WSClient;
  /** What Feishu says back may echo the request (the secret): scrubbed before any log line or error. */
  readonly #scrub: Scrubber;
  #state: State = 'idle';
  #restartTimer: NodeJS.Timeout | undefined;
  #restartDelayMs: number;
  /** Settles `start`'s wait for the first connection. */
  #firstOutcome: ((err?: Error) => void) | undefined;

  constructor(opts: LongConnectionOptions) {
    this.#opts = opts;
    this.#metrics = opts.metrics.longConnection();
    this.#log = opts.logger.child({ component: 'long-connection' });
    this.#restartDelayMs = opts.restartDelayMs?.first ?? 5_000;
    const scrub = createScrubber([opts.appSecret, ...(opts.redact ?? [])]);
    this.#scrub = scrub;
    this.#client = new lark.WSClient({
      appId: opts.appId,
      appSecret: opts.appSecret,
      domain: opts.domain,
      logger: createSdkLogger(opts.logger, scrub),
      loggerLevel: lark.LoggerLevel.trace,
      autoReconnect: true,
      handshakeTimeoutMs: HANDSHAKE_TIMEOUT_MS,
      wsConfig: { pingTimeout: opts.pingTimeoutS ?? PING_TIMEOUT_S },
      onReady: () => this.#connected(false),
      onReconnected: () => this.#connected(true),
      onReconnecting: () => this.#disconnected(),
      onError: (err) => this.#gaveUp(err),
    });
    this.#metrics.connected.set(0);
  }

  /** Open and able to receive: `/readyz` is 503 otherwise. */
  get connected(): boolean {
    return this.#state === 'connected';
  }

  get state(): State {
    return this.#state;
  }

  /**
   * Opens the connection and waits for the first one, up to `startWaitMs`; past that it goes on connecting in the
   * background. Rejects with `LongConnectionStartError` when Feishu refuses the credentials.
   */
  async start(): Promise<void> {
    const first = new Promise<Error | undefined>((resolve) => {
      this.#firstOutcome = resolve;
    });
    const waitMs = this.#opts.startWaitMs ?? START_WAIT_MS;
    let timer: NodeJS.Timeout | undefined;
    const waited = new Promise<'waited'>((resolve) => {
      timer = setTimeout(() => resolve('waited'), waitMs);
    });
    this.#open();
    const outcome = await Promise.race([first, waited]);
    clearTimeout(timer);
    this.#firstOutcome = undefined;
    if (outcome instanceof Error) throw outcome;
    if (outcome === 'waited') {
      this.#log.warn(
        { waited_ms: waitMs },
        'long connection not open yet; still trying, /readyz answers 503 until it is (check outbound internet ' +
          `access to Feishu, and FEISHU_APP_ID / FEISHU_APP_SECRET in ${CREDENTIALS_HINT})`,
      );
    }
  }

  /** Closes the socket and stops reconnecting; events already accepted are the dispatcher's to finish. */
  close(): void {
    clearTimeout(this.#restartTimer);
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#client.close();
    this.#metrics.connected.set(0);
    this.#log.info('long connection closed');
  }

  #open(): void {
    this.#state = 'connecting';
    // The SDK's `start` resolves before the connection is up and reports everything through the callbacks; it
    // takes anything with `invoke` as its dispatcher, which lets the envelope through as Feishu sent it.
    const dispatcher = { invoke: (data: unknown) => this.#onFrame(data) };
    void this.#client
      .start({ eventDispatcher: dispatcher as unknown as lark.EventDispatcher })
      .catch((err: unknown) => this.#gaveUp(err instanceof Error ? err : new Error(String(err))));
  }

  #connected(again: boolean): void {
    if (this.#state === 'closed') return;
    this.#state = 'connected';
    this.#restartDelayMs = this.#opts.restartDelayMs?.first ?? 5_000;
    this.#metrics.connected.set(1);
    if (again) {
      this.#metrics.reconnects.inc();
      this.#log.info('long connection re-established');
    } else {
      this.#log.info('long connection open: receiving events and card callbacks from Feishu');
    }
    this.#firstOutcome?.();
  }

  #disconnected(): void {
    if (this.#state === 'closed') return;
    this.#state = 'reconnecting';
    this.#metrics.connected.set(0);
    this.#log.warn('long connection lost; reconnecting (/readyz answers 503 meanwhile)');
  }

  /** The SDK stopped for good: fail the start, or explain and start it again later. */
  #gaveUp(err: Error): void {
    if (this.#state === 'closed') return;
    const reason = this.#scrub(err.message);
    const code = endpointCode(reason);
    const starting = this.#firstOutcome !== undefined;
    this.#metrics.connected.set(0);
    if (starting && code !== undefined && code !== CODE_TOO_MANY_CONNECTIONS && code !== CODE_SYSTEM_BUSY) {
      this.#state = 'closed';
      this.#client.close({ force: true });
      this.#firstOutcome?.(new LongConnectionStartError(explainRefusal(code, reason)));
      return;
    }
    this.#state = 'reconnecting';
    const delayMs = this.#restartDelayMs;
    this.#restartDelayMs = Math.min(delayMs * 2, this.#opts.restartDelayMs?.max ?? 5 * 60_000);
    this.#log.error(
      { code, reason, retry_in_ms: delayMs },
      code === undefined ? 'long connection stopped; starting it again' : explainRefusal(code, reason),
    );
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      if (this.#state !== 'closed') this.#open();
    }, delayMs);
  }

  async #onFrame(data: unknown): Promise<unknown> {
    const started = performance.now();
    try {
      return await this.#handle(data);
    } finally {
      this.#metrics.answerDuration.observe((performance.now() - started) / 1000);
    }
  }

  async #handle(data: unknown): Promise<unknown> {
    const checked = checkEventShape(data);
    if (!checked.ok) {
      this.#metrics.frames.inc({ type: 'event', outcome: 'dropped' });
      this.#log.warn(
        {
          event_type: checked.eventType,
          ...(checked.eventId ? { event_id: checked.eventId } : {}),
          field: checked.field,
          problem: checked.problem,
        },
        'event not in the shape the bot reads; acknowledged and dropped',
      );
      return undefined;
    }
    const envelope = checked.envelope;
    const { event_id: eventId, event_type: eventType } = envelope.header;
    if (eventType === EVENT_CARD_ACTION) {
      const answer = await this.#opts.answerCard(envelope);
      this.#metrics.frames.inc({ type: 'card', outcome: 'answered' });
      return answer;
    }
    try {
      await this.#opts.accept(envelope);
    } catch (err) {
      this.#metrics.frames.inc({ type: 'event', outcome: 'refused' });
      if (err instanceof EventRefusedError) {
        this.#log.info(
          { event_id: eventId, reason: err.reason },
          'event refused; Feishu will deliver it again',
        );
      } else {
        this.#log.warn({ err, event_id: eventId }, 'event not accepted; Feishu will deliver it again');
      }
      // The SDK answers the frame with code 500: not acknowledged.
      throw err;
    }
    this.#metrics.frames.inc({ type: 'event', outcome: 'accepted' });
    this.#log.debug({ event_id: eventId, event_type: eventType }, 'event accepted');
    return undefined;
  }
}

/** The endpoint's code in the SDK's `pullConnectConfig failed: code=N, msg=…` (a scan, not a regex). */
function endpointCode(message: string): number | undefined {
  const marker = 'code=';
  const at = message.indexOf(marker);
  if (!message.startsWith('pullConnectConfig failed') || at < 0) return undefined;
  let end = at + marker.length;
  if (message[end] === '-') end += 1;
  while (end < message.length && isDigit(message.charCodeAt(end))) end += 1;
  const code = Number(message.slice(at + marker.length, end));
  return Number.isInteger(code) ? code : undefined;
}

function explainRefusal(code: number, reason: string): string {
  if (CREDENTIAL_CODES.has(code)) {
    return (
      `Feishu refused the long connection (code ${code}): FEISHU_APP_ID or FEISHU_APP_SECRET is wrong; copy both ` +
      `again from ${CREDENTIALS_HINT}`
    );
  }
  if (code === CODE_TOO_MANY_CONNECTIONS) {
    return (
      `Feishu refused the long connection (code ${code}): the app already has the 50 long connections Feishu ` +
      'allows. Each replica opens one; stop replicas or other programs connected with this App ID (old ' +
      'deployments, local runs), or use the webhook mode for more; retrying with backoff'
    );
  }
  if (code === CODE_SYSTEM_BUSY)
    return `Feishu is busy (code ${code}); retrying the long connection with backoff`;
  return (
    `Feishu refused the long connection (code ${code}: ${reason}); the app must be a self-built app with ` +
    'Events & Callbacks → Subscription mode set to "Receive events through persistent connection" (使用长连接接收事件)'
  );
}

function isDigit(charCode: number): boolean {
  return charCode >= 48 && charCode <= 57;
}
