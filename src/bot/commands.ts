/**
 * Turns extracted message text into a command. Pure: no I/O, no knowledge of mentions or of whether a group
 * message was addressed to the bot (the caller decides that before parsing). Only syntax is checked here;
 * what a range or a date means relative to "today" is `periods.ts`'s job.
 */
import { MAX_MONTHLY_DAY } from '../digest/schedule.js';
import type { DigestCadence } from '../digest/types.js';
import type { AppAbility, AppUsageCycle } from '../feishu/types.js';
import { isCalendarDay } from './calendar-day.js';
import { type ExtractedMessage, findLinkSpans } from './message.js';

export type CommandName =
  | 'stats'
  | 'viewers'
  | 'likes'
  | 'unread'
  | 'export'
  | 'trend'
  | 'workplace'
  | 'app'
  | 'usage'
  | 'digest'
  | 'help';

/** How a `workplace` range was written; `periods.ts` turns it into concrete dates. */
export type WorkplaceRangeSpec =
  | { kind: 'last_days'; days: number }
  | { kind: 'this_week' }
  | { kind: 'last_month' }
  | { kind: 'between'; from: string; to: string };

/** What `digest add` subscribes the chat to; the handler resolves links and checks who may add what. */
export type DigestTarget =
  | { kind: 'doc'; link: string }
  | { kind: 'workplace' }
  | { kind: 'app'; appId: string };

export type DigestAction =
  | { kind: 'add'; target: DigestTarget }
  | { kind: 'list' }
  /** 1-based, as the subscriptions card numbers items; whether it exists is the handler's question. */
  | { kind: 'remove'; index: number }
  | { kind: 'time'; hour: number; minute: number }
  /** `digest daily | weekly [mon…sun] | monthly [1…28]`: the day is filled in (Monday, the 1st) when not given. */
  | { kind: 'cadence'; cadence: DigestCadence }
  | { kind: 'off' };

export type Command =
  | { name: 'stats'; links: string[] }
  | { name: 'viewers'; link: string }
  | { name: 'likes'; link: string }
  /** Which members of this group have not opened the document; groups only. */
  | { name: 'unread'; link: string }
  /** The whole list as a CSV file. */
  | { name: 'export'; what: 'viewers' | 'likes'; link: string }
  /** Daily figures from the bot's own snapshots over the last `days` days (today included). */
  | { name: 'trend'; link: string; days: TrendDays }
  | { name: 'workplace'; range: WorkplaceRangeSpec }
  | {
      name: 'app';
      appId?: string;
      cycle: AppUsageCycle;
      date?: string;
      ability: AppAbility;
      departmentId?: string;
    }
  /** This month's Feishu API calls, what a digest run costs, the projection and the budget; admins only. */
  | { name: 'usage' }
  | { name: 'digest'; action: DigestAction }
  | { name: 'help' };

/**
 * Stable keys the usage card maps to words. The parser produces all but `from_after_to`, `future_date` and
 * `range_too_long`, which `periods.ts` throws (with `bad_range`/`bad_date` for hand-built specs) once it knows
 * what "today" is.
 */
export type UsageProblem =
  | 'no_link'
  | 'too_many_links'
  | 'bad_range'
  | 'bad_date'
  | 'bad_app_id'
  | 'bad_arg'
  | 'too_many_args'
  | 'from_after_to'
  | 'future_date'
  | 'range_too_long'
  | 'bad_time'
  | 'bad_index'
  /** `digest weekly <day>` with a day that is not one of the week; `detail.input` is what was written. */
  | 'bad_weekday'
  /** `digest monthly <day>` outside 1…28 or not a number; `detail.day` is the number when there is one. */
  | 'bad_month_day'
  /** `unread` in a private chat: it compares a group's members with the document's visitors. */
  | 'group_only'
  /** `export` without `viewers` or `likes` (or with another word); `detail.input` is the word, if any. */
  | 'bad_export_list'
  /** `trend` with a range other than 7d, 30d or 90d (or two of them); `detail.input` is the word. */
  | 'bad_trend_range'
  /** The text is longer than {@link MAX_COMMAND_LENGTH}; `detail` carries `max` and the `length` sent. */
  | 'too_long';

export type ParseOutcome =
  | { kind: 'command'; command: Command }
  | { kind: 'unknown'; word: string; suggestion?: CommandName }
  | { kind: 'usage'; command: CommandName; problem: UsageProblem; detail?: Record<string, string | number> }
  | { kind: 'empty' };

