/**
 * API call accounting end to end (issue 12): two bot replicas in this process on one Redis, against the emulator,
 * with the bot's clock pinned to 2026-11-20 in Asia/Shanghai. `usage` counts both replicas' calls exactly (checked
 * against every request the emulator received); the 80 % warning reaches each admin once although both replicas
 * cross it; and with FEISHU_MONTHLY_CALL_BUDGET spent, digests still go out but fetch each item at most once a day.
 * Commands go to a chosen replica through `app.bot.handleEvent` (the webhook would let BullMQ pick one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { monthKey, TOTAL_FIELD } from '../src/data/call-usage.js';
import { SubscriptionStore } from '../src/digest/subscriptions.js';
import type { ChatSubscription } from '../src/digest/types.js';
import { RedisStore } from '../src/store/redis-store.js';
import type { RecordedCall, SentMessage } from './emulator/feishu-emulator.js';
import { docStatistics, menuEvent, messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { type FreshRedisDb, freshRedisDb } from './redis.js';
import { type E2e, startE2e, useEmulator } from './support/e2e.js';

const ADMIN = 'ou_usageadmin0000000000000000000a1';
const SECOND_ADMIN = 'ou_usageadmin0000000000000000000b2';
const MEMBER = 'ou_usagemember000000000000000000c3';
const DOCS = ['doxcnUsageAaaaAbCdEfGhIjKlMn', 'doxcnUsageBbbbAbCdEfGhIjKlMn', 'doxcnUsageCcccAbCdEfGhIjKlMn'];
const docUrl = (token: string) => `https://acme.feishu.cn/docx/${token}`;
const TICK_MS = 150;

function figure(text: string): void {
  console.log(`[figure] usage: ${text}`);
}

/** Wall time in Asia/Shanghai (the default DIGEST_TZ) as epoch ms. */
function shanghai(date: string, time: string): number {
  return Date.parse(`${date}T${time}:00+08:00`);
}

const emulator = useEmulator({
  docs: DOCS.map((token, i) => ({
    token,
    type: 'docx' as const,
    title: `Usage doc ${i}`,
    statistics: docStatistics({ uv: 10 + i, pv: 100 + i }),
  })),
});

/** The endpoint name the bot's transport gives each request the emulator saw. */
function endpointOf(call: RecordedCall): string {
  const route = `${call.method} ${call.path.replace(/^\/open-apis/, '')}`;
  const known: Array<[RegExp, string]> = [
    [/^POST \/auth\/v3\/tenant_access_token\/internal$/, 'auth.v3.tenantAccessToken.internal'],
    [/^GET \/drive\/v1\/files\/[^/]+\/statistics$/, 'drive.v1.fileStatistics.get'],
    [/^POST \/drive\/v1\/metas\/batch_query$/, 'drive.v1.meta.batchQuery'],
    [/^POST \/im\/v1\/messages\/[^/]+\/reply$/, 'im.v1.message.reply'],
    [/^POST \/im\/v1\/messages$/, 'im.v1.message.create'],
  ];
  const match = known.find(([pattern]) => pattern.test(route));
  if (!match) throw new Error(`no endpoint name known for ${route}`);
  return match[1];
}

/** Calls per endpoint among `calls`. */
function tally(calls: readonly RecordedCall[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const call of calls) counts[endpointOf(call)] = (counts[endpointOf(call)] ?? 0) + 1;
  return counts;
}

/** English text (`content`, the fallback every client outside zh_cn shows) of the markdown element `id`. */
function elementText(card: unknown, id: string): string {
  let found: string | undefined;
  const walk = (node: unknown): void => {
    if (found !== undefined || !node || typeof node !== 'object') return;
    if (Array.isArray(node)) {
      node.forEach(walk);
      return;
    }
    const el = node as { element_id?: string; content?: unknown };
    if (el.element_id === id && typeof el.content === 'string') {
      found = el.content;
      return;
    }
    Object.values(node).forEach(walk);
  };
  walk(card);
  if (found === undefined) throw new Error(`no markdown element ${id}`);
  return found;
}

