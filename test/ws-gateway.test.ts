/**
 * The emulator's long-connection gateway against the real SDK `WSClient` (issue 10): what the bot's second
 * ingress will rely on — delivery and acknowledgement, fragments, card callbacks answered through the ACK,
 * reconnects, the pingTimeout watchdog, and which refusals make the SDK give up. Waits are on counts and
 * lifecycle callbacks, never on elapsed time.
 */
import * as lark from '@larksuiteoapi/node-sdk';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';
import { cardActionEvent, messageEvent } from './emulator/fixtures.js';
import type { WsClientConfig } from './emulator/ws-gateway.js';
import { waitUntil } from './support/wait-until.js';

/** Seconds. Nonce 0: a reconnect starts at once; 0.2 s between failed attempts. */
const FAST_CONFIG: WsClientConfig = {
  PingInterval: 1,
  ReconnectCount: -1,
  ReconnectInterval: 0.2,
  ReconnectNonce: 0,
};
/** Generous: two cores, other suites in parallel. Nothing here waits this long when it works. */
const WAIT_MS = 15_000;

const silentLogger = { error() {}, warn() {}, info() {}, debug() {}, trace() {} };

interface ClientOptions {
  appSecret?: string;
  /** `wsConfig.pingTimeout`, seconds. */
  pingTimeout?: number;
  onMessage?: (data: Record<string, unknown>) => unknown;
  onCard?: (data: Record<string, unknown>) => unknown;
}

interface Harness {
  client: lark.WSClient;
  /** `ready`, `reconnecting`, `reconnected`, `error`, in the order the SDK fired them. */
  lifecycle: string[];
  errors: Error[];
  messages: Record<string, unknown>[];
  cards: Record<string, unknown>[];
  logs: string[];
}

let emu: FeishuEmulator;
let harnesses: Harness[] = [];

function startClient(opts: ClientOptions = {}): Harness {
  const lifecycle: string[] = [];
  const errors: Error[] = [];
  const messages: Record<string, unknown>[] = [];
  const cards: Record<string, unknown>[] = [];
  const logs: string[] = [];
  // The SDK's LoggerProxy hands a custom logger one argument: the array of what it logged.
  const log =
    (level: string) =>
    (...args: unknown[]) => {
      const parts = args.flat().map((a) => (typeof a === 'string' ? a : JSON.stringify(a)));
      logs.push(`${level} ${parts.join(' ')}`);
    };
  const dispatcher = new lark.EventDispatcher({ logger: silentLogger }).register<{
    'card.action.trigger': (data: Record<string, unknown>) => Promise<unknown>;
  }>({
    'im.message.receive_v1': async (data) => {
      messages.push(data as unknown as Record<string, unknown>);
      return opts.onMessage?.(data as unknown as Record<string, unknown>);
    },
    'card.action.trigger': async (data) => {
      cards.push(data);
      return opts.onCard?.(data);
    },
  });
  const client = new lark.WSClient({
    appId: emu.appId,
    appSecret: opts.appSecret ?? emu.appSecret,
    domain: emu.url,
    loggerLevel: lark.LoggerLevel.debug,
    logger: { error: log('error'), warn: log('warn'), info: log('info'), debug: log('debug'), trace() {} },
    onReady: () => lifecycle.push('ready'),
    onReconnecting: () => lifecycle.push('reconnecting'),
    onReconnected: () => lifecycle.push('reconnected'),
    onError: (err) => {
      lifecycle.push('error');
      errors.push(err);
    },
    ...(opts.pingTimeout !== undefined ? { wsConfig: { pingTimeout: opts.pingTimeout } } : {}),
  });
  const harness: Harness = { client, lifecycle, errors, messages, cards, logs };
  harnesses.push(harness);
  void client.start({ eventDispatcher: dispatcher });
  return harness;
}

function progress(h: Harness): () => string {
  return () =>
    `lifecycle [${h.lifecycle.join(', ')}], endpoint calls ${emu.ws.endpointCalls}, open ${emu.ws.connections}, ` +
    `accepted ${emu.ws.connectionLog.length}; last SDK log lines:\n  ${h.logs.slice(-8).join('\n  ')}`;
}

