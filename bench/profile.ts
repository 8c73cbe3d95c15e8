/**
 * `npx tsx bench/profile.ts <file.cpuprofile> [top]`: where a `node --cpu-prof` profile's busy time went (idle and
 * module loading left out), by category and by function (self time). `--callers <functionName>` lists the stacks a
 * function's time is spent under instead. `BENCH_PROFILE=1 npm run bench` writes one profile per bot run.
 *
 * A sample's category is that of the innermost frame that names one, walking from the leaf to the root: a native
 * `writev` under `Socket._writeGeneric` is HTTP, an `fs.writeSync` under pino is logging, a hash under
 * `computeFeishuSignature` is the signature. V8 counts builtins such as `JSON.parse` in their caller's self time.
 */
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { parseArgs } from 'node:util';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

type Rule = [category: string, matches: (frame: ProfileNode['callFrame']) => boolean];

const named =
  (...names: string[]) =>
  (frame: ProfileNode['callFrame']) =>
    names.includes(frame.functionName);
const fromUrl = (pattern: RegExp) => (frame: ProfileNode['callFrame']) => pattern.test(frame.url);

/**
 * Checked for each frame from the leaf up, first rule first; the first frame that matches decides. Frames that match
 * none (crypto, buffers, fs, natives) are transparent: a hash is the signature's when `computeFeishuSignature` called
 * it, and `fs.writeSync` is logging under pino.
 */
