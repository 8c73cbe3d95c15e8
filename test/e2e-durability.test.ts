/**
 * Durability under kill -9: the real `src/server.ts` in a child process on Redis is SIGKILLed in the middle of a
 * burst, restarted, and Feishu's redeliveries are replayed. Every event that got a 200 must be answered exactly
 * once. With work held only in memory (the in-process dispatcher), the events acknowledged but not yet answered
 * when the process died would be lost.
 */
import { Queue } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QUEUE_PREFIX } from '../src/jobs/connections.js';
import { EVENT_QUEUE } from '../src/jobs/event-queue.js';
import { docStatistics, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { useFreshRedisDb } from './redis.js';
import { type ChildServer, childEnvFor, startChildServer } from './support/child-server.js';
import { deliverMany } from './support/deliver.js';
import { useEmulator } from './support/e2e.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnDurableAbCdEfGhIjKlMnO';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const EVENTS = 2_000;
const KILL_AFTER_ACKS = 600;
/** Every n-th acknowledged event is delivered again after the restart, as Feishu's at-least-once delivery may. */
const DUPLICATE_EVERY = 10;
// Slow enough that work is still queued when the kill comes, as on a real tenant.
const REPLY_LATENCY_MS = 30;

// Hooks: the DB is opened first and cleaned up last, after the child servers on it are dead.
const db = useFreshRedisDb();
const emulator = useEmulator({
  docs: [{ token: DOC_TOKEN, type: 'docx', statistics: docStatistics({ uv: 11, pv: 4321 }) }],
  childServers: true,
});
let queue: Queue;

beforeAll(() => {
  // The bot's own event queue, read from the outside to know when nothing is left to run.
  queue = new Queue(EVENT_QUEUE, { connection: db().redis, prefix: QUEUE_PREFIX });
});

afterAll(async () => {
  await queue?.close();
});

function figure(text: string): void {
  console.log(`[figure] durability: ${text}`);
}

function messageIdOf(envelope: object): string {
  return (envelope as ReturnType<typeof messageEvent>).event.message.message_id;
}

/** Message id → how many distinct messages replied to it. */
function repliesByMessage(): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of emulator.messages) {
    if (m.kind === 'reply') counts.set(m.targetId, (counts.get(m.targetId) ?? 0) + 1);
  }
  return counts;
}

