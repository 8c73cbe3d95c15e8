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

interface PostBody {
  title?: unknown;
  content?: unknown;
}

const SCHEMED_START = /https?:\/\//gi;
// Scheme-less links only for Feishu hosts, and only with a path: a bare "feishu.cn" in prose is not a document.
// The look-behind keeps e-mail addresses (`bob@x.feishu.cn/…`) and hosts inside longer names out.
const SCHEMELESS_START =
  /(?<![\w.@/:-])(?:[a-z0-9-]+\.)*(?:feishu\.cn|larksuite\.com|larkoffice\.com)(?=\/)/gi;
/** ASCII characters that never belong to a link in chat text; `(`/`)` are handled by balance. */
const ASCII_STOPS = new Set(['<', '>', '"', "'", '`', '[', ']', '{', '}']);
const TRAILING_PUNCTUATION = /[.,;:!?]+$/;
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
    const body = pickPostBody(content);
    if (!body) return null;
    return { ...readPost(body, mentions), mentions };
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
    let end = scanLinkEnd(text, candidate.bodyStart);
    const trimmed = text.slice(candidate.start, end).replace(TRAILING_PUNCTUATION, '');
    end = candidate.start + trimmed.length;
    // `https://` followed by nothing usable is not a link.
    if (!/^[a-z0-9]/i.test(text.slice(candidate.bodyStart, end))) continue;
    spans.push({ url: candidate.schemeless ? `https://${trimmed}` : trimmed, start: candidate.start, end });
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
function pickPostBody(content: Record<string, unknown>): PostBody | null {
  if (Array.isArray(content.content)) return content;
  for (const lang of POST_LANGUAGES) {
    const body = content[lang];
    if (isRecord(body) && Array.isArray(body.content)) return body;
  }
  for (const body of Object.values(content)) {
    if (isRecord(body) && Array.isArray(body.content)) return body;
  }
  return null;
}

/** Paragraphs are arrays of elements. `at` elements are the mentions themselves and are dropped; the title is not part of the command. */
function readPost(body: PostBody, mentions: MessageMention[]): { text: string; links: string[] } {
  const paragraphs: string[] = [];
  const links: string[] = [];
  const paragraphList = Array.isArray(body.content) ? body.content : [];
  for (const paragraph of paragraphList) {
    if (!Array.isArray(paragraph)) continue;
    let line = '';
    for (const element of paragraph as PostElement[]) {
      if (!isRecord(element)) continue;
      const text = typeof element.text === 'string' ? stripMentions(element.text, mentions) : '';
      if (element.tag === 'text' || element.tag === 'md') {
        line += text;
        links.push(...findLinks(text));
      } else if (element.tag === 'a') {
        // Padded so a label never glues onto the command word ("stats" + "周报").
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
