/**
 * The answer to `digest` / `digest list` and to every change of a chat's digest: what the chat is subscribed
 * to, numbered as `digest remove <n>` counts, with a Remove button per item, how often and when the next digest
 * comes.
 */

import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';
import {
  buildCard,
  type Card,
  type CardElement,
  type ColumnSetElement,
  callbackButton,
  cardByteSize,
  escapeMarkdown,
  formatUtc,
  greyNote,
  hr,
  MAX_CARD_BYTES,
} from './card.js';
import type { DigestCadence, DigestItem, DigestTime } from './data.js';
import { describeCadence, digestName, digestTitleName } from './digest-cadence.js';
import { describeDigestItem, describeDigestKind, FULL_NAMES, type NameLayout } from './digest-card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

export interface SubscriptionsCardInput {
  /** Display order: position n is what `digest remove n` removes. */
  items: Array<{ item: DigestItem; label?: string; removeValue: Record<string, unknown> }>;
  /** Effective time: the chat's own or the default. */
  time: DigestTime;
  /** How often the digest goes out; absent means daily. */
  cadence?: DigestCadence;
  timeIsDefault: boolean;
  timeZone: string;
  /** Epoch ms of the next digest, shown in `timeZone`. */
  nextDigestAt?: number;
  paused?: boolean;
  /** MAX_DIGEST_ITEMS. */
  max: number;
  /**
   * The outcome of the command that produced this card, e.g. "Added …", "Limit reached". Card markdown as given:
   * the caller escapes anything it quotes (a document title).
   */
  notice?: { kind: 'success' | 'info' | 'warning'; text: Bilingual };
}

const NOTICE_ICONS: Readonly<Record<'success' | 'info' | 'warning', string>> = {
  success: '✅',
  info: 'ℹ️',
  warning: '⚠️',
};

