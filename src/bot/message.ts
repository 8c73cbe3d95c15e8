/**
 * Turns the `content` of an `im.message.receive_v1` event into command text plus the links it carries.
 * https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
 */
import type { MessageMention, MessageReceiveEvent } from '../feishu/events.js';

export interface ExtractedMessage {
  /** Command text with every mention placeholder (`@_user_1`, `@_all`) removed and whitespace collapsed/trimmed. */
  text: string;
  /** Every http(s) link found, in order, de-duplicated. */
  links: string[];
  mentions: MessageMention[];
}

/** Where a link sits in the text it was found in; `url` may differ from the slice (scheme added, tail trimmed). */
export interface LinkSpan {
  url: string;
  start: number;
  end: number;
}

interface PostElement {
  tag?: unknown;
  text?: unknown;
  href?: unknown;
}

const SCHEMED_START = /https?:\/\//gi;
// Scheme-less links only for Feishu hosts, and only with a path: a bare "feishu.cn" in prose is not a document.
// The look-behind keeps e-mail addresses (`bob@x.feishu.cn/…`) and hosts inside longer names out.
const SCHEMELESS_START =
  /(?<![\w.@/:-])(?:[a-z0-9-]+\.)*(?:feishu\.cn|larksuite\.com|larkoffice\.com)(?=\/)/gi;
/** ASCII characters that never belong to a link in chat text; `(`/`)` are handled by balance. */
const ASCII_STOPS = new Set(['<', '>', '"', "'", '`', '[', ']', '{', '}']);
/** Sentence punctuation typed right after a link (`see …/docx/T.`), trimmed off its end. */
const TRAILING_PUNCTUATION = new Set(['.', ',', ';', ':', '!', '?']);
/** Post languages in the order we prefer them when the content is language-wrapped. */
const POST_LANGUAGES = ['zh_cn', 'en_us', 'ja_jp'] as const;
// Digits decide where a user key ends, so `@_user_1stats` still yields `stats`.
const MENTION_PLACEHOLDER = /@_user_\d+|@_all(?!\w)/g;

/** null for message types the bot does not read (image, file, sticker, …) or unparseable content. */
export function extractMessage(message: MessageReceiveEvent['message']): ExtractedMessage | null {
  const content = parseJsonObject(message.content);
  if (!content) return null;
  const mentions = message.mentions ?? [];

  if (message.message_type === 'text') {
    if (typeof content.text !== 'string') return null;
    const text = normalizeText(stripMentions(content.text, mentions));
    return { text, links: findLinks(text), mentions };
  }
  if (message.message_type === 'post') {
    const paragraphs = pickPostParagraphs(content);
    if (!paragraphs) return null;
    return { ...readPost(paragraphs, mentions), mentions };
  }
  return null;
}

/** Find links in free text: `https://…`, `[label](url)` markdown, and scheme-less Feishu links such as `x.feishu.cn/docx/T`. */
export function findLinks(text: string): string[] {
  return dedupe(findLinkSpans(text).map((span) => span.url));
}

/** Like {@link findLinks} but keeps positions (and duplicates), so callers can tell link text from other words. */
export function findLinkSpans(text: string): LinkSpan[] {
  const starts: Array<{ start: number; bodyStart: number; schemeless: boolean }> = [];
  for (const m of text.matchAll(SCHEMED_START)) {
    starts.push({ start: m.index, bodyStart: m.index + m[0].length, schemeless: false });
  }
  for (const m of text.matchAll(SCHEMELESS_START)) {
    starts.push({ start: m.index, bodyStart: m.index, schemeless: true });
  }
  starts.sort((a, b) => a.start - b.start);

  const spans: LinkSpan[] = [];
  let consumedTo = 0;
  for (const candidate of starts) {
    if (candidate.start < consumedTo) continue;
    // `https://` followed by nothing usable is not a link. Checked before scanning: a rejected start scanned
    // to the end would make `https://:https://:…` quadratic.
    if (!isAsciiAlphanumeric(text.charCodeAt(candidate.bodyStart))) continue;
    const end = trimTrailingPunctuation(text, candidate.bodyStart, scanLinkEnd(text, candidate.bodyStart));
    const url = text.slice(candidate.start, end);
    spans.push({ url: candidate.schemeless ? `https://${url}` : url, start: candidate.start, end });
    consumedTo = end;
  }
  return spans;
}

/**
 * Index just past the link that begins at `from`. A `)` closes the link only when unbalanced, so
 * `[x](url)` and `(url)` lose the bracket while `…/Foo_(bar)` keeps it. Any non-ASCII character ends
 * a link: Feishu URLs are ASCII, and Chinese text or punctuation (`。，）」】`) is often typed right after one.
 */
function scanLinkEnd(text: string, from: number): number {
  let depth = 0;
  let i = from;
  for (; i < text.length; i++) {
    const ch = text.charAt(i);
    const code = ch.charCodeAt(0);
    if (code <= 0x20 || code >= 0x7f || ASCII_STOPS.has(ch)) break;
    if (ch === '(') depth++;
    else if (ch === ')') {
      if (depth === 0) break;
      depth--;
    }
  }
  return i;
}

/**
 * End index once trailing sentence punctuation is dropped, never cutting into `[from, …)`. A loop, not
 * `/[.,;:!?]+$/`: that regex restarts at every character of a long punctuation run and goes quadratic.
 */