export const MAX_LINKS_PER_COMMAND = 5;
/**
 * Longest text (UTF-16 code units, after mentions are stripped and whitespace collapsed) the parser reads. A
 * command with its five links fits in a few hundred; a Feishu text message may carry 150 KB, and reading that
 * costs time while the event loop also has to acknowledge webhooks within 3 s.
 * https://open.feishu.cn/document/server-docs/im-v1/message/create
 */
export const MAX_COMMAND_LENGTH = 4000;
/** `viewers` and `likes` page through one document's list; several at once would not fit one card. */
export const MAX_LINKS_PER_LIST_COMMAND = 1;

export interface ParseContext {
  chatType: 'p2p' | 'group' | string;
  /** Longer text gets `too_long` unread; defaults to {@link MAX_COMMAND_LENGTH}. Tests raise it to time the parser. */
  maxLength?: number;
}

interface CommandSpec {
  name: CommandName;
  /** Other words that run the command. Compared case-insensitively, like the name. */
  aliases: readonly string[];
  /** `args` are the words after the command word; `links` are all the message's links, post hrefs included. */
  parse(args: readonly string[], links: readonly string[], ctx: ParseContext): ParseOutcome;
}

/** One entry per command; registry order breaks ties in suggestions and orders the help card. */
const COMMANDS: readonly CommandSpec[] = [
  { name: 'stats', aliases: ['统计', '数据'], parse: (_args, links) => parseStats(links) },
  {
    name: 'viewers',
    aliases: ['访问记录', '访客'],
    parse: (_args, links) => parseSingleLink('viewers', links),
  },
  { name: 'likes', aliases: ['点赞'], parse: (_args, links) => parseSingleLink('likes', links) },
  { name: 'unread', aliases: ['未读'], parse: (_args, links, ctx) => parseUnread(links, ctx) },
  { name: 'export', aliases: ['导出'], parse: (args, links) => parseExport(args, links) },
  { name: 'trend', aliases: ['趋势'], parse: (args, links) => parseTrend(args, links) },
  { name: 'workplace', aliases: ['工作台'], parse: (args) => parseWorkplace(args) },
  { name: 'app', aliases: ['应用'], parse: (args) => parseApp(args) },
  // Words after it are ignored, as for `help`: there is only this month to show.
  {
    name: 'usage',
    aliases: ['用量', '调用量'],
    parse: () => ({ kind: 'command', command: { name: 'usage' } }),
  },
  { name: 'digest', aliases: ['订阅', '日报'], parse: (args, links) => parseDigest(args, links) },
  {
    name: 'help',
    aliases: ['帮助', '?', '？', 'h'],
    parse: () => ({ kind: 'command', command: { name: 'help' } }),
  },
];

/** One code point, tested on a one- or two-unit slice: never run over a whole word (see `trimTrailingSymbols`). */
const PUNCTUATION_OR_SYMBOL = /^[\p{P}\p{S}]$/u;
/** Enough of the text to read a command word, or one glued to the start of a link, in an over-long message. */
const HEAD_PEEK = 64;

/** The registered commands and their aliases, e.g. for the help card. */
export function listCommands(): ReadonlyArray<{ name: CommandName; aliases: readonly string[] }> {
  return COMMANDS.map(({ name, aliases }) => ({ name, aliases }));
}

export function parseCommand(message: ExtractedMessage, ctx: ParseContext): ParseOutcome {
  const maxLength = ctx.maxLength ?? MAX_COMMAND_LENGTH;
  if (message.text.length > maxLength) return tooLong(message.text, maxLength);
  const words = dropMarkdownLinkLabels(message.text).split(/\s+/).filter(Boolean);
  const links = [...new Set(message.links)];
  const [head, ...rest] = words;
  if (head === undefined) return links.length > 0 ? runDefault(words, links, ctx) : { kind: 'empty' };

  const split = splitHead(head);
  if (split.kind === 'link') return runDefault(words, links, ctx);
  const spec = findCommand(split.word);
  if (spec) return spec.parse(split.glued ? [split.glued, ...rest] : rest, links, ctx);

  const suggestion = suggestCommand(split.word);
  return suggestion
    ? { kind: 'unknown', word: split.word, suggestion }
    : { kind: 'unknown', word: split.word };
}

/**
 * Names the command when the first word is one (`stats`, `统计https://…`), else `stats`, which a message of
 * links runs; only the first {@link HEAD_PEEK} characters are read.
 */
