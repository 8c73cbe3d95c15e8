import { describe, expect, it } from 'vitest';
import {
  listCommands,
  MAX_LINKS_PER_COMMAND,
  type ParseContext,
  type ParseOutcome,
  parseCommand,
  suggestCommand,
} from '../src/bot/commands.js';
import { type ExtractedMessage, extractMessage } from '../src/bot/message.js';
import type { MessageMention, MessageReceiveEvent } from '../src/feishu/events.js';

const DOCX = 'https://sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaFnpd';
const SHEET = 'https://sample.feishu.cn/sheets/MRLOWBf6J47ZUjKEQ6ccXbJ5nNd';

const P2P: ParseContext = { chatType: 'p2p' };
const GROUP: ParseContext = { chatType: 'group' };

const BOT_MENTION: MessageMention = {
  key: '@_user_1',
  id: { open_id: 'ou_84aad35d084aa403a838cf73ee18467', union_id: 'on_e59bb7a5e1e9d4b9f1f2a8e6f5a7d3c1' },
  name: 'Stats Bot',
  tenant_key: '736588c9260f175e',
};
const ALL_MENTION: MessageMention = {
  key: '@_all',
  id: { open_id: '', union_id: '', user_id: '' },
  name: '所有人',
};

/** Goes through the real extraction so the parser sees exactly what a Feishu event would produce. */
function extract(messageType: string, content: unknown, mentions: MessageMention[] = []): ExtractedMessage {
  const message: MessageReceiveEvent['message'] = {
    message_id: 'om_dc13264520392913993dd051dba21dcf',
    chat_id: 'oc_5ad11d72b830411d72b836c20',
    chat_type: 'group',
    message_type: messageType,
    content: JSON.stringify(content),
    mentions,
  };
  const extracted = extractMessage(message);
  if (!extracted) throw new Error('fixture did not extract');
  return extracted;
}

function parseText(text: string, ctx: ParseContext = P2P, mentions: MessageMention[] = []): ParseOutcome {
  return parseCommand(extract('text', { text }, mentions), ctx);
}

function statsOf(...links: string[]): ParseOutcome {
  return { kind: 'command', command: { name: 'stats', links } };
}

const HELP: ParseOutcome = { kind: 'command', command: { name: 'help' } };

/** `count` distinct docx links. */
function docLinks(count: number): string[] {
  return Array.from(
    { length: count },
    (_, i) => `https://sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaFn${i}d`,
  );
}

describe('parseCommand: stats', () => {
  it('parses "stats <link>" from a text message', () => {
    expect(parseText(`stats ${DOCX}`)).toEqual(statsOf(DOCX));
  });

  it('parses a group message once the bot mention is stripped', () => {
    expect(parseText(`@_user_1 stats ${DOCX}`, GROUP, [BOT_MENTION])).toEqual(statsOf(DOCX));
  });

  it('parses a message addressed with @_all', () => {
    expect(parseText(`@_all stats ${DOCX}`, GROUP, [ALL_MENTION])).toEqual(statsOf(DOCX));
  });

  it.each(['/stats', 'STATS', 'Stats', '/STATS', '统计', '数据', '统计：'])(
    'accepts the command word %s',
    (word) => {
      expect(parseText(`${word} ${DOCX}`)).toEqual(statsOf(DOCX));
    },
  );

  it('accepts a Chinese alias glued to the link', () => {
    expect(parseText(`统计${DOCX}`)).toEqual(statsOf(DOCX));
    expect(parseText(`数据：${DOCX}`)).toEqual(statsOf(DOCX));
  });

  it('takes post hrefs even though the text only shows the link label', () => {
    const post = {
      title: '',
      content: [
        [
          { tag: 'at', user_id: '@_user_1', user_name: 'Stats Bot', style: [] },
          { tag: 'text', text: ' 统计', style: [] },
          { tag: 'a', href: DOCX, text: 'Q3 复盘', style: [] },
        ],
      ],
    };
    expect(parseCommand(extract('post', post, [BOT_MENTION]), GROUP)).toEqual(statsOf(DOCX));
  });

  it('takes the url from a markdown link, not the label', () => {
    expect(parseText(`stats [Q3 复盘 (final)](${DOCX})`)).toEqual(statsOf(DOCX));
  });

  it('dedupes links and keeps the order they were written in', () => {
    expect(parseText(`stats ${SHEET} ${DOCX} ${SHEET}`)).toEqual(statsOf(SHEET, DOCX));
  });

  it('dedupes links itself when the caller built the message by hand', () => {
    expect(parseCommand({ text: 'stats', links: [DOCX, SHEET, DOCX], mentions: [] }, P2P)).toEqual(
      statsOf(DOCX, SHEET),
    );
  });

  it(`accepts exactly ${MAX_LINKS_PER_COMMAND} links`, () => {
    const links = docLinks(MAX_LINKS_PER_COMMAND);
    expect(parseText(`stats ${links.join(' ')}`)).toEqual(statsOf(...links));
  });

  it('answers with usage when there are more links than allowed', () => {
    expect(parseText(`stats ${docLinks(MAX_LINKS_PER_COMMAND + 1).join(' ')}`)).toEqual({
      kind: 'usage',
      command: 'stats',
      problem: 'too_many_links',
    });
  });

  it('counts links after dedup, so a repeated link does not push over the limit', () => {
    const links = docLinks(MAX_LINKS_PER_COMMAND);
    expect(parseText(`stats ${links.join(' ')} ${links[0]}`)).toEqual(statsOf(...links));
  });

  it.each(['stats', '统计', '@_user_1 /stats'])('answers with usage when "%s" has no link', (text) => {
    expect(parseText(text, GROUP, [BOT_MENTION])).toEqual({
      kind: 'usage',
      command: 'stats',
      problem: 'no_link',
    });
  });
});

