/**
 * The Card JSON 2.0 skeleton and the small building blocks every card shares.
 *
 * 2.0 rejects unknown properties instead of ignoring them (1.0 ignored them), so these types list
 * only fields the 2.0 component pages document.
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-structure
 */

import {
  type Bilingual,
  type I18nContent,
  type Locale,
  type MarkdownElement,
  markdown,
  type PlainTextElement,
  plainText,
  sameInBoth,
  toI18nContent,
} from './i18n.js';

/** Feishu answers 230025 when a request body is larger (FEISHU.md, "More endpoints and codes"). */
export const MAX_CARD_BYTES = 30 * 1024;

export const CARD_LOCALES: readonly Locale[] = ['zh_cn', 'en_us'];

export type HeaderTemplate =
  | 'blue'
  | 'wathet'
  | 'turquoise'
  | 'green'
  | 'yellow'
  | 'orange'
  | 'red'
  | 'carmine'
  | 'violet'
  | 'purple'
  | 'indigo'
  | 'grey'
  | 'default';

export type ButtonType =
  | 'default'
  | 'primary'
  | 'danger'
  | 'text'
  | 'primary_text'
  | 'danger_text'
  | 'primary_filled'
  | 'danger_filled';

export interface OpenUrlBehavior {
  type: 'open_url';
  default_url: string;
  pc_url?: string;
  ios_url?: string;
  android_url?: string;
}

/** Arrives as `card.action.trigger` with `event.action.value` equal to `value`. */
export interface CallbackBehavior {
  type: 'callback';
  value: Record<string, unknown>;
}

/** https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/interactive-components/button */
export interface ButtonElement {
  tag: 'button';
  element_id?: string;
  type?: ButtonType;
  size?: 'tiny' | 'small' | 'medium' | 'large';
  width?: 'default' | 'fill';
  text: PlainTextElement;
  behaviors: Array<OpenUrlBehavior | CallbackBehavior>;
  margin?: string;
}

export type Spacing = 'small' | 'medium' | 'large' | 'extra_large' | `${number}px`;

export interface ColumnElement {
  tag: 'column';
  element_id?: string;
  width?: 'auto' | 'weighted' | `${number}px`;
  weight?: 1 | 2 | 3 | 4 | 5;
  background_style?: string;
  padding?: string;
  vertical_spacing?: Spacing;
  vertical_align?: 'top' | 'center' | 'bottom';
  horizontal_align?: 'left' | 'center' | 'right';
  elements: CardElement[];
}

/** https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/containers/column-set */
export interface ColumnSetElement {
  tag: 'column_set';
  element_id?: string;
  flex_mode?: 'none' | 'stretch' | 'flow' | 'bisect' | 'trisect';
  horizontal_spacing?: Spacing;
  horizontal_align?: 'left' | 'center' | 'right';
  background_style?: string;
  margin?: string;
  columns: ColumnElement[];
}

export interface HrElement {
  tag: 'hr';
  element_id?: string;
  margin?: string;
}

/**
 * Components no builder uses yet (charts, tables, person lists, …). Loosely typed so later cards
 * can add them without widening the union; they must still follow the 2.0 component pages.
 */
export interface OtherElement {
  tag: 'chart' | 'table' | 'collapsible_panel' | 'person' | 'person_list' | 'img' | 'interactive_container';
  element_id?: string;
  [field: string]: unknown;
}

export type CardElement = MarkdownElement | ButtonElement | ColumnSetElement | HrElement | OtherElement;

export interface CardHeader {
  title: PlainTextElement;
  subtitle?: PlainTextElement;
  template: HeaderTemplate;
}

export interface Card {
  schema: '2.0';
  config: {
    /** 2.0 cards only support shared cards; PATCH updates need it too. */
    update_multi: true;
    locales: Locale[];
    /** Chat-list preview text; plain text, no markdown or `<local_datetime>`. */
    summary: { content: string; i18n_content: I18nContent };
  };
  header: CardHeader;
  body: { elements: CardElement[] };
}

export interface CardSkeleton {
  title: Bilingual;
  subtitle?: Bilingual;
  template: HeaderTemplate;
  summary: Bilingual;
  elements: CardElement[];
}