function tooLong(text: string, max: number): ParseOutcome {
  const head = text.slice(0, HEAD_PEEK).split(/\s/, 1)[0] ?? '';
  const split = splitHead(head);
  const spec = split.kind === 'word' ? findCommand(split.word) : undefined;
  return usage(spec?.name ?? 'stats', 'too_long', { max, length: text.length });
}

/**
 * `[label](https://…)` → ` (https://…)`: a label with spaces must not split one link into several words. What
 * `/\[[^\]\n]*\]\((?=https?:\/\/)/g` would replace, in one pass: that regex scans from every `[` to the next `]`,
 * so a run of `[` is quadratic. Every `[` before a `]` shares that `]`, and only the first of them can match.
 */
function dropMarkdownLinkLabels(text: string): string {
  let out = '';
  let from = 0;
  let open = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charAt(i);
    if (ch === '[') {
      if (open < 0) open = i;
    } else if (ch === '\n') {
      open = -1;
    } else if (ch === ']') {
      if (open >= 0 && text.charAt(i + 1) === '(' && startsWithScheme(text, i + 2)) {
        out += `${text.slice(from, open)} (`;
        from = i + 2;
        i++;
      }
      open = -1;
    }
  }
  return out + text.slice(from);
}

function startsWithScheme(text: string, at: number): boolean {
  const start = text.slice(at, at + 'https://'.length).toLowerCase();
  return start.startsWith('https://') || start.startsWith('http://');
}

/** The closest command word (English or alias) within edit distance 2, for "did you mean". */
export function suggestCommand(word: string): CommandName | undefined {
  const typed = canonicalize(word);
  if (!typed) return undefined;
  const typedLength = Array.from(typed).length;
  let best: { name: CommandName; distance: number } | undefined;
  for (const spec of COMMANDS) {
    for (const term of [spec.name, ...spec.aliases]) {
      const termLength = Array.from(term).length;
      // One- and two-letter words are too easy to reach: allow a single edit only, and never a total rewrite
      // ("x" is one edit from "h" but is not a typo of it).
      const limit = Math.min(typedLength, termLength) <= 2 ? 1 : 2;
      // The distance is at least the difference in length: a long word is never compared letter by letter.
      if (Math.abs(typedLength - termLength) > limit) continue;
      const distance = levenshtein(typed, term.toLowerCase());
      if (distance > limit || distance >= Math.max(typedLength, termLength)) continue;
      if (!best || distance < best.distance) best = { name: spec.name, distance };
    }
  }
  return best?.name;
}

/** A message made of links only means `stats`: pasting a link is the most common way people ask. */
function runDefault(args: readonly string[], links: readonly string[], ctx: ParseContext): ParseOutcome {
  const stats = COMMANDS.find((spec) => spec.name === 'stats');
  return stats ? stats.parse(args, links, ctx) : { kind: 'empty' };
}

function parseStats(links: readonly string[]): ParseOutcome {
  if (links.length === 0) return { kind: 'usage', command: 'stats', problem: 'no_link' };
  if (links.length > MAX_LINKS_PER_COMMAND)
    return usage('stats', 'too_many_links', { max: MAX_LINKS_PER_COMMAND });
  return { kind: 'command', command: { name: 'stats', links: [...links] } };
}

function parseSingleLink(name: 'viewers' | 'likes', links: readonly string[]): ParseOutcome {
  const [link] = links;
  if (link === undefined) return usage(name, 'no_link');
  if (links.length > MAX_LINKS_PER_LIST_COMMAND)
    return usage(name, 'too_many_links', { max: MAX_LINKS_PER_LIST_COMMAND });
  return { kind: 'command', command: { name, link } };
}

/** `unread <link>`: in a group only, where there are members to compare the visitors with. */
function parseUnread(links: readonly string[], ctx: ParseContext): ParseOutcome {
  if (ctx.chatType === 'p2p') return usage('unread', 'group_only');
  const link = oneLink('unread', links);
  return typeof link === 'string' ? { kind: 'command', command: { name: 'unread', link } } : link;
}

const EXPORT_LISTS: Readonly<Record<string, 'viewers' | 'likes'>> = {
  viewers: 'viewers',
  访问记录: 'viewers',
  访客: 'viewers',
  likes: 'likes',
  点赞: 'likes',
};

/**
 * `export viewers|likes <link>` (`导出 访问记录|点赞 <link>`): the list word first. A link glued to it
 * (`导出 访问记录https://…`) is still the message's link; only the word before it is read here.
 */
