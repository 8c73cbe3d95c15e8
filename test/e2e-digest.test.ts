/**
 * Daily digests end to end, in process on one Redis: the `digest` commands and the list card's remove button, one
 * digest per chat per day however many ticks and restarts, catch-up after downtime, three days of snapshots making
 * the trend, and a chat that removed the bot.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { SubscriptionStore } from '../src/digest/subscriptions.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { SentMessage } from './emulator/feishu-emulator.js';
import {
  botMention,
  cardActionEvent,
  DEFAULT_VERIFICATION_TOKEN,
  messageEvent,
} from './emulator/fixtures.js';
import { buttonValue, cardText, type TestBot } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import { startE2e, useEmulator } from './support/e2e.js';

const DOC_TOKEN = 'doxcnDigestAbCdEfGhIjKlMnOp';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const ADMIN = 'ou_0123456789abcdef0123456789abcdef';
const TICK_MS = 150;

const emulator = useEmulator({ arrange: () => setDocViews(100) });

function setDocViews(pv: number): void {
  emulator.addDoc({
    token: DOC_TOKEN,
    type: 'docx',
    title: 'Quarterly plan',
    statistics: { uv: Math.floor(pv / 10), pv, like_count: 4, uv_today: 1, pv_today: 2, like_count_today: 0 },
  });
}

/** Wall time in Asia/Shanghai (the default DIGEST_TZ) as epoch ms. */
function shanghai(date: string, time: string): number {
  return Date.parse(`${date}T${time}:00+08:00`);
}

/** A bot on `db` whose clock the test sets; digests at the default 10:30 Shanghai time. */
function startDigestBot(db: FreshRedisDb, clock: { now: number }) {
  return startE2e({
    emulator,
    redis: db,
    clock: () => clock.now,
    digestTickMs: TICK_MS,
    env: { BOT_ADMINS: ADMIN, DIGEST_TIME: '10:30' },
  });
}

function digests(): SentMessage[] {
  return emulator.messages.filter(
    (m) =>
      m.kind === 'create' && m.receiveIdType === 'chat_id' && cardText(m.content).includes('Daily digest'),
  );
}

