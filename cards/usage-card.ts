/** A recognised command typed the wrong way (`CommandUsageError`): what was wrong and how to write it. */

import { buildCard, type Card, escapeMarkdown, greyNote } from './card.js';
import { quoteUserWord } from './help-card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export interface UsageCardInput {
  command: 'stats' | string;
  /** Stable problem key from `CommandUsageError.problem`. */
  problem: 'no_link' | 'too_many_links' | string;
  /** Upper bound that was exceeded, for `too_many_links`. */
  max?: number;
}

interface CommandUsage {
  syntax: Bilingual;
  examples: [Bilingual, Bilingual];
}

const STATS_USAGE: CommandUsage = {
  syntax: { zh: '`统计` ‹文档链接›（或 `stats` ‹文档链接›）', en: '`stats` ‹document link›' },
  examples: [
    {
      zh: '`统计 https://sample.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1`',
      en: '`stats https://sample.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1`',
    },
    {
      zh: '`统计 https://sample.feishu.cn/wiki/WkAbCdEfGhIjKlMnOpQrStUvWx`',
      en: '`stats https://sample.feishu.cn/wiki/WkAbCdEfGhIjKlMnOpQrStUvWx`',
    },
  ],
};

/** Commands without their own entry get the two commands everyone can use. */
const GENERIC_USAGE: CommandUsage = {
  syntax: { zh: '`统计` ‹文档链接›，或 `帮助`', en: '`stats` ‹document link›, or `help`' },
  examples: [STATS_USAGE.examples[0], { zh: '`帮助`', en: '`help`' }],
};

const USAGES: Readonly<Record<string, CommandUsage>> = { stats: STATS_USAGE, 统计: STATS_USAGE };

function describeProblem(input: UsageCardInput): Bilingual {
  const command = quoteUserWord(input.command);
  switch (input.problem) {
    case 'no_link':
      return {
        zh: `${command} 需要一个文档链接，但消息里没有找到。`,
        en: `${command} needs a document link, and I could not find one in your message.`,
      };
    case 'too_many_links': {
      const max =
        input.max !== undefined && Number.isFinite(input.max) ? Math.max(1, Math.floor(input.max)) : 1;
      const plural = max === 1 ? 'link' : 'links';
      return {
        zh: `${command} 一次最多只能查询 ${max} 个文档链接，你发送的链接太多了。`,
        en: `${command} takes at most ${max} document ${plural} at a time, and your message has more.`,
      };
    }
    default:
      return {
        zh: `无法按这个格式执行 ${command}（${escapeMarkdown(input.problem)}）。`,
        en: `I could not run ${command} as written (${escapeMarkdown(input.problem)}).`,
      };
  }
}

export function buildUsageCard(input: UsageCardInput): Card {
  const usage = USAGES[input.command] ?? GENERIC_USAGE;
  const [first, second] = usage.examples;
  const body: Bilingual = joinBilingual(
    [
      describeProblem(input),
      joinBilingual([{ zh: '**正确格式**：', en: '**Syntax:** ' }, usage.syntax]),
      joinBilingual([{ zh: '**示例**', en: '**Examples**' }, joinBilingual([first, second], '\n- ')], '\n- '),
    ],
    '\n\n',
  );
  return buildCard({
    title: { zh: '请检查命令格式', en: 'Check the command' },
    template: 'orange',
    summary: { zh: '命令格式有误', en: 'The command was not written as expected' },
    elements: [
      markdown(body, { element_id: 'usage_body' }),
      greyNote({ zh: '发送「帮助」查看全部命令。', en: 'Send “help” to see every command.' }, 'usage_help'),
    ],
  });
}
