/**
 * `trend` end to end on an in-memory store the test also reads: the chart drawn from the bot's snapshots, the
 * "history starts" card and its Add-to-digest button, and the snapshots that `stats` and Refresh record.
 */
import { describe, expect, it } from 'vitest';
import { SnapshotStore } from '../src/digest/snapshots.js';
import { SubscriptionStore } from '../src/digest/subscriptions.js';
import { itemKey, type Snapshot } from '../src/digest/types.js';
import { MemoryStore } from '../src/store/memory-store.js';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { botMention, cardActionEvent, messageEvent } from './emulator/fixtures.js';
import { buttonValue, cardText } from './helper.js';
import { startE2e, useE2e } from './support/e2e.js';

const CHART_TOKEN = 'doxcnTrendChartAbCdEfGhIjKl';
const NEW_TOKEN = 'doxcnTrendNewAbCdEfGhIjKlMn';
const STATS_TOKEN = 'doxcnTrendStatsAbCdEfGhIjKl';
const DIGESTED_TOKEN = 'doxcnTrendDigestAbCdEfGhIjK';
const url = (token: string) => `https://acme.feishu.cn/docx/${token}`;
const keyOf = (token: string) => itemKey({ kind: 'doc', type: 'docx', token, url: url(token) });

const TODAY = '2026-12-01';
/** 09:00 in Asia/Shanghai (the default DIGEST_TZ), before the default 10:30 digest. */
const clock = { now: Date.parse(`${TODAY}T09:00:00+08:00`) };
const store = new MemoryStore();
const snapshots = new SnapshotStore(store);
const subscriptions = new SubscriptionStore(store);

function statistics(pv: number, uv: number, likes: number) {
  return { uv, pv, like_count: likes, uv_today: 1, pv_today: 2, like_count_today: 0 };
}

const { emulator, bot } = useE2e({
  store,
  clock: () => clock.now,
  docs: [
    { token: CHART_TOKEN, type: 'docx', title: 'Launch plan', statistics: statistics(300, 25, 5) },
    { token: NEW_TOKEN, type: 'docx', title: 'Fresh doc', statistics: statistics(40, 4, 1) },
    { token: STATS_TOKEN, type: 'docx', title: 'Stats doc', statistics: statistics(70, 7, 0) },
    { token: DIGESTED_TOKEN, type: 'docx', title: 'Digested doc', statistics: statistics(900, 90, 9) },
  ],
});

async function send(text: string, chatId: string, chatType: 'p2p' | 'group' = 'p2p'): Promise<SentMessage> {
  const before = emulator.messages.length;
  const group = chatType === 'group';
  await bot.deliver(
    messageEvent({
      text: group ? `@_user_1 ${text}` : text,
      chatId,
      chatType,
      ...(group ? { mentions: [botMention(emulator.botOpenId)] } : {}),
      senderOpenId: 'ou_trend_asker',
    }),
  );
  await emulator.waitForMessages(before + 1);
  await bot.settle();
  const reply = emulator.messages.at(-1);
  if (!reply) throw new Error('no reply');
  return reply;
}

function chartValues(card: unknown): Array<{ date: string; value: number; series: string }> {
  const body = (typeof card === 'string' ? JSON.parse(card) : card) as {
    body: { elements: Array<{ tag: string; chart_spec?: { data: { values: [] } } }> };
  };
  return body.body.elements.find((e) => e.tag === 'chart')?.chart_spec?.data.values ?? [];
}

function snap(date: string, pv: number, uv: number, likes: number): Snapshot {
  return { date, takenAt: Date.parse(`${date}T10:30:00+08:00`), figures: { pv, uv, likes } };
}