function formatTime(time: DigestTime): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(time.hour)}:${pad(time.minute)}`;
}

/** `2026-11-21 10:30` on the digest's clock; UTC if the zone is not one the runtime knows. */
function formatInZone(epochMs: number, timeZone: string): string {
  try {
    return format(new TZDate(epochMs, timeZone), 'yyyy-MM-dd HH:mm');
  } catch {
    return formatUtc(new Date(epochMs));
  }
}

function scheduleText(input: SubscriptionsCardInput): Bilingual {
  const time = formatTime(input.time);
  const zone = escapeMarkdown(input.timeZone);
  const whose: Bilingual = input.timeIsDefault
    ? { zh: '默认时间', en: 'the default time' }
    : { zh: '本会话设置的时间', en: "this chat's own time" };
  const when = describeCadence(input.cadence, time);
  const lines: Bilingual[] = [
    {
      zh: `**${when.zh} 推送**（${zone}，${whose.zh}）`,
      en: `**${when.en}** (${zone}, ${whose.en})`,
    },
  ];
  if (input.nextDigestAt !== undefined && Number.isFinite(input.nextDigestAt)) {
    // Digits, `-`, `:` and `UTC` only: nothing markdown would act on.
    const next = formatInZone(input.nextDigestAt, input.timeZone);
    lines.push({ zh: `- 下一份：${next}`, en: `- Next digest: ${next}` });
  }
  lines.push({
    zh: `- 已订阅 ${input.items.length} / ${input.max} 项`,
    en: `- ${input.items.length} of ${input.max} items`,
  });
  return joinBilingual(lines, '\n');
}

function itemRow(
  entry: SubscriptionsCardInput['items'][number],
  position: number,
  layout: NameLayout,
): ColumnSetElement {
  const { item, label } = entry;
  const parts: Bilingual[] = [
    joinBilingual([
      { zh: `**${position}.** `, en: `**${position}.** ` },
      describeDigestItem(item, label, layout),
    ]),
  ];
  const kind = describeDigestKind(item);
  if (kind) parts.push(kind);
  // A named app still shows its id: two apps may share a name.
  if (item.kind === 'app' && label?.trim())
    parts.push({ zh: escapeMarkdown(item.appId), en: escapeMarkdown(item.appId) });
  return {
    tag: 'column_set',
    element_id: `row_${position}`,
    flex_mode: 'none',
    horizontal_spacing: '8px',
    columns: [
      {
        tag: 'column',
        width: 'weighted',
        weight: 4,
        vertical_align: 'center',
        elements: [markdown(joinBilingual(parts, ' · '))],
      },
      {
        tag: 'column',
        width: 'auto',
        vertical_align: 'center',
        elements: [
          callbackButton({ zh: '移除', en: 'Remove' }, entry.removeValue, `rm_${position}`, 'danger_text'),
        ],
      },
    ],
  };
}

const HOW_TO_ADD: Bilingual = {
  zh: [
    '还没有订阅任何内容。可以这样添加：',
    '- `订阅 添加 ‹文档链接›`：一个文档',
    '- `订阅 添加 工作台`：工作台访问数据（仅机器人管理员）',
    '- `订阅 添加 应用 cli_…`：一个应用的活跃用户（仅机器人管理员）',
  ].join('\n'),
  en: [
    'Nothing here yet. Add items with:',
    '- `digest add ‹document link›`: a document',
    '- `digest add workplace`: workplace visits (bot admins only)',
    "- `digest add app cli_…`: an app's active users (bot admins only)",
  ].join('\n'),
};

/** Shorter names, then no links, when long titles, URLs or button values would pass 30 KB. */
const LAYOUTS: readonly NameLayout[] = [FULL_NAMES, { maxChars: 24, link: true }];
const LEANEST: NameLayout = { maxChars: 16, link: false };

export function buildSubscriptionsCard(input: SubscriptionsCardInput): Card {
  for (const layout of LAYOUTS) {
    const card = renderSubscriptionsCard(input, layout);
    if (cardByteSize(card) <= MAX_CARD_BYTES) return card;
  }
  return renderSubscriptionsCard(input, LEANEST);
}

function renderSubscriptionsCard(input: SubscriptionsCardInput, layout: NameLayout): Card {
  const elements: CardElement[] = [];
  if (input.notice) {
    const icon = NOTICE_ICONS[input.notice.kind];
    const { zh, en } = input.notice.text;
    elements.push(markdown({ zh: `${icon} ${zh}`, en: `${icon} ${en}` }, { element_id: 'subs_notice' }));
  }
  if (input.paused) {
    elements.push(
      markdown(
        {
          zh: "<font color='orange'>⚠️ 本会话的日报已暂停：机器人不在这个会话里了。把机器人重新加入会话后会自动恢复。</font>",
          en: "<font color='orange'>⚠️ Digests for this chat are paused: the bot was removed from it. They resume once the bot is added back.</font>",
        },
        { element_id: 'subs_paused' },
      ),
    );
  }
  elements.push(markdown(scheduleText(input), { element_id: 'subs_schedule' }), hr());

  if (input.items.length === 0) {
    elements.push(markdown(HOW_TO_ADD, { element_id: 'subs_empty' }));
  } else {
    elements.push(...input.items.map((entry, index) => itemRow(entry, index + 1, layout)));
    elements.push(
      greyNote(
        {
          zh: '用「移除」按钮或 `订阅 删除 ‹序号›` 删除一项；`订阅 时间 HH:MM` 修改推送时间；`订阅 每天`、`订阅 每周 周一`、`订阅 每月 1号` 修改推送频率；`订阅 关闭` 停止推送。',
          en: 'Remove an item with its button or `digest remove ‹number›`; change the time with `digest time HH:MM`, how often with `digest daily`, `digest weekly mon` or `digest monthly 1`; stop with `digest off`.',
        },
        'subs_help',
      ),
    );
  }

  const time = formatTime(input.time);
  const when = describeCadence(input.cadence, time);
  const name = digestName(input.cadence?.kind);
  const titleName = digestTitleName(input.cadence?.kind);
  const count = {
    zh: `${input.items.length} / ${input.max} 项`,
    en: `${input.items.length} of ${input.max} items`,
  };
  return buildCard({
    title: { zh: `${name.zh} · 订阅`, en: `${titleName.en} · subscriptions` },
    subtitle: joinBilingual(
      [count, { zh: when.zh, en: when.en.charAt(0).toLowerCase() + when.en.slice(1) }],
      ' · ',
    ),
    template: input.paused || input.notice?.kind === 'warning' ? 'orange' : 'indigo',
    // Not the notice: the summary is plain text, and the notice is markdown.
    summary: joinBilingual([{ zh: `${name.zh}订阅`, en: titleName.en }, count], ' · '),
    elements,
  });
}
