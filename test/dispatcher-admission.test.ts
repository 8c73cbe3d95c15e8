/**
 * The in-memory dispatcher's admission rule: it accepts an event only while everything it holds can be finished
 * within the time a shutdown can wait, and refuses before claiming, so Feishu's redelivery is not a "duplicate".
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { EventRefusedError, InProcessDispatcher } from '../src/bot/dispatcher.js';
import type { EventEnvelope } from '../src/feishu/events.js';
import { messageEvent } from './emulator/fixtures.js';

const silent = pino({ level: 'silent' });

/** A handler whose events finish only when the test says so, on a clock the test moves. */
function harness(opts: { concurrency: number; admitWithinMs: number; initialEstimateMs: number }) {
  let now = 1_000_000;
  const finishers: Array<() => void> = [];
  const claimed: string[] = [];
  const dispatcher = new InProcessDispatcher(
    () => new Promise<void>((resolve) => finishers.push(resolve)),
    async (envelope) => {
      claimed.push(envelope.header.event_id);
      return true;
    },
    silent,
    { ...opts, now: () => now },
  );
  return {
    dispatcher,
    claimed,
    advance(ms: number) {
      now += ms;
    },
    /** Finishes the `n` oldest running events and lets the dispatcher start the next ones. */
    async finish(n: number) {
      for (const done of finishers.splice(0, n)) done();
      await tick();
    },
    started: () => finishers.length,
  };
}

/** Dispatches them all at once, as a burst of deliveries arrives; counts the accepted ones, keeps the refusals. */
async function accepted(dispatcher: InProcessDispatcher, envelopes: EventEnvelope[]) {
  const outcomes = await Promise.allSettled(envelopes.map((e) => dispatcher.dispatch(e)));
  return {
    ok: outcomes.filter((o) => o.status === 'fulfilled').length,
    refused: outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : [])),
  };
}

/** Accepted events start on the next turn of the event loop. */
const tick = () => new Promise((resolve) => setImmediate(resolve));

const events = (n: number) => Array.from({ length: n }, () => messageEvent());

describe('InProcessDispatcher admission', () => {
  it('accepts a burst only up to what it can finish in time, counting deliveries still being claimed', async () => {
    // 2 at a time, 1 s each by the first guess, 3 s to finish: three rounds, six events.
    const h = harness({ concurrency: 2, admitWithinMs: 3_000, initialEstimateMs: 1_000 });
    const burst = events(10);
    const { ok, refused } = await accepted(h.dispatcher, burst);
    expect(ok).toBe(6);
    expect(refused).toHaveLength(4);
    expect(refused.every((e) => e instanceof EventRefusedError && e.reason === 'backlog_full')).toBe(true);
    // Refused before the claim: a redelivery of those four will be processed, not dropped as seen.
    expect(h.claimed).toEqual(burst.slice(0, 6).map((e) => e.header.event_id));
  });

  it('learns from finished events: fast ones let more in, a few fast ones at first do not', async () => {
    const h = harness({ concurrency: 2, admitWithinMs: 3_000, initialEstimateMs: 1_000 });
    /** Accepts what it can of `n`, then finishes it two at a time, each event taking 100 ms. */
    const runFast = async (n: number) => {
      const { ok } = await accepted(h.dispatcher, events(n));
      await tick();
      while (h.started() > 0) {
        h.advance(100);
        await h.finish(2);
      }
      return ok;
    };
    // Six fast events are not yet evidence enough to take ten at once.
    expect(await runFast(6)).toBe(6);
    expect(await runFast(10)).toBeLessThan(10);
    // Forty more are.
    for (let i = 0; i < 8; i++) await runFast(5);
    expect(await runFast(10)).toBe(10);
  });

  it('believes slow events at once', async () => {
    const h = harness({ concurrency: 2, admitWithinMs: 3_000, initialEstimateMs: 100 });
    expect((await accepted(h.dispatcher, events(2))).ok).toBe(2);
    await tick();
    h.advance(1_500);
    await h.finish(2);
    // Two 1.5 s events lift the 100 ms average past 1 s at once: two rounds fit in 3 s, three do not.
    expect((await accepted(h.dispatcher, events(6))).ok).toBe(4);
  });

  it('narrows while an event hangs, before it has finished', async () => {
    const h = harness({ concurrency: 2, admitWithinMs: 3_000, initialEstimateMs: 100 });
    expect((await accepted(h.dispatcher, events(2))).ok).toBe(2);
    await tick();
    expect(h.started()).toBe(2);
    // The running ones are 2 s old, so each event is now reckoned at 2 s: two rounds end past 3 s.
    h.advance(2_000);
    const { ok, refused } = await accepted(h.dispatcher, events(1));
    expect(ok).toBe(0);
    expect(refused).toHaveLength(1);
  });

  it('still takes one event when idle, however slow the last ones were', async () => {
    const h = harness({ concurrency: 2, admitWithinMs: 3_000, initialEstimateMs: 100 });
    await accepted(h.dispatcher, events(1));
    await tick();
    h.advance(60_000);
    await h.finish(1);
    // The average is now far past the window; an idle bot must still try, or it would refuse for ever.
    const { ok } = await accepted(h.dispatcher, events(2));
    expect(ok).toBe(1);
  });

  it('refuses everything once draining, before claiming', async () => {
    const h = harness({ concurrency: 2, admitWithinMs: 3_000, initialEstimateMs: 100 });
    await h.dispatcher.drain(1_000);
    const { ok, refused } = await accepted(h.dispatcher, events(1));
    expect(ok).toBe(0);
    expect(refused[0]).toMatchObject({ code: 'EVENT_REFUSED', reason: 'shutting_down' });
    expect(h.claimed).toEqual([]);
  });
});
