/**
 * Who may change a chat's digest, said when someone else tries. Documents stay open to everyone in the
 * chat; what would undo someone else's set-up is not: turning the digest off, moving its time, changing how often it
 * goes out (daily, weekly, monthly), or removing its last item (which leaves nothing to send, as `digest off` would) is for whoever set it up, the group's owner and
 * managers and bot admins, and tenant-wide items (workplace, apps) are removed by bot admins only, as only they
 * can add them.
 */

import { buildCard, type Card, type CardElement, isSafeUserId, personTag, truncateText } from './card.js';
import type { DigestCadence, DigestItem } from './data.js';
import { digestName } from './digest-cadence.js';
import { describeDigestItem } from './digest-card.js';
import { type Bilingual, joinBilingual, markdown } from './i18n.js';

/** Between sentences: a space in English, none after a Chinese full stop. */
const GAP: Bilingual = { zh: '', en: ' ' };

/**
 * `off`, `time`, `cadence` (daily, weekly, monthly) and `remove_last` (removing the only item left) follow the
 * schedule rule; `remove` is taking a workplace or app item out.
 */
export type DigestChange = 'off' | 'time' | 'cadence' | 'remove_last' | 'remove';

export interface DigestPermissionCardInput {
  change: DigestChange;
  /**
   * - `not_allowed`: the person is none of the people allowed.
   * - `missing_scope`: the bot may not read the group's owner and managers (`scope` names what to add).
   * - `cannot_verify`: asking Feishu who runs the group failed.
   */
  reason: 'not_allowed' | 'missing_scope' | 'cannot_verify';
  /** For `missing_scope`, e.g. `im:chat:readonly`. */
  scope?: string;
  /** open_id of whoever set the digest up, when it is known: shown as the person. */
  subscriber?: string;
  /** For `remove`: the workplace or app item that stays. */
  item?: DigestItem;
  /** How often the chat's digest goes out now, to name it ("weekly digest"); absent means daily. */
  cadence?: DigestCadence['kind'];
}

/**
 * Who may turn a chat's digest off or change its time or cadence, in one sentence (also the toast of a refused
 * click). `cadence` names the digest as it is now; absent means daily.
 */
export function digestScheduleRule(subscriber?: string, cadence?: DigestCadence['kind']): Bilingual {
  const who = isSafeUserId(subscriber)
    ? { zh: `订阅人（${personTag(subscriber)}）`, en: `whoever set it up (${personTag(subscriber)})` }
    : { zh: '订阅人', en: 'whoever set it up' };
  const name = digestName(cadence);
  return {
    zh: `只有${who.zh}、群主、群管理员和机器人管理员可以关闭本群的${name.zh}或修改推送时间和频率。`,
    en: `Only ${who.en}, the group's owner and managers, and bot admins can turn this chat's ${name.en} off or change its time or how often it goes out.`,
  };
}

/** Who may remove a workplace or app item, in one sentence (also the toast of a refused Remove click). */
export const TENANT_ITEM_RULE: Bilingual = {
  zh: '工作台和应用数据反映整个企业的使用情况，只有机器人管理员（BOT_ADMINS）可以把它们加入或移出每日数据。',
  en: 'Workplace and app usage describe the whole organisation, so only bot admins (BOT_ADMINS) can add them to the daily digest or remove them.',
};

const DOCUMENTS_STAY_OPEN: Bilingual = {
  zh: '文档不受此限制：群里任何人都可以用 `订阅 添加 ‹链接›` 和「移除」按钮增删文档。',
  en: 'Documents are open to everyone: anyone in the chat can add them with `digest add ‹link›` and take them out with Remove.',
};

/** Why removing one document is refused when documents are open to everyone. */
function lastItemIsOff(cadence?: DigestCadence['kind']): Bilingual {
  const name = digestName(cadence).zh;
  return {
    zh: `这是${name}中仅剩的一项，移除后就没有可推送的内容，效果等同于关闭${name}。`,
    en: 'It is the only item left: removing it leaves nothing to send, the same as turning the digest off.',
  };
}

const OTHER_DOCUMENTS_STAY_OPEN: Bilingual = {
  zh: '其他情况下文档不受此限制：群里任何人都可以添加文档，也可以移除不是最后一项的文档。',
  en: 'Documents are otherwise open to everyone: anyone in the chat can add one, and remove any that is not the last.',
};

/**
 * The toast of a refused Remove click on the last item: the card's sentences without the person tag, which a
 * toast would show as markup.
 */
export function lastItemToastText(reason: DigestPermissionCardInput['reason'], scope?: string): Bilingual {
  switch (reason) {
    case 'not_allowed':
      return joinBilingual([lastItemIsOff(), digestScheduleRule()], GAP);
    case 'missing_scope': {
      const shown = quoteScope(scope);
      return {
        zh: `这是仅剩的一项，移除它需要核实群主和群管理员，但机器人缺少 ${shown} 权限，请联系飞书管理员开通。`,
        en: `It is the only item left, and removing it needs the group's owner and managers, which the bot cannot look up without the ${shown} scope: ask a Feishu admin to add it.`,
      };
    }
    case 'cannot_verify':
      return {
        zh: '这是仅剩的一项，机器人这次没能向飞书核实群主和群管理员，所以暂不移除。请稍后再试。',
        en: "It is the only item left, and the bot could not ask Feishu for the group's owner and managers this time, so nothing was removed. Try again in a minute.",
      };
  }
}