/** What the `usage` card lists by endpoint, and its total. */
function readUsageCard(card: unknown): { byEndpoint: Record<string, number>; total: number } {
  const byEndpoint: Record<string, number> = {};
  let total = Number.NaN;
  for (const line of elementText(card, 'usage_endpoints').split('\n')) {
    const entry = /^- `([^`]+)`[^:]*: ([\d,]+)$/.exec(line);
    if (entry?.[1] && entry[2]) byEndpoint[entry[1]] = Number(entry[2].replace(/,/g, ''));
    const sum = /^- \*\*Total\*\*: ([\d,]+)$/.exec(line);
    if (sum?.[1]) total = Number(sum[1].replace(/,/g, ''));
  }
  return { byEndpoint, total };
}

/** Runs `text` as a private message from `sender` on `replica` and returns the reply it sent. */
async function ask(replica: E2e, text: string, sender = ADMIN): Promise<SentMessage> {
  const messageId = `om_${Math.random().toString(16).slice(2, 18)}`;
  await replica.app.bot.handleEvent(messageEvent({ text, senderOpenId: sender, chatType: 'p2p', messageId }));
  const reply = emulator.messages.find((m) => m.kind === 'reply' && m.targetId === messageId);
  if (!reply) throw new Error(`no reply to "${text}"`);
  return reply;
}

/** Both replicas' counts written to Redis (each flush waits for that replica's pending writes and warnings). */
async function flushAll(replicas: readonly E2e[]): Promise<void> {
  await Promise.all(replicas.map((r) => r.app.callUsage.flush()));
}

/** Two replicas of the bot on one Redis database, each with its own store connection. */
async function startReplicas(db: FreshRedisDb, env: Record<string, string>, clock: { now: number }) {
  return Promise.all(
    [0, 1].map(() =>
      startE2e({
        emulator,
        redis: { url: db.url },
        clock: () => clock.now,
        digestTickMs: TICK_MS,
        env,
      }),
    ),
  );
}

describe('usage across two replicas', () => {
  let db: FreshRedisDb;
  let replicas: E2e[] = [];
  const clock = { now: shanghai('2026-11-20', '12:00') };

  beforeAll(async () => {
    db = await freshRedisDb();
    replicas = await startReplicas(db, { BOT_ADMINS: `${ADMIN},${SECOND_ADMIN}` }, clock);
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await db?.cleanup();
  });

  it('counts every call of both replicas exactly, by endpoint, with the month’s total', async () => {
    emulator.reset();
    const [a, b] = replicas as [E2e, E2e];
    await ask(a, `stats ${docUrl(DOCS[0] ?? '')}`);
    await ask(b, `stats ${docUrl(DOCS[1] ?? '')}`);
    await Promise.all([
      ask(a, `stats ${docUrl(DOCS[2] ?? '')}`),
      ask(b, `stats ${docUrl(DOCS[0] ?? '')} ${docUrl(DOCS[1] ?? '')}`),
    ]);
    await flushAll(replicas);
    const seen = [...emulator.calls];
    const expected = tally(seen);
    // Each replica fetched its own tenant token: both replicas' calls are in what follows.
    expect(expected['auth.v3.tenantAccessToken.internal']).toBe(2);

    // Asked of either replica, the answer is the same: the store's count, not the replica's.
    const fromB = readUsageCard((await ask(b, 'usage')).content);
    expect(fromB.total).toBe(seen.length);
    expect(fromB.byEndpoint).toEqual(expected);
    figure(`two replicas, five stats commands: ${fromB.total} calls ${JSON.stringify(fromB.byEndpoint)}`);

    await flushAll(replicas);
    const fromA = readUsageCard((await ask(a, '用量')).content);
    // `usage` itself asked Feishu for nothing but its reply, which is counted now.
    expect(fromA.total).toBe(seen.length + 1);
    expect(fromA.byEndpoint['im.v1.message.reply']).toBe((expected['im.v1.message.reply'] ?? 0) + 1);
  });

  it('shows the projection to the month’s end and, without a budget, says nothing is limited', async () => {
    const [a] = replicas as [E2e];
    const card = (await ask(a, 'usage')).content;
    const { total } = readUsageCard(card);
    // 2026-11-20 12:00 in Shanghai: 19.5 of November's 30 days.
    expect(elementText(card, 'usage_projection')).toContain(
      `about ${Math.round((total * 30) / 19.5).toLocaleString('en-US')} (linear on 19.5 of 30 days gone, Asia/Shanghai)`,
    );
    expect(elementText(card, 'usage_budget')).toContain('No `FEISHU_MONTHLY_CALL_BUDGET` is set');
    expect(elementText(card, 'usage_run')).toContain('none recorded yet');
  });

  it('answers only admins, also from the bot menu', async () => {
    const [a] = replicas as [E2e];
    const denied = await ask(a, 'usage', MEMBER);
    expect(cardText(denied.content)).toContain('only bot admins can see it');
    expect(cardText(denied.content)).not.toContain('By endpoint');

    const before = emulator.messages.length;
    await a.app.bot.handleEvent(menuEvent({ eventKey: 'usage', operatorOpenId: ADMIN }));
    const clicked = emulator.messages[before];
    expect(clicked).toMatchObject({ kind: 'create', targetId: ADMIN, receiveIdType: 'open_id' });
    expect(cardText(clicked?.content)).toContain('By endpoint');
  });
});

describe('FEISHU_MONTHLY_CALL_BUDGET warning across two replicas', () => {
  let db: FreshRedisDb;
  let replicas: E2e[] = [];
  const clock = { now: shanghai('2026-11-20', '12:00') };
  const BUDGET = 12;

  beforeAll(async () => {
    db = await freshRedisDb();
    replicas = await startReplicas(
      db,
      { BOT_ADMINS: `${ADMIN},${SECOND_ADMIN}`, FEISHU_MONTHLY_CALL_BUDGET: String(BUDGET) },
      clock,
    );
  });
  afterAll(async () => {
    await Promise.all(replicas.map((r) => r.close()));
    await db?.cleanup();
  });

  /** Every private warning send the emulator received (retries and uuid repeats included, not deduplicated). */
  function warningSends(): RecordedCall[] {
    return emulator
      .callsTo('POST', '/im/v1/messages')
      .filter((c) => c.query.receive_id_type === 'open_id')
      .filter((c) => /API calls at \d+ % of the budget/.test(cardText(parseContent(c))));
  }

  function parseContent(call: RecordedCall): unknown {
    const content = (call.body as { content?: string } | undefined)?.content;
    return content ? JSON.parse(content) : undefined;
  }

  it('warns each admin privately exactly once when both replicas cross 80 %, and not again past 100 %', async () => {
    emulator.reset();
    const [a, b] = replicas as [E2e, E2e];
    // Both replicas answer commands at the same time, well past 80 % (10 calls) and past the budget.
    for (let round = 0; round < 3; round++) {
      await Promise.all(
        DOCS.flatMap((token) => [ask(a, `stats ${docUrl(token)}`), ask(b, `stats ${docUrl(token)}`)]),
      );
    }
    await flushAll(replicas);
    const usage = readUsageCard((await ask(b, 'usage')).content);
    expect(usage.total).toBeGreaterThan(BUDGET);

    const sends = warningSends();
    expect(sends.map((c) => (c.body as { receive_id: string }).receive_id).sort()).toEqual(
      [ADMIN, SECOND_ADMIN].sort(),
    );
    // One replica claimed it; the other saw 80 % too and stood back.
    const claims = replicas.flatMap((r) =>
      r.logs.records().filter((l) => String(l.msg).startsWith('Feishu API calls reached 80 %')),
    );
    expect(claims).toHaveLength(1);
    const warning = parseContent(sends[0] as RecordedCall);
    expect(cardText(warning)).toContain(`of a monthly budget (\`FEISHU_MONTHLY_CALL_BUDGET\`) of ${BUDGET}`);

    // Past the budget commands still answer, and nobody is warned a second time.
    const reply = await ask(a, `stats ${docUrl(DOCS[0] ?? '')}`);
    expect(cardText(reply.content)).toContain('Usage doc 0');
    await flushAll(replicas);
    expect(warningSends()).toHaveLength(2);
    const card = (await ask(a, 'usage')).content;
    expect(elementText(card, 'usage_budget')).toContain('This month’s budget is spent.');
  });
});

