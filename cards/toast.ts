/**
 * The toast a card callback answers with: one short line, in the clicker's language.
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 */
import type { Bilingual } from './i18n.js';

export interface Toast {
  type: 'info' | 'success' | 'warning' | 'error';
  content: string;
  i18n: { zh_cn: string; en_us: string };
}

export function buildToast(type: Toast['type'], text: Bilingual): Toast {
  return { type, content: text.en, i18n: { zh_cn: text.zh, en_us: text.en } };
}