/** `onReady`/`onReconnected` fire after the SDK attached its message listener, so a frame sent now is read. */
async function waitForLifecycle(h: Harness, step: string, count = 1): Promise<void> {
  await waitUntil(() => h.lifecycle.filter((s) => s === step).length >= count, WAIT_MS, progress(h));
}

beforeEach(async () => {
  emu = await startFeishuEmulator();
  emu.ws.setClientConfig(FAST_CONFIG);
});

afterEach(async () => {
  // Closed first: a client left running would retry the closed emulator every ReconnectInterval.
  for (const h of harnesses) h.client.close({ force: true });
  harnesses = [];
  await emu.close();
});

describe('long connection: delivery', () => {
  it('connects once and acknowledges an im.message.receive_v1 frame with 200 after the handler ran', async () => {
    const h = startClient();
    await waitForLifecycle(h, 'ready');
    expect(emu.ws.endpointCalls).toBe(1);
    expect(emu.ws.connections).toBe(1);
    // The credentials travel in the body; the recorded copy is redacted.
    expect(emu.callsTo('POST', /^\/callback\/ws\/endpoint$/).map((c) => c.body)).toEqual([
      { AppID: emu.appId, AppSecret: '[redacted]' },
    ]);
    // Pings carry the service_id the SDK parsed from the URL it was given, and each one is ponged.
    await waitUntil(() => (emu.ws.connectionLog[0]?.pongsSent ?? 0) >= 1, WAIT_MS, progress(h));
    expect(emu.ws.pings).toBeGreaterThanOrEqual(1);
    expect(emu.ws.controlFrames[0]).toMatchObject({
      type: 'ping',
      service: emu.ws.connectionLog[0]?.serviceId,
    });

    const event = messageEvent({ appId: emu.appId, text: 'stats https://example.feishu.cn/docx/T1' });
    const answer = await emu.ws.sendEvent(event);

    expect(h.messages).toHaveLength(1);
    // The dispatcher flattens the v2 envelope: header and event fields side by side.
    expect(h.messages[0]).toMatchObject({
      schema: '2.0',
      event_id: event.header.event_id,
      event_type: 'im.message.receive_v1',
      message: event.event.message,
      sender: event.event.sender,
    });
    expect(answer.code).toBe(200);
    expect(answer.data).toBeUndefined();
    expect(answer.headers).toMatchObject({ type: 'event', message_id: answer.messageId, sum: '1', seq: '0' });
    expect(answer.headers).toHaveProperty('biz_rt');
  });

  it('reassembles an event split into 3 fragments and hands it to the handler once', async () => {
    const h = startClient();
    await waitForLifecycle(h, 'ready');
    const long = `stats https://example.feishu.cn/docx/T2 ${'与'.repeat(900)}`;
    const event = messageEvent({ appId: emu.appId, text: long });

    const answer = await emu.ws.sendEvent(event, { fragments: 3 });
    expect(h.messages).toHaveLength(1);
    expect(h.messages[0]).toMatchObject({ event_id: event.header.event_id, message: event.event.message });
    // Three frames out, one answer back: on the frame that completed the message.
    expect(emu.ws.connectionLog[0]?.dataFramesSent).toBe(3);
    expect(emu.ws.answers).toHaveLength(1);
    expect(answer).toMatchObject({ code: 200, headers: { sum: '3', seq: '2' } });

    const reversed = messageEvent({ appId: emu.appId, text: long });
    const second = await emu.ws.sendEvent(reversed, { fragments: 3, fragmentOrder: 'reversed' });
    expect(h.messages).toHaveLength(2);
    expect(h.messages[1]).toMatchObject({ message: reversed.event.message });
    expect(second).toMatchObject({ code: 200, headers: { seq: '0' } });
  });

  it('answers a card.action.trigger callback with what the handler returned, and ignores legacy card frames', async () => {
    const reply = {
      toast: { type: 'success', content: 'Refreshed' },
      card: {
        type: 'raw',
        data: { schema: '2.0', body: { elements: [{ tag: 'markdown', content: 'ok' }] } },
      },
    };
    const h = startClient({ onCard: () => reply });
    await waitForLifecycle(h, 'ready');
    const click = cardActionEvent({
      appId: emu.appId,
      operatorOpenId: 'ou_clicker',
      value: { action: 'refresh' },
      openMessageId: 'om_card',
      openChatId: 'oc_chat',
    });

    // Callbacks travel as `type: event` frames; the answer's data is the callback response.
    const answer = await emu.ws.sendEvent(click);
    expect(h.cards).toHaveLength(1);
    expect(h.cards[0]).toMatchObject({
      event_type: 'card.action.trigger',
      operator: { open_id: 'ou_clicker' },
      action: { value: { action: 'refresh' } },
      context: { open_message_id: 'om_card', open_chat_id: 'oc_chat' },
    });
    expect(answer).toMatchObject({ code: 200, data: reply });

    // A `type: card` frame is dropped unanswered. Frames on one socket are read in order, so once the event
    // sent after it is answered, the card frame has been seen and ignored.
    const legacy = emu.ws.sendEvent(click, { type: 'card', messageId: 'legacy-card-frame' });
    legacy.catch(() => {});
    const after = await emu.ws.sendEvent(messageEvent({ appId: emu.appId }));
    expect(after.code).toBe(200);
    expect(h.cards).toHaveLength(1);
    expect(emu.ws.answers.map((a) => a.messageId)).not.toContain('legacy-card-frame');
  });

  it('answers 500 when the handler throws, and 200 with a note for an event nobody registered', async () => {
    const h = startClient({
      onMessage: () => {
        throw new Error('handler failed');
      },
    });
    await waitForLifecycle(h, 'ready');

    const failed = await emu.ws.sendEvent(messageEvent({ appId: emu.appId }));
    expect(failed).toMatchObject({ code: 500, data: undefined });

    const unregistered = messageEvent({ appId: emu.appId });
    unregistered.header.event_type = 'im.chat.member.bot.added_v1';
    const ignored = await emu.ws.sendEvent(unregistered);
    expect(ignored).toMatchObject({ code: 200, data: 'no im.chat.member.bot.added_v1 event handle' });
    expect(h.messages).toHaveLength(1);
  });
});