describe('parseCommand: a message of links only', () => {
  it.each([
    ['p2p', P2P],
    ['group', GROUP],
  ])('means stats in %s (the caller has already decided the bot was addressed)', (_name, ctx) => {
    expect(parseText(DOCX, ctx)).toEqual(statsOf(DOCX));
  });

  it('means stats for several links, a link in parentheses, a markdown link and a scheme-less link', () => {
    expect(parseText(`${DOCX} ${SHEET}`)).toEqual(statsOf(DOCX, SHEET));
    expect(parseText(`(${DOCX})`)).toEqual(statsOf(DOCX));
    expect(parseText(`[Q3 复盘](${DOCX})`)).toEqual(statsOf(DOCX));
    expect(parseText('sample.feishu.cn/docx/UXEAd6cRUoj5pexJZr0cdwaFnpd')).toEqual(statsOf(DOCX));
  });

  it('means stats for a post whose only content is a link element', () => {
    const post = { title: '', content: [[{ tag: 'a', href: SHEET, text: SHEET }]] };
    expect(parseCommand(extract('post', post), P2P)).toEqual(statsOf(SHEET));
  });

  it('still means stats when the link comes first and chatter follows', () => {
    expect(parseText(`${DOCX} 帮我看看`)).toEqual(statsOf(DOCX));
  });
});

describe('parseCommand: help, unknown and empty', () => {
  it.each(['help', 'HELP', '/help', '帮助', '?', '？', 'h', 'help stats'])('parses "%s" as help', (text) => {
    expect(parseText(text)).toEqual(HELP);
  });

  it('suggests stats for a transposed "stast"', () => {
    expect(parseText(`stast ${DOCX}`)).toEqual({ kind: 'unknown', word: 'stast', suggestion: 'stats' });
  });

  it('treats "stat" as a typo of stats rather than an alias', () => {
    expect(parseText(`stat ${DOCX}`)).toEqual({ kind: 'unknown', word: 'stat', suggestion: 'stats' });
  });

  it('suggests help for "hlep"', () => {
    expect(parseText('hlep')).toEqual({ kind: 'unknown', word: 'hlep', suggestion: 'help' });
  });

  it('reports an unknown word without a suggestion when nothing is close', () => {
    const outcome = parseText('xyzzy');
    expect(outcome).toEqual({ kind: 'unknown', word: 'xyzzy' });
    expect(outcome).not.toHaveProperty('suggestion');
  });

  it('reports the word in front of a glued link, not the whole run', () => {
    expect(parseText(`看看${DOCX}`)).toEqual({ kind: 'unknown', word: '看看' });
  });

  it.each([
    ['only the bot mention', '@_user_1', [BOT_MENTION]],
    ['only @_all', '@_all ', [ALL_MENTION]],
    ['whitespace', '  \n ', []],
  ])('is empty for %s', (_what, text, mentions) => {
    expect(parseText(text, GROUP, mentions)).toEqual({ kind: 'empty' });
  });

  it('is empty for an extracted message with no text and no links', () => {
    expect(parseCommand({ text: '', links: [], mentions: [] }, P2P)).toEqual({ kind: 'empty' });
  });
});

describe('suggestCommand', () => {
  it('matches aliases as well as English names', () => {
    expect(suggestCommand('帮忙')).toBe('help');
    expect(suggestCommand('数')).toBe('stats');
  });

  it('ignores case and a leading slash', () => {
    expect(suggestCommand('/STAST')).toBe('stats');
  });

  it('allows only one edit for very short words and never a total rewrite', () => {
    expect(suggestCommand('hi')).toBe('help');
    expect(suggestCommand('x')).toBeUndefined();
    expect(suggestCommand('the')).toBeUndefined();
  });

  it('does not suggest beyond edit distance 2', () => {
    expect(suggestCommand('stxyz')).toBeUndefined();
    expect(suggestCommand('halp!!')).toBeUndefined();
  });

  it('breaks ties by registry order (stats before help)', () => {
    // One edit from both 数据 (stats) and 帮助 (help).
    expect(suggestCommand('数助')).toBe('stats');
  });
});

describe('listCommands', () => {
  it('exposes every command with its aliases, stats first', () => {
    expect(listCommands()).toEqual([
      { name: 'stats', aliases: ['统计', '数据'] },
      { name: 'help', aliases: ['帮助', '?', '？', 'h'] },
    ]);
  });
});