export function buildCard(skeleton: CardSkeleton): Card {
  const header: CardHeader = { title: plainText(skeleton.title), template: skeleton.template };
  if (skeleton.subtitle) header.subtitle = plainText(skeleton.subtitle);
  return {
    schema: '2.0',
    config: {
      update_multi: true,
      locales: [...CARD_LOCALES],
      summary: { content: skeleton.summary.en, i18n_content: toI18nContent(skeleton.summary) },
    },
    header,
    body: { elements: skeleton.elements },
  };
}

/**
 * The largest envelope around a card the bot sends: `im/v1/messages` with a chat or open id (≤ 64 characters),
 * `msg_type` and a uuid (≤ 50), empty `content` (its two quotes are counted with the card below).
 */
const ENVELOPE_BYTES = Buffer.byteLength(
  JSON.stringify({ receive_id: 'x'.repeat(64), msg_type: 'interactive', content: '', uuid: 'x'.repeat(50) }),
  'utf8',
);

/**
 * What Feishu measures against the 30 KB limit (230025): the whole request body, in which `content` is the card
 * JSON encoded as a string a second time, so every `"`, `\\` and newline of the card counts twice.
 * https://open.feishu.cn/document/server-docs/im-v1/message/create (content: 请求体最大不能超过 30 KB)
 */
export function cardByteSize(card: Card): number {
  return ENVELOPE_BYTES + Buffer.byteLength(JSON.stringify(JSON.stringify(card)), 'utf8') - 2;
}

// Markdown-significant characters → numeric HTML entities, as the rich-text page's escaping table
// recommends. `<` and `>` stop `<at id=all>`, `<link>` and `<font>`; `[`, `]`, `(`, `)` stop links;
// `:` stops autolinks and `:EMOJI:` keys. Newlines would let text start lists, headings or rules.
const MARKDOWN_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&#38;',
  '<': '&#60;',
  '>': '&#62;',
  '*': '&#42;',
  _: '&#95;',
  '~': '&#126;',
  '`': '&#96;',
  '[': '&#91;',
  ']': '&#93;',
  '(': '&#40;',
  ')': '&#41;',
  '#': '&#35;',
  '+': '&#43;',
  '-': '&#45;',
  '!': '&#33;',
  '|': '&#124;',
  ':': '&#58;',
  $: '&#36;',
  '\\': '&#92;',
};