function parseExport(args: readonly string[], links: readonly string[]): ParseOutcome {
  const [first] = args;
  const word = first === undefined ? '' : canonicalize(first.slice(0, findLinkSpans(first)[0]?.start));
  const what = lookup(EXPORT_LISTS, word);
  if (!what) {
    // Nothing, or a link, where the list word should be: the usage card says which lists there are.
    return word === '' || first === undefined
      ? usage('export', 'bad_export_list')
      : usage('export', 'bad_export_list', { input: first });
  }
  const link = oneLink('export', links);
  return typeof link === 'string' ? { kind: 'command', command: { name: 'export', what, link } } : link;
}

/** The ranges `trend` draws: snapshots are kept 90 days (SNAPSHOT_RETENTION_DAYS). */
export type TrendDays = 7 | 30 | 90;
export const DEFAULT_TREND_DAYS: TrendDays = 30;
const TREND_RANGE = /^(7|30|90)(?:d|天)$/i;

/**
 * `trend <link> [7d|30d|90d]` (`趋势 <link> [7天|30天|90天]`), the range anywhere after the command word. Words
 * holding a link are the link; any other word must be the range. In a post a link's label comes as words while
 * its URL is an href, so when no word holds a link the other words are that label, not a range.
 */
function parseTrend(args: readonly string[], links: readonly string[]): ParseOutcome {
  const words = args.filter((word) => findLinkSpans(word).length === 0);
  const labelled = links.length > 0 && words.length === args.length;
  const ranges = words.flatMap((word) => {
    const match = TREND_RANGE.exec(word.normalize('NFKC'));
    return match ? [{ word, days: Number(match[1]) as TrendDays }] : [];
  });
  const stray = words.find((word) => !TREND_RANGE.test(word.normalize('NFKC')));
  if (stray !== undefined && !labelled) return usage('trend', 'bad_trend_range', { input: stray });
  if (ranges.length > 1) return usage('trend', 'bad_trend_range', { input: ranges[1]?.word ?? '' });
  const link = oneLink('trend', links);
  if (typeof link !== 'string') return link;
  return { kind: 'command', command: { name: 'trend', link, days: ranges[0]?.days ?? DEFAULT_TREND_DAYS } };
}

/** The link of a command that takes exactly one, or the usage outcome saying what is wrong with the links. */
function oneLink(name: CommandName, links: readonly string[]): string | ParseOutcome {
  const [link] = links;
  if (link === undefined) return usage(name, 'no_link');
  if (links.length > MAX_LINKS_PER_LIST_COMMAND)
    return usage(name, 'too_many_links', { max: MAX_LINKS_PER_LIST_COMMAND });
  return link;
}

const ISO_DAY = String.raw`\d{4}-\d{2}-\d{2}`;
const LAST_DAYS = /^(?:last\s*|最近|近)?(\d{1,4})\s*(?:d|days?|天)$/i;
// Separators people use between two dates, including the en dash our own range labels print.
// Spaces are a separator of their own rather than one of the list inside `\s*…\s*`: `\s*\s\s*` splits a run of
// spaces in quadratically many ways before the second date fails.
const BETWEEN = new RegExp(`^(${ISO_DAY})(?:\\s*(?:~|～|\\.\\.|至|到|–|—|-)\\s*|\\s+)(${ISO_DAY})$`);
const THIS_WEEK = new Set(['this-week', 'this_week', 'thisweek', 'this week', '本周', '这周']);
const LAST_MONTH = new Set(['last-month', 'last_month', 'lastmonth', 'last month', '上月', '上个月']);

function parseWorkplace(args: readonly string[]): ParseOutcome {
  const text = args.join(' ').toLowerCase();
  const range = parseWorkplaceRange(text);
  return range
    ? { kind: 'command', command: { name: 'workplace', range } }
    : usage('workplace', 'bad_range', { input: args.join(' ') });
}

function parseWorkplaceRange(text: string): WorkplaceRangeSpec | undefined {
  if (text === '') return { kind: 'last_days', days: 7 };
  if (THIS_WEEK.has(text)) return { kind: 'this_week' };
  if (LAST_MONTH.has(text)) return { kind: 'last_month' };
  const lastDays = LAST_DAYS.exec(text);
  if (lastDays) {
    const days = Number(lastDays[1]);
    return days >= 1 ? { kind: 'last_days', days } : undefined;
  }
  const between = BETWEEN.exec(text);
  const [from, to] = [between?.[1], between?.[2]];
  if (from && to && isCalendarDay(from) && isCalendarDay(to)) return { kind: 'between', from, to };
  return undefined;
}

