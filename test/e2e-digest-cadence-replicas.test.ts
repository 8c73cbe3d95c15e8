/**
 * Weekly and monthly digests across three bot replicas on one Redis, each a separate process with a clock the test
 * moves (`replica` entry, test/support/replica-main.ts): the clock walks day by day from one Tuesday to the next
 * and on; each weekly chat (Tuesdays) gets one digest a week and each monthly chat (the 1st) one a month, however
 * many replicas tick, also after all three are replaced by new ones on a digest day; each says what the document
 * gained since a week, or the same day a month, before, from the snapshots the replicas take every day.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX } from '../src/jobs/connections.js';
import { DIGEST_QUEUE, TICK_SCHEDULER_ID } from '../src/jobs/digest-queue.js';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { botMention, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import {
  type ChildServer,
  childEnvFor,
  killAllChildServers,
  startChildServer,
} from './support/child-server.js';
import { deliverMany } from './support/deliver.js';
import { clockOffsetFor, completedSchedulerRuns, SHANGHAI } from './support/digest-clock.js';
import { useEmulator } from './support/e2e.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnCadenceReplicaAbCdEfGh';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
/** src/digest/types.ts `itemKey` of the document, written out so a change there cannot cancel itself out. */
const SNAPSHOT_PREFIX = `fsb:snap:doc-docx-${DOC_TOKEN}:`;
const SUBSCRIBER = 'ou_cadencereplica000000000000a1';
const REPLICAS = 3;
const START_TIMEOUT_MS = 60_000;
const WEEKLY = Array.from({ length: 10 }, (_, i) => `oc_weekly_replica_${String(i).padStart(2, '0')}`);
const MONTHLY = Array.from({ length: 10 }, (_, i) => `oc_monthly_replica_${String(i).padStart(2, '0')}`);

const emulator = useEmulator({ childServers: true });

/** The document's totals `n` days after 2026-11-01: 10 views and 1 visitor a day. */
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

/** Whole days from 2026-11-01 to `date`, by UTC arithmetic on the date alone. */
function dayNumber(date: string): number {
  return Math.round((Date.parse(`${date}T00:00:00Z`) - Date.parse('2026-11-01T00:00:00Z')) / 86_400_000);
}

function figure(text: string): void {
  console.log(`[figure] cadence replicas: ${text}`);
}