describe('long connection: losing it', () => {
  it.each(['terminate', 'close'] as const)(
    'reconnects through the endpoint after the gateway drops the socket (%s)',
    async (how) => {
      const h = startClient();
      await waitForLifecycle(h, 'ready');
      expect(emu.ws.dropAll(how)).toBe(1);

      await waitForLifecycle(h, 'reconnected');
      await emu.ws.waitForConnections(1, WAIT_MS);
      expect(h.lifecycle).toEqual(['ready', 'reconnecting', 'reconnected']);
      expect(emu.ws.endpointCalls).toBe(2);
      const [first, second] = emu.ws.connectionLog;
      expect(emu.ws.connectionLog).toHaveLength(2);
      expect(first).toMatchObject({ closedBy: 'gateway', closeCode: how === 'terminate' ? 1006 : 1000 });
      expect(second?.closedAt).toBeUndefined();
      expect(second?.deviceId).not.toBe(first?.deviceId);

      const event = messageEvent({ appId: emu.appId });
      const answer = await emu.ws.sendEvent(event);
      expect(answer).toMatchObject({ code: 200, connectionId: second?.id });
      expect(h.messages).toHaveLength(1);
      expect(h.messages[0]).toMatchObject({ event_id: event.header.event_id });
    },
  );

  it('replaces a connection whose pings go unanswered once wsConfig.pingTimeout is set', async () => {
    // The watchdog is re-armed by every ping, so it must be shorter than the ping interval to ever fire.
    emu.ws.setClientConfig({ PingInterval: 2 });
    emu.ws.setPongs(false);
    const h = startClient({ pingTimeout: 1 });
    await waitForLifecycle(h, 'ready');

    await waitForLifecycle(h, 'reconnected');
    await waitUntil(() => emu.ws.connectionLog.length >= 2, WAIT_MS, progress(h));
    const [first] = emu.ws.connectionLog;
    // The client hung up (terminate: no close frame), not the gateway, after pinging into silence.
    expect(first).toMatchObject({ closedBy: 'client', closeCode: 1006, pongsSent: 0 });
    expect(first?.pingsReceived).toBeGreaterThanOrEqual(1);
    expect(emu.ws.endpointCalls).toBeGreaterThanOrEqual(2);
    expect(h.errors).toEqual([]);
  });

  it('retries 1000040343, an HTTP error and a refused handshake until it connects again', async () => {
    const h = startClient();
    await waitForLifecycle(h, 'ready');
    emu.ws.refuseNext(1000040343, 'internal error');
    emu.ws.refuseNext(99991400, 'request trigger frequency limit', { httpStatus: 429 });
    // With these headers the Go and Python SDKs give up; this SDK never reads them and just retries.
    emu.ws.refuseNextHandshake({ status: 514, authErrCode: 1000040350, msg: 'exceed connection limit' });
    emu.ws.dropAll();

    await waitForLifecycle(h, 'reconnected');
    await emu.ws.waitForConnections(1, WAIT_MS);
    // drop → 1000040343 → 429 → URL whose upgrade is refused → URL that works.
    expect(emu.ws.endpointCalls).toBe(5);
    expect(emu.ws.connectionLog).toHaveLength(2);
    expect(h.lifecycle).toEqual(['ready', 'reconnecting', 'reconnected']);
    expect(h.errors).toEqual([]);
    expect((await emu.ws.sendEvent(messageEvent({ appId: emu.appId }))).code).toBe(200);
  });
});

