/**
 * Weekly and monthly digests end to end, in process on one Redis with a clock the test moves day by day: the
 * cadence commands; one digest per chat per week (or month) with two bots on the database at once and bots
 * restarted on the digest day; each digest saying what the documents gained since a week (or the same day a month)
 * before, from snapshots taken every day, also the days without a digest; the same-day catch-up rule; and a
 * subscription stored before cadences, which stays daily.
 */
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { SnapshotStore } from '../src/digest/snapshots.js';
import { DELIVERY_STATE_KEY, SUBSCRIPTIONS_KEY, SubscriptionStore } from '../src/digest/subscriptions.js';
import { itemKey } from '../src/digest/types.js';
import { QUEUE_PREFIX } from '../src/jobs/connections.js';
import { DIGEST_QUEUE, TICK_SCHEDULER_ID } from '../src/jobs/digest-queue.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { messageEvent } from './emulator/fixtures.js';
import { cardText, type TestBot } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import { completedSchedulerRuns } from './support/digest-clock.js';
import { startE2e, useEmulator } from './support/e2e.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnCadenceAbCdEfGhIjKlMnO';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const DOC_KEY = itemKey({ kind: 'doc', type: 'docx', token: DOC_TOKEN, url: DOC_URL });
const ADMIN = 'ou_0123456789abcdef0123456789abcdef';
const TICK_MS = 100;

const emulator = useEmulator({ arrange: () => setDay(0) });

/** The document's totals on day `n` of a test: 10 views and 1 visitor a day. */
function setDay(n: number): void {
  emulator.addDoc({
    token: DOC_TOKEN,
    type: 'docx',
    title: 'Launch plan',
    statistics: {
      uv: 100 + n,
      pv: 1000 + 10 * n,
      like_count: 4,
      uv_today: 1,
      pv_today: 10,
      like_count_today: 0,
    },
  });
}

/** Wall time in Asia/Shanghai (the default DIGEST_TZ, no daylight saving) as epoch ms. */
function shanghai(date: string, time: string): number {
  return Date.parse(`${date}T${time}:00+08:00`);
}

/** `count` calendar days from `first`, by string arithmetic at UTC noon (no zone can shift it). */
function daysFrom(first: string, count: number): string[] {
  const start = Date.parse(`${first}T12:00:00Z`);
  return Array.from({ length: count }, (_, i) => new Date(start + i * 86_400_000).toISOString().slice(0, 10));
}

function startDigestBot(db: FreshRedisDb, clock: { now: number }) {
  return startE2e({
    emulator,
    redis: db,
    clock: () => clock.now,
    digestTickMs: TICK_MS,
    env: { BOT_ADMINS: ADMIN, DIGEST_TIME: '10:30' },
  });
}

/** Digest cards posted to chats (not replies to commands), oldest first; `title` picks the kind. */
function digests(title: 'Daily digest' | 'Weekly digest' | 'Monthly digest', chatId?: string): SentMessage[] {
  return emulator.messages.filter(
    (m) =>
      m.kind === 'create' &&
      m.receiveIdType === 'chat_id' &&
      (chatId === undefined || m.targetId === chatId) &&
      cardText(m.content).includes(`${title} · `),
  );
}

const digestSends = () =>
  emulator.callsTo('POST', '/im/v1/messages').filter((c) => c.query.receive_id_type === 'chat_id');

async function say(bot: TestBot, chatId: string, text: string): Promise<SentMessage> {
  const before = emulator.messages.length;
  await bot.deliver(messageEvent({ text, chatId, chatType: 'p2p', senderOpenId: ADMIN }));
  await emulator.waitForMessages(before + 1);
  await bot.settle();
  const reply = emulator.messages.at(-1);
  if (!reply) throw new Error('no reply');
  return reply;
}

/**
 * Until `n` digest ticks have completed since now (counted in the queue's event stream, whichever bot ran them):
 * how "nothing more was sent" is shown to have been checked by real ticks at the current clock.
 */
async function ticks(db: FreshRedisDb, n: number): Promise<void> {
  const since = Date.now();
  const events = `${QUEUE_PREFIX}:${DIGEST_QUEUE}:events`;
  await waitUntil(
    async () => (await completedSchedulerRuns(db.redis, events, TICK_SCHEDULER_ID, since)) >= n,
    15_000,
    () => `${n} digest ticks`,
  );
}

