import { describe, expect, it } from 'vitest';
import {
  type Command,
  type CommandName,
  type DigestAction,
  listCommands,
  MAX_COMMAND_LENGTH,
  MAX_LINKS_PER_COMMAND,
  type ParseContext,
  type ParseOutcome,
  parseCommand,
  suggestCommand,
  type UsageProblem,
  type WorkplaceRangeSpec,
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
      detail: { max: MAX_LINKS_PER_COMMAND },
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

function usageOf(
  command: CommandName,
  problem: UsageProblem,
  detail?: Record<string, string | number>,
): ParseOutcome {
  return { kind: 'usage', command, problem, ...(detail ? { detail } : {}) };
}

type AppCommand = Extract<Command, { name: 'app' }>;

describe('parseCommand: viewers and likes', () => {
  it.each([
    ['viewers', 'viewers'],
    ['/VIEWERS', 'viewers'],
    ['访问记录', 'viewers'],
    ['访客', 'viewers'],
    ['likes', 'likes'],
    ['Likes:', 'likes'],
    ['点赞', 'likes'],
  ] as const)('reads "%s <link>" as %s of that one document', (word, name) => {
    expect(parseText(`${word} ${DOCX}`)).toEqual({ kind: 'command', command: { name, link: DOCX } });
  });

  it('accepts a Chinese alias glued to the link, as people type it', () => {
    expect(parseText(`访问记录${DOCX}`)).toEqual({
      kind: 'command',
      command: { name: 'viewers', link: DOCX },
    });
    expect(parseText(`点赞：${SHEET}`)).toEqual({ kind: 'command', command: { name: 'likes', link: SHEET } });
  });

  it('reads a group message once the bot mention is stripped, and a post href', () => {
    expect(parseText(`@_user_1 viewers ${DOCX}`, GROUP, [BOT_MENTION])).toEqual({
      kind: 'command',
      command: { name: 'viewers', link: DOCX },
    });
    const post = {
      title: '',
      content: [
        [
          { tag: 'text', text: '点赞 ' },
          { tag: 'a', href: DOCX, text: '周报' },
        ],
      ],
    };
    expect(parseCommand(extract('post', post), P2P)).toEqual({
      kind: 'command',
      command: { name: 'likes', link: DOCX },
    });
  });

  it.each(['viewers', 'likes'] as const)('answers "%s" without a link with no_link', (name) => {
    expect(parseText(name)).toEqual(usageOf(name, 'no_link'));
  });

  it.each(['viewers', 'likes'] as const)(
    'takes one document only: "%s" with two links is too_many_links (max 1)',
    (name) => {
      expect(parseText(`${name} ${DOCX} ${SHEET}`)).toEqual(usageOf(name, 'too_many_links', { max: 1 }));
    },
  );

  it('does not count the same link twice', () => {
    expect(parseText(`viewers ${DOCX} ${DOCX}`)).toEqual({
      kind: 'command',
      command: { name: 'viewers', link: DOCX },
    });
  });

  it('still reads a message that starts with a link as stats, even if a command word follows', () => {
    expect(parseText(`${DOCX} viewers`)).toEqual(statsOf(DOCX));
  });
});

describe('parseCommand: unread', () => {
  it.each(['unread', '/Unread', '未读'])('reads "%s <link>" in a group', (word) => {
    expect(parseText(`@_user_1 ${word} ${DOCX}`, GROUP, [BOT_MENTION])).toEqual({
      kind: 'command',
      command: { name: 'unread', link: DOCX },
    });
  });

  it('answers a private chat with group_only, link or not: there are no members to compare', () => {
    expect(parseText(`unread ${DOCX}`, P2P)).toEqual(usageOf('unread', 'group_only'));
    expect(parseText('未读', P2P)).toEqual(usageOf('unread', 'group_only'));
  });

  it('takes exactly one link', () => {
    expect(parseText('unread', GROUP)).toEqual(usageOf('unread', 'no_link'));
    expect(parseText(`unread ${DOCX} ${SHEET}`, GROUP)).toEqual(
      usageOf('unread', 'too_many_links', { max: 1 }),
    );
  });
});

describe('parseCommand: export', () => {
  it.each([
    ['export viewers', 'viewers'],
    ['EXPORT Likes', 'likes'],
    ['导出 访问记录', 'viewers'],
    ['导出 访客', 'viewers'],
    ['导出 点赞', 'likes'],
  ] as const)('reads "%s <link>" as an export of %s', (words, what) => {
    expect(parseText(`${words} ${DOCX}`)).toEqual({
      kind: 'command',
      command: { name: 'export', what, link: DOCX },
    });
    expect(parseText(`${words} ${DOCX}`, GROUP)).toEqual({
      kind: 'command',
      command: { name: 'export', what, link: DOCX },
    });
  });

  it('reads a list word glued to its link', () => {
    expect(parseText(`导出 点赞${DOCX}`)).toEqual({
      kind: 'command',
      command: { name: 'export', what: 'likes', link: DOCX },
    });
  });

  it('asks which list when the word is missing or unknown', () => {
    expect(parseText(`export ${DOCX}`)).toEqual(usageOf('export', 'bad_export_list'));
    expect(parseText('export')).toEqual(usageOf('export', 'bad_export_list'));
    expect(parseText(`export stats ${DOCX}`)).toEqual(
      usageOf('export', 'bad_export_list', { input: 'stats' }),
    );
  });

  it('takes exactly one link', () => {
    expect(parseText('export viewers')).toEqual(usageOf('export', 'no_link'));
    expect(parseText(`export likes ${DOCX} ${SHEET}`)).toEqual(
      usageOf('export', 'too_many_links', { max: 1 }),
    );
  });
});

describe('parseCommand: workplace', () => {
  const workplace = (range: WorkplaceRangeSpec): ParseOutcome => ({
    kind: 'command',
    command: { name: 'workplace', range },
  });

  it.each(['workplace', '工作台', '/Workplace', '@_user_1 工作台'])(
    'defaults "%s" to the last 7 days',
    (text) => {
      expect(parseText(text, GROUP, [BOT_MENTION])).toEqual(workplace({ kind: 'last_days', days: 7 }));
    },
  );

  it.each([
    ['7d', 7],
    ['30d', 30],
    ['14d', 14],
    ['1d', 1],
    ['7D', 7],
    ['7天', 7],
    ['最近7天', 7],
    ['last 30 days', 30],
    // Syntax only: whether 999 days is allowed is for periods.ts to say, with the cap in the card.
    ['999d', 999],
  ])('reads "%s" as the last %i days', (arg, days) => {
    expect(parseText(`workplace ${arg}`)).toEqual(workplace({ kind: 'last_days', days }));
  });

  it.each(['this-week', 'THIS-WEEK', 'this_week', 'this week', '本周'])('reads "%s" as this week', (arg) => {
    expect(parseText(`工作台 ${arg}`)).toEqual(workplace({ kind: 'this_week' }));
  });

  it.each(['last-month', 'last month', '上月', '上个月'])('reads "%s" as last month', (arg) => {
    expect(parseText(`workplace ${arg}`)).toEqual(workplace({ kind: 'last_month' }));
  });

  it.each([
    '2026-11-01 2026-11-07',
    '2026-11-01~2026-11-07',
    '2026-11-01 ~ 2026-11-07',
    '2026-11-01～2026-11-07',
    '2026-11-01..2026-11-07',
    '2026-11-01至2026-11-07',
    '2026-11-01 到 2026-11-07',
    // The label our own cards print, pasted back.
    '2026-11-01 – 2026-11-07',
  ])('reads "%s" as an explicit range', (arg) => {
    expect(parseText(`workplace ${arg}`)).toEqual(
      workplace({ kind: 'between', from: '2026-11-01', to: '2026-11-07' }),
    );
  });

  it('leaves from-after-to to the period resolver, which knows how to explain it', () => {
    expect(parseText('workplace 2026-11-07 2026-11-01')).toEqual(
      workplace({ kind: 'between', from: '2026-11-07', to: '2026-11-01' }),
    );
  });

  it.each([
    '0d',
    '12345d',
    '7',
    'd7',
    'yesterday',
    'next-week',
    '2026-11-01',
    '2026-02-30 2026-03-01',
    '2026-11-01 2026-13-07',
    '2026/11/01 2026/11/07',
    '2026-11-01 2026-11-07 2026-11-08',
    '7d 30d',
  ])('answers "workplace %s" with bad_range and echoes the input', (arg) => {
    expect(parseText(`workplace ${arg}`)).toEqual(usageOf('workplace', 'bad_range', { input: arg }));
  });
});

describe('parseCommand: app', () => {
  const APP_ID = 'cli_a1b2c3d4e5f60718';
  const DEPARTMENT = 'od-4e6ac4d14bcd5071a37a39de902c7141';
  const app = (fields: Partial<Omit<AppCommand, 'name'>>): ParseOutcome => ({
    kind: 'command',
    command: { name: 'app', cycle: 'day', ability: 'app', ...fields },
  });

  it("defaults to the bot's own app (no appId), day cycle, whole-app ability", () => {
    const outcome = parseText('app');
    expect(outcome).toEqual(app({}));
    expect(outcome.kind === 'command' && outcome.command).not.toHaveProperty('appId');
  });

  it('reads every argument', () => {
    expect(parseText(`app ${APP_ID} week 2026-11-05 mp ${DEPARTMENT}`)).toEqual(
      app({ appId: APP_ID, cycle: 'week', date: '2026-11-05', ability: 'mp', departmentId: DEPARTMENT }),
    );
  });

  it('tells arguments apart by shape, in any order', () => {
    expect(parseText(`应用 ${DEPARTMENT} h5 2026-11-05 month ${APP_ID}`)).toEqual(
      app({ appId: APP_ID, cycle: 'month', date: '2026-11-05', ability: 'h5', departmentId: DEPARTMENT }),
    );
  });

  it('recognises an app id case-insensitively and keeps it in the console spelling', () => {
    expect(parseText('app CLI_A1B2C3D4E5F60718')).toEqual(app({ appId: APP_ID }));
  });

  it.each([
    ['day', 'day'],
    ['daily', 'day'],
    ['日', 'day'],
    ['日活', 'day'],
    ['week', 'week'],
    ['Weekly', 'week'],
    ['周', 'week'],
    ['周活', 'week'],
    ['month', 'month'],
    ['monthly', 'month'],
    ['月', 'month'],
    ['月活', 'month'],
  ] as const)('reads the cycle word "%s" as %s', (word, cycle) => {
    expect(parseText(`app ${word}`)).toEqual(app({ cycle }));
  });

  it.each([
    ['app', 'app'],
    ['mp', 'mp'],
    ['小程序', 'mp'],
    ['h5', 'h5'],
    ['web', 'h5'],
    ['网页', 'h5'],
    ['bot', 'bot'],
    ['BOT', 'bot'],
    ['机器人', 'bot'],
  ] as const)('reads the ability word "%s" as %s', (word, ability) => {
    expect(parseText(`app ${word}`)).toEqual(app({ ability }));
  });

  it('keeps the typed date as is: alignment to Monday or the 1st happens with the clock, in periods.ts', () => {
    expect(parseText('应用 周 2026-11-05 机器人')).toEqual(
      app({ cycle: 'week', date: '2026-11-05', ability: 'bot' }),
    );
  });

  it.each(['cli_123', 'cli_a1b2c3d4e5f607189', 'cli_a1b2c3d4e5f6071!', 'Cli_'])(
    'answers a malformed app id "%s" with bad_app_id',
    (arg) => {
      expect(parseText(`app ${arg}`)).toEqual(usageOf('app', 'bad_app_id', { input: arg }));
    },
  );

  it.each(['2026-02-30', '2026-13-01', '2026-11-5', '2026/11/05', '2026.11.05', '2026年11月5日'])(
    'answers a bad date "%s" with bad_date',
    (arg) => {
      expect(parseText(`app week ${arg}`)).toEqual(usageOf('app', 'bad_date', { input: arg }));
    },
  );

  it.each([
    ['two dates', '2026-11-02 2026-11-09', '2026-11-09'],
    ['two cycles', 'day week', 'week'],
    ['the same cycle twice', '周 week', 'week'],
    ['two abilities', 'mp h5', 'h5'],
    ['two app ids', `${APP_ID} cli_0000000000000000`, 'cli_0000000000000000'],
    ['two departments', `${DEPARTMENT} od-1`, 'od-1'],
  ])('answers %s with too_many_args, naming the extra one', (_what, args, extra) => {
    expect(parseText(`app ${args}`)).toEqual(usageOf('app', 'too_many_args', { input: extra }));
  });

  it.each(['constructor', 'toString', '__proto__'])(
    'does not take "%s" for a cycle or an ability just because every object has it',
    (arg) => {
      expect(parseText(`app ${arg}`)).toEqual(usageOf('app', 'bad_arg', { input: arg }));
    },
  );

  it.each(['weeek', '12345', 'sales'])(
    'answers a word it cannot place ("%s") with bad_arg rather than guessing it is a department',
    (arg) => {
      expect(parseText(`app ${arg}`)).toEqual(usageOf('app', 'bad_arg', { input: arg }));
    },
  );
});

describe('parseCommand: digest', () => {
  const APP_ID = 'cli_a1b2c3d4e5f60718';
  const digest = (action: DigestAction): ParseOutcome => ({
    kind: 'command',
    command: { name: 'digest', action },
  });
  const addDoc = (link: string) => digest({ kind: 'add', target: { kind: 'doc', link } });
  const at = (hour: number, minute: number) => digest({ kind: 'time', hour, minute });

  it.each([
    'digest',
    '订阅',
    '日报',
    '/DIGEST',
    '@_user_1 订阅',
    'digest list',
    '订阅 列表',
    '日报 查看',
    'digest LIST',
  ])('lists the subscription for "%s"', (text) => {
    expect(parseText(text, GROUP, [BOT_MENTION])).toEqual(digest({ kind: 'list' }));
  });

  it.each(['digest add', '订阅 添加', 'digest ADD:'])(
    'adds the one linked document with "%s <link>"',
    (words) => {
      expect(parseText(`${words} ${DOCX}`)).toEqual(addDoc(DOCX));
    },
  );

  it('adds a document from a post, where the text shows only the label and the URL is an href', () => {
    const post = {
      title: '',
      content: [
        [
          { tag: 'at', user_id: '@_user_1', user_name: 'Stats Bot' },
          { tag: 'text', text: ' 订阅 添加 ' },
          { tag: 'a', href: SHEET, text: 'Q3 销售 周报' },
        ],
      ],
    };
    expect(parseCommand(extract('post', post, [BOT_MENTION]), GROUP)).toEqual(addDoc(SHEET));
  });

  it('reads a subcommand glued to the link, as Chinese users type it', () => {
    expect(parseText(`订阅 添加${DOCX}`)).toEqual(addDoc(DOCX));
  });

  it('treats a target right after 订阅 ("subscribe") as add', () => {
    expect(parseText(`订阅 ${DOCX}`)).toEqual(addDoc(DOCX));
    expect(parseText(`订阅${DOCX}`)).toEqual(addDoc(DOCX));
    expect(parseText('订阅 工作台')).toEqual(digest({ kind: 'add', target: { kind: 'workplace' } }));
    expect(parseText(`digest app ${APP_ID}`)).toEqual(
      digest({ kind: 'add', target: { kind: 'app', appId: APP_ID } }),
    );
  });

  it('takes exactly one document: none is no_link, two are too_many_links (max 1)', () => {
    expect(parseText('digest add')).toEqual(usageOf('digest', 'no_link'));
    expect(parseText('订阅 添加 周报')).toEqual(usageOf('digest', 'no_link'));
    expect(parseText(`digest add ${DOCX} ${SHEET}`)).toEqual(usageOf('digest', 'too_many_links', { max: 1 }));
    expect(parseText(`digest add ${DOCX} ${DOCX}`)).toEqual(addDoc(DOCX));
  });

  it.each(['digest add workplace', '订阅 添加 工作台', 'digest add Workplace'])(
    'adds the workplace with "%s"',
    (text) => {
      expect(parseText(text)).toEqual(digest({ kind: 'add', target: { kind: 'workplace' } }));
    },
  );

  it.each([
    `digest add app ${APP_ID}`,
    `订阅 添加 应用 ${APP_ID}`,
    `digest add app ${APP_ID.toUpperCase().replace('CLI_', 'cli_')}`,
    `digest add ${APP_ID}`,
  ])('adds an app by id, in the console spelling, with "%s"', (text) => {
    expect(parseText(text)).toEqual(digest({ kind: 'add', target: { kind: 'app', appId: APP_ID } }));
  });

  it.each([
    ['digest add app cli_123', { input: 'cli_123' }],
    ['digest add app od-1234', { input: 'od-1234' }],
    ['digest add cli_a1b2c3d4e5f6071!', { input: 'cli_a1b2c3d4e5f6071!' }],
    ['digest cli_123', { input: 'cli_123' }],
    ['digest add app', undefined],
  ])('answers "%s" with bad_app_id', (text, detail) => {
    expect(parseText(text)).toEqual(usageOf('digest', 'bad_app_id', detail));
  });

  it.each([
    ['digest remove 3', 3],
    ['订阅 删除 1', 1],
    ['日报 移除 20', 20],
    ['digest remove #2', 2],
    ['订阅 删除 第3个', 3],
    ['订阅 删除 ３', 3],
    ['digest remove 007', 7],
  ])('reads "%s" as removing item %i (1-based)', (text, index) => {
    expect(parseText(text)).toEqual(digest({ kind: 'remove', index }));
  });

  it.each(['0', '-1', '1.5', 'two', '1000', DOCX])('answers "digest remove %s" with bad_index', (arg) => {
    expect(parseText(`digest remove ${arg}`)).toEqual(usageOf('digest', 'bad_index', { input: arg }));
  });

  it('answers a remove without a number with bad_index', () => {
    expect(parseText('digest remove')).toEqual(usageOf('digest', 'bad_index'));
  });

  it.each([
    ['09:30', 9, 30],
    ['9:30', 9, 30],
    ['9：30', 9, 30],
    ['０９：３０', 9, 30],
    ['00:00', 0, 0],
    ['23:59', 23, 59],
    ['9点30', 9, 30],
    ['9点', 9, 0],
    ['9 点 30', 9, 30],
    ['9点30分', 9, 30],
    ['9点5分', 9, 5],
    ['9点半', 9, 30],
    ['18点', 18, 0],
    ['下午3点', 15, 0],
    ['下午12点', 12, 0],
    ['上午10点半', 10, 30],
  ])('reads the time "%s" as %i:%i', (arg, hour, minute) => {
    expect(parseText(`digest time ${arg}`)).toEqual(at(hour, minute));
    expect(parseText(`订阅 时间 ${arg}`)).toEqual(at(hour, minute));
  });

  it.each([
    '24:00',
    '9:60',
    '9:5',
    '930',
    '9',
    '9.30',
    '25点',
    '9点60',
    '下午13点',
    '上午12点',
    'noon',
    '9:30 10:30',
  ])('answers the time "%s" with bad_time, echoing it', (arg) => {
    expect(parseText(`digest time ${arg}`)).toEqual(usageOf('digest', 'bad_time', { input: arg }));
  });

  it('answers a time subcommand without a time with bad_time', () => {
    expect(parseText('digest time')).toEqual(usageOf('digest', 'bad_time'));
  });

  it.each(['digest off', '订阅 关闭', '订阅 取消', '日报 OFF'])('turns the digest off with "%s"', (text) => {
    expect(parseText(text)).toEqual(digest({ kind: 'off' }));
  });

  const weekly = (weekday: number) => digest({ kind: 'cadence', cadence: { kind: 'weekly', weekday } });
  const monthly = (day: number) => digest({ kind: 'cadence', cadence: { kind: 'monthly', day } });
  const daily = digest({ kind: 'cadence', cadence: { kind: 'daily' } });

  it.each(['digest daily', 'digest DAILY', '订阅 每天', '订阅 每日', '日报 天天', '/digest daily'])(
    'makes the digest daily with "%s"',
    (text) => {
      expect(parseText(text)).toEqual(daily);
    },
  );

  it.each(['digest weekly', 'digest Weekly', '订阅 每周', '日报 每星期', '订阅 每週'])(
    'makes the digest weekly on Mondays (the default day) with "%s"',
    (text) => {
      expect(parseText(text)).toEqual(weekly(1));
    },
  );

  it.each([
    ['digest weekly mon', 1],
    ['digest weekly monday', 1],
    ['digest weekly Tue', 2],
    ['digest weekly tues', 2],
    ['digest weekly wednesday', 3],
    ['digest weekly thu', 4],
    ['digest weekly thurs', 4],
    ['digest weekly fri', 5],
    ['digest weekly sat', 6],
    ['digest weekly SUNDAY', 7],
    ['digest weekly sun.', 7],
    ['订阅 每周 周一', 1],
    ['订阅 每周一', 1],
    ['订阅 每周 一', 1],
    ['订阅 每周 星期二', 2],
    ['订阅 每周三', 3],
    ['订阅 每周 礼拜四', 4],
    ['订阅 每周五', 5],
    ['订阅 每周 周 六', 6],
    ['订阅 每周日', 7],
    ['订阅 每周 周天', 7],
    ['订阅 每星期天', 7],
    ['订阅 每周 fri', 5],
    ['digest weekly 周五', 5],
  ])('reads "%s" as weekly on ISO weekday %i', (text, weekday) => {
    expect(parseText(text)).toEqual(weekly(weekday));
  });

  it.each(['digest monthly', '订阅 每月', '日报 每个月'])(
    'makes the digest monthly on the 1st (the default day) with "%s"',
    (text) => {
      expect(parseText(text)).toEqual(monthly(1));
    },
  );

  it.each([
    ['digest monthly 1', 1],
    ['digest monthly 01', 1],
    ['digest monthly 1st', 1],
    ['digest monthly 2nd', 2],
    ['digest monthly 3rd', 3],
    ['digest monthly 15', 15],
    ['digest monthly 15TH', 15],
    ['digest monthly 28', 28],
    ['订阅 每月 1号', 1],
    ['订阅 每月1号', 1],
    ['订阅 每月 15日', 15],
    ['订阅 每月15', 15],
    ['订阅 每月 15 号', 15],
    ['订阅 每月 ２８号', 28],
    ['日报 每个月 28日', 28],
  ])('reads "%s" as monthly on day %i', (text, day) => {
    expect(parseText(text)).toEqual(monthly(day));
  });

  it.each([
    ['digest weekly funday', 'funday'],
    ['digest weekly 1', '1'],
    ['digest weekly 周八', '周八'],
    ['订阅 每周八', '八'],
    ['订阅 每周 星期', '星期'],
  ])('answers "%s" with bad_weekday, echoing the day', (text, input) => {
    expect(parseText(text)).toEqual(usageOf('digest', 'bad_weekday', { input }));
  });

  it.each([
    ['digest monthly 29', '29', 29],
    ['digest monthly 31', '31', 31],
    ['digest monthly 0', '0', 0],
    ['digest monthly 00', '00', 0],
    ['digest monthly 100', '100', 100],
    ['订阅 每月 29号', '29号', 29],
    ['订阅 每月30日', '30日', 30],
    ['订阅 每月 0号', '0号', 0],
  ])('answers "%s" with bad_month_day: only 1 to 28 occur every month', (text, input, day) => {
    expect(parseText(text)).toEqual(usageOf('digest', 'bad_month_day', { input, day }));
  });

  it.each([
    ['digest monthly last', 'last'],
    ['digest monthly -1', '-1'],
    ['digest monthly 1.5', '1.5'],
    ['订阅 每月 十五号', '十五号'],
  ])('answers "%s" with bad_month_day when the day is no number', (text, input) => {
    expect(parseText(text)).toEqual(usageOf('digest', 'bad_month_day', { input }));
  });

  it.each([
    ['digest daily mon', 'mon'],
    ['订阅 每天 9点', '9点'],
    ['digest weekly mon tue', 'tue'],
    ['digest monthly 1 15', '15'],
    ['订阅 每周一 周二', '周二'],
  ])('answers "%s" with too_many_args, naming the extra word', (text, extra) => {
    expect(parseText(text)).toEqual(usageOf('digest', 'too_many_args', { input: extra }));
  });

  it.each(['fortnightly', 'stop', 'constructor', '9:30'])(
    'answers an unknown subcommand "%s" with bad_arg, echoing it',
    (arg) => {
      expect(parseText(`digest ${arg}`)).toEqual(usageOf('digest', 'bad_arg', { input: arg }));
    },
  );

  it.each([
    ['digest list all', 'all'],
    ['digest off now', 'now'],
    ['digest add workplace 7d', '7d'],
    [`digest add app ${APP_ID} week`, 'week'],
    ['digest remove 1 2', '2'],
  ])('answers "%s" with too_many_args, naming the extra word', (text, extra) => {
    expect(parseText(text)).toEqual(usageOf('digest', 'too_many_args', { input: extra }));
  });
});

/** 100 KB, near a Feishu text message's 150 KB ceiling. */
const HOSTILE_LENGTH = 100_000;
const SHORT_LINK = 'https://x.feishu.cn/docx/T';

/**
 * Texts that made the parser's regexes backtrack quadratically (each took seconds at 100 KB), with what they
 * mean: the rewrite must not change that. Each is about {@link HOSTILE_LENGTH} long.
 */
const HOSTILE: ReadonlyArray<[string, string, ParseOutcome['kind']]> = [
  [': × 100k', ':'.repeat(HOSTILE_LENGTH), 'unknown'],
  ['： × 100k', '：'.repeat(HOSTILE_LENGTH), 'unknown'],
  // `/[:：]+$/` retried from every colon of a run that does not reach the end.
  [': × 100k then x', `${':'.repeat(HOSTILE_LENGTH)}x`, 'unknown'],
  ['： × 100k then x', `${'：'.repeat(HOSTILE_LENGTH)}x`, 'unknown'],
  ['stats, : × 100k, x', `stats${':'.repeat(HOSTILE_LENGTH)}x`, 'unknown'],
  // The markdown-link label regex scanned from every `[` to the end.
  ['[ × 100k', '['.repeat(HOSTILE_LENGTH), 'unknown'],
  ['[a × 50k', '[a'.repeat(HOSTILE_LENGTH / 2), 'unknown'],
  ['[a]( × 25k', '[a]('.repeat(HOSTILE_LENGTH / 4), 'unknown'],
  ['! × 100k', '!'.repeat(HOSTILE_LENGTH), 'unknown'],
  // `/[\p{P}\p{S}]+$/u` on the word glued in front of a link, retried from every character of the run.
  ['! × 100k, a, link', `${'!'.repeat(HOSTILE_LENGTH)}a${SHORT_LINK}`, 'unknown'],
  ['. × 100k, a, link', `${'.'.repeat(HOSTILE_LENGTH)}a${SHORT_LINK}`, 'unknown'],
  ['😀 × 50k, a, link', `${'😀'.repeat(HOSTILE_LENGTH / 2)}a${SHORT_LINK}`, 'unknown'],
  ['link then . × 100k', `stats ${SHORT_LINK}${'.'.repeat(HOSTILE_LENGTH)}`, 'command'],
  // Not quadratic, but "did you mean" compared every letter of it with every command word.
  ['a × 100k', 'a'.repeat(HOSTILE_LENGTH), 'unknown'],
];

/** A linear parse of 100 KB takes a few milliseconds; the quadratic ones took seconds. */
const PARSE_BUDGET_MS = 500;

/**
 * The fastest of up to three runs, stopping at the first within budget: only a machine stalled on three runs in a
 * row fails a linear parse, while a quadratic one is over budget every time.
 */
function fastestMs(run: () => unknown): number {
  let fastest = Number.POSITIVE_INFINITY;
  for (let attempt = 0; attempt < 3 && fastest >= PARSE_BUDGET_MS; attempt++) {
    const start = performance.now();
    run();
    fastest = Math.min(fastest, performance.now() - start);
  }
  return fastest;
}

describe('parseCommand: usage', () => {
  const USAGE: ParseOutcome = { kind: 'command', command: { name: 'usage' } };

  it.each(['usage', 'USAGE', '/usage', '用量', '调用量', '用量：', 'usage this month'])(
    'parses "%s" as usage',
    (text) => {
      expect(parseText(text)).toEqual(USAGE);
    },
  );

  it('parses usage in a group once the bot mention is stripped', () => {
    expect(parseText('@_user_1 用量', GROUP, [BOT_MENTION])).toEqual(USAGE);
  });

  it('suggests usage for its typos, and still suggests the older commands for theirs', () => {
    expect(suggestCommand('usgae')).toBe('usage');
    expect(suggestCommand('用')).toBe('app');
    expect(suggestCommand('用两')).toBe('usage');
    expect(parseText('useage')).toEqual({ kind: 'unknown', word: 'useage', suggestion: 'usage' });
    expect(suggestCommand('unred')).toBe('unread');
  });
});

describe('parseCommand: hostile input', () => {
  // The limit is lifted so the parser reads all 100 KB: this times the parser itself, not the length check.
  const UNLIMITED: ParseContext = { chatType: 'p2p', maxLength: Number.POSITIVE_INFINITY };

  it.each(HOSTILE)('parses %s in linear time when the length limit is lifted', (_name, text, kind) => {
    const message = extract('text', { text });
    let outcome: ParseOutcome | undefined;
    expect(fastestMs(() => (outcome = parseCommand(message, UNLIMITED)))).toBeLessThan(PARSE_BUDGET_MS);
    expect(outcome?.kind).toBe(kind);
  });

  it.each(HOSTILE)('answers %s with too_long without parsing it', (_name, text) => {
    const message = extract('text', { text });
    let outcome: ParseOutcome | undefined;
    expect(fastestMs(() => (outcome = parseCommand(message, P2P)))).toBeLessThan(PARSE_BUDGET_MS);
    expect(outcome).toEqual(
      usageOf('stats', 'too_long', { max: MAX_COMMAND_LENGTH, length: message.text.length }),
    );
  });

  it('still reads the word and the link the rewritten scanners cut apart', () => {
    // Trailing punctuation and symbols come off a word glued to a link, an emoji whole.
    expect(parseText(`统计！！${DOCX}`)).toEqual(statsOf(DOCX));
    expect(parseText(`看看😀${DOCX}`)).toEqual({ kind: 'unknown', word: '看看' });
    expect(parseText(`😀${DOCX}`)).toEqual(statsOf(DOCX));
    // A label runs from the first `[` before its `](http`; the scheme is matched in any case.
    expect(parseText(`[[my doc](${DOCX})`)).toEqual(statsOf(DOCX));
    expect(parseText('[my doc](HTTPS://x.feishu.cn/docx/T)')).toEqual(statsOf('HTTPS://x.feishu.cn/docx/T'));
    // A `]` not followed by `(http` closes the bracket: `[a]` stays a word of its own.
    expect(parseText(`[a] [b](${DOCX})`)).toEqual({ kind: 'unknown', word: '[a]' });
  });
});

describe('parseCommand: an over-long command', () => {
  /** `prefix` padded with words to exactly `length` characters. */
  function padded(prefix: string, length: number): string {
    return `${prefix} ${'x'.repeat(length - prefix.length - 1)}`;
  }

  it(`reads a command of exactly ${MAX_COMMAND_LENGTH} characters`, () => {
    expect(parseText(padded(`stats ${DOCX}`, MAX_COMMAND_LENGTH))).toEqual(statsOf(DOCX));
  });

  it('answers a 5,000-character command with too_long, naming the limit and the length', () => {
    expect(parseText(padded(`stats ${DOCX}`, 5000))).toEqual(
      usageOf('stats', 'too_long', { max: MAX_COMMAND_LENGTH, length: 5000 }),
    );
  });

  it('counts the text the parser would read, after mentions and extra whitespace are gone', () => {
    const text = `@_user_1 ${padded(`stats ${DOCX}`, MAX_COMMAND_LENGTH)}    `;
    expect(parseText(text, GROUP, [BOT_MENTION])).toEqual(statsOf(DOCX));
  });

  it.each<[string, CommandName]>([
    ['digest add', 'digest'],
    ['/Workplace', 'workplace'],
    [`统计${SHORT_LINK}`, 'stats'],
    ['订阅：', 'digest'],
    [SHORT_LINK, 'stats'],
    ['hello', 'stats'],
  ])('names the command of "%s…" in the answer, or stats when there is none', (head, command) => {
    expect(parseText(padded(head, 5000))).toEqual(
      usageOf(command, 'too_long', { max: MAX_COMMAND_LENGTH, length: 5000 }),
    );
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

  it('knows the words of the new commands, English and Chinese', () => {
    expect(suggestCommand('viewer')).toBe('viewers');
    expect(suggestCommand('访问')).toBe('viewers');
    expect(suggestCommand('lieks')).toBe('likes');
    expect(suggestCommand('workplce')).toBe('workplace');
    expect(suggestCommand('工作')).toBe('workplace');
    expect(suggestCommand('ap')).toBe('app');
    expect(suggestCommand('应')).toBe('app');
    expect(suggestCommand('digets')).toBe('digest');
    expect(suggestCommand('订')).toBe('digest');
  });

  it('reports a typo of a new command with its suggestion', () => {
    expect(parseText(`viewrs ${DOCX}`)).toEqual({ kind: 'unknown', word: 'viewrs', suggestion: 'viewers' });
  });

  it('breaks ties by registry order (stats before help)', () => {
    // One edit from both 数据 (stats) and 帮助 (help).
    expect(suggestCommand('数助')).toBe('stats');
  });
});

describe('listCommands', () => {
  it('exposes every command with its aliases in registry order, stats first and help last', () => {
    expect(listCommands()).toEqual([
      { name: 'stats', aliases: ['统计', '数据'] },
      { name: 'viewers', aliases: ['访问记录', '访客'] },
      { name: 'likes', aliases: ['点赞'] },
      { name: 'unread', aliases: ['未读'] },
      { name: 'export', aliases: ['导出'] },
      { name: 'trend', aliases: ['趋势'] },
      { name: 'workplace', aliases: ['工作台'] },
      { name: 'app', aliases: ['应用'] },
      { name: 'usage', aliases: ['用量', '调用量'] },
      { name: 'digest', aliases: ['订阅', '日报'] },
      { name: 'help', aliases: ['帮助', '?', '？', 'h'] },
    ]);
  });
});