// Feishu app ids are `cli_` + 16 lower-case hex digits as the console shows them; typed case is forgiven.
const APP_ID = /^cli_[0-9a-z]{16}$/i;
const DATE_LIKE = /^\d{4}[-/.年]/;
/**
 * Only open_department_ids (`od-…`): the overview call sends no department_id_type, so Feishu reads the id as
 * an open_department_id, and a custom department_id would fail with 211006. Accepting any leftover word would
 * also turn a typo such as `weeek` into a department.
 * https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
 */
const OPEN_DEPARTMENT_ID = /^od-[0-9a-z]+$/i;
const CYCLE_WORDS: Readonly<Record<string, AppUsageCycle>> = {
  day: 'day',
  daily: 'day',
  日: 'day',
  日活: 'day',
  week: 'week',
  weekly: 'week',
  周: 'week',
  周活: 'week',
  month: 'month',
  monthly: 'month',
  月: 'month',
  月活: 'month',
};
const ABILITY_WORDS: Readonly<Record<string, AppAbility>> = {
  app: 'app',
  mp: 'mp',
  小程序: 'mp',
  h5: 'h5',
  web: 'h5',
  网页: 'h5',
  bot: 'bot',
  机器人: 'bot',
};

/** Arguments are told apart by their shape, so any order works; each kind may appear once. */
function parseApp(args: readonly string[]): ParseOutcome {
  let appId: string | undefined;
  let cycle: AppUsageCycle | undefined;
  let date: string | undefined;
  let ability: AppAbility | undefined;
  let departmentId: string | undefined;
  for (const arg of args) {
    const word = arg.toLowerCase();
    const cycleWord = lookup(CYCLE_WORDS, word);
    const abilityWord = lookup(ABILITY_WORDS, word);
    const isDay = isCalendarDay(arg);
    if (APP_ID.test(arg)) {
      if (appId !== undefined) return usage('app', 'too_many_args', { input: arg });
      appId = word;
    } else if (word.startsWith('cli_')) {
      return usage('app', 'bad_app_id', { input: arg });
    } else if (cycleWord) {
      if (cycle !== undefined) return usage('app', 'too_many_args', { input: arg });
      cycle = cycleWord;
    } else if (abilityWord) {
      if (ability !== undefined) return usage('app', 'too_many_args', { input: arg });
      ability = abilityWord;
    } else if (isDay || DATE_LIKE.test(arg)) {
      if (!isDay) return usage('app', 'bad_date', { input: arg });
      if (date !== undefined) return usage('app', 'too_many_args', { input: arg });
      date = arg;
    } else if (OPEN_DEPARTMENT_ID.test(arg)) {
      if (departmentId !== undefined) return usage('app', 'too_many_args', { input: arg });
      departmentId = arg;
    } else {
      return usage('app', 'bad_arg', { input: arg });
    }
  }
  return {
    kind: 'command',
    command: {
      name: 'app',
      ...(appId !== undefined ? { appId } : {}),
      cycle: cycle ?? 'day',
      ...(date !== undefined ? { date } : {}),
      ability: ability ?? 'app',
      ...(departmentId !== undefined ? { departmentId } : {}),
    },
  };
}