describe('trend', () => {
  it('charts the 10 recorded days of the last 30 and today, with the change since the day before the range', async () => {
    const days = [
      '2026-11-03',
      '2026-11-05',
      '2026-11-08',
      '2026-11-10',
      '2026-11-14',
      '2026-11-17',
      '2026-11-20',
      '2026-11-23',
      '2026-11-26',
      '2026-11-29',
    ];
    const key = keyOf(CHART_TOKEN);
    // Before the 30 days: 10-20 is outside the chart; 11-01, the day before it, is what the change counts from.
    await snapshots.put(key, snap('2026-10-20', 50, 5, 1));
    await snapshots.put(key, snap('2026-11-01', 90, 9, 2));
    for (const [i, date] of days.entries()) await snapshots.put(key, snap(date, 100 + i * 10, 10 + i, 2));

    const reply = await send(`trend ${url(CHART_TOKEN)}`, 'oc_trend_chart');
    const values = chartValues(reply.content);
    const views = values.filter((v) => v.series.startsWith('Views'));
    const visitors = values.filter((v) => v.series.startsWith('Visitors'));
    expect(views.map((v) => v.date)).toEqual([...days, TODAY]);
    expect(views.map((v) => v.value)).toEqual([100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 300]);
    expect(visitors.map((v) => v.value)).toEqual([10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 25]);
    expect(values).toHaveLength(22);
    const text = cardText(reply.content);
    expect(text).toContain('Last 30 days');
    expect(text).toContain('Views** 300 (+210)');
    expect(text).toContain('Visitors** 25 (+16)');
    expect(text).toContain('Likes** 5 (+3)');
    // The bot has figures from before the range, so the card does not claim the history starts inside it.
    expect(text).not.toContain('has recorded this document since');
    // The fetch recorded today's snapshot.
    expect((await snapshots.get(key, TODAY))?.figures).toEqual({ pv: 300, uv: 25, likes: 5 });

    // 90 days reach back to the first snapshot the bot has, and the card says since when.
    const quarter = await send(`趋势 ${url(CHART_TOKEN)} 90天`, 'oc_trend_chart');
    expect(chartValues(quarter.content).filter((v) => v.series.startsWith('Views'))).toHaveLength(13);
    expect(cardText(quarter.content)).toContain('has recorded this document since 2026-10-20');
    expect(cardText(quarter.content)).toContain('Views** 300 (+250)');
  });

  it('offers to add a document with no history to the digest; the button adds it to the clicked chat once', async () => {
    const chatId = 'oc_trend_group';
    // `stats` first: today's snapshot is then the only one, still short of a trend.
    await send(`stats ${url(NEW_TOKEN)}`, chatId, 'group');
    expect(await snapshots.get(keyOf(NEW_TOKEN), TODAY)).not.toBeNull();
    const reply = await send(`trend ${url(NEW_TOKEN)} 7d`, chatId, 'group');
    const text = cardText(reply.content);
    expect(text).toContain('starts recording this document today');
    expect(chartValues(reply.content)).toEqual([]);
    const value = buttonValue(reply.content, /^act_digest_add$/);

    const click = (eventId: string) =>
      bot.click(
        cardActionEvent({
          eventId,
          operatorOpenId: 'ou_trend_clicker',
          openChatId: chatId,
          openMessageId: reply.messageId,
          value,
        }),
      );
    const first = await click('ev_trend_add_1');
    expect(first.status).toBe(200);
    expect(first.body.toast?.type).toBe('success');
    expect(first.body.toast?.content).toMatch(/Added “Fresh doc”/);
    // The card stays as it is.
    expect(first.body.card).toBeUndefined();
    const sub = await subscriptions.get(chatId);
    expect(sub?.items).toEqual([
      { kind: 'doc', token: NEW_TOKEN, type: 'docx', url: url(NEW_TOKEN), title: 'Fresh doc' },
    ]);
    expect(sub?.subscriber).toBe('ou_trend_clicker');

    const second = await click('ev_trend_add_2');
    expect(second.body.toast?.type).toBe('info');
    expect(second.body.toast?.content).toMatch(/already in the daily digest/);
    expect((await subscriptions.get(chatId))?.items).toHaveLength(1);

    // Now in this chat's digest: no button any more.
    const again = await send(`trend ${url(NEW_TOKEN)}`, chatId, 'group');
    expect(cardText(again.content)).toContain('starts recording this document today');
    expect(() => buttonValue(again.content, /^act_digest_add$/)).toThrow();
  });
});

describe('snapshots from stats', () => {
  it('records the first figures of the day once, and never replaces the digest’s', async () => {
    const key = keyOf(STATS_TOKEN);
    const first = await send(`stats ${url(STATS_TOKEN)}`, 'oc_trend_stats');
    expect(await snapshots.get(key, TODAY)).toEqual({
      date: TODAY,
      takenAt: clock.now,
      figures: { pv: 70, uv: 7, likes: 0 },
    });

    // Later the same day, new figures fetched past the cache (Refresh), and a second stats: today's stays.
    const morning = clock.now;
    clock.now += 60 * 60_000;
    emulator.addDoc({
      token: STATS_TOKEN,
      type: 'docx',
      title: 'Stats doc',
      statistics: statistics(75, 8, 1),
    });
    const refreshed = await bot.click(
      cardActionEvent({
        operatorOpenId: 'ou_trend_asker',
        openChatId: 'oc_trend_stats',
        openMessageId: first.messageId,
        value: buttonValue(first.content, /refresh/),
      }),
    );
    expect(cardText(refreshed.body.card?.data)).toContain('75');
    await send(`stats ${url(STATS_TOKEN)}`, 'oc_trend_stats');
    expect(emulator.callsTo('GET', `/drive/v1/files/${STATS_TOKEN}/statistics`)).toHaveLength(2);
    expect(await snapshots.get(key, TODAY)).toEqual({
      date: TODAY,
      takenAt: morning,
      figures: { pv: 70, uv: 7, likes: 0 },
    });

    // The digest's snapshot of the day stands.
    const digested = snap(TODAY, 880, 88, 8);
    await snapshots.put(keyOf(DIGESTED_TOKEN), digested);
    await send(`stats ${url(DIGESTED_TOKEN)}`, 'oc_trend_stats');
    expect(emulator.callsTo('GET', `/drive/v1/files/${DIGESTED_TOKEN}/statistics`)).toHaveLength(1);
    expect(await snapshots.get(keyOf(DIGESTED_TOKEN), TODAY)).toEqual(digested);
  });
});

/** A store whose snapshot writes fail, everything else as usual. */
class SnapshotFailingStore extends MemoryStore {
  override async setIfAbsent(key: string, value: string, ttlMs: number): Promise<boolean> {
    if (key.startsWith('fsb:snap:')) throw new Error('snapshot write refused');
    return super.setIfAbsent(key, value, ttlMs);
  }
}

describe('a snapshot that cannot be written', () => {
  it('does not fail stats: the card goes out and one warning is logged', async () => {
    const failing = await startE2e({
      emulator,
      store: new SnapshotFailingStore(),
      clock: () => clock.now,
    });
    try {
      const before = emulator.messages.length;
      await failing.deliver(messageEvent({ text: `stats ${url(STATS_TOKEN)}`, chatId: 'oc_trend_fail' }));
      await emulator.waitForMessages(before + 1);
      await failing.settle();
      expect(cardText(emulator.messages.at(-1)?.content)).toContain('Stats doc');
      const warnings = failing.logs
        .records()
        .filter((r) => r.msg === 'statistics snapshot not recorded; answering without it');
      expect(warnings).toHaveLength(1);
    } finally {
      await failing.close();
    }
  });
});