function snapshots(db: FreshRedisDb): { store: RedisStore; snaps: SnapshotStore } {
  const store = new RedisStore(db.url);
  return { store, snaps: new SnapshotStore(store) };
}

/** The data points of the card's first chart. */
function chartValues(card: unknown): Array<{ date: string; value: number; delta: number | null }> {
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
  return (found[0] ?? []) as Array<{ date: string; value: number; delta: number | null }>;
}

describe('cadence commands', () => {
  it('sets weekly, monthly and daily again, keeping the time, and the list says how often and when next', async () => {
    emulator.reset();
    const db = await freshRedisDb();
    // Tuesday 2026-12-01, 09:00.
    const clock = { now: shanghai('2026-12-01', '09:00') };
    const bot = await startDigestBot(db, clock);
    try {
      await say(bot, 'oc_cmd', `digest add ${DOC_URL}`);
      await say(bot, 'oc_cmd', 'digest time 08:15');

      const weekly = cardText((await say(bot, 'oc_cmd', 'digest weekly fri')).content);
      expect(weekly).toContain(
        'This chat now gets a weekly digest: on Fridays at 08:15 (Asia/Shanghai), with what each item gained in the last 7 days.',
      );
      expect(weekly).toContain('**Weekly on Friday at 08:15**');
      expect(weekly).toContain('Next digest: 2026-12-04 08:15');
      expect(weekly).toContain('本会话改为每周数据：每周五 08:15（Asia/Shanghai）发送，显示近 7 天的新增。');

      const again = cardText((await say(bot, 'oc_cmd', '订阅 每周五')).content);
      expect(again).toContain('This chat already gets a weekly digest: on Fridays at 08:15 (Asia/Shanghai).');

      const monthly = cardText((await say(bot, 'oc_cmd', '订阅 每月15号')).content);
      expect(monthly).toContain('**Monthly on the 15th at 08:15**');
      expect(monthly).toContain('Next digest: 2026-12-15 08:15');
      expect(monthly).toContain('**每月 15 日 08:15 推送**');

      const subscriptions = new SubscriptionStore(bot.app.store);
      expect((await subscriptions.get('oc_cmd'))?.cadence).toEqual({ kind: 'monthly', day: 15 });
      expect((await subscriptions.get('oc_cmd'))?.time).toEqual({ hour: 8, minute: 15 });

      const retimed = cardText((await say(bot, 'oc_cmd', 'digest time 09:45')).content);
      expect(retimed).toContain(
        'The monthly digest will be sent on the 15th of every month at 09:45 (Asia/Shanghai).',
      );

      const daily = cardText((await say(bot, 'oc_cmd', 'digest daily')).content);
      expect(daily).toContain('**Daily at 09:45**');
      expect(daily).toContain('Next digest: 2026-12-01 09:45');
      // Daily is stored as no cadence at all, as every subscription was before cadences.
      const raw = JSON.parse((await bot.app.store.hashGet(SUBSCRIPTIONS_KEY, 'oc_cmd')) ?? '{}');
      expect('cadence' in raw).toBe(false);

      const bad = cardText((await say(bot, 'oc_cmd', 'digest monthly 29')).content);
      expect(bad).toContain('Some months have no day 29, so a monthly digest goes out on a day from 1 to 28');
      const badDay = cardText((await say(bot, 'oc_cmd', '订阅 每周 八')).content);
      expect(badDay).toContain('我看不懂星期 `八`');
      expect(await subscriptions.get('oc_cmd')).not.toHaveProperty('cadence');
    } finally {
      await bot.close();
      await db.cleanup();
    }
  }, 60_000);
});

