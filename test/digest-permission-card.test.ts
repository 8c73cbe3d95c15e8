/**
 * The card that refuses a digest change says who can make it, in both languages, and names the person who set
 * the digest up without letting a stored id inject markup.
 */
import { describe, expect, it } from 'vitest';
import {
  buildDigestPermissionCard,
  type Card,
  cardByteSize,
  type DigestPermissionCardInput,
  digestScheduleRule,
  lastItemToastText,
  MAX_CARD_BYTES,
  TENANT_ITEM_RULE,
} from '../cards/index.js';

const SUBSCRIBER = 'ou_7d8a6e6df7621556ce0d21922b676706ccs';

function texts(card: Card, locale: 'zh_cn' | 'en_us'): string {
  return card.body.elements
    .map((el) => (el.tag === 'markdown' ? (el.i18n_content?.[locale] ?? el.content) : ''))
    .join('\n');
}

const CASES: Array<[string, DigestPermissionCardInput]> = [
  ['off, not allowed, subscriber known', { change: 'off', reason: 'not_allowed', subscriber: SUBSCRIBER }],
  ['time, not allowed, no subscriber recorded', { change: 'time', reason: 'not_allowed' }],
  ['off, cannot verify', { change: 'off', reason: 'cannot_verify', subscriber: SUBSCRIBER }],
  ['time, missing scope', { change: 'time', reason: 'missing_scope', scope: 'im:chat:readonly' }],
  [
    'last item, not allowed, subscriber known',
    { change: 'remove_last', reason: 'not_allowed', subscriber: SUBSCRIBER },
  ],
  ['last item, cannot verify', { change: 'remove_last', reason: 'cannot_verify' }],
  ['remove workplace', { change: 'remove', reason: 'not_allowed', item: { kind: 'workplace' } }],
  [
    'remove app',
    { change: 'remove', reason: 'not_allowed', item: { kind: 'app', appId: 'cli_9f115af860f7901b' } },
  ],
];

describe('buildDigestPermissionCard', () => {
  it.each(CASES)('%s', (_name, input) => {
    const card = buildDigestPermissionCard(input);
    expect(card).toMatchSnapshot();
    expect(cardByteSize(card)).toBeLessThan(MAX_CARD_BYTES);
    // Every element carries both languages, and the English fallback is the English text.
    for (const el of card.body.elements) {
      if (el.tag !== 'markdown') continue;
      // A Chinese text of its own, not the English copied over.
      expect(typeof el.i18n_content?.zh_cn).toBe('string');
      expect(el.i18n_content?.zh_cn).toMatch(/[\u4e00-\u9fff]/);
      expect(el.content).toBe(el.i18n_content?.en_us);
    }
  });

  it('says who may turn a digest off or move it, naming the subscriber as a person', () => {
    const card = buildDigestPermissionCard({ change: 'off', reason: 'not_allowed', subscriber: SUBSCRIBER });
    expect(card.header.title.content).toBe("You can't turn off this chat's daily digest");
    const en = texts(card, 'en_us');
    expect(en).toContain(`whoever set it up (<person id='${SUBSCRIBER}'></person>)`);
    expect(en).toContain("the group's owner and managers, and bot admins");
    expect(en).toContain('Documents are open to everyone');
    expect(texts(card, 'zh_cn')).toContain(
      `订阅人（<person id='${SUBSCRIBER}'></person>）、群主、群管理员和机器人管理员`,
    );
  });

  it('never renders a stored subscriber id that could break out of the person tag', () => {
    const hostile = "ou_x' onclick='y";
    const rule = digestScheduleRule(hostile);
    expect(rule.en).not.toContain('<person');
    expect(rule.en).not.toContain(hostile);
    const card = buildDigestPermissionCard({ change: 'time', reason: 'not_allowed', subscriber: hostile });
    expect(JSON.stringify(card)).not.toContain('onclick');
  });

  it('a tenant item: only bot admins, whoever asks', () => {
    const card = buildDigestPermissionCard({
      change: 'remove',
      reason: 'not_allowed',
      item: { kind: 'workplace' },
    });
    expect(card.header.title.content).toBe('Only bot admins can remove this item');
    expect(texts(card, 'en_us')).toContain(TENANT_ITEM_RULE.en);
    expect(texts(card, 'zh_cn')).toContain(TENANT_ITEM_RULE.zh);
  });

  it('the last item: says removing it turns the digest off, and who may', () => {
    const card = buildDigestPermissionCard({
      change: 'remove_last',
      reason: 'not_allowed',
      subscriber: SUBSCRIBER,
    });
    expect(card.header.title.content).toBe("You can't remove the last item of this chat's daily digest");
    const en = texts(card, 'en_us');
    expect(en).toContain('the same as turning the digest off');
    expect(en).toContain(`whoever set it up (<person id='${SUBSCRIBER}'></person>)`);
    expect(en).toContain('remove any that is not the last');
    expect(texts(card, 'zh_cn')).toContain('效果等同于关闭每日数据');
  });

  it.each([
    ['not_allowed', "the group's owner and managers, and bot admins"],
    ['cannot_verify', 'Try again in a minute'],
    ['missing_scope', '`im:chat:readonly`'],
  ] as const)('the last item’s toast (%s) says why, as plain text without a person tag', (reason, phrase) => {
    const text = lastItemToastText(reason, 'im:chat:readonly');
    expect(text.en).toContain('It is the only item left');
    expect(text.en).toContain(phrase);
    expect(text.zh).toMatch(/[\u4e00-\u9fff]/);
    expect(`${text.en}${text.zh}`).not.toContain('<person');
  });

  it('names the missing scope in a code span, and nothing else a caller passes as one', () => {
    const scoped = buildDigestPermissionCard({
      change: 'off',
      reason: 'missing_scope',
      scope: 'im:chat:readonly',
    });
    expect(texts(scoped, 'en_us')).toContain('`im:chat:readonly`');
    const odd = buildDigestPermissionCard({
      change: 'off',
      reason: 'missing_scope',
      scope: '**bold** <at id=all>',
    });
    expect(JSON.stringify(odd)).not.toContain('<at id=all>');
  });
});