/** Scopes are `a:b.c:readonly`-shaped; anything else is not shown. */
function quoteScope(scope: string | undefined): string {
  const short = truncateText((scope ?? '').trim(), 80);
  return /^[A-Za-z0-9_.:-]+$/.test(short) ? `\`${short}\`` : '`im:chat:readonly`';
}

export function buildDigestPermissionCard(input: DigestPermissionCardInput): Card {
  const elements: CardElement[] = [];
  let title: Bilingual;
  let body: Bilingual;
  let fix: Bilingual;
  let template: 'orange' | 'red' | 'yellow' = 'orange';

  const digest = digestName(input.cadence);
  if (input.change === 'remove') {
    const name = input.item ? describeDigestItem(input.item) : { zh: '这一项', en: 'This item' };
    title = { zh: '只有机器人管理员可以移除这一项', en: 'Only bot admins can remove this item' };
    body = joinBilingual(
      [{ zh: `${name.zh}仍在${digest.zh}中。`, en: `${name.en} stays in the digest.` }, TENANT_ITEM_RULE],
      GAP,
    );
    fix = {
      zh: `如果不再需要，请联系机器人管理员移除；或者由订阅人、群主或群管理员用 \`订阅 关闭\` 关闭整个${digest.zh}。`,
      en: 'If it is no longer wanted, ask a bot admin to remove it; or whoever set the digest up, the group owner or a manager can turn the whole digest off with `digest off`.',
    };
  } else {
    const lastItem = input.change === 'remove_last';
    // The rule is about the schedule; removing the last item first says why that is the schedule too.
    const rule = lastItem
      ? joinBilingual(
          [lastItemIsOff(input.cadence), digestScheduleRule(input.subscriber, input.cadence)],
          GAP,
        )
      : digestScheduleRule(input.subscriber, input.cadence);
    switch (input.reason) {
      case 'not_allowed': {
        switch (input.change) {
          case 'remove_last':
            title = {
              zh: `你不能移除本群${digest.zh}的最后一项`,
              en: `You can't remove the last item of this chat's ${digest.en}`,
            };
            break;
          case 'off':
            title = { zh: `你不能关闭本群的${digest.zh}`, en: `You can't turn off this chat's ${digest.en}` };
            break;
          case 'time':
            title = {
              zh: `你不能修改本群${digest.zh}的推送时间`,
              en: `You can't change the time of this chat's ${digest.en}`,
            };
            break;
          case 'cadence':
            title = {
              zh: `你不能修改本群${digest.zh}的推送频率`,
              en: `You can't change how often this chat's ${digest.en} goes out`,
            };
            break;
        }
        body = rule;
        fix = joinBilingual(
          [
            { zh: '请联系上面这些人中的一位。', en: 'Ask one of them to do it.' },
            lastItem ? OTHER_DOCUMENTS_STAY_OPEN : DOCUMENTS_STAY_OPEN,
          ],
          GAP,
        );
        break;
      }
      case 'missing_scope': {
        const scope = quoteScope(input.scope);
        title = { zh: '机器人缺少权限', en: 'The bot is missing a permission' };
        body = joinBilingual(
          [
            rule,
            {
              zh: `机器人需要 ${scope} 权限才能查询群主和群管理员，但应用还没有开通。`,
              en: `To look up the group's owner and managers, the bot needs the ${scope} scope, which the app does not have yet.`,
            },
          ],
          GAP,
        );
        fix = {
          zh: `请飞书管理员在开发者后台 → 本应用 →「权限管理」中开通 ${scope}，然后发布新版本。`,
          en: `A Feishu admin adds ${scope} in the developer console → this app → Permissions & Scopes, then publishes a new version.`,
        };
        template = 'red';
        break;
      }
      case 'cannot_verify':
        title = { zh: '暂时无法核实你的权限', en: "Couldn't check who may change this digest" };
        body = joinBilingual(
          [
            rule,
            {
              zh: '机器人这次没能向飞书查询群主和群管理员，所以暂不修改。',
              en: "The bot could not ask Feishu for the group's owner and managers this time, so nothing was changed.",
            },
          ],
          GAP,
        );
        fix = {
          zh: '请稍等一分钟后重试；如果一直如此，请联系机器人管理员。',
          en: 'Try again in a minute; if it keeps happening, ask a bot admin.',
        };
        template = 'yellow';
        break;
    }
  }

  elements.push(
    markdown(body, { element_id: 'digest_perm_why' }),
    markdown(joinBilingual([{ zh: '**如何处理**', en: '**What to do**' }, fix], '\n\n'), {
      element_id: 'digest_perm_fix',
    }),
  );
  return buildCard({ title, template, summary: title, elements });
}
