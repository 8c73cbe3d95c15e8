/** What `bench/run.ts` and the load generator (`bench/load.ts`, a child process) say to each other over IPC. */
import type { DeliveryKind } from './deliveries.js';

export type Phase =
  /** Closed loop (autocannon): `connections` each send the next request as soon as the last is answered. */
  | { mode: 'closed'; seconds: number; connections: number; deliveries: number }
  /** Open loop: one request every 1/rate s whatever the answers do, so queueing shows in the latency. */
  | { mode: 'paced'; seconds: number; rate: number };

export interface LoadPlan {
  phases: Phase[];
  /** What every delivery of the plan is (bench/deliveries.ts). */
  delivery: DeliveryKind;
}

export interface PhaseResult {
  mode: Phase['mode'];
  seconds: number;
  /** Answers with a 2xx status, the only ones counted in `perSecond` and the percentiles. */
  ok: number;
  /** Answers by status code, 2xx included. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts. */
  errors: number;
  /** Deliveries sent a second time because the run outlasted those made for it (a duplicate to the bot). */
  reused: number;
  perSecond: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** `plan` comes first, while the target is still starting; `run` names the target, `http://127.0.0.1:<port>`. */
export type ToLoad =
  | { type: 'plan'; plan: LoadPlan }
  | { type: 'run'; phase: number; url: string }
  | { type: 'exit' };

export type FromLoad =
  | { type: 'ready'; madeMs: number }
  | { type: 'result'; phase: number; result: PhaseResult }
  | { type: 'failed'; message: string };