describe('one weekly digest per chat per week', () => {
  let db: FreshRedisDb;
  afterAll(async () => db?.cleanup());

  it('with two bots at once and bots restarted on the day, each chat gets one a week, saying what the week gained', async () => {
    emulator.reset();
    db = await freshRedisDb();
    const { store, snaps } = snapshots(db);
    const queue = new Queue(DIGEST_QUEUE, { connection: db.redis, prefix: QUEUE_PREFIX });
    // Monday 2026-11-23, 09:00: subscribed before the 10:30 slot.
    const clock = { now: shanghai('2026-11-23', '09:00') };
    setDay(0);
    let bots = [await startDigestBot(db, clock), await startDigestBot(db, clock)];
    const chats = ['oc_weekly_a', 'oc_weekly_b', 'oc_weekly_c'];
    try {
      for (const [i, chat] of chats.entries()) {
        const bot = bots[i % 2] as TestBot;
        await say(bot, chat, `digest add ${DOC_URL}`);
        expect(cardText((await say(bot, chat, 'digest weekly')).content)).toContain(
          '**Weekly on Monday at 10:30**',
        );
      }

      // Monday 11-23 to Monday 11-30 and the Tuesday after, each day at 10:31.
      const days = daysFrom('2026-11-23', 9);
      for (const [n, date] of days.entries()) {
        setDay(n);
        clock.now = shanghai(date, '10:31');
        // Every day's snapshot, digest or not: what the next weekly digest compares with.
        await waitUntil(
          async () => (await snaps.get(DOC_KEY, date))?.figures.pv === 1000 + 10 * n,
          15_000,
          () => `snapshot of ${date}`,
        );
        const mondays = days.slice(0, n + 1).filter((d) => d === '2026-11-23' || d === '2026-11-30').length;
        await waitUntil(
          () => digests('Weekly digest').length >= chats.length * mondays,
          15_000,
          () => `${digests('Weekly digest').length} weekly digests on ${date}`,
        );
        await ticks(db, 3);
        expect(digests('Weekly digest'), date).toHaveLength(chats.length * mondays);

        if (date === '2026-11-30') {
          // Both bots go; two new ones start later the same day: nothing more this week.
          await Promise.all(bots.map((bot) => bot.close()));
          clock.now = shanghai(date, '11:30');
          bots = [await startDigestBot(db, clock), await startDigestBot(db, clock)];
          await ticks(db, 3);
          expect(digests('Weekly digest')).toHaveLength(chats.length * 2);
        }
      }

      for (const chat of chats) {
        const [first, second, ...more] = digests('Weekly digest', chat);
        expect(more).toEqual([]);
        expect(cardText(first?.content)).toContain('Weekly digest · 2026-11-23');
        expect(cardText(first?.content)).toContain('No earlier figures on record yet');
        const text = cardText(second?.content);
        expect(text).toContain('Weekly digest · 2026-11-30');
        // 11-30 (day 7) against 11-23 (day 0): 70 views and 7 visitors.
        expect(text).toContain('Views 1,070 · Visitors 107 · Likes 4');
        expect(text).toContain('**Gained in the last 7 days:** Views +70 · Visitors +7 · Likes ±0');
        expect(text).toContain('**近 7 天新增**：访问次数 +70 · 访问人数 +7 · 点赞 ±0');
        expect(chartValues(second?.content)).toEqual(
          daysFrom('2026-11-24', 7).map((date, i) => ({ date, value: 1010 + 10 * i, delta: 10 })),
        );
      }
      // One send per chat per week, not a second send that Feishu's uuid happened to absorb.
      expect(digestSends()).toHaveLength(chats.length * 2);
      // The week is the job's id: digest-<chat>-week-<its Monday>.
      expect((await queue.getJob('digest-oc_weekly_a-week-2026-11-30'))?.data).toEqual({
        chatId: 'oc_weekly_a',
        date: '2026-11-30',
        period: 'week-2026-11-30',
        // The run that queued it, whose cost `usage` reports.
        run: expect.stringMatching(/^2026-11-30-/),
      });
    } finally {
      await Promise.all(bots.map((bot) => bot.close()));
      await queue.close();
      await store.close();
    }
  }, 90_000);
});