describe('digests past FEISHU_MONTHLY_CALL_BUDGET', () => {
  const DAILY_AT_1030 = 'oc_usage_daily_1030';
  const DAILY_AT_1130 = 'oc_usage_daily_1130';
  const WEEKLY = 'oc_usage_weekly_monday';
  const [SHARED_DOC = '', WEEKLY_DOC = ''] = DOCS;

  function item(token: string) {
    return { kind: 'doc' as const, type: 'docx' as const, token, url: docUrl(token), title: token };
  }

  /** Two daily chats on one document at 10:30 and 11:30, and a Monday chat whose document is snapshotted daily. */
  async function subscribe(store: RedisStore): Promise<void> {
    const since = shanghai('2026-11-20', '09:00');
    const subs: ChatSubscription[] = [
      { chatId: DAILY_AT_1030, items: [item(SHARED_DOC)], since, updatedAt: since },
      {
        chatId: DAILY_AT_1130,
        items: [item(SHARED_DOC)],
        time: { hour: 11, minute: 30 },
        since,
        updatedAt: since,
      },
      {
        chatId: WEEKLY,
        items: [item(WEEKLY_DOC)],
        cadence: { kind: 'weekly', weekday: 1 },
        since,
        updatedAt: since,
      },
    ];
    const subscriptions = new SubscriptionStore(store);
    for (const sub of subs) await subscriptions.update(sub.chatId, () => sub);
  }

  function digestTo(chatId: string): SentMessage | undefined {
    return emulator.messages.find((m) => m.receiveIdType === 'chat_id' && m.targetId === chatId);
  }

  function statisticsCalls(token: string): number {
    return emulator.callsTo('GET', `/drive/v1/files/${token}/statistics`).length;
  }

  async function waitFor(what: string, done: () => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      if (Date.now() > deadline) throw new Error(`not reached in time: ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Logged once the send resolved, so its call has been handed to the accounting. */
  function digestSent(bot: E2e, chatId: string): boolean {
    return bot.logs.records().some((l) => l.msg === 'digest sent' && l.chat_id === chatId);
  }

  /**
   * The day as both cases live it: 10:31 (the first chat's digest and the weekly chat's snapshot are due), the
   * document's views go up, 11:31 (the second chat's digest). Returns what the emulator saw and the usage card.
   */
  async function runDay(opts: { budget?: number; spentAlready?: number }) {
    emulator.reset();
    emulator.addDoc({ token: SHARED_DOC, type: 'docx', statistics: docStatistics({ uv: 10, pv: 100 }) });
    const db = await freshRedisDb();
    const store = new RedisStore(db.url);
    const clock = { now: shanghai('2026-11-20', '09:00') };
    try {
      await subscribe(store);
      if (opts.spentAlready !== undefined) {
        // Calls this month by the tenant's other uses of the budget, before the bot started.
        await store.hashIncrement(monthKey('2026-11'), { [TOTAL_FIELD]: opts.spentAlready }, 86_400_000);
      }
      const bot = await startE2e({
        emulator,
        redis: { url: db.url },
        store,
        clock: () => clock.now,
        digestTickMs: TICK_MS,
        env: {
          BOT_ADMINS: ADMIN,
          ...(opts.budget !== undefined ? { FEISHU_MONTHLY_CALL_BUDGET: String(opts.budget) } : {}),
        },
      });
      try {
        clock.now = shanghai('2026-11-20', '10:31');
        await waitFor('the 10:30 digest', () => digestSent(bot, DAILY_AT_1030));
        const afterFirst = { shared: statisticsCalls(SHARED_DOC), weekly: statisticsCalls(WEEKLY_DOC) };
        const firstRun = elementText((await ask(bot, 'usage')).content, 'usage_run');

        emulator.addDoc({ token: SHARED_DOC, type: 'docx', statistics: docStatistics({ uv: 15, pv: 150 }) });
        clock.now = shanghai('2026-11-20', '11:31');
        await waitFor('the 11:30 digest', () => digestSent(bot, DAILY_AT_1130));
        const usage = await ask(bot, 'usage');
        return {
          afterFirst,
          firstRun,
          shared: statisticsCalls(SHARED_DOC),
          weekly: statisticsCalls(WEEKLY_DOC),
          first: digestTo(DAILY_AT_1030),
          second: digestTo(DAILY_AT_1130),
          usage: usage.content,
        };
      } finally {
        await bot.close();
      }
    } finally {
      await store.close();
      await db.cleanup();
    }
  }

  it('under the budget: the weekly chat is snapshotted and the 11:30 digest fetches the document again', async () => {
    const day = await runDay({ budget: 1_000 });
    figure(`under budget: ${elementText(day.usage, 'usage_run').replace(/<[^>]+>/g, '')}`);
    expect(day.afterFirst).toEqual({ shared: 1, weekly: 1 });
    // The first run: the tenant token, both documents (one for the weekly chat's snapshot) and one digest.
    expect(day.firstRun).toContain('cost 4 calls for 1 chat and 2 distinct items');
    expect(day.shared).toBe(2);
    expect(day.weekly).toBe(1);
    expect(day.first).toBeDefined();
    // The 11:30 digest shows the views as they were at 11:31.
    expect(cardText(day.second?.content)).toContain('150');
    // That run fetched the document and sent one digest.
    expect(elementText(day.usage, 'usage_run')).toContain('cost 2 calls for 1 chat and 1 distinct item');
  }, 40_000);

  it('past the budget: both digests go out, the document is fetched once that day, the weekly chat not at all', async () => {
    const day = await runDay({ budget: 50, spentAlready: 50 });
    figure(`budget spent: ${elementText(day.usage, 'usage_run').replace(/<[^>]+>/g, '')}`);
    expect(day.afterFirst).toEqual({ shared: 1, weekly: 0 });
    // The first run: the tenant token, the one document a digest shows, one digest (the warning is not its cost).
    expect(day.firstRun).toContain('cost 3 calls for 1 chat and 1 distinct item');
    expect(day.shared).toBe(1);
    expect(day.weekly).toBe(0);
    expect(day.first).toBeDefined();
    expect(day.second).toBeDefined();
    // The 11:30 digest reuses the morning's figures instead of asking Feishu again.
    const second = cardText(day.second?.content);
    expect(second).toContain('100');
    expect(second).not.toContain('150');
    // That run sent its digest and fetched nothing.
    expect(elementText(day.usage, 'usage_run')).toContain('cost 1 call for 1 chat and 1 distinct item');
    expect(elementText(day.usage, 'usage_budget')).toContain('This month’s budget is spent.');
  }, 40_000);
});
