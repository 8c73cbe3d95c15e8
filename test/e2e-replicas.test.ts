/**
 * Three bot replicas on one Redis, each a separate process (`replica` entry: src/server.ts with a movable clock).
 * Feishu may deliver one event to any replica, and more than once: every message is answered exactly once
 * whichever replica took it. Daily digests: one per chat per day across replicas, and replicas started later
 * the same day do not send it again.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX } from '../src/jobs/connections.js';
import { DIGEST_QUEUE, TICK_SCHEDULER_ID } from '../src/jobs/digest-queue.js';
import { EVENT_QUEUE } from '../src/jobs/event-queue.js';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { botMention, docStatistics, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import {
  type ChildServer,
  childEnvFor,
  killAllChildServers,
  startChildServer,
} from './support/child-server.js';
import { deliverMany } from './support/deliver.js';
import { clockOffsetFor, completedSchedulerRuns, SHANGHAI, zoneDate } from './support/digest-clock.js';
import { useEmulator } from './support/e2e.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnReplicaAbCdEfGhIjKlMnO';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const DOC_TITLE = 'Quarterly plan';
const REPLICAS = 3;
const START_TIMEOUT_MS = 60_000;
/** Scheduler id of the digest tick in src/jobs/digest-queue.ts. */
const TICK_SCHEDULER = TICK_SCHEDULER_ID;

const emulator = useEmulator({
  docs: [
    { token: DOC_TOKEN, type: 'docx', title: DOC_TITLE, statistics: docStatistics({ uv: 11, pv: 4321 }) },
  ],
  childServers: true,
});

function figure(text: string): void {
  console.log(`[figure] replicas: ${text}`);
}

/** Starts `REPLICAS` replica processes side by side on `env` (tsx cold starts: slow on two busy cores). */
function startReplicas(env: Record<string, string>, label: string): Promise<ChildServer[]> {
  return Promise.all(
    Array.from({ length: REPLICAS }, (_, i) =>
      startChildServer({ entry: 'replica', env, name: `${label}-${i}`, startTimeoutMs: START_TIMEOUT_MS }),
    ),
  );
}

/** How many log lines with `msg` each replica wrote, e.g. to show that the work was spread. */
function logCounts(replicas: readonly ChildServer[], msg: string): number[] {
  return replicas.map((r) => r.logs.filter((line) => line.msg === msg).length);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe('events across replicas', () => {
  let db: FreshRedisDb;
  let queue: Queue;

  beforeAll(async () => {
    db = await freshRedisDb();
    queue = new Queue(EVENT_QUEUE, { connection: db.redis, prefix: QUEUE_PREFIX });
  });

  afterAll(async () => {
    await killAllChildServers();
    await queue?.close();
    await db?.cleanup();
  });

  it('answers each of 300 events exactly once when each is delivered to two replicas at once', async () => {
    emulator.reset();
    const replicas = await startReplicas(childEnvFor(emulator, { REDIS_URL: db.url }), 'events');
    const started = Date.now();
    const events = Array.from({ length: 300 }, () => messageEvent({ text: `stats ${DOC_URL}` }));
    // Event i goes to replica i % 3 and, right beside it in the burst, to replica (i + 1) % 3.
    const plan = events.flatMap((event, i) => [
      { event, replica: i % REPLICAS },
      { event, replica: (i + 1) % REPLICAS },
    ]);
    const outcomes = await deliverMany(
      (index) => replicas[plan[index]?.replica ?? 0]?.url ?? '',
      plan.map((p) => p.event),
      { concurrency: 32 },
    );
    expect(outcomes.filter((o) => o.status !== 200).map((o) => `${o.status} ${o.error ?? ''}`)).toEqual([]);

    const ids = events.map((e) => e.event.message.message_id);
    await waitUntil(
      async () => {
        if (emulator.messages.length < ids.length) return false;
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      },
      60_000,
      () => `${emulator.messages.length} of ${ids.length} replies`,
    );
    // Late duplicates would come from a second job for the same message: give them a moment to show.
    await sleep(1_000);

    const jobsRun = logCounts(replicas, 'command received');
    figure(`events: ${ids.length} events × 2 deliveries → ${emulator.messages.length} replies`);
    figure(`events: commands run per replica: ${jobsRun.join(' / ')}`);
    figure(
      `events: reply requests ${emulator.callsTo('POST', '/im/v1/messages/:message_id/reply').length}, ` +
        `time ${((Date.now() - started) / 1000).toFixed(1)} s`,
    );

    const targets = emulator.messages.map((m) => m.targetId);
    expect(targets).toHaveLength(ids.length);
    expect(new Set(targets)).toEqual(new Set(ids));
    expect(emulator.messages.every((m) => m.kind === 'reply')).toBe(true);
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: ids.length, failed: 0 });
    // Any replica's worker takes jobs, not only the one that acknowledged the delivery.
    expect(jobsRun.every((n) => n > 0)).toBe(true);
  }, 120_000);
});

