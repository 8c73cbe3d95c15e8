/** Parsing `trend <link> [7d|30d|90d]` (趋势), and the usage card a wrong range gets. */
import { describe, expect, it } from 'vitest';
import { buildUsageCard } from '../cards/usage-card.js';
import { type ParseContext, type ParseOutcome, parseCommand } from '../src/bot/commands.js';
import { extractMessage } from '../src/bot/message.js';
import type { MessageMention, MessageReceiveEvent } from '../src/feishu/events.js';
import { cardText } from './helper.js';

const DOCX = 'https://sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaFnpd';
const SHEET = 'https://sample.feishu.cn/sheets/MRLOWBf6J47ZUjKEQ6ccXbJ5nNd';
const P2P: ParseContext = { chatType: 'p2p' };
const BOT_MENTION: MessageMention = {
  key: '@_user_1',
  id: { open_id: 'ou_84aad35d084aa403a838cf73ee18467', union_id: 'on_e59bb7a5e1e9d4b9f1f2a8e6f5a7d3c1' },
  name: 'Stats Bot',
};

function parse(type: 'text' | 'post', content: unknown, ctx = P2P, mentions: MessageMention[] = []) {
  const message: MessageReceiveEvent['message'] = {
    message_id: 'om_dc13264520392913993dd051dba21dcf',
    chat_id: 'oc_5ad11d72b830411d72b836c20',
    chat_type: ctx.chatType,
    message_type: type,
    content: JSON.stringify(content),
    mentions,
  };
  const extracted = extractMessage(message);
  if (!extracted) throw new Error('fixture did not extract');
  return parseCommand(extracted, ctx);
}

const parseText = (text: string) => parse('text', { text });
const trend = (link: string, days: number): ParseOutcome => ({
  kind: 'command',
  command: { name: 'trend', link, days } as never,
});

describe('trend parsing', () => {
  it.each([
    [`trend ${DOCX}`, 30],
    [`trend ${DOCX} 7d`, 7],
    [`trend 30d ${DOCX}`, 30],
    [`TREND ${DOCX} 90D`, 90],
    [`趋势 ${DOCX}`, 30],
    [`趋势 ${DOCX} 7天`, 7],
    [`趋势 ${DOCX} 90天`, 90],
    [`趋势${DOCX} 30天`, 30],
    [`趋势 ${DOCX} ７天`, 7],
  ])('reads %s as %i days', (text, days) => {
    expect(parseText(text)).toEqual(trend(DOCX, days));
  });

  it('reads a group message after the mention, and a post whose link has a label', () => {
    expect(
      parse('text', { text: `@_user_1 趋势 ${SHEET} 7d` }, { chatType: 'group' }, [BOT_MENTION]),
    ).toEqual(trend(SHEET, 7));
    const post = {
      title: '',
      content: [
        [
          { tag: 'text', text: '趋势 ', style: [] },
          { tag: 'a', href: DOCX, text: 'Q3 复盘', style: [] },
        ],
      ],
    };
    expect(parse('post', post)).toEqual(trend(DOCX, 30));
  });

  it.each([
    [`trend ${DOCX} 14d`, '14d'],
    [`trend ${DOCX} week`, 'week'],
    [`趋势 ${DOCX} 365天`, '365天'],
    [`trend ${DOCX} 7d 30d`, '30d'],
  ])('answers %s with the usage card naming %s', (text, input) => {
    const outcome = parseText(text);
    expect(outcome).toEqual({
      kind: 'usage',
      command: 'trend',
      problem: 'bad_trend_range',
      detail: { input },
    });
    if (outcome.kind !== 'usage') throw new Error('not a usage outcome');
    const card = cardText(buildUsageCard({ ...outcome, max: 5 }));
    expect(card).toContain(`I could not read the range \`${input}\``);
    expect(card).toContain('`7d`, `30d` or `90d`');
    expect(card).toContain('`trend` ‹document link›');
  });

  it('needs exactly one link', () => {
    expect(parseText('trend 7d')).toEqual({ kind: 'usage', command: 'trend', problem: 'no_link' });
    expect(parseText(`趋势 ${DOCX} ${SHEET}`)).toEqual({
      kind: 'usage',
      command: 'trend',
      problem: 'too_many_links',
      detail: { max: 1 },
    });
    const card = cardText(buildUsageCard({ command: 'trend', problem: 'too_many_links', max: 5 }));
    expect(card).toContain('takes exactly one document link');
  });
});
