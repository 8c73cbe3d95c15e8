/**
 * `npm run bench`: what the webhook ingress costs, against two anchors measured in the same run, and what the bot's
 * process holds in memory meanwhile. No pass/fail: it prints figures, and the tests never assert on time.
 *
 * Targets, each a process of its own (its RSS is its alone): a bare Fastify 5 route answering `{}`; the Lark SDK's
 * `adaptDefault` + `EventDispatcher`, as a user of the SDK would write it; the bot as `npm start` runs it
 * (dist/src/server.js, LOG_LEVEL=info, JSON logs to a file), in memory and with Redis (a throwaway redis-server, when
 * one is on the PATH). The bot talks to the Feishu emulator, run here. The load generator is a child process too
 * (bench/load.ts); it makes every delivery (distinct event and message ids, encrypted and signed) before timing.
 * Every delivery is group chatter not meant for the bot (bench/deliveries.ts), except for the `-redis-cmd` rows, where
 * every one is an `@bot` command and so a job in Redis before the 200.
 *
 * Each run of a target: 1 s of warm-up, then 500 req/s paced (the latency an ordinary busy day sees), then as fast as
 * 32 connections go. Rounds interleave the targets, in a rotating order, and the table gives medians. Then: cached
 * `stats`, from the webhook being sent to the emulator receiving the reply, in both modes; and the digest run at
 * scale (test/support/digest-run.ts, run in this process from this checkout) against the send-limit floor.
 *
 * Knobs (environment): BENCH_ROUNDS (3), BENCH_SECONDS (4, the closed-loop run), BENCH_RATE_SECONDS (4, the paced
 * run), BENCH_STATS_EVENTS (100), BENCH_TARGETS (comma-separated ids, default all: bare, sdk, bot-memory,
 * bot-redis, bot-redis-cmd, and with BENCH_COMPARE base-memory, base-redis, base-redis-cmd), BENCH_INGRESS_ONLY=1 (skip stats and digest),
 * BENCH_PROFILE=1 (bot targets run with --cpu-prof into dist/bench/profiles; summarise one with
 * `npx tsx bench/profile.ts <file>`), BENCH_BOT_DIR (the checkout whose bot is measured, default this one),
 * BENCH_COMPARE (another checkout, e.g. main before a change, whose bot runs interleaved with this one: on a noisy
 * machine that is the only fair before/after).
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { join, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { type FeishuEmulator, startFeishuEmulator } from '../test/emulator/feishu-emulator.js';
import { describeDigestRun, runDigestAtScale } from '../test/support/digest-run.js';
import { BENCH_KEYS, type DeliveryKind, deliveryMaker, postDelivery } from './deliveries.js';
import type { FromLoad, Phase, PhaseResult, ToLoad } from './load-protocol.js';
import { median, summarise } from './numbers.js';
import {
  compileTargets,
  readCpuSeconds,
  readMemory,
  spawnTracked,
  startTarget,
  startThrowawayRedis,
  type TargetSpec,
  type ThrowawayRedis,
} from './processes.js';

const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '..', '..');

function intFromEnv(name: string, fallback: number): number {
  const value = Number(process.env[name]);
  return Number.isInteger(value) && value > 0 ? value : fallback;
}

const SETTINGS = {
  rounds: intFromEnv('BENCH_ROUNDS', 3),
  seconds: intFromEnv('BENCH_SECONDS', 4),
  rateSeconds: intFromEnv('BENCH_RATE_SECONDS', 4),
  warmupSeconds: 1,
  connections: 32,
  rate: 500,
  /** Deliveries made per second of closed loop; a faster target gets some twice (counted, and shown). */
  deliveriesPerSecond: 16_000,
  statsEvents: intFromEnv('BENCH_STATS_EVENTS', 100),
  /**
   * Stats events start at least this far apart: 25/s stays under Feishu's 50 messages a second per app, which the
   * bot keeps to (a faster bench would time the bot's rate limiter, not its work).
   */
  statsSpacingMs: 40,
  targets: process.env.BENCH_TARGETS?.split(',').map((id) => id.trim()),
  ingressOnly: process.env.BENCH_INGRESS_ONLY === '1',
  profile: process.env.BENCH_PROFILE === '1',
  botDir: resolve(process.env.BENCH_BOT_DIR ?? REPO_ROOT),
  compareDir: process.env.BENCH_COMPARE ? resolve(process.env.BENCH_COMPARE) : undefined,
};