/** Makes untrusted text (titles, URLs, Feishu messages, user words) inert inside a markdown element. */
export function escapeMarkdown(text: string): string {
  return (
    text
      // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what must go
      .replace(/[\u0000-\u001f\u007f\u2028\u2029]+/g, ' ')
      .trim()
      .replace(/[&<>*_~`[\]()#+\-!|:$\\]/g, (ch) => MARKDOWN_ENTITIES[ch] ?? ch)
  );
}

/** A `yyyy-MM-dd` as is; anything else (it should not happen) escaped, since dates go into markdown. */
export function markdownDay(day: string): string {
  return /^\d{4}-\d{2}-\d{2}$/.test(day) ? day : escapeMarkdown(truncateText(day, 40));
}

/** Shortens by code points so a surrogate pair or CJK character is never cut in half. */
export function truncateText(text: string, maxChars: number): string {
  const chars = Array.from(text);
  return chars.length <= maxChars ? text : `${chars.slice(0, maxChars - 1).join('')}…`;
}

const COUNT_FORMAT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** Thousands separators; the same digits read naturally in both locales. */
export function formatCount(value: number): string {
  return Number.isFinite(value) ? COUNT_FORMAT.format(value) : '—';
}

/** Plain fallback for places `<local_datetime>` cannot go (summary, logs): `2021-07-27 06:29 UTC`. */
export function formatUtc(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

export type LocalDatetimeFormat = 'date_num' | 'date_short' | 'date' | 'time' | 'time_sec' | 'timezone';

/**
 * Rendered by each reader's client in their own time zone (rich-text "国际化时间" tag).
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/content-components/rich-text
 */
export function localDatetime(date: Date, format: LocalDatetimeFormat): string {
  return `<local_datetime millisecond='${date.getTime()}' format_type='${format}'></local_datetime>`;
}

/** `2021-07-27 14:29` in the reader's zone. */
export function localDateTimeText(date: Date): string {
  return `${localDatetime(date, 'date_num')} ${localDatetime(date, 'time')}`;
}

/**
 * The same as `localDateTimeText`, shorter: `date_num` is the tag's default format. For long lists, where
 * every byte counts 50 times against the 30 KB limit.
 */
export function compactDateTimeText(date: Date): string {
  const ms = date.getTime();
  return `<local_datetime millisecond='${ms}'></local_datetime> ${localDatetime(date, 'time')}`;
}

// Feishu ids (open_id `ou_…`, union_id `on_…`, user_id) are letters, digits, `_` and `-`; anything else
// could close the attribute quote and inject markup.
const SAFE_USER_ID = /^[A-Za-z0-9_-]{1,64}$/;

export function isSafeUserId(id: string | undefined): id is string {
  return id !== undefined && SAFE_USER_ID.test(id);
}

/**
 * Avatar + name rendered by the reader's client from an open_id (rich-text `<person>` tag; it shows both by
 * default, so the attributes are left out to keep 50-row lists under 30 KB). The caller checks `isSafeUserId`.
 * https://open.feishu.cn/document/feishu-cards/card-json-v2-components/content-components/rich-text
 */
export function personTag(openId: string): string {
  return `<person id='${openId}'></person>`;
}

/** Small grey footnote line (2.0 dropped the `note` component). */
export function greyNote(text: Bilingual, elementId?: string): MarkdownElement {
  const wrap = (s: string) => `<font color='grey'>${s}</font>`;
  return markdown(
    { zh: wrap(text.zh), en: wrap(text.en) },
    elementId ? { element_id: elementId, text_size: 'notation' } : { text_size: 'notation' },
  );
}

/** `1. …\n2. …` when there are several steps, the bare sentence when there is one. */
export function numberedSteps(steps: readonly Bilingual[]): Bilingual {
  if (steps.length === 1 && steps[0]) return steps[0];
  return {
    zh: steps.map((s, i) => `${i + 1}. ${s.zh}`).join('\n'),
    en: steps.map((s, i) => `${i + 1}. ${s.en}`).join('\n'),
  };
}

export function hr(): HrElement {
  return { tag: 'hr' };
}

/** `element_id`: letters, digits and `_`, starting with a letter, at most 20 characters. */
export function toElementId(prefix: string, raw: string): string {
  const id = `${prefix}_${raw.replace(/[^A-Za-z0-9_]/g, '_')}`;
  return /^[A-Za-z]/.test(id) ? id.slice(0, 20) : `e${id}`.slice(0, 20);
}

/** open_url only accepts http(s); anything else would make Feishu reject the whole card. */
export function isWebUrl(url: string): boolean {
  return /^https?:\/\/[^\s]+$/i.test(url);
}

export function openUrlButton(
  label: Bilingual,
  url: string,
  elementId: string,
  type: ButtonType,
): ButtonElement {
  return {
    tag: 'button',
    element_id: elementId,
    type,
    text: plainText(label),
    behaviors: [{ type: 'open_url', default_url: url }],
  };
}

export function callbackButton(
  label: Bilingual,
  value: Record<string, unknown>,
  elementId: string,
  type: ButtonType,
): ButtonElement {
  return {
    tag: 'button',
    element_id: elementId,
    type,
    text: plainText(label),
    behaviors: [{ type: 'callback', value }],
  };
}

/** 2.0 removed the `action` module; buttons sit side by side in auto-width columns that wrap. */
export function buttonRow(buttons: readonly ButtonElement[]): ColumnSetElement {
  return {
    tag: 'column_set',
    flex_mode: 'flow',
    horizontal_spacing: '8px',
    columns: buttons.map((button) => ({ tag: 'column', width: 'auto', elements: [button] })),
  };
}

/** One big figure with its label under it: a tile in a row of key numbers (stats, app usage). */
export function figureColumn(id: string, value: string, label: Bilingual): ColumnElement {
  return {
    tag: 'column',
    element_id: id,
    width: 'weighted',
    weight: 1,
    background_style: 'grey-50',
    padding: '12px',
    vertical_spacing: '2px',
    elements: [
      markdown(sameInBoth(`**${value}**`), { text_size: 'heading-1', text_align: 'center' }),
      markdown(
        { zh: `<font color='grey'>${label.zh}</font>`, en: `<font color='grey'>${label.en}</font>` },
        { text_size: 'notation', text_align: 'center' },
      ),
    ],
  };
}
