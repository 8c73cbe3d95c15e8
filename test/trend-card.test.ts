import { describe, expect, it } from 'vitest';
import { cardByteSize, MAX_CARD_BYTES } from '../cards/card.js';
import type { TrendPoint } from '../cards/data.js';
import { buildTrendCard, buildTrendHistoryStartsCard, changeOver } from '../cards/trend-card.js';
import { cardText } from './helper.js';

const DOC = { url: 'https://acme.feishu.cn/docx/doxcnTrendCardAbCdEfGhIjKl', title: 'Launch plan' };

function points(values: ReadonlyArray<readonly [string, number]>, before?: number): TrendPoint[] {
  let previous = before;
  return values.map(([date, value]) => {
    const point = { date, value, delta: previous === undefined ? null : value - previous };
    previous = value;
    return point;
  });
}

function chartOf(
  card: unknown,
): { values: Array<{ date: string; value: number; series: string }> } | undefined {
  const elements = (card as { body: { elements: Array<{ tag: string; chart_spec?: { data: unknown } }> } })
    .body.elements;
  return elements.find((e) => e.tag === 'chart')?.chart_spec?.data as
    | { values: Array<{ date: string; value: number; series: string }> }
    | undefined;
}

describe('changeOver', () => {
  it('counts from the day before the window when the bot has it, else from the first point', () => {
    expect(
      changeOver(
        points(
          [
            ['2026-11-02', 150],
            ['2026-11-03', 230],
          ],
          100,
        ),
      ),
    ).toBe(130);
    expect(
      changeOver(
        points([
          ['2026-11-02', 150],
          ['2026-11-03', 230],
        ]),
      ),
    ).toBe(80);
    expect(changeOver(points([['2026-11-02', 150]]))).toBeUndefined();
  });
});

describe('buildTrendCard', () => {
  it('charts visitors and views, one point per recorded day, and states each change', () => {
    const days = ['2026-11-03', '2026-11-07', '2026-11-10', '2026-11-30'] as const;
    const card = buildTrendCard({
      doc: DOC,
      days: 30,
      window: { from: '2026-11-02', to: '2026-12-01' },
      series: {
        pv: points(days.map((d, i) => [d, 100 + i * 50] as const)),
        uv: points(days.map((d, i) => [d, 10 + i] as const)),
        likes: points(days.map((d) => [d, 4] as const)),
      },
    });
    const chart = chartOf(card);
    expect(chart?.values).toHaveLength(8);
    expect(chart?.values.filter((v) => v.series.startsWith('Views')).map((v) => v.value)).toEqual([
      100, 150, 200, 250,
    ]);
    const text = cardText(card);
    expect(text).toContain('Views** 250 (+150)');
    expect(text).toContain('Visitors** 13 (+3)');
    expect(text).toContain('Likes** 4 (±0)');
    expect(text).toContain('访问次数** 250（+150）');
    expect(cardByteSize(card)).toBeLessThan(MAX_CARD_BYTES);
  });

  it('stays under 30 KB at 90 days of two series', () => {
    const dates = Array.from({ length: 90 }, (_, i) => `2026-09-${String((i % 28) + 1).padStart(2, '0')}`);
    const card = buildTrendCard({
      doc: { ...DOC, title: '很长的标题'.repeat(40) },
      days: 90,
      window: { from: '2026-09-03', to: '2026-12-01' },
      series: {
        pv: points(dates.map((d, i) => [d, 1_000_000 + i] as const)),
        uv: points(dates.map((d, i) => [d, 100_000 + i] as const)),
      },
    });
    expect(cardByteSize(card)).toBeLessThan(MAX_CARD_BYTES);
  });

  it('says since when the bot has records when the history is shorter than the range', () => {
    const card = buildTrendCard({
      doc: DOC,
      days: 30,
      window: { from: '2026-11-02', to: '2026-12-01' },
      series: {
        pv: points([
          ['2026-11-28', 10],
          ['2026-12-01', 20],
        ]),
      },
      since: '2026-11-28',
    });
    expect(cardText(card)).toContain('since 2026-11-28');
  });
});

describe('buildTrendHistoryStartsCard', () => {
  it('says since when, and offers the digest button it is given', () => {
    const card = buildTrendHistoryStartsCard({
      doc: DOC,
      since: '2026-12-01',
      addToDigest: {
        key: 'digest_add',
        label: { zh: '加入本群订阅', en: 'Add to this chat’s digest' },
        value: { a: 'x' },
      },
    });
    const text = cardText(card);
    expect(text).toContain('started recording this document on 2026-12-01');
    expect(text).toContain('Add to this chat’s digest');
    expect(JSON.stringify(card)).toContain('"a":"x"');
  });

  it('has no digest button when none is offered', () => {
    const card = buildTrendHistoryStartsCard({ doc: DOC });
    expect(JSON.stringify(card)).not.toContain('act_');
  });
});