async function waitFor(predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** Long enough for several ticks to have run. */
const severalTicks = () => new Promise((resolve) => setTimeout(resolve, TICK_MS * 8));

async function subscribe(bot: TestBot, chatId: string, text = `digest add ${DOC_URL}`): Promise<SentMessage> {
  const before = emulator.messages.length;
  await bot.deliver(messageEvent({ text, chatId, chatType: 'p2p', senderOpenId: ADMIN }));
  await emulator.waitForMessages(before + 1);
  await bot.settle();
  const reply = emulator.messages.at(-1);
  if (!reply) throw new Error('no reply');
  return reply;
}

describe('digest commands', () => {
  let db: FreshRedisDb;
  afterAll(async () => db?.cleanup());

  it('adds, lists, re-times and removes items, and the remove button edits the card in place', async () => {
    emulator.reset();
    db = await freshRedisDb();
    const clock = { now: shanghai('2026-11-20', '09:00') };
    const bot = await startDigestBot(db, clock);
    try {
      const added = await subscribe(bot, 'oc_cmd_chat');
      expect(cardText(added.content)).toContain('Quarterly plan');
      expect(cardText(added.content)).toMatch(/Added/);

      const again = await subscribe(bot, 'oc_cmd_chat');
      expect(cardText(again.content)).toMatch(/already in the daily digest/);

      // Tenant-wide items need a bot admin; in a group the sender is whoever wrote.
      const before = emulator.messages.length;
      await bot.deliver(
        messageEvent({
          text: '@_user_1 digest add workplace',
          chatId: 'oc_cmd_chat',
          mentions: [botMention(emulator.botOpenId)],
          senderOpenId: 'ou_not_an_admin',
        }),
      );
      await emulator.waitForMessages(before + 1);
      expect(cardText(emulator.messages.at(-1)?.content)).not.toMatch(/Added/);
      const workplace = await subscribe(bot, 'oc_cmd_chat', 'digest add workplace');
      expect(cardText(workplace.content)).toMatch(/Added workplace/);

      const retimed = await subscribe(bot, 'oc_cmd_chat', 'digest time 09:15');
      expect(cardText(retimed.content)).toContain('09:15');

      const removed = await subscribe(bot, 'oc_cmd_chat', 'digest remove 2');
      expect(cardText(removed.content)).toMatch(/Removed workplace/);

      const subscriptions = new SubscriptionStore(new RedisStore(db.url));
      expect((await subscriptions.get('oc_cmd_chat'))?.items.map((i) => i.kind)).toEqual(['doc']);

      const answer = await bot.click(
        cardActionEvent({
          operatorOpenId: 'ou_someone',
          openChatId: 'oc_cmd_chat',
          openMessageId: removed.messageId,
          value: buttonValue(removed.content, /^rm_1$/),
        }),
      );
      expect(answer.status).toBe(200);
      expect(cardText(answer.body.card?.data)).toMatch(/Removed “Quarterly plan”/);
      expect((await subscriptions.get('oc_cmd_chat'))?.items ?? []).toHaveLength(0);

      const usage = await subscribe(bot, 'oc_cmd_chat', 'digest time 25:00');
      expect(cardText(usage.content)).toMatch(/could not read the time “25(:|&#58;)00”/);
    } finally {
      await bot.close();
    }
  });
});

describe('one digest per chat per day', () => {
  let db: FreshRedisDb;
  afterAll(async () => db?.cleanup());

  it('sends each chat one digest once its time passes, and none again after a restart the same day', async () => {
    emulator.reset();
    db = await freshRedisDb();
    const clock = { now: shanghai('2026-11-20', '10:00') };
    const first = await startDigestBot(db, clock);
    const chats = ['oc_daily_a', 'oc_daily_b', 'oc_daily_c'];
    try {
      for (const chat of chats) await subscribe(first, chat);
      await severalTicks();
      expect(digests()).toHaveLength(0);

      clock.now = shanghai('2026-11-20', '10:31');
      await waitFor(() => digests().length >= chats.length);
      await severalTicks();
      expect(
        digests()
          .map((m) => m.targetId)
          .sort(),
      ).toEqual(chats);
      expect(cardText(digests()[0]?.content)).toMatch(/history starts today/i);
    } finally {
      await first.close();
    }

    clock.now = shanghai('2026-11-20', '15:00');
    const second = await startDigestBot(db, clock);
    try {
      await severalTicks();
      expect(digests()).toHaveLength(chats.length);
    } finally {
      await second.close();
    }
  }, 30_000);

  it('catches up when no instance was running at the digest time, once', async () => {
    emulator.reset();
    const fresh = await freshRedisDb();
    try {
      const clock = { now: shanghai('2026-11-20', '09:00') };
      const early = await startDigestBot(fresh, clock);
      await subscribe(early, 'oc_catch_up');
      await early.close();

      // Down from 09:00 until 11:30: the 10:30 digest is sent when an instance comes back.
      clock.now = shanghai('2026-11-20', '11:30');
      const late = await startDigestBot(fresh, clock);
      await waitFor(() => digests().length === 1);
      await late.close();
      const another = await startDigestBot(fresh, clock);
      await severalTicks();
      await another.close();
      expect(digests()).toHaveLength(1);
    } finally {
      await fresh.cleanup();
    }
  }, 30_000);
});

describe('three days of snapshots', () => {
  it('shows the change since the previous digest and a three-point trend with the right deltas', async () => {
    emulator.reset();
    const db = await freshRedisDb();
    const clock = { now: shanghai('2026-11-18', '09:00') };
    const bot = await startDigestBot(db, clock);
    try {
      await subscribe(bot, 'oc_trend');
      const views = { '2026-11-18': 100, '2026-11-19': 150, '2026-11-20': 230 };
      let sent = 0;
      for (const [date, pv] of Object.entries(views)) {
        setDocViews(pv);
        clock.now = shanghai(date, '10:31');
        sent += 1;
        await waitFor(() => digests().length === sent);
      }
      const last = digests()[2]?.content;
      expect(cardText(last)).toContain('+80');
      const values = chartValues(last);
      expect(values).toEqual([
        { date: '2026-11-18', value: 100, delta: null },
        { date: '2026-11-19', value: 150, delta: 50 },
        { date: '2026-11-20', value: 230, delta: 80 },
      ]);
    } finally {
      setDocViews(100);
      await bot.close();
      await db.cleanup();
    }
  }, 30_000);
});

describe('a chat that removed the bot, or was dissolved', () => {
  it.each([
    { code: 230002, msg: 'Bot is not in the chat' },
    { code: 232009, msg: 'Your request specified a chat which has been dissolved.' },
  ])(
    'pauses its digest on $code, logs it once, and resumes when the bot is added back',
    async ({ code, msg }) => {
      emulator.reset();
      const db = await freshRedisDb();
      const clock = { now: shanghai('2026-11-18', '09:00') };
      const bot = await startDigestBot(db, clock);
      try {
        await subscribe(bot, 'oc_left');
        emulator.failNext('POST', '/im/v1/messages', { httpStatus: 400, code, msg });
        clock.now = shanghai('2026-11-18', '10:31');
        await waitFor(() => bot.logs.text.includes('digest paused'));
        clock.now = shanghai('2026-11-19', '10:31');
        await severalTicks();
        expect(emulator.callsTo('POST', '/im/v1/messages')).toHaveLength(1);
        expect(bot.logs.text.match(/digest paused/g)).toHaveLength(1);

        // Added back on the 19th at 11:00: a welcome card now, the digest again from the 20th.
        clock.now = shanghai('2026-11-19', '11:00');
        await bot.deliver(botAddedEvent('oc_left'));
        await waitFor(() => emulator.messages.some((m) => m.targetId === 'oc_left'));
        clock.now = shanghai('2026-11-20', '10:31');
        await waitFor(() => digests().length === 1);
        expect(digests()[0]?.targetId).toBe('oc_left');
      } finally {
        await bot.close();
        await db.cleanup();
      }
    },
    30_000,
  );
});

function botAddedEvent(chatId: string) {
  return {
    schema: '2.0' as const,
    header: {
      event_id: `added-${chatId}-${Date.now()}`,
      event_type: 'im.chat.member.bot.added_v1',
      create_time: String(Date.now()),
      token: DEFAULT_VERIFICATION_TOKEN,
      app_id: emulator.appId,
      tenant_key: emulator.tenantKey,
    },
    event: { chat_id: chatId, operator_id: { open_id: ADMIN }, name: 'Team chat' },
  };
}

/** The data points of the card's first chart. */
function chartValues(card: unknown): unknown[] {
  const found: unknown[][] = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const el = node as { tag?: string; chart_spec?: { data?: { values?: unknown[] } } };
      if (el.tag === 'chart' && el.chart_spec?.data?.values) found.push(el.chart_spec.data.values);
      else Object.values(node).forEach(walk);
    }
  };
  walk(card);
  return found[0] ?? [];
}