const OUT_DIR = join(REPO_ROOT, 'dist', 'bench');
const STATS_DOC = { token: 'doxcnBenchStatsAbCdEfGhIjKl', title: 'Bench: quarterly planning' };
/** How long a `stats` reply may take before it counts as lost. */
const REPLY_TIMEOUT_MS = 10_000;

interface Target {
  id: string;
  label: string;
  /** What every delivery to it is; chatter unless said otherwise. */
  delivery?: DeliveryKind;
  spec(round: number): TargetSpec;
}

/** A bot checkout to measure: this one, or the baseline of BENCH_COMPARE. */
interface BotBuild {
  dir: string;
  /** Target id prefix: `bot` or `base`. */
  prefix: string;
  label: string;
}

interface RunFigures {
  closed: PhaseResult;
  paced: PhaseResult;
  /** The target's CPU time per answer in the closed loop (worker included, when it runs in the same process). */
  cpuUsPerRequest: number;
  /** redis-server's CPU time per answer in the closed loop, for the targets that use it. */
  redisUsPerRequest: number | undefined;
  /** Cores the target kept busy at the paced rate: what is left of one is the headroom for bursts. */
  pacedCores: number;
  idleMiB: number;
  peakMiB: number;
  /** The 1-minute load average when the run started: what else the machine was doing. */
  loadAverage: number;
  endedEarly: string | undefined;
}

// ── the load generator ───────────────────────────────────────────────────────────────────────────────────────

/** The child process of bench/load.ts, one per target run so that its heap starts empty each time. */
class LoadGenerator {
  private readonly child: ChildProcess;
  private readonly waiting: Array<(message: FromLoad) => void> = [];