/** Cadence words are read apart (`parseDigestCadence`): Chinese glues the day to them. */
const DIGEST_VERBS: Readonly<Record<string, Exclude<DigestAction['kind'], 'cadence'>>> = {
  list: 'list',
  列表: 'list',
  查看: 'list',
  add: 'add',
  添加: 'add',
  remove: 'remove',
  删除: 'remove',
  移除: 'remove',
  time: 'time',
  时间: 'time',
  off: 'off',
  关闭: 'off',
  取消: 'off',
};
const WORKPLACE_WORDS = new Set(['workplace', '工作台']);
const APP_WORDS = new Set(['app', '应用']);
// `3`, `#3`, `第3个`: the number the subscriptions card shows. Three digits is far above MAX_DIGEST_ITEMS.
const ITEM_INDEX = /^(?:#|第)?(\d{1,3})(?:个|项|条)?$/;
const CLOCK = /^(\d{1,2}):(\d{2})$/;
// `9点`, `9点30`, `9点30分`, `9点半`, optionally after 上午/早上/下午 as people say it.
const CHINESE_CLOCK = /^(上午|早上|下午)?(\d{1,2})[点點时時](?:(\d{1,2})分?|(半))?$/;

/**
 * `digest [list|add …|remove n|time HH:MM|daily|weekly [day]|monthly [day]|off]`. `订阅` means "subscribe", so a
 * target written straight after the command word (`订阅 <link>`, `订阅 工作台`, `订阅 应用 cli_…`) is an `add` too.
 */
function parseDigest(args: readonly string[], links: readonly string[]): ParseOutcome {
  const [first, ...rest] = args;
  if (first === undefined) return links.length > 0 ? parseDigestAdd([], links) : digest({ kind: 'list' });
  const cadence = parseDigestCadence(first, rest);
  if (cadence) return cadence;
  switch (lookup(DIGEST_VERBS, canonicalize(first))) {
    case 'list':
      return rest[0] === undefined ? digest({ kind: 'list' }) : tooManyArgs(rest[0]);
    case 'off':
      return rest[0] === undefined ? digest({ kind: 'off' }) : tooManyArgs(rest[0]);
    case 'add':
      return parseDigestAdd(rest, links);
    case 'remove':
      return parseDigestRemove(rest);
    case 'time':
      return parseDigestTime(rest);
    case undefined: {
      // Also `添加https://…`, a verb glued to its link: no verb matches, but the message carries a link.
      const target = canonicalize(first);
      if (
        links.length > 0 ||
        WORKPLACE_WORDS.has(target) ||
        APP_WORDS.has(target) ||
        target.startsWith('cli_')
      ) {
        return parseDigestAdd(args, links);
      }
      return usage('digest', 'bad_arg', { input: first });
    }
  }
}

function parseDigestAdd(args: readonly string[], links: readonly string[]): ParseOutcome {
  const [first, second, third] = args;
  const word = first === undefined ? '' : canonicalize(first);
  if (WORKPLACE_WORDS.has(word)) {
    return second === undefined ? digestAdd({ kind: 'workplace' }) : tooManyArgs(second);
  }
  if (APP_WORDS.has(word)) return parseDigestApp(second, third);
  if (first?.toLowerCase().startsWith('cli_') && links.length === 0) return parseDigestApp(first, second);
  // Everything else is a document; in a post the words are the link's label and the URL is in the hrefs.
  const [link] = links;
  if (link === undefined) return usage('digest', 'no_link');
  if (links.length > MAX_LINKS_PER_LIST_COMMAND)
    return usage('digest', 'too_many_links', { max: MAX_LINKS_PER_LIST_COMMAND });
  return digestAdd({ kind: 'doc', link });
}

function parseDigestApp(appId: string | undefined, extra: string | undefined): ParseOutcome {
  if (appId === undefined) return usage('digest', 'bad_app_id');
  if (!APP_ID.test(appId)) return usage('digest', 'bad_app_id', { input: appId });
  if (extra !== undefined) return tooManyArgs(extra);
  return digestAdd({ kind: 'app', appId: appId.toLowerCase() });
}

function parseDigestRemove(args: readonly string[]): ParseOutcome {
  const [first, extra] = args;
  if (first === undefined) return usage('digest', 'bad_index');
  const match = ITEM_INDEX.exec(toHalfWidth(first));
  const index = Number(match?.[1]);
  if (!match || index < 1) return usage('digest', 'bad_index', { input: first });
  return extra === undefined ? digest({ kind: 'remove', index }) : tooManyArgs(extra);
}

/** `9 点 30` is typed with spaces as often as without, so the words are read as one. */
function parseDigestTime(args: readonly string[]): ParseOutcome {
  if (args.length === 0) return usage('digest', 'bad_time');
  const time = parseTimeOfDay(toHalfWidth(args.join('')));
  return time ? digest({ kind: 'time', ...time }) : usage('digest', 'bad_time', { input: args.join(' ') });
}

const CADENCE_WORDS: Readonly<Record<string, DigestCadence['kind']>> = {
  daily: 'daily',
  每天: 'daily',
  每日: 'daily',
  天天: 'daily',
  weekly: 'weekly',
  每周: 'weekly',
  每週: 'weekly',
  每星期: 'weekly',
  每礼拜: 'weekly',
  monthly: 'monthly',
  每月: 'monthly',
  每个月: 'monthly',
};
// Chinese runs the day into the word: `每周一`, `每周五`, `每月15号`.
const GLUED_CADENCE = /^(每周|每週|每星期|每礼拜|每月|每个月)(.+)$/;
const WEEKDAY_WORDS: Readonly<Record<string, number>> = {
  mon: 1,
  monday: 1,
  tue: 2,
  tues: 2,
  tuesday: 2,
  wed: 3,
  weds: 3,
  wednesday: 3,
  thu: 4,
  thur: 4,
  thurs: 4,
  thursday: 4,
  fri: 5,
  friday: 5,
  sat: 6,
  saturday: 6,
  sun: 7,
  sunday: 7,
};
// `周一`, `星期五`, `礼拜天`, or the bare numeral after 每周 (`每周 一`); 日 and 天 are both Sunday.
const CHINESE_WEEKDAY = /^(?:周|週|星期|礼拜|禮拜)?([一二三四五六日天])$/;
const CHINESE_WEEKDAYS = '一二三四五六日';
// `15`, `15号`, `15日`, `15th`, `1st`: the digits as written, checked against 1…28 afterwards.
const MONTH_DAY = /^(\d{1,3})(?:号|號|日|st|nd|rd|th)?$/;

/** `digest daily|weekly [day]|monthly [day]` and the Chinese forms, or undefined when `first` is no cadence word. */
function parseDigestCadence(first: string, rest: readonly string[]): ParseOutcome | undefined {
  const word = canonicalize(first);
  let kind = lookup(CADENCE_WORDS, word);
  let args = rest;
  if (!kind) {
    const glued = GLUED_CADENCE.exec(word);
    if (!glued?.[1] || !glued[2]) return undefined;
    kind = lookup(CADENCE_WORDS, glued[1]);
    args = [glued[2], ...rest];
  }
  if (!kind) return undefined;
  switch (kind) {
    case 'daily':
      return args[0] === undefined
        ? digest({ kind: 'cadence', cadence: { kind: 'daily' } })
        : tooManyArgs(args[0]);
    case 'weekly': {
      if (args[0] === undefined) return digest({ kind: 'cadence', cadence: { kind: 'weekly', weekday: 1 } });
      const read = readDigestDay(args, parseWeekday);
      if ('extra' in read) return tooManyArgs(read.extra);
      if ('bad' in read) return usage('digest', 'bad_weekday', { input: read.bad });
      return digest({ kind: 'cadence', cadence: { kind: 'weekly', weekday: read.value } });
    }
    case 'monthly': {
      if (args[0] === undefined) return digest({ kind: 'cadence', cadence: { kind: 'monthly', day: 1 } });
      const read = readDigestDay(args, parseMonthDay);
      if ('extra' in read) return tooManyArgs(read.extra);
      if ('bad' in read) return usage('digest', 'bad_month_day', { input: read.bad });
      if (read.value < 1 || read.value > MAX_MONTHLY_DAY) {
        return usage('digest', 'bad_month_day', { input: read.text, day: read.value });
      }
      return digest({ kind: 'cadence', cadence: { kind: 'monthly', day: read.value } });
    }
  }
}

/**
 * The day after a cadence word, typed with a space inside it as often as without (`周 一`, `15 号`): the words
 * read as one, unless the first is a day by itself and so is what follows (`weekly mon tue`, `monthly 1 15`),
 * which names the second as the extra word.
 */
function readDigestDay(
  args: readonly string[],
  read: (text: string) => number | undefined,
): { value: number; text: string } | { extra: string } | { bad: string } {
  const [first = '', second, ...others] = args;
  const alone = read(first);
  if (second === undefined) return alone === undefined ? { bad: first } : { value: alone, text: first };
  const joined = args.join('');
  const whole = read(joined);
  if (alone !== undefined && (whole === undefined || read([second, ...others].join('')) !== undefined)) {
    return { extra: second };
  }
  return whole === undefined ? { bad: args.join(' ') } : { value: whole, text: joined };
}

function parseWeekday(text: string): number | undefined {
  const word = text.normalize('NFKC').toLowerCase();
  const named = lookup(WEEKDAY_WORDS, word.endsWith('.') ? word.slice(0, -1) : word);
  if (named !== undefined) return named;
  const chinese = CHINESE_WEEKDAY.exec(word)?.[1];
  if (chinese === undefined) return undefined;
  return chinese === '天' ? 7 : CHINESE_WEEKDAYS.indexOf(chinese) + 1;
}

/** Any number of one to three digits with its suffix; whether it is 1…28 is the caller's check, to say so. */
function parseMonthDay(text: string): number | undefined {
  const match = MONTH_DAY.exec(toHalfWidth(text).toLowerCase());
  return match ? Number(match[1]) : undefined;
}

function parseTimeOfDay(text: string): { hour: number; minute: number } | undefined {
  let hour: number;
  let minute: number;
  const clock = CLOCK.exec(text);
  const chinese = CHINESE_CLOCK.exec(text);
  if (clock) {
    hour = Number(clock[1]);
    minute = Number(clock[2]);
  } else if (chinese) {
    const [, halfOfDay, h, m, half] = chinese;
    hour = Number(h);
    minute = half ? 30 : Number(m ?? 0);
    if (halfOfDay) {
      // 上午 12点 is not a time people write; 下午 1点 is 13:00 and 下午 12点 is noon.
      if (hour < 1 || hour > 12 || (halfOfDay !== '下午' && hour === 12)) return undefined;
      if (halfOfDay === '下午' && hour < 12) hour += 12;
    }
  } else {
    return undefined;
  }
  return hour <= 23 && minute <= 59 ? { hour, minute } : undefined;
}

/** Full-width digits and colon (Chinese input methods) → ASCII. */
function toHalfWidth(text: string): string {
  return text.replace(/[０-９]/g, (ch) => String.fromCharCode(ch.charCodeAt(0) - 0xfee0)).replace(/：/g, ':');
}

function digest(action: DigestAction): ParseOutcome {
  return { kind: 'command', command: { name: 'digest', action } };
}

function digestAdd(target: DigestTarget): ParseOutcome {
  return digest({ kind: 'add', target });
}

function tooManyArgs(extra: string): ParseOutcome {
  return usage('digest', 'too_many_args', { input: extra });
}

/** Own keys only: a user typing `constructor` must not find `Object.prototype.constructor`. */
function lookup<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function usage(
  command: CommandName,
  problem: UsageProblem,
  detail?: Record<string, string | number>,
): ParseOutcome {
  return detail ? { kind: 'usage', command, problem, detail } : { kind: 'usage', command, problem };
}

/**
 * The first word may be a command, a link (possibly wrapped as `(url)`), or a command glued to a link as
 * Chinese users type it: `统计https://…`, `统计：https://…`.
 */
function splitHead(head: string): { kind: 'link' } | { kind: 'word'; word: string; glued?: string } {
  const first = findLinkSpans(head)[0];
  if (!first) return { kind: 'word', word: head };
  const prefix = head.slice(0, first.start);
  const glued = head.slice(first.start);
  if (findCommand(prefix)) return { kind: 'word', word: prefix, glued };
  const word = trimTrailingSymbols(prefix);
  return word === '' ? { kind: 'link' } : { kind: 'word', word, glued };
}

/**
 * `word` without the punctuation and symbols at its end (`统计：`, `see!!`). A loop from the end, not
 * `/[\p{P}\p{S}]+$/u`: that regex is retried from every character of a long run and goes quadratic.
 */
function trimTrailingSymbols(word: string): string {
  let end = word.length;
  while (end > 0) {
    // A symbol such as an emoji is two code units; step over the pair so the test sees the whole code point.
    const width = end >= 2 && isSurrogatePair(word.charCodeAt(end - 2), word.charCodeAt(end - 1)) ? 2 : 1;
    if (!PUNCTUATION_OR_SYMBOL.test(word.slice(end - width, end))) break;
    end -= width;
  }
  return word.slice(0, end);
}

function isSurrogatePair(high: number, low: number): boolean {
  return high >= 0xd800 && high <= 0xdbff && low >= 0xdc00 && low <= 0xdfff;
}

function findCommand(word: string): CommandSpec | undefined {
  const typed = canonicalize(word);
  if (!typed) return undefined;
  return COMMANDS.find(
    (spec) => spec.name === typed || spec.aliases.some((alias) => alias.toLowerCase() === typed),
  );
}

/**
 * Case-insensitive, with an optional leading `/` (slash-command habit) and trailing colons ignored. A loop, not
 * `/[:：]+$/`, which is retried from every colon of a long run that ends in something else: quadratic.
 */
function canonicalize(word: string): string {
  const start = word.startsWith('/') || word.startsWith('／') ? 1 : 0;
  let end = word.length;
  while (end > start && (word.charAt(end - 1) === ':' || word.charAt(end - 1) === '：')) end--;
  return word.slice(start, end).toLowerCase();
}

/** Plain Levenshtein distance over code points (so CJK aliases count one edit per character). */
function levenshtein(a: string, b: string): number {
  const left = Array.from(a);
  const right = Array.from(b);
  let previous = Array.from({ length: right.length + 1 }, (_, j) => j);
  for (let i = 1; i <= left.length; i++) {
    const current = [i];
    for (let j = 1; j <= right.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (left[i - 1] === right[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[right.length] ?? 0;
}