describe('one monthly digest per chat per month', () => {
  let db: FreshRedisDb;
  afterAll(async () => db?.cleanup());

  it('with two bots at once and a restart on the day, each chat gets one a month, since the same day last month', async () => {
    emulator.reset();
    db = await freshRedisDb();
    const { store, snaps } = snapshots(db);
    const clock = { now: shanghai('2026-11-01', '09:00') };
    setDay(0);
    let bots = [await startDigestBot(db, clock), await startDigestBot(db, clock)];
    const chats = ['oc_monthly_a', 'oc_monthly_b'];
    try {
      for (const [i, chat] of chats.entries()) {
        const bot = bots[i % 2] as TestBot;
        await say(bot, chat, `digest add ${DOC_URL}`);
        expect(cardText((await say(bot, chat, '订阅 每月')).content)).toContain(
          '**Monthly on the 1st at 10:30**',
        );
      }

      // 2026-11-01 to 2026-12-03, every day at 10:31.
      const days = daysFrom('2026-11-01', 33);
      for (const [n, date] of days.entries()) {
        setDay(n);
        clock.now = shanghai(date, '10:31');
        await waitUntil(
          async () => (await snaps.get(DOC_KEY, date))?.figures.pv === 1000 + 10 * n,
          15_000,
          () => `snapshot of ${date}`,
        );
        const firsts = date >= '2026-12-01' ? 2 : 1;
        await waitUntil(
          () => digests('Monthly digest').length >= chats.length * firsts,
          15_000,
          () => `${digests('Monthly digest').length} monthly digests on ${date}`,
        );
        await ticks(db, 2);
        expect(digests('Monthly digest'), date).toHaveLength(chats.length * firsts);
        if (date === '2026-12-01') {
          await Promise.all(bots.map((bot) => bot.close()));
          clock.now = shanghai(date, '11:30');
          bots = [await startDigestBot(db, clock), await startDigestBot(db, clock)];
          await ticks(db, 3);
          expect(digests('Monthly digest')).toHaveLength(chats.length * 2);
        }
      }

      // The next month's first, the days between skipped by the clock: it compares with 12-01's snapshot.
      setDay(61);
      clock.now = shanghai('2027-01-01', '10:31');
      await waitUntil(
        () => digests('Monthly digest').length >= chats.length * 3,
        15_000,
        () => `${digests('Monthly digest').length} monthly digests on 2027-01-01`,
      );
      await ticks(db, 3);

      for (const chat of chats) {
        const sent = digests('Monthly digest', chat).map((m) => cardText(m.content));
        expect(sent).toHaveLength(3);
        expect(sent[0]).toContain('Monthly digest · 2026-11-01');
        // 12-01 is day 30: 300 views and 30 visitors since 11-01, over the 30 days of the trend.
        expect(sent[1]).toContain('Monthly digest · 2026-12-01');
        expect(sent[1]).toContain('**Gained since 2026-11-01:** Views +300 · Visitors +30 · Likes ±0');
        expect(sent[1]).toContain('**自 2026-11-01 以来新增**：访问次数 +300 · 访问人数 +30');
        expect(sent[1]).toContain('Views, last 30 days:');
        expect(sent[2]).toContain('Monthly digest · 2027-01-01');
        expect(sent[2]).toContain('**Gained since 2026-12-01:** Views +310 · Visitors +31');
      }
      const december = digests('Monthly digest', chats[0])[1];
      expect(chartValues(december?.content)).toHaveLength(30);
      expect(digestSends()).toHaveLength(chats.length * 3);
    } finally {
      await Promise.all(bots.map((bot) => bot.close()));
      await store.close();
    }
  }, 120_000);
});

