/**
 * workplace and app end to end, with the bot's clock pinned to 2026-11-21 12:00 in Asia/Shanghai.
 */
import { afterEach, describe, expect, it } from 'vitest';
import type { SentMessage } from './emulator/feishu-emulator.js';
import { messageEvent } from './emulator/fixtures.js';
import { cardText } from './helper.js';
import { useE2e } from './support/e2e.js';

const ADMIN = 'ou_admin00000000000000000000000005';
const MEMBER = 'ou_member0000000000000000000000006';
const OTHER_APP = 'cli_9f115af860f7901b';
const NOW = Date.parse('2026-11-21T12:00:00+08:00');

const { emulator, bot } = useE2e({ env: { BOT_ADMINS: ADMIN }, clock: () => NOW });

afterEach(() => {
  emulator.setAppUsagePlan(true);
});

/** Every day from `from` for `count` days, with figures derived from the day so sums can be checked. */
function workplaceDays(from: string, count: number) {
  const start = Date.parse(`${from}T00:00:00Z`);
  return Array.from({ length: count }, (_, i) => {
    const date = new Date(start + i * 86_400_000).toISOString().slice(0, 10);
    return {
      date,
      all_workplace: { pv: 100 + i, uv: 40 + (i % 7) },
      default_workplace: { pv: 60 + i, uv: 30 + (i % 5) },
    };
  });
}

/** The data points of every chart element in a card. */
function findCharts(card: unknown): Array<Array<{ date: string; series: string }>> {
  const found: Array<Array<{ date: string; series: string }>> = [];
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) node.forEach(walk);
    else if (node && typeof node === 'object') {
      const el = node as {
        tag?: string;
        chart_spec?: { data?: { values?: Array<{ date: string; series: string }> } };
      };
      if (el.tag === 'chart') found.push(el.chart_spec?.data?.values ?? []);
      Object.values(node).forEach(walk);
    }
  };
  walk(card);
  return found;
}

async function ask(text: string, sender = ADMIN): Promise<SentMessage> {
  const before = emulator.messages.length;
  await bot.deliver(messageEvent({ text, senderOpenId: sender }));
  await bot.settle();
  const message = emulator.messages[before];
  if (!message) throw new Error(`no answer to "${text}"`);
  return message;
}

describe('workplace [range]', () => {
  it('defaults to the last 7 full days and asks Feishu for exactly that range', async () => {
    emulator.setWorkplaceDays(workplaceDays('2026-11-01', 21));
    const message = await ask('workplace');
    const [call] = emulator.callsTo('POST', '/workplace/v1/workplace_access_data/search');
    expect(call?.query).toMatchObject({ from_date: '2026-11-14', to_date: '2026-11-20' });
    const text = cardText(message.content);
    // pv of all workplaces on 11-14..11-20 is 113..119: 812 in total.
    expect(text).toContain('812');
  });

  it('walks every page of a year-long range and merges the days in date order', async () => {
    emulator.setWorkplaceDays(workplaceDays('2025-11-21', 365));
    emulator.setWorkplaceOrder('shuffled');
    const message = await ask('workplace 2025-11-21 2026-11-20');
    const calls = emulator.callsTo('POST', '/workplace/v1/workplace_access_data/search');
    expect(calls.length).toBe(2); // 365 days at 200 per page
    // The second request carries the token the first page handed out.
    expect(calls[1]?.query.page_token).toMatch(/\S/);
    expect(calls[0]?.query.page_token).toBeUndefined();
    // The chart's points come in date order whatever order the pages arrived in.
    const charts = findCharts(message.content);
    expect(charts.length).toBeGreaterThan(0);
    for (const values of charts) {
      for (const series of new Set(values.map((point) => point.series))) {
        const dates = values.filter((point) => point.series === series).map((point) => point.date);
        // Each line is drawn in data order, so its points must be oldest first.
        expect(dates).toEqual([...dates].sort());
        expect(dates[0]).toBe('2025-11-21');
      }
    }
    // Total pv of all workplaces = Σ(100 + i) for i < 365.
    const total = 365 * 100 + (364 * 365) / 2;
    expect(cardText(message.content)).toContain(total.toLocaleString('en-US'));
    emulator.setWorkplaceOrder('asc');
  });

  it.each([
    ['workplace 2026-11-10 2026-11-01', /after|晚于|早于|before/i],
    ['workplace 2024-01-01 2026-11-01', /366/],
    ['workplace yesterday-ish', /this-week|last-month/],
    ['workplace 2026-11-01 2026-12-01', /future|未来/i],
  ])('answers "%s" with a usage card and no API call', async (text, expected) => {
    const message = await ask(text);
    expect(cardText(message.content)).toMatch(expected);
    expect(emulator.callsTo('POST', /workplace/)).toHaveLength(0);
  });

  it('is for bot admins only', async () => {
    const message = await ask('workplace', MEMBER);
    expect(cardText(message.content)).toMatch(/admin|管理员/i);
    expect(emulator.callsTo('POST', /workplace/)).toHaveLength(0);
  });
});

describe('app [app_id] [cycle] [date] [ability] [department]', () => {
  it('aligns a week to its Monday, says so, and explains the metrics', async () => {
    emulator.setAppUsage(OTHER_APP, { uv: 321, total_users: 999, new_users: 12, pv: 4567, lifecycle: 890 });
    const message = await ask(`app ${OTHER_APP} week 2026-11-19`);
    const [call] = emulator.callsTo('POST', `/application/v6/applications/${OTHER_APP}/app_usage/overview`);
    expect(call?.body).toMatchObject({ date: '2026-11-16', cycle_type: 2, ability: 'app' });
    const text = cardText(message.content);
    expect(text).toContain('2026-11-16');
    expect(text).toContain('2026-11-19');
    expect(text).toContain('4,567');
    expect(text).toMatch(/active users|活跃用户/i);
  });

  it('aligns a month to the 1st', async () => {
    emulator.setAppUsage(OTHER_APP, { uv: 5 });
    await ask(`app ${OTHER_APP} month 2026-10-17`);
    const [call] = emulator.callsTo('POST', `/application/v6/applications/${OTHER_APP}/app_usage/overview`);
    expect(call?.body).toMatchObject({ date: '2026-10-01', cycle_type: 3 });
  });

  it('without an app id reports on the bot itself for yesterday, and explains 211011 (no data yet)', async () => {
    const message = await ask('app');
    const [call] = emulator.callsTo(
      'POST',
      `/application/v6/applications/${emulator.appId}/app_usage/overview`,
    );
    expect(call?.body).toMatchObject({ date: '2026-11-20', cycle_type: 1 });
    const text = cardText(message.content);
    expect(text).toContain('211011');
    expect(text).toMatch(/10:00/);
  });

  it('explains 211004 (plan does not include app usage)', async () => {
    emulator.setAppUsagePlan(false);
    const message = await ask(`app ${OTHER_APP} day 2026-11-19`);
    const text = cardText(message.content);
    expect(text).toContain('211004');
    expect(text).toMatch(/Enterprise|企业版|旗舰版/);
  });

  it('is for bot admins only', async () => {
    const message = await ask(`app ${OTHER_APP}`, MEMBER);
    expect(cardText(message.content)).toMatch(/admin|管理员/i);
    expect(emulator.callsTo('POST', /app_usage/)).toHaveLength(0);
  });
});
