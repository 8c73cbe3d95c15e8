/**
 * The load generator, a child process of `bench/run.ts` so that its CPU and memory are not the target's. On `plan`
 * it makes every delivery the phases need (before any timing), answers `ready`, then runs each phase on `run`:
 * closed loop with autocannon (its own HTTP client, much lighter than Node's), paced with node:http, since
 * autocannon's rate limit sends each second's quota in a burst at the start of the second.
 */
import { Agent } from 'node:http';
import { performance } from 'node:perf_hooks';
import autocannon from 'autocannon';
import { deliveryMaker, postDelivery, type SignedDelivery, WEBHOOK_PATH } from './deliveries.js';
import type { FromLoad, LoadPlan, Phase, PhaseResult, ToLoad } from './load-protocol.js';
import { summarise } from './numbers.js';

let plan: LoadPlan | undefined;
let prepared: SignedDelivery[][] = [];

function say(message: FromLoad): void {
  process.send?.(message);
}

function deliveriesFor(phase: Phase): number {
  return phase.mode === 'closed' ? phase.deliveries : Math.ceil(phase.rate * phase.seconds);
}

/** Tallies answers as they come; latencies grow in a typed array so 100k of them cost no GC. */
class Tally {
  private latencies = new Float64Array(1 << 16);
  private count = 0;
  readonly statuses: Record<string, number> = {};
  errors = 0;

  record(status: number, ms: number): void {
    this.statuses[status] = (this.statuses[status] ?? 0) + 1;
    if (status < 200 || status >= 300) return;
    if (this.count === this.latencies.length) {
      const grown = new Float64Array(this.latencies.length * 2);
      grown.set(this.latencies);
      this.latencies = grown;
    }
    this.latencies[this.count++] = ms;
  }

  result(mode: Phase['mode'], seconds: number, reused: number): PhaseResult {
    const latencies = this.latencies.subarray(0, this.count);
    return {
      mode,
      seconds,
      ok: this.count,
      statuses: this.statuses,
      errors: this.errors,
      reused,
      perSecond: this.count / seconds,
      ...summarise(latencies),
    };
  }
}

async function runClosed(
  url: string,
  phase: Extract<Phase, { mode: 'closed' }>,
  deliveries: SignedDelivery[],
): Promise<PhaseResult> {
  const tally = new Tally();
  let next = 0;
  const setupRequest = (req: autocannon.Request): autocannon.Request => {
    const delivery = deliveries[next++ % deliveries.length];
    return delivery ? { ...req, headers: delivery.headers, body: delivery.body } : req;
  };
  const started = performance.now();
  await new Promise<void>((resolve, reject) => {
    const instance = autocannon(
      {
        url,
        connections: phase.connections,
        duration: phase.seconds,
        requests: [{ method: 'POST', path: WEBHOOK_PATH, setupRequest }],
      },
      (err: unknown) => (err ? reject(err) : resolve()),
    );
    instance.on('response', (_client, status, _bytes, ms) => tally.record(status, ms));
    instance.on('reqError', () => {
      tally.errors += 1;
    });
  });
  const seconds = (performance.now() - started) / 1000;
  return tally.result('closed', seconds, Math.max(0, next - deliveries.length));
}

async function runPaced(
  url: string,
  phase: Extract<Phase, { mode: 'paced' }>,
  deliveries: SignedDelivery[],
): Promise<PhaseResult> {
  const base = new URL(url);
  // As many sockets as the answers need, like Feishu's pushes: a slow answer never holds the next request back.
  const agent = new Agent({ keepAlive: true, maxSockets: 512 });
  const tally = new Tally();
  const intervalMs = 1000 / phase.rate;
  const started = performance.now();
  const inFlight: Array<Promise<void>> = [];
  let sent = 0;
  await new Promise<void>((resolve) => {
    const tick = (): void => {
      // Every request that is due is sent now; a late timer sends a few at once and latency still counts from here.
      while (sent < deliveries.length && started + sent * intervalMs <= performance.now()) {
        const delivery = deliveries[sent++];
        if (!delivery) break;
        const at = performance.now();
        inFlight.push(
          postDelivery(agent, base, delivery).then(
            (status) => tally.record(status, performance.now() - at),
            () => {
              tally.errors += 1;
            },
          ),
        );
      }
      if (sent >= deliveries.length) resolve();
      else setTimeout(tick, Math.max(0, started + sent * intervalMs - performance.now()));
    };
    tick();
  });
  await Promise.all(inFlight);
  const seconds = (performance.now() - started) / 1000;
  agent.destroy();
  return tally.result('paced', seconds, 0);
}

process.on('message', (message: ToLoad) => {
  void handle(message).catch((err: unknown) =>
    say({ type: 'failed', message: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
  );
});
// The bench may die without saying goodbye; never outlive it.
process.on('disconnect', () => process.exit(0));

async function handle(message: ToLoad): Promise<void> {
  if (message.type === 'exit') process.exit(0);
  if (message.type === 'plan') {
    const started = performance.now();
    plan = message.plan;
    const make = deliveryMaker(plan.delivery);
    prepared = plan.phases.map((phase) => Array.from({ length: deliveriesFor(phase) }, make));
    say({ type: 'ready', madeMs: performance.now() - started });
    return;
  }
  const phase = plan?.phases[message.phase];
  const deliveries = prepared[message.phase];
  if (!plan || !phase || !deliveries) throw new Error(`no phase ${message.phase} in the plan`);
  const result =
    phase.mode === 'closed'
      ? await runClosed(message.url, phase, deliveries)
      : await runPaced(message.url, phase, deliveries);
  // Sent deliveries are garbage now: free them before the next phase, so the generator's heap stays small.
  prepared[message.phase] = [];
  say({ type: 'result', phase: message.phase, result });
}