describe('long connection: refusals the SDK gives up on', () => {
  it('reports a wrong app secret through onError and never opens a socket', async () => {
    const h = startClient({ appSecret: 'not-the-secret' });
    await waitForLifecycle(h, 'error');

    expect(h.errors.map((e) => e.message)).toEqual([
      'pullConnectConfig failed: code=1000040345, msg=app id or app secret is invalid',
    ]);
    expect(h.lifecycle).toEqual(['error']);
    expect(h.client.getConnectionStatus().state).toBe('failed');
    expect(h.logs).toContain('error [ws] code: 1000040345, app id or app secret is invalid');
    expect(emu.ws.endpointCalls).toBe(1);
    expect(emu.ws.connectionLog).toHaveLength(0);
    await expect(emu.ws.sendEvent(messageEvent())).rejects.toThrow(/no open long connection/);
  });

  it('stops reconnecting when the endpoint answers 1000040350 (too many connections)', async () => {
    const h = startClient();
    await waitForLifecycle(h, 'ready');
    emu.ws.refuseNext(1000040350, 'exceed connection limit');
    emu.ws.dropAll();

    await waitForLifecycle(h, 'error');
    expect(h.errors.map((e) => e.message)).toEqual([
      'pullConnectConfig failed: code=1000040350, msg=exceed connection limit',
    ]);
    expect(h.lifecycle).toEqual(['ready', 'reconnecting', 'error']);
    expect(h.client.getConnectionStatus().state).toBe('failed');
    expect(emu.ws.endpointCalls).toBe(2);
    expect(emu.ws.connections).toBe(0);
  });

  it('answers 1000040350 by itself once the app holds maxConnections sockets', async () => {
    emu.ws.setMaxConnections(1);
    const first = startClient();
    await waitForLifecycle(first, 'ready');
    const second = startClient();
    await waitForLifecycle(second, 'error');
    expect(second.errors[0]?.message).toMatch(/^pullConnectConfig failed: code=1000040350/);
    expect(emu.ws.connections).toBe(1);
  });
});

describe('long connection: emulator lifecycle', () => {
  it('reset() clears the records but keeps the open socket; close() hangs up on the client', async () => {
    const h = startClient();
    await waitForLifecycle(h, 'ready');
    await emu.ws.sendEvent(messageEvent({ appId: emu.appId }));
    emu.ws.refuseNext(1000040350, 'exceed connection limit');

    emu.reset();
    expect(emu.ws).toMatchObject({ endpointCalls: 0, connections: 1, answers: [], controlFrames: [] });
    expect(emu.ws.connectionLog).toHaveLength(1);
    // The refusal went with the reset, and the socket kept working.
    expect((await emu.ws.sendEvent(messageEvent({ appId: emu.appId }))).code).toBe(200);

    await emu.close();
    await waitForLifecycle(h, 'reconnecting');
    expect(emu.ws.connections).toBe(0);
    expect(emu.ws.connectionLog[0]).toMatchObject({ closedBy: 'gateway' });
    // afterEach closes the client (stopping its retries against the closed port) and the emulator again.
  });
});