describe('daily digest across replicas', () => {
  let db: FreshRedisDb;

  beforeAll(async () => {
    db = await freshRedisDb();
  });

  afterAll(async () => {
    await killAllChildServers();
    await db?.cleanup();
  });

  const isDigest = (m: SentMessage): boolean => m.kind === 'create' && m.receiveIdType === 'chat_id';
  const digestSends = () =>
    emulator.callsTo('POST', '/im/v1/messages').filter((c) => c.query.receive_id_type === 'chat_id');
  const ticksSince = (since: number) =>
    completedSchedulerRuns(db.redis, `${QUEUE_PREFIX}:${DIGEST_QUEUE}:events`, TICK_SCHEDULER, since);

  it('sends one digest per chat at 10:30 across 3 replicas, and none again from replicas started at 11:30', async () => {
    emulator.reset();
    // Shanghai has no daylight saving: 10:00 to 11:30 is the same day whatever today is.
    const today = zoneDate(SHANGHAI);
    const envAt = (time: string) =>
      childEnvFor(emulator, {
        REDIS_URL: db.url,
        DIGEST_TIME: '10:30',
        DIGEST_TZ: SHANGHAI.name,
        TEST_DIGEST_TICK_MS: '1000',
        TEST_CLOCK_OFFSET_MS: String(clockOffsetFor(SHANGHAI, today, time)),
      });
    const firstStart = Date.now();
    const replicas = await startReplicas(envAt('10:00'), 'digest');

    const chats = Array.from({ length: 50 }, (_, i) => `oc_digest_chat_${String(i).padStart(2, '0')}`);
    const subscribe = chats.map((chatId) =>
      messageEvent({
        chatType: 'group',
        chatId,
        mentions: [botMention(emulator.botOpenId)],
        text: `@_user_1 digest add ${DOC_URL}`,
      }),
    );
    const acks = await deliverMany(
      replicas.map((r) => r.url),
      subscribe,
      { concurrency: 10 },
    );
    expect(acks.map((o) => o.status)).toEqual(chats.map(() => 200));
    await waitUntil(
      () => emulator.messages.length >= chats.length,
      30_000,
      () => `${emulator.messages.length} of ${chats.length} list cards`,
    );
    const listCards = emulator.messages.filter((m) => m.kind === 'reply');
    expect(new Set(listCards.map((m) => m.targetId))).toEqual(
      new Set(subscribe.map((e) => e.event.message.message_id)),
    );
    for (const card of listCards) expect(cardText(card.content)).toContain("to this chat's daily digest");
    // Ticks ran at 10:00 and after, and found nothing due before 10:30.
    expect(await ticksSince(firstStart)).toBeGreaterThan(0);
    expect(emulator.messages.filter(isDigest)).toEqual([]);

    const moved = Date.now();
    await Promise.all(
      replicas.map(async (replica) => {
        const offsetMs = clockOffsetFor(SHANGHAI, today, '10:31');
        await replica.send({ type: 'clock', offsetMs });
        await replica.waitForLog((l) => l.msg === 'test clock moved' && l.offsetMs === offsetMs, 5_000);
      }),
    );
    await waitUntil(
      () => emulator.messages.filter(isDigest).length >= chats.length,
      30_000,
      () => `${emulator.messages.filter(isDigest).length} of ${chats.length} digests`,
    );
    const allSentMs = Date.now() - moved;
    // More ticks from all replicas, in which a second digest for any chat would show.
    const settleFrom = Date.now();
    await waitUntil(
      async () => Date.now() - settleFrom >= 5_000 && (await ticksSince(settleFrom)) >= 5,
      30_000,
      () => 'waiting for 5 digest ticks',
    );

    const digests = emulator.messages.filter(isDigest);
    figure(
      `digest: ${digests.length} digests for ${chats.length} chats, all out ${allSentMs} ms after 10:31`,
    );
    figure(`digest: sent per replica: ${logCounts(replicas, 'digest sent').join(' / ')}`);
    figure(`digest: send requests ${digestSends().length}`);
    expect(digests.map((m) => m.targetId).sort()).toEqual([...chats].sort());
    for (const digest of digests) {
      expect(cardText(digest.content)).toContain(`Daily digest · ${today}`);
      expect(cardText(digest.content)).toContain(DOC_TITLE);
    }
    // Each chat's send went out once: not sent twice and merely deduplicated by Feishu's uuid (which only
    // holds for an hour).
    expect(digestSends()).toHaveLength(chats.length);

    const stops = await Promise.all(replicas.map((r) => r.stop()));
    expect(stops).toEqual(replicas.map(() => ({ code: 0, signal: null })));
    const later = await startReplicas(envAt('11:30'), 'digest-later');
    const laterFrom = Date.now();
    // Their start-up catch-up tick and five scheduled ones: today's digest is already out everywhere.
    await waitUntil(
      async () => Date.now() - laterFrom >= 5_000 && (await ticksSince(laterFrom)) >= 5,
      30_000,
      () => 'waiting for 5 digest ticks after the restart',
    );
    figure(
      `digest: after restart at 11:30: ${await ticksSince(laterFrom)} ticks, ` +
        `${digestSends().length - chats.length} new sends`,
    );
    expect(digestSends()).toHaveLength(chats.length);
    expect(emulator.messages.filter(isDigest)).toHaveLength(chats.length);
    expect(later.every((r) => r.running)).toBe(true);
  }, 150_000);
});
