/**
 * FEISHU_EVENT_MODE=websocket end to end: the bot opens the long connection to the emulator's gateway with the
 * real SDK `WSClient`, and events and card callbacks arrive as pbbp2 frames instead of webhook requests. The path
 * after ingress is the webhook's (dispatcher, dedupe, callback owner). Waits are on counts and on what the bot
 * says, never on elapsed time.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';
import { botMention, cardActionEvent, docStatistics, messageEvent } from './emulator/fixtures.js';
import type { WsClientConfig } from './emulator/ws-gateway.js';
import { cardText } from './helper.js';
import { type E2e, type E2eOptions, startE2e } from './support/e2e.js';
import { waitUntil } from './support/wait-until.js';

const DOC = 'doxcnLongConnAbCdEfGhIjKlMn';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const STATISTICS = `/drive/v1/files/${DOC}/statistics`;
/** Seconds. Nonce 0: a reconnect starts at once. */
const FAST: WsClientConfig = {
  PingInterval: 1,
  ReconnectCount: -1,
  ReconnectInterval: 0.2,
  ReconnectNonce: 0,
};
/** Generous: two cores, other files in parallel. Nothing waits this long when it works. */
const WAIT_MS = 20_000;

let emulator: FeishuEmulator;

beforeAll(async () => {
  emulator = await startFeishuEmulator();
  emulator.addDoc({
    token: DOC,
    type: 'docx',
    title: 'Launch plan',
    statistics: docStatistics({ uv: 7, pv: 1234 }),
  });
});

afterAll(async () => {
  await emulator?.close();
});

/** A bot in websocket mode; the caller resets the emulator first (refusals arranged before the start stay). */
function startWsBot(opts: Omit<E2eOptions, 'emulator'> = {}): Promise<E2e> {
  emulator.ws.setClientConfig(FAST);
  return startE2e({
    emulator,
    ...opts,
    env: { FEISHU_EVENT_MODE: 'websocket', ...opts.env },
    longConnection: { restartDelayMs: { first: 100, max: 400 }, ...opts.longConnection },
  });
}

/** How often the bot logged `message`. */
function logged(bot: E2e, message: string): number {
  return bot.logs.text.split(`"msg":"${message}`).length - 1;
}