const RULES: Rule[] = [
  ['idle', named('(idle)')],
  ['GC', named('(garbage collector)')],
  ['V8 / native, unattributed', named('(program)')],
  ['startup: module loading', fromUrl(/^node:internal\/modules\//)],
  ['decryption', named('decryptFeishuPayload')],
  ['signature', named('computeFeishuSignature', 'constantTimeEqual', 'verifyFeishuRequest')],
  ['JSON parsing (ours)', named('tryParseJsonObject', 'parseJsonObject', 'decodeUtf8')],
  ['event shape check', fromUrl(/ingress\/event-shape\.js$/)],
  ['logging (pino)', fromUrl(/\/(pino|sonic-boom|pino-std-serializers|fast-redact)\/|src\/logger\.js$/)],
  ['metrics', fromUrl(/src\/metrics\.js$|\/prom-client\/|plugins\/http-metrics\.js$/)],
  [
    'Redis (ioredis, BullMQ)',
    fromUrl(/\/(ioredis|bullmq|@ioredis|redis-errors|msgpackr|cluster-key-slot)\//),
  ],
  ['dedupe + dispatch', fromUrl(/bot\/(dispatcher|dedupe)\.js$|store\/(memory|redis)-store\.js$|jobs\//)],
  ['webhook route + verify (other)', fromUrl(/routes\/webhooks\.js$|ingress\/verify-request\.js$/)],
  [
    'Fastify',
    fromUrl(
      /\/(fastify|find-my-way|avvio|fast-json-stringify|@fastify|secure-json-parse|light-my-request)\//,
    ),
  ],
  ['Lark SDK', fromUrl(/@larksuiteoapi/)],
  ['Node HTTP + net', fromUrl(/^node:(_http_|http|net|stream|internal\/(streams|http|stream_base))/)],
  ['bot (other)', fromUrl(/\/dist\/src\/|\/src\//)],
  ['timers, ticks, promises', fromUrl(/^node:internal\/(timers|process\/task_queues)/)],
];

function categorise(profile: CpuProfile): (id: number) => string {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const memo = new Map<number, string>();
  const of = (id: number): string => {
    const known = memo.get(id);
    if (known) return known;
    const frame = byId.get(id)?.callFrame;
    const rule = frame && RULES.find(([, matches]) => matches(frame));
    const up = parent.get(id);
    const category = rule ? rule[0] : up === undefined ? 'other (Node, natives)' : of(up);
    memo.set(id, category);
    return category;
  };
  return of;
}

/** Not part of serving requests: shown apart, and left out of the shares. */
const APART = new Set(['idle', 'startup: module loading']);

function frameName(node: ProfileNode | undefined): string {
  const frame = node?.callFrame;
  const where = frame?.url ? ` ${basename(frame.url)}:${frame.lineNumber + 1}` : '';
  return `${frame?.functionName || '(anonymous)'}${where}`;
}

/** Self time per node, in µs. `timeDeltas[i]` is the time from sample i-1 to sample i: it belongs to sample i-1. */
function selfTimes(profile: CpuProfile): Map<number, number> {
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i];
    const us = profile.timeDeltas[i + 1] ?? 0;
    if (id !== undefined) selfUs.set(id, (selfUs.get(id) ?? 0) + us);
  }
  return selfUs;
}

function summarise(profile: CpuProfile, name: string, top: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const categoryOf = categorise(profile);
  const byCategory = new Map<string, number>();
  const byFunction = new Map<string, { us: number; category: string }>();
  for (const [id, us] of selfTimes(profile)) {
    const category = categoryOf(id);
    byCategory.set(category, (byCategory.get(category) ?? 0) + us);
    if (APART.has(category)) continue;
    const key = frameName(byId.get(id));
    const entry = byFunction.get(key) ?? { us: 0, category };
    entry.us += us;
    // One function can serve several callers: a hash under the signature and under decryption.
    if (entry.category !== category) entry.category = 'several';
    byFunction.set(key, entry);
  }
  const busyUs = [...byCategory].reduce((sum, [category, us]) => (APART.has(category) ? sum : sum + us), 0);
  const pct = (us: number) => `${((100 * us) / busyUs).toFixed(1).padStart(5)} %`;
  const seconds = (category: string) => `${((byCategory.get(category) ?? 0) / 1e6).toFixed(2)} s`;
  console.log(
    `${name}: busy ${(busyUs / 1e6).toFixed(2)} s (shares below), and apart: ` +
      `module loading ${seconds('startup: module loading')}, idle ${seconds('idle')}`,
  );
  console.log('\nby category (share of busy time):');
  for (const [category, us] of [...byCategory].filter(([c]) => !APART.has(c)).sort((a, b) => b[1] - a[1])) {
    console.log(`  ${pct(us)}  ${category}`);
  }
  console.log(`\ntop ${top} functions by self time:`);
  for (const [key, { us, category }] of [...byFunction].sort((a, b) => b[1].us - a[1].us).slice(0, top)) {
    console.log(`  ${pct(us)}  ${key}  [${category}]`);
  }
}

/** The stacks (innermost `depth` frames) under which `functionName` spends its self time, heaviest first. */
function printCallers(profile: CpuProfile, functionName: string, top: number, depth: number): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const stacks = new Map<string, number>();
  let totalUs = 0;
  for (const [id, us] of selfTimes(profile)) {
    if (byId.get(id)?.callFrame.functionName !== functionName) continue;
    const frames: string[] = [];
    for (let at: number | undefined = id; at !== undefined && frames.length < depth; at = parent.get(at)) {
      frames.push(frameName(byId.get(at)));
    }
    const key = frames.join(' ← ');
    stacks.set(key, (stacks.get(key) ?? 0) + us);
    totalUs += us;
  }
  console.log(`${functionName}: ${(totalUs / 1e6).toFixed(2)} s self time`);
  for (const [stack, us] of [...stacks].sort((a, b) => b[1] - a[1]).slice(0, top)) {
    console.log(`  ${((100 * us) / totalUs).toFixed(1).padStart(5)} %  ${stack}`);
  }
}

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { callers: { type: 'string' }, depth: { type: 'string', default: '8' } },
});
const [file, top = '25'] = positionals;
if (!file) {
  console.error(
    'usage: tsx bench/profile.ts <file.cpuprofile> [top] [--callers <functionName> [--depth <frames>]]',
  );
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
if (values.callers) printCallers(profile, values.callers, Number(top), Number(values.depth));
else summarise(profile, basename(file), Number(top));
