/**
 * SIGTERM with work in hand, on the real `src/server.ts` in a child process: without Redis every event the bot
 * acknowledged is answered before it exits, and what it cannot take any more is refused with 503 (Feishu delivers
 * it again later), never with a reset connection; with Redis gone, shutdown still ends within its budget, non-zero,
 * saying what it left behind.
 */
import { describe, expect, it } from 'vitest';
import { docStatistics, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { useFreshRedisDb } from './redis.js';
import { type ChildExit, type ChildServer, childEnvFor, startChildServer } from './support/child-server.js';
import { type DeliveryOutcome, deliverMany } from './support/deliver.js';
import { useEmulator } from './support/e2e.js';
import { startTcpProxy } from './support/tcp-proxy.js';
import { waitUntil } from './support/wait-until.js';

const DOC_TOKEN = 'doxcnShutdownAbCdEfGhIjKlM';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC_TOKEN}`;
const REPLY = '/im/v1/messages/:message_id/reply';
/** One sender for every event, so access checks are cached and a reply's latency is what an event costs. */
const SENDER = 'ou_shutdown_sender_0000000001';
/**
 * Shutdown has a 10 s budget (`SHUTDOWN_BUDGET_MS`). A hang is the failure these tests look for, so the bound is
 * generous: a loaded CI machine is slow, not wrong, and a bot that never exits is caught just the same.
 */
const EXIT_BOUND_MS = 30_000;

const db = useFreshRedisDb();
const emulator = useEmulator({
  docs: [{ token: DOC_TOKEN, type: 'docx', statistics: docStatistics({ uv: 7, pv: 8765 }) }],
  childServers: true,
});

function figure(text: string): void {
  console.log(`[figure] shutdown: ${text}`);
}

function statsEvents(n: number) {
  return Array.from({ length: n }, () => messageEvent({ text: `stats ${DOC_URL}`, senderOpenId: SENDER }));
}

function messageIdOf(envelope: object): string {
  return (envelope as ReturnType<typeof messageEvent>).event.message.message_id;
}

function statuses(outcomes: readonly DeliveryOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) {
    const key = o.status === 'error' ? `error (${o.error?.split(':')[0]})` : String(o.status);
    counts[key] = (counts[key] ?? 0) + 1;
  }
  return counts;
}

/** The exit, or `'still running'` once `ms` have passed (the child is then SIGKILLed by the caller's cleanup). */
async function exitWithin(server: ChildServer, ms: number): Promise<ChildExit | 'still running'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'still running'>((resolve) => {
    timer = setTimeout(() => resolve('still running'), ms);
  });
  try {
    return await Promise.race([server.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe('SIGTERM without Redis, with a backlog', () => {
  // 150 events whose reply takes 1.5 s, 16 at a time: about 14 s of work, more than the shutdown budget.
  const EVENTS = 150;
  const REPLY_LATENCY_MS = 1_500;
  const DURING_SHUTDOWN = 20;
  const WARM_UP = 16;

  it('answers every event it acknowledged, refuses the rest with 503 (never a reset) and exits 0', async () => {
    emulator.reset();
    const server = await startChildServer({ env: childEnvFor(emulator), name: 'memory-backlog' });
    try {
      emulator.setLatency(REPLY_LATENCY_MS, { method: 'POST', path: REPLY });
      // A bot that has been answering for a while, so it knows what an event costs now.
      const warmUp = await deliverMany(server.url, statsEvents(WARM_UP), { concurrency: WARM_UP });
      expect(statuses(warmUp)).toEqual({ 200: WARM_UP });
      await emulator.waitForMessages(WARM_UP, 20_000);
      await new Promise((resolve) => setTimeout(resolve, REPLY_LATENCY_MS));

      const burst = await deliverMany(server.url, statsEvents(EVENTS), { concurrency: 32 });
      const acked = [...warmUp, ...burst].filter((o) => o.status === 200);
      const refusedBefore = burst.filter((o) => o.status !== 200);

      const termAt = Date.now();
      void server.kill('SIGTERM');
      await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('shutting down'));
      // Feishu keeps delivering while the bot shuts down: each of these must get an answer, and that answer is 503.
      const during = await deliverMany(server.url, statsEvents(DURING_SHUTDOWN), { concurrency: 10 });
      const repliesWhenRefused = emulator.messages.length;
      const exit = await exitWithin(server, EXIT_BOUND_MS);
      const exitMs = Date.now() - termAt;

      const replied = new Set(emulator.messages.filter((m) => m.kind === 'reply').map((m) => m.targetId));
      const dropped = acked.filter((o) => !replied.has(messageIdOf(o.envelope)));
      figure(`memory: burst of ${EVENTS}: ${JSON.stringify(statuses(burst))}`);
      figure(`memory: ${DURING_SHUTDOWN} deliveries during shutdown: ${JSON.stringify(statuses(during))}`);
      figure(
        `memory: acknowledged ${acked.length} (${WARM_UP} warm-up + the burst's), ` +
          `answered ${acked.length - dropped.length}, dropped ${dropped.length}`,
      );
      figure(`memory: exit ${JSON.stringify(exit)} ${exitMs} ms after SIGTERM`);

      // The deliveries during shutdown were made while acknowledged work was still being answered, so the
      // process was certainly still there to answer them.
      expect(
        repliesWhenRefused,
        'the backlog was already answered when the shutdown deliveries ended',
      ).toBeLessThan(acked.length);
      expect(statuses(during)).toEqual({ 503: DURING_SHUTDOWN });
      // All of it cannot be finished within the budget, so some of the burst is refused up front, with 503 only.
      expect(acked.length).toBeGreaterThan(0);
      expect(refusedBefore.length).toBeGreaterThan(0);
      expect(refusedBefore.every((o) => o.status === 503)).toBe(true);
      expect(dropped.map((o) => messageIdOf(o.envelope))).toEqual([]);
      const notStats = emulator.messages.filter((m) => !cardText(m.content).includes('8,765'));
      expect(notStats).toEqual([]);
      expect(exit).toEqual({ code: 0, signal: null });
    } finally {
      await server.kill('SIGKILL');
    }
  }, 60_000);
});

