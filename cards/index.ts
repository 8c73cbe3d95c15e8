/** Card JSON 2.0 builders: pure functions of plain data, never touching the network. */

export {
  type AccessDeniedCardInput,
  buildAccessDeniedCard,
  buildSentPrivatelyCard,
  type ProtectedData,
  type SentPrivatelyCardInput,
} from './access-card.js';
export { type AppUsageCardInput, buildAppUsageCard } from './app-usage-card.js';
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
export {
  describeCadence,
  digestName,
  digestTitleName,
  ordinalDay,
  weekdayName,
} from './digest-cadence.js';
export {
  buildDigestCard,
  type DigestCardInput,
  type DigestCardItem,
  describeDigestItem,
  MAX_DIGEST_CHARTS,
  sparkline,
} from './digest-card.js';
export {
  buildDigestPermissionCard,
  type DigestChange,
  type DigestPermissionCardInput,
  digestScheduleRule,
  lastItemToastText,
  TENANT_ITEM_RULE,
} from './digest-permission-card.js';
export { buildErrorCard, type ErrorCardInput } from './error-card.js';
export { buildExportCard, type ExportCardInput } from './export-card.js';
export { EXPLAINED_FEISHU_CODES, explainFeishuCode, type FeishuCodeExplanation } from './feishu-codes.js';
export { buildHelpCard, type HelpCardInput } from './help-card.js';
export type { Bilingual, I18nContent, MarkdownElement, PlainTextElement } from './i18n.js';
export { buildNoticeCard, type NoticeCardInput } from './notice-card.js';
export {
  buildLikesCard,
  buildViewersCard,
  type CardNav,
  type LikesCardInput,
  MAX_PEOPLE_ROWS,
  type PeopleCardDoc,
  type ViewersCardInput,
} from './people-card.js';
export { type Age, describeAge, relativeTime } from './relative-time.js';
export {
  buildReminderPost,
  MAX_REMINDER_MENTIONS,
  type ReminderPost,
  type ReminderPostInput,
} from './reminder-post.js';
export { buildStatsCard, type CardAction, describeDocType, type StatsCardInput } from './stats-card.js';
export { buildSubscriptionsCard, type SubscriptionsCardInput } from './subscriptions-card.js';
export { buildToast, type Toast } from './toast.js';
export {
  buildTrendCard,
  buildTrendHistoryStartsCard,
  changeOver,
  type TrendCardInput,
  type TrendHistoryStartsInput,
  type TrendMetric,
} from './trend-card.js';
export { buildUnreadCard, MAX_UNREAD_LISTED, type UnreadCardInput } from './unread-card.js';
export { buildUsageCard, type UsageCardInput } from './usage-card.js';
export {
  buildWorkplaceCard,
  computeWorkplaceTotals,
  MAX_DAILY_CHART_POINTS,
  type SeriesTotals,
  type WorkplaceCardInput,
  type WorkplaceTotals,
} from './workplace-card.js';