describe('weekly and monthly digests across replicas', () => {
  let db: FreshRedisDb;
  let replicas: ChildServer[] = [];

  beforeAll(async () => {
    db = await freshRedisDb();
  });

  afterAll(async () => {
    await killAllChildServers();
    await db?.cleanup();
  });

  const envAt = (date: string, time: string) =>
    childEnvFor(emulator, {
      REDIS_URL: db.url,
      DIGEST_TIME: '10:30',
      DIGEST_TZ: SHANGHAI.name,
      TEST_DIGEST_TICK_MS: '300',
      TEST_CLOCK_OFFSET_MS: String(clockOffsetFor(SHANGHAI, date, time)),
    });
  const startReplicas = (date: string, time: string, label: string) =>
    Promise.all(
      Array.from({ length: REPLICAS }, (_, i) =>
        startChildServer({
          entry: 'replica',
          env: envAt(date, time),
          name: `${label}-${i}`,
          startTimeoutMs: START_TIMEOUT_MS,
        }),
      ),
    );
  const moveClocks = (date: string, time: string) =>
    Promise.all(
      replicas.map(async (replica) => {
        const offsetMs = clockOffsetFor(SHANGHAI, date, time);
        await replica.send({ type: 'clock', offsetMs });
        await replica.waitForLog((l) => l.msg === 'test clock moved' && l.offsetMs === offsetMs, 5_000);
      }),
    );
  const isDigest = (m: SentMessage) => m.kind === 'create' && m.receiveIdType === 'chat_id';
  const titled = (title: string) =>
    emulator.messages.filter((m) => isDigest(m) && cardText(m.content).includes(title));
  const digestSends = () =>
    emulator.callsTo('POST', '/im/v1/messages').filter((c) => c.query.receive_id_type === 'chat_id');
  const snapshotViews = async (date: string) => {
    const raw = await db.redis.get(`${SNAPSHOT_PREFIX}${date}`);
    return raw === null ? undefined : (JSON.parse(raw) as { figures: { pv?: number } }).figures.pv;
  };
  /** Until `n` ticks of the shared scheduler completed from now, whichever replica ran them. */
  const ticks = async (n: number) => {
    const since = Date.now();
    const events = `${QUEUE_PREFIX}:${DIGEST_QUEUE}:events`;
    await waitUntil(
      async () => (await completedSchedulerRuns(db.redis, events, TICK_SCHEDULER_ID, since)) >= n,
      30_000,
      () => `${n} digest ticks`,
    );
  };
  /** Sends `text` to every chat in `chats`, spread over the replicas, and waits for every answer. */
  const sayInGroups = async (chats: readonly string[], text: (chat: string) => string) => {
    const before = emulator.messages.length;
    const events = chats.map((chatId) =>
      messageEvent({
        chatType: 'group',
        chatId,
        senderOpenId: SUBSCRIBER,
        mentions: [botMention(emulator.botOpenId)],
        text: `@_user_1 ${text(chatId)}`,
      }),
    );
    const acks = await deliverMany(
      replicas.map((r) => r.url),
      events,
      { concurrency: 10 },
    );
    expect(acks.map((o) => o.status)).toEqual(chats.map(() => 200));
    await waitUntil(
      () => emulator.messages.length >= before + chats.length,
      30_000,
      () => `${emulator.messages.length - before} of ${chats.length} answers`,
    );
    return emulator.messages.slice(before);
  };

  it('one digest per chat per week and per month, each with what the document gained, through a full restart', async () => {
    emulator.reset();
    // What an earlier run recorded on 2026-11-01, the day the monthly digests of 2026-12-01 compare with.
    await db.redis.set(
      `${SNAPSHOT_PREFIX}2026-11-01`,
      JSON.stringify({
        date: '2026-11-01',
        takenAt: Date.parse('2026-11-01T10:30:00+08:00'),
        figures: { uv: 100, pv: 1000, likes: 4 },
      }),
    );
    setDay(dayNumber('2026-11-24'));
    // Tuesday 2026-11-24, 09:00.
    replicas = await startReplicas('2026-11-24', '09:00', 'cadence');
    const all = [...WEEKLY, ...MONTHLY];
    await sayInGroups(all, () => `digest add ${DOC_URL}`);
    const set = await sayInGroups(all, (chat) =>
      WEEKLY.includes(chat) ? 'digest weekly tue' : '订阅 每月 1号',
    );
    expect(set.filter((m) => cardText(m.content).includes('**Weekly on Tuesday at 10:30**'))).toHaveLength(
      WEEKLY.length,
    );
    expect(set.filter((m) => cardText(m.content).includes('**Monthly on the 1st at 10:30**'))).toHaveLength(
      MONTHLY.length,
    );

    const expected = { weekly: 0, monthly: 0 };
    const walk = async (date: string) => {
      setDay(dayNumber(date));
      await moveClocks(date, '10:31');
      await waitUntil(
        async () => (await snapshotViews(date)) === 1000 + 10 * dayNumber(date),
        30_000,
        () => `snapshot of ${date}`,
      );
      if (date.endsWith('-01')) expected.monthly += MONTHLY.length;
      if (new Date(`${date}T00:00:00Z`).getUTCDay() === 2) expected.weekly += WEEKLY.length;
      await waitUntil(
        () =>
          titled('Weekly digest · ').length >= expected.weekly &&
          titled('Monthly digest · ').length >= expected.monthly,
        30_000,
        () =>
          `${titled('Weekly digest · ').length} weekly, ${titled('Monthly digest · ').length} monthly on ${date}`,
      );
      await ticks(3);
      expect(titled('Weekly digest · '), date).toHaveLength(expected.weekly);
      expect(titled('Monthly digest · '), date).toHaveLength(expected.monthly);
    };

    // Tuesday 11-24 to Tuesday 12-01 (weekly again, and the 1st), every day; then all three replicas are
    // replaced by new ones at 11:30 the same day.
    for (const date of ['2026-11-24', '2026-11-25', '2026-11-26', '2026-11-27', '2026-11-28'])
      await walk(date);
    for (const date of ['2026-11-29', '2026-11-30', '2026-12-01']) await walk(date);
    const stops = await Promise.all(replicas.map((r) => r.stop()));
    expect(stops).toEqual(replicas.map(() => ({ code: 0, signal: null })));
    replicas = await startReplicas('2026-12-01', '11:30', 'cadence-later');
    await ticks(5);
    figure(`after the restart on 2026-12-01 11:30: ${digestSends().length} digest sends in all`);
    expect(titled('Weekly digest · ')).toHaveLength(expected.weekly);
    expect(titled('Monthly digest · ')).toHaveLength(expected.monthly);

    // The day after, then the clock jumps to the next Tuesday and to the next 1st.
    await walk('2026-12-02');
    await walk('2026-12-08');
    await walk('2027-01-01');

    for (const chat of WEEKLY) {
      const sent = emulator.messages
        .filter((m) => isDigest(m) && m.targetId === chat)
        .map((m) => cardText(m.content));
      expect(sent.map((text) => /Weekly digest · (\S+)/.exec(text)?.[1])).toEqual([
        '2026-11-24',
        '2026-12-01',
        '2026-12-08',
      ]);
      expect(sent[0]).toContain('No earlier figures on record yet');
      // 12-01 against 11-24, and 12-08 against 12-01: 70 views and 7 visitors a week.
      expect(sent[1]).toContain('**Gained in the last 7 days:** Views +70 · Visitors +7 · Likes ±0');
      expect(sent[2]).toContain('**Gained in the last 7 days:** Views +70 · Visitors +7 · Likes ±0');
    }
    for (const chat of MONTHLY) {
      const sent = emulator.messages
        .filter((m) => isDigest(m) && m.targetId === chat)
        .map((m) => cardText(m.content));
      expect(sent.map((text) => /Monthly digest · (\S+)/.exec(text)?.[1])).toEqual([
        '2026-12-01',
        '2027-01-01',
      ]);
      expect(sent[0]).toContain('**Gained since 2026-11-01:** Views +300 · Visitors +30 · Likes ±0');
      expect(sent[1]).toContain('**Gained since 2026-12-01:** Views +310 · Visitors +31 · Likes ±0');
    }
    // Each digest was sent once, not sent again and merely deduplicated by Feishu's uuid.
    expect(digestSends()).toHaveLength(WEEKLY.length * 3 + MONTHLY.length * 2);
    const perReplica = replicas.map((r) => r.logs.filter((l) => l.msg === 'digest sent').length);
    figure(`digests sent per replica after the restart: ${perReplica.join(' / ')}`);
  }, 480_000);
});