describe('catch-up of a weekly digest', () => {
  /**
   * Sunday 2026-11-29 at 12:00 a chat is set up weekly on Mondays and its first snapshot taken (12:00 is past its
   * 10:30), then no bot runs.
   */
  async function weeklyChatThenDown(db: FreshRedisDb, snaps: SnapshotStore, chat: string): Promise<void> {
    const clock = { now: shanghai('2026-11-29', '12:00') };
    setDay(0);
    const setup = await startDigestBot(db, clock);
    try {
      await say(setup, chat, `digest add ${DOC_URL}`);
      await say(setup, chat, 'digest weekly monday');
      await waitUntil(
        async () => (await snaps.get(DOC_KEY, '2026-11-29')) !== null,
        15_000,
        () => 'Sunday snapshot',
      );
    } finally {
      await setup.close();
    }
  }

  it('goes out once when a bot starts later on its day, after its time passed with none running', async () => {
    emulator.reset();
    const db = await freshRedisDb();
    const { store, snaps } = snapshots(db);
    try {
      await weeklyChatThenDown(db, snaps, 'oc_late_monday');
      // Monday 11:30, an hour after the slot: the bot comes back and sends it; one started later sends nothing.
      const clock = { now: shanghai('2026-11-30', '11:30') };
      setDay(1);
      let bot = await startDigestBot(db, clock);
      await waitUntil(
        () => digests('Weekly digest').length === 1,
        15_000,
        () => 'the caught-up digest',
      );
      await bot.close();
      clock.now = shanghai('2026-11-30', '15:00');
      bot = await startDigestBot(db, clock);
      try {
        await ticks(db, 3);
      } finally {
        await bot.close();
      }
      expect(digests('Weekly digest').map((m) => m.targetId)).toEqual(['oc_late_monday']);
      const text = cardText(digests('Weekly digest')[0]?.content);
      expect(text).toContain('Weekly digest · 2026-11-30');
      // History starts on the Sunday it was set up, inside the week.
      expect(text).toContain(
        '**Gained since 2026-11-29** (nothing recorded on 2026-11-23): Views +10 · Visitors +1',
      );
      expect(digestSends()).toHaveLength(1);
    } finally {
      await store.close();
      await db.cleanup();
    }
  }, 60_000);

  it('is not sent on a later day when no bot ran on its day at all, and goes out the next week', async () => {
    emulator.reset();
    const db = await freshRedisDb();
    const { store, snaps } = snapshots(db);
    try {
      await weeklyChatThenDown(db, snaps, 'oc_missed_monday');
      // Down all Monday; back on Tuesday at 11:00: Monday's digest is not sent late, today's snapshot is taken.
      const clock = { now: shanghai('2026-12-01', '11:00') };
      setDay(2);
      const bot = await startDigestBot(db, clock);
      try {
        await waitUntil(
          async () => (await snaps.get(DOC_KEY, '2026-12-01')) !== null,
          15_000,
          () => 'Tuesday snapshot',
        );
        await ticks(db, 3);
        expect(digests('Weekly digest')).toHaveLength(0);
        expect(await new SubscriptionStore(store).getState('oc_missed_monday')).toBeUndefined();

        // The next Monday it goes out, once; the week's history starts on that Tuesday.
        clock.now = shanghai('2026-12-07', '10:31');
        setDay(8);
        await waitUntil(
          () => digests('Weekly digest').length === 1,
          15_000,
          () => 'the next Monday',
        );
        await ticks(db, 3);
        expect(digests('Weekly digest')).toHaveLength(1);
        const text = cardText(digests('Weekly digest')[0]?.content);
        expect(text).toContain('Weekly digest · 2026-12-07');
        expect(text).toContain(
          '**Gained since 2026-12-01** (nothing recorded on 2026-11-30): Views +60 · Visitors +6',
        );
      } finally {
        await bot.close();
      }
    } finally {
      await store.close();
      await db.cleanup();
    }
  }, 60_000);
});

describe('a subscription stored before cadences', () => {
  it('reads as daily: listed as daily, and its digest goes out every day with the change since the last', async () => {
    emulator.reset();
    const db = await freshRedisDb();
    const store = new RedisStore(db.url);
    try {
      // Exactly what an older release wrote: no cadence field, a delivery state with a date and reported figures.
      const since = shanghai('2026-11-01', '09:00');
      await store.hashSet(
        SUBSCRIPTIONS_KEY,
        'oc_legacy',
        JSON.stringify({
          chatId: 'oc_legacy',
          items: [{ kind: 'doc', token: DOC_TOKEN, type: 'docx', url: DOC_URL, title: 'Launch plan' }],
          since,
          updatedAt: since,
          subscriber: ADMIN,
        }),
      );
      await store.hashSet(
        DELIVERY_STATE_KEY,
        'oc_legacy',
        JSON.stringify({
          lastSentDate: '2026-11-19',
          lastSentAt: since,
          reported: { [DOC_KEY]: { pv: 990, uv: 99 } },
        }),
      );
      const clock = { now: shanghai('2026-11-20', '09:00') };
      setDay(0);
      const bot = await startDigestBot(db, clock);
      try {
        expect(cardText((await say(bot, 'oc_legacy', 'digest')).content)).toContain('**Daily at 10:30**');
        for (const [n, date] of ['2026-11-20', '2026-11-21'].entries()) {
          setDay(n);
          clock.now = shanghai(date, '10:31');
          await waitUntil(
            () => digests('Daily digest').length === n + 1,
            15_000,
            () => `daily digest ${date}`,
          );
        }
        await ticks(db, 3);
        const [first, second] = digests('Daily digest', 'oc_legacy').map((m) => cardText(m.content));
        expect(digests('Daily digest')).toHaveLength(2);
        expect(first).toContain('Daily digest · 2026-11-20');
        expect(first).toContain('Views 1,000 (+10)');
        expect(second).toContain('Views 1,010 (+10)');
      } finally {
        await bot.close();
      }
    } finally {
      await store.close();
      await db.cleanup();
    }
  }, 60_000);
});
