/**
 * Turns extracted message text into a command. Pure: no I/O, no knowledge of mentions or of whether a group
 * message was addressed to the bot (the caller decides that before parsing).
 */
import { type ExtractedMessage, findLinkSpans } from './message.js';

export type CommandName = 'stats' | 'help';
export type Command = { name: 'stats'; links: string[] } | { name: 'help' };
export type ParseOutcome =
  | { kind: 'command'; command: Command }
  | { kind: 'unknown'; word: string; suggestion?: CommandName }
  | { kind: 'usage'; command: CommandName; problem: 'no_link' | 'too_many_links' }
  | { kind: 'empty' };

export const MAX_LINKS_PER_COMMAND = 5;

export interface ParseContext {
  chatType: 'p2p' | 'group' | string;
}

interface CommandSpec {
  name: CommandName;
  /** Other words that run the command. Compared case-insensitively, like the name. */
  aliases: readonly string[];
  /** `args` are the words after the command word; `links` are all the message's links, post hrefs included. */
  parse(args: readonly string[], links: readonly string[], ctx: ParseContext): ParseOutcome;
}

/** One entry per command; registry order breaks ties in suggestions. */
const COMMANDS: readonly CommandSpec[] = [
  { name: 'stats', aliases: ['统计', '数据'], parse: (_args, links) => parseStats(links) },
  {
    name: 'help',
    aliases: ['帮助', '?', '？', 'h'],
    parse: () => ({ kind: 'command', command: { name: 'help' } }),
  },
];

// `[label](https://…)` → ` (https://…)`: a label with spaces must not split one link into several words.
const MARKDOWN_LINK_LABEL = /\[[^\]\n]*\]\((?=https?:\/\/)/gi;
const ONLY_PUNCTUATION = /^[\p{P}\p{S}]*$/u;
const TRAILING_PUNCTUATION = /[\p{P}\p{S}]+$/u;

/** The registered commands and their aliases, e.g. for the help card. */
export function listCommands(): ReadonlyArray<{ name: CommandName; aliases: readonly string[] }> {
  return COMMANDS.map(({ name, aliases }) => ({ name, aliases }));
}

export function parseCommand(message: ExtractedMessage, ctx: ParseContext): ParseOutcome {
  const words = message.text.replace(MARKDOWN_LINK_LABEL, ' (').split(/\s+/).filter(Boolean);
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

/** The closest command word (English or alias) within edit distance 2, for "did you mean". */
export function suggestCommand(word: string): CommandName | undefined {
  const typed = canonicalize(word);
  if (!typed) return undefined;
  const typedLength = Array.from(typed).length;
  let best: { name: CommandName; distance: number } | undefined;
  for (const spec of COMMANDS) {
    for (const term of [spec.name, ...spec.aliases]) {
      const termLength = Array.from(term).length;
      const distance = levenshtein(typed, term.toLowerCase());
      // One- and two-letter words are too easy to reach: allow a single edit only, and never a total rewrite
      // ("x" is one edit from "h" but is not a typo of it).
      const limit = Math.min(typedLength, termLength) <= 2 ? 1 : 2;
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
    return { kind: 'usage', command: 'stats', problem: 'too_many_links' };
  return { kind: 'command', command: { name: 'stats', links: [...links] } };
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
  if (ONLY_PUNCTUATION.test(prefix)) return { kind: 'link' };
  return { kind: 'word', word: prefix.replace(TRAILING_PUNCTUATION, '') || prefix, glued };
}

function findCommand(word: string): CommandSpec | undefined {
  const typed = canonicalize(word);
  if (!typed) return undefined;
  return COMMANDS.find(
    (spec) => spec.name === typed || spec.aliases.some((alias) => alias.toLowerCase() === typed),
  );
}

/** Case-insensitive, with an optional leading `/` (slash-command habit) and a trailing colon ignored. */
function canonicalize(word: string): string {
  return word
    .replace(/^[/／]/, '')
    .replace(/[:：]+$/, '')
    .toLowerCase();
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
