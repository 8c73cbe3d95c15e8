/** Card JSON 2.0 builders: pure functions of plain data, never touching the network. */

export type {
  ButtonElement,
  Card,
  CardElement,
  ColumnElement,
  ColumnSetElement,
  HeaderTemplate,
  HrElement,
  OtherElement,
} from './card.js';
export {
  buildCard,
  CARD_LOCALES,
  cardByteSize,
  escapeMarkdown,
  formatCount,
  formatUtc,
  MAX_CARD_BYTES,
} from './card.js';
export { buildErrorCard, type ErrorCardInput } from './error-card.js';
export { explainFeishuCode, type FeishuCodeExplanation } from './feishu-codes.js';
export { buildHelpCard, type HelpCardInput } from './help-card.js';
export type { Bilingual, I18nContent, MarkdownElement, PlainTextElement } from './i18n.js';
export { buildStatsCard, type CardAction, describeDocType, type StatsCardInput } from './stats-card.js';
export { buildUsageCard, type UsageCardInput } from './usage-card.js';