function trimTrailingPunctuation(text: string, from: number, end: number): number {
  let i = end;
  while (i > from && TRAILING_PUNCTUATION.has(text.charAt(i - 1))) i--;
  return i;
}

function isAsciiAlphanumeric(code: number): boolean {
  return (code >= 0x30 && code <= 0x39) || (code >= 0x41 && code <= 0x5a) || (code >= 0x61 && code <= 0x7a);
}

function parseJsonObject(raw: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(raw);
    return isRecord(value) ? value : null;
  } catch {
    return null;
  }
}

/**
 * Received posts are `{title, content}`; the send format wraps that per language (`{zh_cn:{…}}`). Accept both
 * so a differently shaped delivery still parses. https://open.feishu.cn/document/server-docs/im-v1/message-content-description/create_json
 */
function pickPostParagraphs(content: Record<string, unknown>): unknown[] | null {
  const flat = readPostBody(content);
  if (flat) return flat;
  for (const lang of POST_LANGUAGES) {
    const paragraphs = readPostBody(content[lang]);
    if (paragraphs) return paragraphs;
  }
  for (const body of Object.values(content)) {
    const paragraphs = readPostBody(body);
    if (paragraphs) return paragraphs;
  }
  return null;
}

/**
 * Newer clients send `content_v2` beside (or instead of) `content`: the same paragraph arrays, but closer to
 * what was typed (Markdown stays in `md` elements that `content` re-renders as other tags). The receive-content
 * page does not document it, and real posts often carry `"content_v2": []`, so it wins only when it holds
 * paragraphs; Lark's own converters do the same (larksuite/openclaw-lark#571, larksuite/oapi-sdk-go#213).
 * https://open.feishu.cn/document/server-docs/im-v1/message-content-description/message_content
 */
function readPostBody(body: unknown): unknown[] | null {
  if (!isRecord(body)) return null;
  const v2: unknown = body.content_v2;
  if (isParagraphList(v2)) return v2;
  return Array.isArray(body.content) ? body.content : null;
}

/** Well-formed: at least one paragraph, every paragraph an array, and some element in them. */
function isParagraphList(value: unknown): value is unknown[][] {
  return (
    Array.isArray(value) &&
    value.every((paragraph) => Array.isArray(paragraph)) &&
    value.some((paragraph: unknown[]) => paragraph.some((element) => isRecord(element)))
  );
}

/**
 * Paragraphs are arrays of elements. `at` elements are the mentions themselves and are dropped; the title is not
 * part of the command. A `code_block` (`{tag, language?, text}`) reads like text: a link pasted into one counts.
 */
function readPost(
  paragraphList: readonly unknown[],
  mentions: MessageMention[],
): { text: string; links: string[] } {
  const paragraphs: string[] = [];
  const links: string[] = [];
  for (const paragraph of paragraphList) {
    if (!Array.isArray(paragraph)) continue;
    let line = '';
    for (const element of paragraph as PostElement[]) {
      if (!isRecord(element)) continue;
      const raw = typeof element.text === 'string' ? element.text : '';
      // `md` keeps mentions as markup (`<at user_id="ou_…">Tom</at>`) where `content` has an `at` element.
      const text = stripMentions(element.tag === 'md' ? stripAtMarkup(raw) : raw, mentions);
      if (element.tag === 'text' || element.tag === 'md') {
        line += text;
        links.push(...findLinks(text));
      } else if (element.tag === 'a' || element.tag === 'code_block') {
        // Padded so a label or code never glues onto the command word ("stats" + "周报").
        line += ` ${text} `;
        if (typeof element.href === 'string' && /^https?:\/\//i.test(element.href.trim())) {
          links.push(element.href.trim());
        }
        links.push(...findLinks(text));
      }
    }
    paragraphs.push(line);
  }
  return { text: normalizeText(paragraphs.join('\n')), links: dedupe(links) };
}

/**
 * Replaces `<at …>name</at>` spans in Markdown with a space. A scan, not a regex, and linear: once no `>` or `</at>` is left
 * after some point there is none after any later point either, so it stops instead of searching again.
 */
function stripAtMarkup(text: string): string {
  let out = '';
  let from = 0;
  for (;;) {
    const open = text.indexOf('<at', from);
    if (open < 0) break;
    const next = text.charAt(open + 3);
    if (next !== '>' && next !== ' ') {
      out += text.slice(from, open + 3);
      from = open + 3;
      continue;
    }
    const tagEnd = text.indexOf('>', open + 3);
    const close = tagEnd < 0 ? -1 : text.indexOf('</at>', tagEnd + 1);
    if (close < 0) break;
    // A space, so the words on either side of the mention stay apart.
    out += `${text.slice(from, open)} `;
    from = close + '</at>'.length;
  }
  return out + text.slice(from);
}

/** Removes the `@_user_N` / `@_all` keys Feishu puts in the text; a literal `@` (e-mail) stays. */
function stripMentions(text: string, mentions: readonly MessageMention[]): string {
  let out = text.replace(MENTION_PLACEHOLDER, '');
  // Keys outside the documented shapes are still removed, but never as the head of a longer key (`@_user_1` in `@_user_10`).
  for (const { key } of mentions) {
    if (!key.startsWith('@_')) continue;
    out = out.replace(new RegExp(`${escapeRegExp(key)}(?!\\d)`, 'g'), '');
  }
  return out;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function normalizeText(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function dedupe(values: readonly string[]): string[] {
  return [...new Set(values)];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