describe('SIGTERM with Redis unreachable', () => {
  it('answers 503 while shutting down, exits non-zero within the budget and logs what it left', async () => {
    emulator.reset();
    const target = new URL(db().url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port) });
    const env = childEnvFor(emulator, { REDIS_URL: `redis://127.0.0.1:${proxy.port}${target.pathname}` });
    const server = await startChildServer({ env, name: 'redis-cut', startTimeoutMs: 40_000 });
    try {
      // Jobs are running (waiting on a slow reply) when Redis goes away.
      emulator.setLatency(3_000, { method: 'POST', path: REPLY });
      const burst = await deliverMany(server.url, statsEvents(4), { concurrency: 4 });
      expect(statuses(burst)).toEqual({ 200: 4 });
      await waitUntil(
        () => emulator.callsTo('POST', REPLY).length >= 4,
        20_000,
        () => `${emulator.callsTo('POST', REPLY).length} of 4 replies started`,
      );
      proxy.cut();

      const termAt = Date.now();
      void server.kill('SIGTERM');
      await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('shutting down'));
      // Running jobs cannot be recorded as done while Redis is away, so the shutdown is still under way here.
      const during = await deliverMany(server.url, statsEvents(5), { concurrency: 5 });
      const exit = await exitWithin(server, EXIT_BOUND_MS);
      const exitMs = Date.now() - termAt;
      figure(`redis cut: 5 deliveries during shutdown: ${JSON.stringify(statuses(during))}`);
      figure(`redis cut: exit ${JSON.stringify(exit)} ${exitMs} ms after SIGTERM`);
      const leftLine = server.logs.find(
        (l) => l.msg === 'shutdown ran past its budget; exiting with work left',
      );
      figure(`redis cut: ${JSON.stringify(leftLine ?? 'no line about what was left')}`);

      expect(exit, `still running ${EXIT_BOUND_MS} ms after SIGTERM`).not.toBe('still running');
      expect(exit).toMatchObject({ signal: null });
      expect((exit as ChildExit).code).not.toBe(0);
      expect(leftLine).toBeDefined();
      expect(leftLine?.level).toBe(50);
      // The step that hung: the event worker cannot record its jobs as done.
      expect(leftLine?.unfinished_steps).toContain('finishing accepted events');
      expect(statuses(during)).toEqual({ 503: 5 });
    } finally {
      await server.kill('SIGKILL');
      await proxy.close();
    }
  }, 90_000);
});
