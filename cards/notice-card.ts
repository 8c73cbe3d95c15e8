/**
 * A button's answer that arrived after the callback deadline and is not a card: the toast's words, sent to the
 * clicker privately, so a denial or an error is never left as "Working on it…".
 */
import { buildCard, type Card } from './card.js';
import { type Bilingual, markdown } from './i18n.js';
import type { Toast } from './toast.js';

export interface NoticeCardInput {
  toast: Toast;
}

const TITLES: Readonly<
  Record<Toast['type'], { title: Bilingual; template: 'blue' | 'green' | 'orange' | 'red' }>
> = {
  info: { title: { zh: '按钮操作结果', en: 'About your click' }, template: 'blue' },
  success: { title: { zh: '操作完成', en: 'Done' }, template: 'green' },
  warning: { title: { zh: '请注意', en: 'Please note' }, template: 'orange' },
  error: { title: { zh: '操作未完成', en: 'That did not work' }, template: 'red' },
};

export function buildNoticeCard({ toast }: NoticeCardInput): Card {
  const { title, template } = TITLES[toast.type];
  // Toast text is our own words (never upstream text), so it is rendered as it is.
  const text: Bilingual = { zh: toast.i18n.zh_cn, en: toast.i18n.en_us };
  return buildCard({
    title,
    template,
    summary: text,
    elements: [markdown(text, { element_id: 'notice_text' })],
  });
}