  constructor() {
    this.child = spawnTracked(process.execPath, ['--import', 'tsx', join(REPO_ROOT, 'bench', 'load.ts')], {
      cwd: REPO_ROOT,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (message: FromLoad) => this.waiting.shift()?.(message));
  }

  /** Resolves once every delivery of every phase is made. */
  async plan(phases: Phase[], delivery: DeliveryKind): Promise<void> {
    await this.ask({ type: 'plan', plan: { phases, delivery } });
  }

  async run(phase: number, url: string): Promise<PhaseResult> {
    const answer = await this.ask({ type: 'run', phase, url });
    if (answer.type !== 'result') throw new Error(`load generator answered ${answer.type}`);
    return answer.result;
  }

  exit(): void {
    if (this.child.connected) this.child.send({ type: 'exit' } satisfies ToLoad);
  }

  private ask(message: ToLoad): Promise<FromLoad> {
    return new Promise((resolvePromise, reject) => {
      this.waiting.push((answer) =>
        answer.type === 'failed'
          ? reject(new Error(`load generator: ${answer.message}`))
          : resolvePromise(answer),
      );
      this.child.send(message);
    });
  }
}

// ── targets ──────────────────────────────────────────────────────────────────────────────────────────────────

function botBuilds(): BotBuild[] {
  const builds: BotBuild[] = [{ dir: SETTINGS.botDir, prefix: 'bot', label: 'this bot' }];
  if (SETTINGS.compareDir) builds.push({ dir: SETTINGS.compareDir, prefix: 'base', label: 'baseline bot' });
  return builds;
}

/** The bot configured as an operator would, against the emulator; REDIS_URL for the durable mode. */
function botSpec(build: BotBuild, emulator: FeishuEmulator, id: string, redisUrl?: string): TargetSpec {
  return {
    args: [join(build.dir, 'dist', 'src', 'server.js')],
    cwd: build.dir,
    env: {
      NODE_ENV: 'production',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      FEISHU_APP_ID: emulator.appId,
      FEISHU_APP_SECRET: emulator.appSecret,
      FEISHU_DOMAIN: emulator.url,
      FEISHU_ENCRYPT_KEY: BENCH_KEYS.encryptKey,
      FEISHU_VERIFICATION_TOKEN: BENCH_KEYS.verificationToken,
      ...(redisUrl ? { REDIS_URL: redisUrl } : {}),
    },
    logFile: join(OUT_DIR, 'logs', `${id}.log`),
  };
}

function defineTargets(emulator: FeishuEmulator, redis: ThrowawayRedis | undefined): Target[] {
  const anchors = compileTargets(REPO_ROOT, ['bare-fastify', 'sdk-adapt-default']);
  const anchor = (id: string, label: string, file: string): Target => ({
    id,
    label,
    spec: () => ({
      args: [file],
      cwd: REPO_ROOT,
      env: {
        NODE_ENV: 'production',
        FEISHU_ENCRYPT_KEY: BENCH_KEYS.encryptKey,
        FEISHU_VERIFICATION_TOKEN: BENCH_KEYS.verificationToken,
      },
      logFile: join(OUT_DIR, 'logs', `${id}.log`),
    }),
  });
  const bot = (build: BotBuild, mode: 'memory' | 'redis' | 'redis-cmd'): Target => {
    const id = `${build.prefix}-${mode}`;
    const redisUrl = mode === 'memory' ? undefined : redis?.urlFor(0);
    const labels = {
      memory: `${build.label}, in memory`,
      redis: `${build.label}, Redis`,
      'redis-cmd': `${build.label}, Redis, every event an \`@bot\` command (a job each)`,
    };
    return {
      id,
      label: labels[mode],
      ...(mode === 'redis-cmd' ? { delivery: { kind: 'command', botOpenId: emulator.botOpenId } } : {}),
      spec: (round) => {
        const spec = botSpec(build, emulator, id, redisUrl);
        const profile = ['--cpu-prof', `--cpu-prof-dir=${join(OUT_DIR, 'profiles')}`];
        if (SETTINGS.profile) spec.args.unshift(...profile, `--cpu-prof-name=${id}-r${round}.cpuprofile`);
        return spec;
      },
    };
  };
  const all: Target[] = [
    anchor('bare', 'bare Fastify 5 route returning `{}`', anchors['bare-fastify'] ?? ''),
    anchor('sdk', "the SDK's `adaptDefault` + `EventDispatcher`", anchors['sdk-adapt-default'] ?? ''),
  ];
  for (const build of botBuilds()) {
    all.push(bot(build, 'memory'));
    if (redis) all.push(bot(build, 'redis'));
  }
  // The durable path itself: every event is a command, so a job in Redis before the 200. In memory the same load
  // would mostly be refused (503) by the admission bound, which is why there is no such row for it.
  if (redis) for (const build of botBuilds()) all.push(bot(build, 'redis-cmd'));
  return SETTINGS.targets ? all.filter((t) => SETTINGS.targets?.includes(t.id)) : all;
}

// ── one run of one target ────────────────────────────────────────────────────────────────────────────────────

async function runTarget(
  target: Target,
  round: number,
  redis: ThrowawayRedis | undefined,
): Promise<RunFigures> {
  const { connections, deliveriesPerSecond, seconds, rateSeconds, rate, warmupSeconds } = SETTINGS;
  const phases: Phase[] = [
    { mode: 'closed', seconds: warmupSeconds, connections, deliveries: deliveriesPerSecond * warmupSeconds },
    { mode: 'paced', seconds: rateSeconds, rate },
    { mode: 'closed', seconds, connections, deliveries: deliveriesPerSecond * seconds },
  ];
  const loadAverage = Number(readFirstWord('/proc/loadavg'));
  const load = new LoadGenerator();
  // The deliveries are made while the target starts.
  const [running] = await Promise.all([
    startTarget(target.spec(round)),
    load.plan(phases, target.delivery ?? { kind: 'chatter' }),
  ]);
  try {
    const idleMiB = readMemory(running.pid).rssMiB;
    await load.run(0, running.url);
    const cpuAtStart = readCpuSeconds(running.pid);
    const paced = await load.run(1, running.url);
    const cpuAfterPaced = readCpuSeconds(running.pid);
    const usesRedis = target.id.includes('-redis') && redis !== undefined;
    const redisBefore = usesRedis ? readCpuSeconds(redis.pid) : 0;
    const closed = await load.run(2, running.url);
    const cpuAfterClosed = readCpuSeconds(running.pid);
    const redisAfter = usesRedis ? readCpuSeconds(redis.pid) : 0;
    const { peakMiB } = readMemory(running.pid);
    const answered = Object.values(closed.statuses).reduce((sum, n) => sum + n, 0);
    return {
      closed,
      paced,
      cpuUsPerRequest: ((cpuAfterClosed - cpuAfterPaced) * 1e6) / Math.max(1, answered),
      redisUsPerRequest: usesRedis ? ((redisAfter - redisBefore) * 1e6) / Math.max(1, answered) : undefined,
      pacedCores: (cpuAfterPaced - cpuAtStart) / paced.seconds,
      idleMiB,
      peakMiB,
      loadAverage,
      endedEarly: running.endedEarly,
    };
  } finally {
    load.exit();
    await running.stop();
    // Nothing of this run (queued jobs, dedupe keys) may reach the next one.
    if (target.id.includes('-redis')) await redis?.flush();
  }
}

function readFirstWord(file: string): string {
  return readFileSync(file, 'utf8').split(' ')[0] ?? '';
}

// ── cached stats, event to reply ─────────────────────────────────────────────────────────────────────────────

interface StatsFigures {
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  answered: number;
  /** No reply to the event within REPLY_TIMEOUT_MS. */
  lost: number;
  /** Statistics calls the emulator saw: 1 means every answer after the warm-up came from the cache. */
  statisticsCalls: number;
  /** Every other call but the replies, by path: what the cache did not cover. */
  otherCalls: Record<string, number>;
}

/**
 * `@bot stats <link>` events, one at a time, after one warm-up that fills the cache (and is not counted): from the
 * webhook being sent to the emulator holding the reply to that very message.
 */
async function measureCachedStats(
  build: BotBuild,
  emulator: FeishuEmulator,
  redis?: ThrowawayRedis,
): Promise<StatsFigures> {
  emulator.reset();
  const id = `stats-${build.prefix}-${redis ? 'redis' : 'memory'}`;
  const running = await startTarget(botSpec(build, emulator, id, redis?.urlFor(0)));
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const base = new URL(running.url);
  const make = deliveryMaker({
    kind: 'stats',
    botOpenId: emulator.botOpenId,
    docUrl: `https://sample.feishu.cn/docx/${STATS_DOC.token}`,
    senderOpenId: 'ou_bench0000000000000000000000000000',
  });
  const deliveries = Array.from({ length: SETTINGS.statsEvents + 1 }, make);
  const latencies: number[] = [];
  let lost = 0;
  try {
    for (const [i, delivery] of deliveries.entries()) {
      const started = performance.now();
      const nextAt = started + SETTINGS.statsSpacingMs;
      await postDelivery(agent, base, delivery);
      const replied = await waitForReply(emulator, delivery.messageId);
      const tookMs = performance.now() - started;
      if (!replied) lost += 1;
      else if (i > 0) latencies.push(tookMs);
      await delay(Math.max(0, nextAt - performance.now()));
    }
  } finally {
    agent.destroy();
    await running.stop();
    await redis?.flush();
  }
  return {
    ...summarise(Float64Array.from(latencies)),
    answered: latencies.length,
    lost,
    statisticsCalls: emulator.callsTo('GET', `/drive/v1/files/${STATS_DOC.token}/statistics`).length,
    otherCalls: emulator.calls
      .filter((call) => !/\/reply$|\/statistics$/.test(call.path))
      .reduce<Record<string, number>>((counts, call) => {
        const key = `${call.method} ${call.path.replace('/open-apis', '')}`;
        counts[key] = (counts[key] ?? 0) + 1;
        return counts;
      }, {}),
  };
}

/** True once the emulator holds a reply to `messageId`; false after REPLY_TIMEOUT_MS. */
async function waitForReply(emulator: FeishuEmulator, messageId: string): Promise<boolean> {
  const deadline = performance.now() + REPLY_TIMEOUT_MS;
  let seen = 0;
  for (;;) {
    if (emulator.messages.slice(seen).some((m) => m.kind === 'reply' && m.targetId === messageId))
      return true;
    seen = emulator.messages.length;
    const leftMs = deadline - performance.now();
    if (leftMs <= 0) return false;
    // Resolves as the next message arrives, so the reply's time is not rounded up to a polling interval.
    const more = await emulator.waitForMessages(seen + 1, leftMs).then(
      () => true,
      () => false,
    );
    if (!more) return false;
  }
}

// ── output ───────────────────────────────────────────────────────────────────────────────────────────────────

const ms = (value: number) => `${value < 10 ? value.toFixed(2) : value.toFixed(1)} ms`;
const perSecond = (value: number) => (value >= 1000 ? `${(value / 1000).toFixed(1)} k` : value.toFixed(0));
const mib = (value: number) => `${value.toFixed(0)} MiB`;
const us = (value: number) => `${value.toFixed(0)} µs`;

function oddities(r: PhaseResult): string[] {
  return [
    ...Object.entries(r.statuses)
      .filter(([status]) => !status.startsWith('2'))
      .map(([status, n]) => `${n}×${status}`),
    ...(r.errors ? [`${r.errors} errors`] : []),
    ...(r.reused ? [`${r.reused} deliveries sent twice`] : []),
  ];
}

function describeRun(target: Target, round: number, run: RunFigures): string {
  const note = (parts: string[]) => (parts.length > 0 ? ` (${parts.join(', ')})` : '');
  return (
    `round ${round} ${target.id.padEnd(14)} ${perSecond(run.closed.perSecond).padStart(7)} req/s ` +
    `p50 ${ms(run.closed.p50Ms)} p99 ${ms(run.closed.p99Ms)} ${us(run.cpuUsPerRequest)}/req` +
    (run.redisUsPerRequest !== undefined ? ` (+ Redis ${us(run.redisUsPerRequest)})` : '') +
    `${note(oddities(run.closed))} | ${SETTINGS.rate}/s p50 ${ms(run.paced.p50Ms)} p99 ${ms(run.paced.p99Ms)} ` +
    `${run.pacedCores.toFixed(2)} cores${note(oddities(run.paced))} | ` +
    `RSS ${mib(run.idleMiB)} → ${mib(run.peakMiB)} | load ${run.loadAverage.toFixed(1)}` +
    (run.endedEarly ? ` | TARGET ${run.endedEarly.toUpperCase()} DURING THE RUN` : '')
  );
}

function printIngressTable(targets: Target[], runs: Map<string, RunFigures[]>): void {
  const med = (id: string, pick: (run: RunFigures) => number) => median((runs.get(id) ?? []).map(pick));
  const bare = med('bare', (r) => r.closed.perSecond);
  console.log(
    `\n| ingress (median of ${SETTINGS.rounds} interleaved runs; ${SETTINGS.connections} connections, ` +
      `${SETTINGS.seconds} s) | req/s | ack p50 | ack p99 | × bare Fastify | CPU per request | Redis CPU per request | ` +
      `p99 at ${SETTINGS.rate} req/s | cores busy at ${SETTINGS.rate} req/s | RSS idle | RSS peak (max) |`,
  );
  console.log('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const target of targets) {
    const all = runs.get(target.id) ?? [];
    const rps = med(target.id, (r) => r.closed.perSecond);
    console.log(
      `| ${target.label} | ${perSecond(rps)} | ${ms(med(target.id, (r) => r.closed.p50Ms))} | ` +
        `${ms(med(target.id, (r) => r.closed.p99Ms))} | ${bare ? (rps / bare).toFixed(2) : '–'} | ` +
        `${us(med(target.id, (r) => r.cpuUsPerRequest))} | ` +
        `${all.some((r) => r.redisUsPerRequest !== undefined) ? us(med(target.id, (r) => r.redisUsPerRequest ?? 0)) : '–'} | ` +
        `${ms(med(target.id, (r) => r.paced.p99Ms))} | ` +
        `${med(target.id, (r) => r.pacedCores).toFixed(2)} | ${mib(med(target.id, (r) => r.idleMiB))} | ` +
        `${mib(Math.max(...all.map((r) => r.peakMiB)))} |`,
    );
  }
  console.log('');
  const ratio = (a: string, b: string, what: string) => {
    const bottom = med(b, (r) => r.closed.perSecond);
    if (runs.has(a) && runs.has(b) && bottom > 0) {
      console.log(`${what}: ${(med(a, (r) => r.closed.perSecond) / bottom).toFixed(2)}`);
    }
  };
  for (const { prefix, label } of botBuilds()) {
    ratio(`${prefix}-memory`, 'sdk', `throughput, ${label} in memory ÷ SDK adaptDefault`);
    ratio(`${prefix}-redis`, `${prefix}-memory`, `throughput, ${label} with Redis ÷ in memory`);
  }
}

function printStats(rows: Array<[string, StatsFigures]>): void {
  console.log(
    `\n| cached \`stats\`, event → reply (${SETTINGS.statsEvents}, one at a time, each in a group of its own, after one warm-up) | p50 | p99 | max |`,
  );
  console.log('|---|---|---|---|');
  for (const [label, s] of rows)
    console.log(`| ${label} | ${ms(s.p50Ms)} | ${ms(s.p99Ms)} | ${ms(s.maxMs)} |`);
  for (const [label, s] of rows) {
    console.log(
      `${label}: ${s.answered} answered, ${s.lost} lost; for ${SETTINGS.statsEvents + 1} events statistics ` +
        `fetched ${s.statisticsCalls}×, other calls: ${Object.entries(s.otherCalls)
          .map(([call, n]) => `${call} ${n}×`)
          .join(', ')}`,
    );
  }
}

// ── main ─────────────────────────────────────────────────────────────────────────────────────────────────────

function build(dir: string): void {
  const result = spawnSync(process.execPath, ['scripts/ensure-build.mjs'], { cwd: dir, stdio: 'inherit' });
  if (result.status !== 0) throw new Error(`the build in ${dir} failed: the bench needs its dist/`);
}

async function main(): Promise<void> {
  const startedAt = performance.now();
  for (const { dir } of botBuilds()) build(dir);
  const emulator = await startFeishuEmulator();
  emulator.addDoc({ token: STATS_DOC.token, type: 'docx', title: STATS_DOC.title });
  const redis = await startThrowawayRedis();
  if (!redis) console.log('redis-server not found on PATH: the Redis targets are skipped');
  try {
    const targets = defineTargets(emulator, redis);
    console.log(
      `${targets.length} targets × ${SETTINGS.rounds} rounds: ${SETTINGS.warmupSeconds} s warm-up, ` +
        `${SETTINGS.rateSeconds} s at ${SETTINGS.rate} req/s, ${SETTINGS.seconds} s at ${SETTINGS.connections} ` +
        `connections; bot from ${botBuilds()
          .map((b) => b.dir)
          .join(', baseline from ')}`,
    );
    const runs = new Map<string, RunFigures[]>();
    for (let round = 1; round <= SETTINGS.rounds; round++) {
      // A rotating order, so that no target always runs first (cold machine) or last.
      const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]).filter((t) => !!t);
      for (const target of order) {
        const run = await runTarget(target, round, redis);
        runs.set(target.id, [...(runs.get(target.id) ?? []), run]);
        console.log(describeRun(target, round, run));
      }
    }
    if (targets.length > 0) printIngressTable(targets, runs);

    if (!SETTINGS.ingressOnly) {
      const stats: Array<[string, StatsFigures]> = [];
      for (const bot of botBuilds()) {
        stats.push([`${bot.label}, in memory`, await measureCachedStats(bot, emulator)]);
        if (redis) stats.push([`${bot.label}, Redis`, await measureCachedStats(bot, emulator, redis)]);
      }
      printStats(stats);
      if (redis) {
        console.log('\n== digest run at scale (Redis) ==');
        const run = await runDigestAtScale(redis.urlFor(1));
        console.log(describeDigestRun(run));
        console.log(
          `digests sent: ${run.messages.length}, before the digest time: ${run.sentBeforeDue} ` +
            '(the test asserts the counts; the time is only reported)',
        );
      }
    }
    if (SETTINGS.profile) console.log(`\nprofiles: ${join(OUT_DIR, 'profiles')}`);
    const tookSeconds = (performance.now() - startedAt) / 1000;
    console.log(`\nbench took ${tookSeconds.toFixed(0)} s; target logs in ${join(OUT_DIR, 'logs')}`);
  } finally {
    redis?.stop();
    await emulator.close();
  }
}

await main();
