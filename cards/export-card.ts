/**
 * `export viewers|likes <link>`: what the CSV sent as a file message holds, or why no file was sent. Names no one:
 * the names are in the file, which only the asker gets.
 */

import {
  buildCard,
  buttonRow,
  type Card,
  type CardElement,
  escapeMarkdown,
  formatCount,
  greyNote,
  isWebUrl,
  openUrlButton,
  truncateText,
} from './card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

interface ExportCardBase {
  what: 'viewers' | 'likes';
  doc: { url: string; title?: string };
}

export type ExportCardInput = ExportCardBase &
  (
    | {
        kind: 'sent';
        rows: number;
        fileName: string;
        /** DIGEST_TZ: the zone of the times in the file. */
        timeZone: string;
        /** Feishu had more than the file holds: the walk stopped at this many. */
        cappedAt?: number;
      }
    | { kind: 'empty' }
    | { kind: 'too_large'; bytes: number; maxBytes: number }
  );

const NOUN: Readonly<Record<ExportCardBase['what'], (n: number) => Bilingual>> = {
  viewers: (n) => ({
    zh: `${formatCount(n)} 位访问者`,
    en: `${formatCount(n)} ${n === 1 ? 'visitor' : 'visitors'}`,
  }),
  likes: (n) => ({ zh: `${formatCount(n)} 条点赞`, en: `${formatCount(n)} ${n === 1 ? 'like' : 'likes'}` }),
};

const TIME_COLUMN: Readonly<Record<ExportCardBase['what'], Bilingual>> = {
  viewers: { zh: '最近一次访问时间', en: 'last view time' },
  likes: { zh: '点赞时间', en: 'like time' },
};

function megabytes(bytes: number): string {
  return (bytes / (1024 * 1024)).toFixed(1);
}

function docLine(doc: ExportCardBase['doc']): CardElement[] {
  const title = doc.title?.trim();
  if (!title) return [];
  const quoted = escapeMarkdown(truncateText(title, 80));
  return [markdown({ zh: `文档：${quoted}`, en: `Document: ${quoted}` }, { element_id: 'export_doc' })];
}

export function buildExportCard(input: ExportCardInput): Card {
  const elements: CardElement[] = [...docLine(input.doc)];
  let title: Bilingual;
  let template: 'green' | 'yellow' | 'red';
  switch (input.kind) {
    case 'sent': {
      const noun = NOUN[input.what](input.rows);
      title = { zh: `已导出 ${noun.zh}`, en: `Exported ${noun.en}` };
      template = 'green';
      const file = escapeMarkdown(truncateText(input.fileName, 120));
      const zone = escapeMarkdown(input.timeZone);
      const column = TIME_COLUMN[input.what];
      elements.push(
        markdown(
          {
            zh: `CSV 文件 ${file} 已通过与机器人的单聊发给你。列：姓名（name）、open_id、${column.zh}（time，${zone} 时区的 ISO 8601 时间）；UTF-8 编码，可直接用 Excel 或 WPS 打开。`,
            en: `The CSV file ${file} is in your private chat with the bot. Columns: name, open_id and time (${column.en}, ISO 8601 in ${zone}); UTF-8, opens as it is in Excel or Numbers.`,
          },
          { element_id: 'export_body' },
        ),
      );
      if (input.what === 'likes') {
        elements.push(
          greyNote(
            {
              zh: '飞书隐藏了身份的点赞者记为 “Hidden user”，不含 open_id。',
              en: 'Likers Feishu keeps anonymous are listed as “Hidden user”, without an open_id.',
            },
            'export_hidden',
          ),
        );
      }
      if (input.cappedAt !== undefined) {
        const max = formatCount(input.cappedAt);
        elements.push(
          markdown(
            {
              zh: `飞书上还有更多记录：文件只包含最近的 ${max} 条。`,
              en: `Feishu has more: the file holds the ${max} most recent.`,
            },
            { element_id: 'export_capped' },
          ),
        );
      }
      break;
    }
    case 'empty':
      title =
        input.what === 'viewers'
          ? { zh: '还没有访问记录', en: 'No visits recorded yet' }
          : { zh: '还没有人点赞', en: 'No likes yet' };
      template = 'yellow';
      elements.push(
        markdown(
          {
            zh: '没有可导出的内容，所以没有发送文件。',
            en: 'There is nothing to export, so no file was sent.',
          },
          { element_id: 'export_body' },
        ),
      );
      break;
    case 'too_large':
      title = { zh: '文件太大，无法发送', en: 'The file is too large to send' };
      template = 'red';
      elements.push(
        markdown(
          {
            zh: `导出的文件有 ${megabytes(input.bytes)} MB，飞书只接受不超过 ${megabytes(input.maxBytes)} MB 的文件，所以没有发送。`,
            en: `The export came to ${megabytes(input.bytes)} MB, and Feishu takes files of at most ${megabytes(input.maxBytes)} MB, so nothing was sent.`,
          },
          { element_id: 'export_body' },
        ),
        markdown(
          joinBilingual(
            [
              { zh: '**如何处理**', en: '**What to do**' },
              {
                zh: '请用「访问记录」或「点赞」按页查看，或请机器人管理员代为处理。',
                en: 'Page through it with `viewers` or `likes` instead, or ask a bot admin.',
              },
            ],
            '\n\n',
          ),
          { element_id: 'export_fix' },
        ),
      );
      break;
  }
  if (isWebUrl(input.doc.url)) {
    elements.push(
      buttonRow([
        openUrlButton({ zh: '打开文档', en: 'Open document' }, input.doc.url, 'btn_open', 'default'),
      ]),
    );
  }
  return buildCard({ title, template, summary: title, elements });
}
