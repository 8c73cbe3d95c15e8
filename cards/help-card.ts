/** What the bot does and how to ask it; also the answer to an unknown command. */

import { buildCard, type Card, type CardElement, escapeMarkdown, hr, truncateText } from './card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export interface HelpCardInput {
  /** The word the user typed that is not a command. */
  unknownWord?: string;
  /** The command it most resembles, e.g. `stats`. */
  suggestion?: string;
}

/**
 * Shows a word the user typed. A short plain word goes in a code span; anything else is
 * entity-escaped instead, because a code span cannot hold a backtick and `&#60;` would show literally.
 */
export function quoteUserWord(word: string): string {
  const short = truncateText(word.trim(), 40);
  return /^[\p{L}\p{N}_.\-/]+$/u.test(short) ? `\`${short}\`` : `“${escapeMarkdown(short)}”`;
}

const INTRO: Bilingual = {
  zh: '我可以查询飞书云文档的访问数据——访问人数、访问次数和点赞数，并用卡片回复你。',
  en: 'I look up Feishu document analytics (visitors, views and likes) and answer with a card.',
};

// A single `\n` is only a soft break in card markdown and may be dropped, so each command's lines are
// list items. Scopes from the statistics endpoint page (any one is enough), plus the per-document grant
// that 1069603 asks for. https://open.feishu.cn/document/server-docs/docs/drive-v1/file/get
const STATS_HELP: Bilingual = {
  zh: [
    '**统计** ‹文档链接›（或 `stats` ‹文档链接›）',
    '- 查看文档的访问人数、访问次数、点赞数及今日新增。',
    '- 示例：`统计 https://sample.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1`',
    '- 所需权限：应用开通 `drive:drive.metadata:readonly` 或 `drive:drive:readonly`；并在文档右上角「…」→「更多」→「添加文档应用」中添加本机器人，授予「可管理」权限。',
  ].join('\n'),
  en: [
    '**stats** ‹document link›',
    "- Shows a document's visitors, views and likes, and today's increase.",
    '- Example: `stats https://sample.feishu.cn/docx/AbCdEfGhIjKlMnOpQrStUvWxYz1`',
    '- Needs: the app scope `drive:drive.metadata:readonly` or `drive:drive:readonly`, and the bot added to the document as a document app with manage permission ("…" → "More" → "Add document app").',
  ].join('\n'),
};

const HELP_HELP: Bilingual = {
  zh: ['**帮助**（或 `help`）', '- 显示这张说明卡片。', '- 示例：`帮助`', '- 所需权限：无。'].join('\n'),
  en: ['**help**', '- Shows this card.', '- Example: `help`', '- Needs: nothing.'].join('\n'),
};

const WHERE_TO_ASK: Bilingual = {
  zh: '私聊中直接发送文档链接，等同于「统计」。在群聊中，请先 @本机器人 再输入命令。',
  en: 'In a private chat, a bare document link means `stats`. In group chats, @mention the bot before the command.',
};

function buildUnknownWordLine(unknownWord: string, suggestion?: string): Bilingual {
  const word = quoteUserWord(unknownWord);
  const lines: Bilingual[] = [{ zh: `我不认识 ${word}。`, en: `I don't know ${word}.` }];
  if (suggestion) {
    const hint = quoteUserWord(suggestion);
    lines.push({ zh: `你是想用 ${hint} 吗？`, en: `Did you mean ${hint}?` });
  }
  return joinBilingual(lines, { zh: '', en: ' ' });
}

export function buildHelpCard(input: HelpCardInput = {}): Card {
  const elements: CardElement[] = [];
  const unknownWord = input.unknownWord?.trim();
  if (unknownWord) {
    elements.push(
      markdown(buildUnknownWordLine(unknownWord, input.suggestion?.trim() || undefined), {
        element_id: 'help_unknown',
      }),
    );
  }
  elements.push(
    markdown(INTRO, { element_id: 'help_intro' }),
    hr(),
    markdown(STATS_HELP, { element_id: 'help_stats' }),
    markdown(HELP_HELP, { element_id: 'help_help' }),
    hr(),
    markdown(WHERE_TO_ASK, { element_id: 'help_where', text_size: 'notation' }),
  );
  return buildCard({
    title: { zh: '文档统计机器人 · 使用说明', en: 'Document stats bot · Help' },
    template: unknownWord ? 'orange' : 'blue',
    summary: unknownWord
      ? { zh: '未知命令，查看使用说明', en: 'Unknown command: how to use this bot' }
      : { zh: '使用说明', en: 'How to use this bot' },
    elements,
  });
}