describe('kill -9 mid-burst', () => {
  it('answers every event that got a 200 exactly once across kill -9 and restart', async () => {
    const started = Date.now();
    const phases: string[] = [];
    const phase = (name: string): void => {
      phases.push(`${name} ${((Date.now() - started) / 1000).toFixed(1)} s`);
    };
    emulator.setLatency(REPLY_LATENCY_MS);
    const env = childEnvFor(emulator, { REDIS_URL: db().url });
    const first = await startChildServer({ env, name: 'before-kill', startTimeoutMs: 40_000 });

    const events = Array.from({ length: EVENTS }, () => messageEvent({ text: `stats ${DOC_URL}` }));
    let acks = 0;
    let killed: Promise<unknown> | undefined;
    phase('first server up');
    const burst = await deliverMany(first.url, events, {
      concurrency: 32,
      onResult: (outcome) => {
        if (outcome.status !== 200) return;
        acks += 1;
        if (acks === KILL_AFTER_ACKS) killed = first.kill('SIGKILL');
      },
    });
    expect(killed, `only ${acks} deliveries were acknowledged`).toBeDefined();
    expect(await first.exited).toEqual({ code: null, signal: 'SIGKILL' });
    // Nothing is sent by a dead process: what the emulator holds now is what got out before the kill.
    const answeredBeforeKill = new Set(repliesByMessage().keys());
    phase('killed');

    const acked = burst.filter((o) => o.status === 200);
    const refused = burst.filter((o) => o.status !== 200);
    // The kill must land mid-burst, or this test proves nothing about in-flight work.
    expect(acked.length).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(refused.length).toBeGreaterThan(0);
    expect(refused.every((o) => o.status === 'error')).toBe(true);
    const pendingAtKill = acked.filter((o) => !answeredBeforeKill.has(messageIdOf(o.envelope)));
    expect(pendingAtKill.length).toBeGreaterThan(0);

    const second: ChildServer = await startChildServer({
      env,
      name: 'after-restart',
      startTimeoutMs: 40_000,
    });
    phase('restarted');
    const duplicates = acked.filter((_, i) => i % DUPLICATE_EVERY === 0).map((o) => o.envelope);
    const redeliveries = interleave(
      refused.map((o) => o.envelope),
      duplicates,
    );
    const replayed = await deliverMany(second.url, redeliveries, { concurrency: 32 });
    expect(replayed.filter((o) => o.status !== 200).map((o) => `${o.status} ${o.error ?? ''}`)).toEqual([]);

    phase('redelivered');
    const ids = events.map(messageIdOf);
    // Stalled jobs of the dead process come back after their 15 s lock lapses, at the back of the queue. The
    // replies share Feishu's 1000/min budget (kept in Redis, so it survives the kill), which also pays for what the
    // dead process was granted but never sent and for uuid re-sends: 2,000 replies need two or three windows.
    await waitUntil(
      async () => {
        const replies = repliesByMessage();
        if (!ids.every((id) => replies.has(id))) return false;
        const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(counts).every((n) => n === 0);
      },
      200_000,
      () => {
        const replies = repliesByMessage();
        const stranded = pendingAtKill.filter((o) => !replies.has(messageIdOf(o.envelope))).length;
        return (
          `${replies.size} of ${EVENTS} messages answered; ${stranded} of the ${pendingAtKill.length} ` +
          'acknowledged but unanswered at the kill still unanswered'
        );
      },
      250,
    );

    phase('all answered');
    const stalled = await queueEvents('stalled');
    const replies = repliesByMessage();
    const lost = ids.filter((id) => !replies.has(id));
    const duplicated = [...replies].filter(([, n]) => n > 1).map(([id]) => id);
    figure(`acked before kill: ${acked.length} of ${EVENTS}`);
    figure(`replies sent before kill: ${answeredBeforeKill.size}`);
    figure(`recovered after restart (acked, unanswered at kill): ${pendingAtKill.length}`);
    figure(`jobs of the dead process run again after their lock lapsed (stalled): ${stalled}`);
    figure(`redelivered after restart: ${refused.length} refused + ${duplicates.length} duplicates`);
    figure(
      `reply requests: ${emulator.callsTo('POST', '/im/v1/messages/:message_id/reply').length} ` +
        `for ${emulator.messages.length} messages`,
    );
    figure(`job attempts retried with backoff: ${retriedAttempts([first, second])}`);
    figure(`lost: ${lost.length}, duplicated: ${duplicated.length}`);
    figure(`timeline: ${phases.join(', ')}`);

    // The kill caught jobs mid-run (16 per worker, waiting on the message budget): the lapsed-lock path ran.
    expect(stalled).toBeGreaterThan(0);
    expect(lost).toEqual([]);
    expect(duplicated).toEqual([]);
    expect(emulator.messages).toHaveLength(EVENTS);
    // Answered with the figures: no job gave up and sent the error card instead.
    const notStats = emulator.messages.filter((m) => !cardText(m.content).includes('4,321'));
    expect(notStats.map((m) => cardText(m.content).slice(0, 200))).toEqual([]);
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: EVENTS, failed: 0 });
    expect(await second.stop()).toEqual({ code: 0, signal: null });
  }, 280_000);
});

/** Failed attempts the servers logged before retrying, by reason: the usual cause of a slow run. */
function retriedAttempts(servers: readonly ChildServer[]): string {
  const reasons = new Map<string, number>();
  for (const line of servers.flatMap((s) => s.logs)) {
    if (line.msg !== 'event job failed; retrying with backoff') continue;
    const reason = String(line.reason);
    reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
  }
  return reasons.size === 0 ? 'none' : [...reasons].map(([reason, n]) => `${n} × ${reason}`).join('; ');
}

/** How many `event` entries the queue's event stream holds (BullMQ caps it near 10,000; 2,000 jobs stay below). */
async function queueEvents(event: string): Promise<number> {
  const entries = await db().redis.xrange(`${QUEUE_PREFIX}:${EVENT_QUEUE}:events`, '-', '+');
  return entries.filter(([, fields]) => fields[0] === 'event' && fields[1] === event).length;
}

/** `a` and `b` merged alternately, so duplicates arrive among the first deliveries rather than after them. */
function interleave<T>(a: readonly T[], b: readonly T[]): T[] {
  const merged: T[] = [];
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (i < a.length) merged.push(a[i] as T);
    if (i < b.length) merged.push(b[i] as T);
  }
  return merged;
}