describe('the long connection as the ingress', () => {
  let bot: E2e;
  beforeAll(async () => {
    emulator.reset();
    // Every line the SDK writes, the connection URL's one-time credentials among them.
    bot = await startWsBot({ logLevel: 'trace' });
  });
  afterAll(async () => {
    await bot?.close();
  });

  it('opens one connection at start and is ready; the webhook routes are not there', async () => {
    expect(emulator.ws.connections).toBe(1);
    const ready = await fetch(`${bot.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready', long_connection: 'connected' });
    expect((await bot.deliver(messageEvent({ text: `stats ${DOC_URL}` }))).status).toBe(404);
    expect((await fetch(`${bot.url}/webhook/card`, { method: 'POST', body: '{}' })).status).toBe(404);
    const metrics = await (await fetch(`${bot.url}/metrics`)).text();
    expect(metrics).toContain('fsb_ws_connected 1');
  });

  it('logs the connection URL without its one-time access_key and ticket', () => {
    expect(bot.logs.text).toContain('ticket=[redacted]');
    expect(bot.logs.text).not.toMatch(/ticket=(?!\[redacted\])/);
    expect(bot.logs.text).not.toMatch(/access_key=(?!\[redacted\])/);
  });

  it('answers `stats <link>` sent over the connection with the figures, acknowledging the frame at once', async () => {
    emulator.reset();
    const answer = await emulator.ws.sendEvent(messageEvent({ text: `stats ${DOC_URL}` }));
    expect(answer.code).toBe(200);
    // Accepted, not handled, when the frame is answered: the answer carries no result for an event.
    expect(answer.data).toBeUndefined();
    await emulator.waitForMessages(1, WAIT_MS);
    await bot.settle();
    expect(emulator.messages).toHaveLength(1);
    expect(cardText(emulator.messages[0]?.content)).toContain('1,234');
  });

  it('in a group, answers a message mentioning the bot and makes no call for one that does not', async () => {
    emulator.reset();
    const chatId = `oc_${randomBytes(16).toString('hex')}`;
    const ignoredBefore = await bot.app.metrics.value('fsb_events_total', {
      type: 'im.message.receive_v1',
      outcome: 'ignored',
    });
    const chatter = messageEvent({ chatId, chatType: 'group', text: `stats ${DOC_URL}` });
    expect((await emulator.ws.sendEvent(chatter)).code).toBe(200);
    await bot.settle();
    expect(emulator.callsTo('GET', STATISTICS)).toHaveLength(0);
    expect(emulator.messages).toHaveLength(0);
    // Acknowledged at the door, as on the webhook: never claimed, so nothing of it is kept.
    expect(await bot.app.store.get(`fsb:seen:msg:${chatter.event.message.message_id}`)).toBeNull();
    expect(
      await bot.app.metrics.value('fsb_events_total', { type: 'im.message.receive_v1', outcome: 'ignored' }),
    ).toBe(ignoredBefore + 1);

    await emulator.ws.sendEvent(
      messageEvent({
        chatId,
        mentions: [botMention(emulator.botOpenId)],
        text: `@_user_1 stats ${DOC_URL}`,
      }),
    );
    await emulator.waitForMessages(1, WAIT_MS);
    await bot.settle();
    expect(emulator.messages).toHaveLength(1);
    expect(cardText(emulator.messages[0]?.content)).toContain('1,234');
  });

  it('handles an event split into three fragments once', async () => {
    emulator.reset();
    const event = messageEvent({ text: `stats ${DOC_URL}` });
    const frames = await bot.app.metrics.value('fsb_ws_frames_total', { type: 'event', outcome: 'accepted' });
    const answer = await emulator.ws.sendEvent(event, { fragments: 3, fragmentOrder: 'reversed' });
    expect(answer.code).toBe(200);
    await emulator.waitForMessages(1, WAIT_MS);
    await bot.settle();
    // One reply, and one event handled (the statistics may come from the cache of an earlier test).
    expect(emulator.messages).toHaveLength(1);
    expect(await bot.app.metrics.value('fsb_ws_frames_total', { type: 'event', outcome: 'accepted' })).toBe(
      frames + 1,
    );
  });

  it('drops a redelivery of the same message, as the webhook does', async () => {
    emulator.reset();
    const event = messageEvent({ text: `stats ${DOC_URL}` });
    await emulator.ws.sendEvent(event);
    await emulator.ws.sendEvent({
      ...event,
      header: { ...event.header, event_id: randomBytes(16).toString('hex') },
    });
    await bot.settle();
    expect(emulator.messages).toHaveLength(1);
  });

  it('answers a Refresh click in the answer frame with the updated 2.0 card', async () => {
    emulator.reset();
    const chatId = `oc_${randomBytes(16).toString('hex')}`;
    emulator.addChat({ chatId, chatMode: 'p2p' });
    await emulator.ws.sendEvent(messageEvent({ chatId, chatType: 'p2p', text: `stats ${DOC_URL}` }));
    const [card] = await emulator.waitForMessages(1, WAIT_MS);
    await bot.settle();
    emulator.addDoc({
      token: DOC,
      type: 'docx',
      title: 'Launch plan',
      statistics: docStatistics({ uv: 8, pv: 5678 }),
    });

    const answer = await emulator.ws.sendEvent(
      cardActionEvent({
        operatorOpenId: `ou_${randomBytes(16).toString('hex')}`,
        value: { v: 1, a: 'refresh', d: { t: DOC, y: 'docx', u: DOC_URL }, c: 'p' },
        openMessageId: card?.messageId ?? '',
        openChatId: chatId,
      }),
    );
    expect(answer.code).toBe(200);
    console.info(
      `[figure] Refresh over the long connection: answer frame ${answer.elapsedMs} ms after the click`,
    );
    const data = answer.data as {
      card?: { type: string; data: { schema?: string } };
      toast?: { type: string };
    };
    expect(data.card?.type).toBe('raw');
    expect(data.card?.data.schema).toBe('2.0');
    expect(cardText(data.card?.data)).toContain('5,678');
    expect(data.toast?.type).not.toBe('error');
    emulator.addDoc({
      token: DOC,
      type: 'docx',
      title: 'Launch plan',
      statistics: docStatistics({ uv: 7, pv: 1234 }),
    });
  });

  it('drops a frame whose event the bot cannot read, with one line, and acknowledges it', async () => {
    emulator.reset();
    const event = messageEvent({ text: `stats ${DOC_URL}` });
    const broken = {
      ...event,
      event: { ...event.event, message: { ...event.event.message, mentions: null } },
    };
    const before = logged(bot, 'event not in the shape the bot reads');
    const answer = await emulator.ws.sendEvent(broken);
    expect(answer.code).toBe(200);
    await bot.settle();
    expect(logged(bot, 'event not in the shape the bot reads')).toBe(before + 1);
    expect(emulator.calls.filter((c) => c.path.includes('/im/v1/messages'))).toHaveLength(0);
  });
});

describe('connection health', () => {
  it('is not ready while the connection is down, reconnects, and handles the next event', async () => {
    emulator.reset();
    const bot = await startWsBot();
    try {
      // Every handshake refused until reset(): the SDK keeps trying every 0.2 s, and readiness must say so.
      for (let i = 0; i < 500; i++) emulator.ws.refuseNextHandshake();
      expect(emulator.ws.dropAll()).toBe(1);
      await waitUntil(
        async () => (await fetch(`${bot.url}/readyz`)).status === 503,
        WAIT_MS,
        () => 'readyz still 200 after the drop',
      );
      const down = (await (await fetch(`${bot.url}/readyz`)).json()) as { long_connection: string };
      expect(down.long_connection).toBe('reconnecting');
      expect(await (await fetch(`${bot.url}/metrics`)).text()).toContain('fsb_ws_connected 0');

      emulator.reset(); // Feishu's gateway takes connections again.
      await emulator.ws.waitForConnections(1, WAIT_MS);
      await waitUntil(
        async () => (await fetch(`${bot.url}/readyz`)).status === 200,
        WAIT_MS,
        () => 'readyz not 200 after reconnecting',
      );
      await emulator.ws.sendEvent(messageEvent({ text: `stats ${DOC_URL}` }));
      await emulator.waitForMessages(1, WAIT_MS);
      expect(logged(bot, 'long connection lost')).toBe(1);
      expect(logged(bot, 'long connection re-established')).toBe(1);
      expect(await bot.app.metrics.value('fsb_ws_reconnects_total')).toBe(1);

      // A plain drop, as when a gateway node goes away: how long until an event is handled again.
      await bot.settle();
      const dropped = Date.now();
      emulator.ws.dropAll();
      await emulator.ws.waitForConnections(1, WAIT_MS);
      await waitUntil(
        () => bot.app.longConnection?.connected === true,
        WAIT_MS,
        () => 'not reconnected',
      );
      await emulator.ws.sendEvent(messageEvent({ text: `stats ${DOC_URL}` }));
      await emulator.waitForMessages(2, WAIT_MS);
      console.info(`[figure] dropped socket → next event handled: ${Date.now() - dropped} ms`);
      expect(await bot.app.metrics.value('fsb_ws_reconnects_total')).toBe(2);
    } finally {
      await bot.close();
    }
  }, 60_000);

  it('replaces a connection whose pings go unanswered (the SDK watchdog, which is off by default)', async () => {
    emulator.reset();
    const bot = await startWsBot({ longConnection: { pingTimeoutS: 1 } });
    try {
      emulator.ws.setClientConfig({ PingInterval: 2 });
      const first = emulator.ws.connectionLog.at(-1);
      // Only this connection goes silent: its replacement is answered as usual.
      emulator.ws.setPongs(false, { connection: first?.id ?? -1 });
      let reconnects = 0;
      await waitUntil(
        async () => {
          reconnects = await bot.app.metrics.value('fsb_ws_reconnects_total');
          return reconnects >= 1;
        },
        WAIT_MS,
        () => `reconnects: ${reconnects}`,
      );
      expect(first?.closedBy).toBe('client');
      await emulator.ws.sendEvent(messageEvent({ text: `stats ${DOC_URL}` }), { connection: 'newest' });
      await emulator.waitForMessages(1, WAIT_MS);
    } finally {
      emulator.ws.setClientConfig(FAST);
      await bot.close();
    }
  }, 60_000);

  it('explains a refusal for too many connections and keeps trying until one is free', async () => {
    emulator.reset();
    emulator.ws.setClientConfig(FAST);
    emulator.ws.refuseNext(1000040350, 'exceed max connection limit', { times: 2 });
    const bot = await startWsBot({ longConnection: { startWaitMs: WAIT_MS } });
    try {
      // Refused twice, the SDK gave up twice, and the bot started it again each time.
      expect(emulator.ws.connections).toBe(1);
      expect(emulator.ws.endpointCalls).toBe(3);
      expect(bot.logs.text).toContain('already has the 50 long connections Feishu allows');
      expect((await fetch(`${bot.url}/readyz`)).status).toBe(200);
    } finally {
      await bot.close();
    }
  }, 60_000);
});

describe('start and shutdown', () => {
  it('fails the start, naming FEISHU_APP_SECRET, when Feishu refuses the secret, without the secret', async () => {
    emulator.reset();
    const sockets = emulator.ws.connectionLog.length;
    const secret = 'wrong-secret-for-the-long-connection';
    const failed = await startWsBot({ env: { FEISHU_APP_SECRET: secret } }).then(
      (bot) => bot.close().then(() => undefined),
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(Error);
    expect(String((failed as Error).message)).toContain('FEISHU_APP_SECRET');
    expect(String((failed as Error).message)).not.toContain(secret);
    // Refused at the endpoint: no socket was ever opened.
    expect(emulator.ws.connectionLog).toHaveLength(sockets);
    expect(emulator.ws.endpointCalls).toBe(1);
  });

  it('closes the connection first at shutdown, then finishes what it had accepted', async () => {
    emulator.reset();
    const bot = await startWsBot();
    // The statistics answer comes a second after the event was accepted: shutdown starts within it.
    emulator.setLatency(1_000, { method: 'GET', path: STATISTICS });
    try {
      await emulator.ws.sendEvent(messageEvent({ text: `stats ${DOC_URL}` }));
      await bot.close();
      const connection = emulator.ws.connectionLog.at(-1);
      expect(connection?.closedBy).toBe('client');
      expect(emulator.messages).toHaveLength(1);
      expect(connection?.closedAt).toBeLessThan(emulator.messages[0]?.at ?? 0);
    } finally {
      emulator.setLatency(0);
    }
  });
});

describe('replicas on one Redis', () => {
  it('50 events to random connections, 10 of them delivered again to the other: exactly 50 replies', async () => {
    emulator.reset();
    const first = await startWsBot({ redis: true });
    const second = await startWsBot({ redis: { url: first.app.config.redisUrl ?? '' } });
    try {
      await emulator.ws.waitForConnections(2, WAIT_MS);
      const ids = emulator.ws.connectionLog.filter((c) => c.closedAt === undefined).map((c) => c.id);
      expect(ids).toHaveLength(2);
      const events = Array.from({ length: 50 }, (_, i) => messageEvent({ text: `stats ${DOC_URL} #${i}` }));
      const answers = await Promise.all(events.map((event) => emulator.ws.sendEvent(event)));
      // Feishu's redelivery goes to any connection: here always the one that did not get it the first time.
      const again = await Promise.all(
        answers.slice(0, 10).map((answer, i) => {
          const other = ids.find((id) => id !== answer.connectionId) ?? answer.connectionId;
          return emulator.ws.sendEvent(events[i] ?? {}, { connection: other });
        }),
      );
      expect([...answers, ...again].map((a) => a.code)).toEqual(Array(60).fill(200));
      const perConnection = ids.map((id) => answers.filter((a) => a.connectionId === id).length);
      await emulator.waitForMessages(50, 40_000);
      await first.settle(30_000);
      await second.settle(30_000);
      const replied = emulator.messages.map((m) => m.targetId);
      expect(replied).toHaveLength(50);
      expect(new Set(replied).size).toBe(50);
      console.info(
        `[figure] two replicas: 60 deliveries (${perConnection.join('/')} + 10 again) → ${replied.length} replies`,
      );
    } finally {
      await second.close();
      await first.close();
    }
  }, 60_000);
});
