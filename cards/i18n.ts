/**
 * Bilingual text and the two text-bearing card elements built from it.
 *
 * Card JSON 2.0 has no card-wide `i18n_elements` any more: every text field carries its own
 * `i18n_content`, and `content` is what clients outside `config.locales` fall back to, so it holds
 * the English text. https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/configure-multi-language-content
 */

export interface Bilingual {
  zh: string;
  en: string;
}

export type Locale = 'zh_cn' | 'en_us';

export interface I18nContent {
  zh_cn: string;
  en_us: string;
}

export interface PlainTextElement {
  tag: 'plain_text';
  content: string;
  i18n_content?: I18nContent;
}

export type TextSize = 'heading-1' | 'heading-2' | 'heading-3' | 'heading' | 'normal' | 'notation';

/** https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-json-v2-components/content-components/rich-text */
export interface MarkdownElement {
  tag: 'markdown';
  element_id?: string;
  content: string;
  i18n_content?: I18nContent;
  text_size?: TextSize;
  text_align?: 'left' | 'center' | 'right';
  margin?: string;
}

/** The same text in both languages: document titles, URLs, numbers. */
export function sameInBoth(text: string): Bilingual {
  return { zh: text, en: text };
}

export function toI18nContent(text: Bilingual): I18nContent {
  return { zh_cn: text.zh, en_us: text.en };
}

export function plainText(text: Bilingual): PlainTextElement {
  return { tag: 'plain_text', content: text.en, i18n_content: toI18nContent(text) };
}

export function markdown(
  text: Bilingual,
  options: Omit<MarkdownElement, 'tag' | 'content' | 'i18n_content'> = {},
): MarkdownElement {
  return { tag: 'markdown', ...options, content: text.en, i18n_content: toI18nContent(text) };
}

/**
 * Markdown with no words in it (a `<local_datetime>`, a number): every locale renders `content` the same,
 * so `i18n_content` would only triple its bytes. Only for text that has nothing to translate.
 */
export function neutralMarkdown(
  content: string,
  options: Omit<MarkdownElement, 'tag' | 'content' | 'i18n_content'> = {},
): MarkdownElement {
  return { tag: 'markdown', ...options, content };
}

/** Joins bilingual fragments language by language. */
export function joinBilingual(parts: readonly Bilingual[], separator: string | Bilingual = ''): Bilingual {
  const sep = typeof separator === 'string' ? sameInBoth(separator) : separator;
  return {
    zh: parts.map((p) => p.zh).join(sep.zh),
    en: parts.map((p) => p.en).join(sep.en),
  };
}

export function mapBilingual(text: Bilingual, transform: (value: string) => string): Bilingual {
  return { zh: transform(text.zh), en: transform(text.en) };
}
