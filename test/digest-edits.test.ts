/**
 * `digest remove`, `digest time` and `digest off` as the handler runs them, on both stores: a retried event removes
 * nothing more and answers as its first attempt did, and who may change the schedule is decided on the
 * subscription as it is under the chat's lock, never on a read taken before another edit landed. Feishu (the
 * group's owner and managers) is never asked while the lock is held.
 */
import pino from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Card } from '../cards/index.js';
import { AccessPolicy } from '../src/bot/access.js';
import type { DigestAction } from '../src/bot/commands.js';
import type { MessageContext } from '../src/bot/context.js';
import { type DigestDeps, runDigestCommand } from '../src/bot/handlers/digest.js';
import type { ChatDirectory } from '../src/data/chats.js';
import type { DocumentService } from '../src/data/documents.js';
import type { TenantData } from '../src/data/tenant-data.js';
import { addItem, removeItem, SubscriptionStore } from '../src/digest/subscriptions.js';
import type { ChatSubscription, DigestItem } from '../src/digest/types.js';
import type { FeishuClient } from '../src/feishu/client.js';
import type { ChatInfo } from '../src/feishu/types.js';
import type { JsonCache } from '../src/store/cache.js';
import type { Store } from '../src/store/store.js';
import { cardText } from './helper.js';
import { storeAdapters, useFreshRedisDb } from './redis.js';

const CHAT = 'oc_digest_edits_0000000000000001';
const LOCK_KEY = `fsb:digest:lock:${CHAT}`;
const SUBSCRIBER = 'ou_subscriber00000000000000000b1';
const MEMBER = 'ou_member000000000000000000000b2';
const OWNER = 'ou_groupowner00000000000000000b3';
const NOW = Date.parse('2026-11-20T01:00:00Z');
const log = pino({ level: 'silent' });

const doc = (token: string, title: string): DigestItem => ({
  kind: 'doc',
  token,
  type: 'docx',
  url: `https://acme.feishu.cn/docx/${token}`,
  title,
});
const A = doc('doxcnEditsAAAAAAAAAAAAAAAAAA', 'Alpha');
const B = doc('doxcnEditsBBBBBBBBBBBBBBBBBB', 'Beta');
const C = doc('doxcnEditsCCCCCCCCCCCCCCCCCC', 'Gamma');

const titles = (sub: ChatSubscription | null) => sub?.items.map((i) => (i.kind === 'doc' ? i.title : i.kind));

/**
 * `store` as the handler sees it, with a way to let another edit in first: `before(edit)` runs `edit` (a complete,
 * locked update of its own) just before the handler's next attempt to take the chat's lock, which is the widest
 * window between a check made before the lock and the update under it.
 */
function interleaved(store: Store): { store: Store; before(edit: () => Promise<unknown>): void } {
  let pending: (() => Promise<unknown>) | undefined;
  const wrapped = new Proxy(store, {
    get(target, property) {
      if (property === 'setIfAbsent') {
        return async (key: string, value: string, ttlMs: number) => {
          const edit = key === LOCK_KEY ? pending : undefined;
          pending = undefined;
          if (edit) await edit();
          return target.setIfAbsent(key, value, ttlMs);
        };
      }
      const member: unknown = Reflect.get(target, property, target);
      return typeof member === 'function' ? member.bind(target) : member;
    },
  });
  return {
    store: wrapped,
    before(edit) {
      pending = edit;
    },
  };
}

const redisDb = useFreshRedisDb();

describe.each(storeAdapters(redisDb))('digest edits on $name', ({ open }) => {
  let store: Store;
  let race: ReturnType<typeof interleaved>;
  /** Another person's edits, straight to the store (their own lock, not the handler's wrapper). */
  let others: SubscriptionStore;
  /** Each group lookup, and whether the chat's lock was held when it was made. */
  let lookups: Array<{ lockHeld: boolean }>;
  let deps: DigestDeps;

  beforeEach(async () => {
    await redisDb().redis.flushdb();
    store = open();
    race = interleaved(store);
    others = new SubscriptionStore(store);
    lookups = [];
    const chats = {
      async info(chatId: string): Promise<ChatInfo> {
        lookups.push({ lockHeld: (await store.get(LOCK_KEY)) !== null });
        return { chatId, mode: 'group', ownerId: OWNER, managerIds: [] };
      },
      async isPrivate() {
        return false;
      },
    };
    deps = {
      subscriptions: new SubscriptionStore(race.store),
      // Removing, moving and turning off never fetch documents or tenant data.
      documents: {} as DocumentService,
      tenant: {} as TenantData,
      access: new AccessPolicy([], {} as FeishuClient, {} as JsonCache, log),
      chats: chats as unknown as ChatDirectory,
      digest: { time: { hour: 10, minute: 30 }, timeZone: 'Asia/Shanghai' },
      now: () => NOW,
    };
  });
  afterEach(async () => {
    await store.close();
  });

  /** Runs `action` as the handler would for one attempt of the message `messageId`; resolves with its one reply. */
  async function run(action: DigestAction, sender: string, messageId: string): Promise<Card> {
    const replies: Card[] = [];
    const ctx: MessageContext = {
      eventId: `evt_${messageId}`,
      messageId,
      chatId: CHAT,
      chatType: 'group',
      senderOpenId: sender,
      message: { text: '', links: [], mentions: [] },
      log,
      finalAttempt: false,
      asOf: NOW,
      async reply(card) {
        replies.push(card);
      },
      async sendPrivately() {
        throw new Error('not expected');
      },
    };
    await runDigestCommand(ctx, action, deps);
    expect(replies).toHaveLength(1);
    return replies[0] as Card;
  }

  /** SUBSCRIBER's digest of `items`. */
  async function subscribed(items: DigestItem[], by = SUBSCRIBER): Promise<void> {
    for (const item of items)
      await others.update(CHAT, (current) => addItem(current, CHAT, item, NOW, by).sub);
  }

  describe('digest remove <n>: once per message', () => {
    it('a retry of the same message removes nothing more and answers exactly as the first attempt did', async () => {
      await subscribed([A, B, C]);
      const first = await run({ kind: 'remove', index: 2 }, MEMBER, 'om_remove_once_1');
      expect(cardText(first)).toContain('Removed “Beta”');
      expect(titles(await others.get(CHAT))).toEqual(['Alpha', 'Gamma']);

      // The job runs again (its reply failed): item 2 is now Gamma, and must stay.
      const again = await run({ kind: 'remove', index: 2 }, MEMBER, 'om_remove_once_1');
      expect(again).toEqual(first);
      expect(titles(await others.get(CHAT))).toEqual(['Alpha', 'Gamma']);
    });

    it('another message asking for item 2 is a removal of its own', async () => {
      await subscribed([A, B, C]);
      await run({ kind: 'remove', index: 2 }, MEMBER, 'om_remove_once_2');
      const next = await run({ kind: 'remove', index: 2 }, MEMBER, 'om_remove_once_3');
      expect(cardText(next)).toContain('Removed “Gamma”');
      expect(titles(await others.get(CHAT))).toEqual(['Alpha']);
    });

    it('the record is written with the removal, in the subscription the store reads back', async () => {
      await subscribed([A, B]);
      await run({ kind: 'remove', index: 1 }, MEMBER, 'om_remove_once_4');
      expect((await others.get(CHAT))?.removals).toEqual([{ by: 'om_remove_once_4', item: A, at: NOW }]);
    });
  });

  describe('the schedule rule, decided under the lock', () => {
    it('digest time: a member does not move a digest someone else set up just before the edit took the lock', async () => {
      // Before the lock there is no digest (anyone may set a time); under it, SUBSCRIBER's digest exists.
      race.before(() => subscribed([A]));
      const reply = await run({ kind: 'time', hour: 7, minute: 45 }, MEMBER, 'om_race_time_1');
      expect(cardText(reply)).toContain("You can't change the time of this chat's daily digest");
      const sub = await others.get(CHAT);
      expect(sub?.time).toBeUndefined();
      expect(sub?.subscriber).toBe(SUBSCRIBER);
      expect(lookups).toEqual([{ lockHeld: false }]);
    });

    it('digest off: whoever set up the old digest cannot turn off the one someone else set up again meanwhile', async () => {
      await subscribed([A], MEMBER);
      race.before(() => others.update(CHAT, () => addItem(null, CHAT, B, NOW, SUBSCRIBER).sub));
      const reply = await run({ kind: 'off' }, MEMBER, 'om_race_off_1');
      expect(cardText(reply)).toContain("You can't turn off this chat's daily digest");
      expect(cardText(reply)).toContain(`<person id='${SUBSCRIBER}'></person>`);
      expect(titles(await others.get(CHAT))).toEqual(['Beta']);
      expect(lookups).toEqual([{ lockHeld: false }]);
    });

    it('digest time: a refusal is not stale either: the digest turned off meanwhile leaves nothing to protect', async () => {
      await subscribed([A]);
      race.before(() => others.update(CHAT, () => null));
      const reply = await run({ kind: 'time', hour: 7, minute: 45 }, MEMBER, 'om_race_time_2');
      expect(cardText(reply)).toContain('The daily digest will be sent at 07:45');
      expect(await others.get(CHAT)).toMatchObject({ subscriber: MEMBER, time: { hour: 7, minute: 45 } });
    });

    it('digest remove: an item that became the last one just before the edit took the lock is refused to a member', async () => {
      await subscribed([A, B]);
      race.before(() => others.update(CHAT, (current) => (current ? removeItem(current, 2).sub : current)));
      const reply = await run({ kind: 'remove', index: 1 }, MEMBER, 'om_race_remove_1');
      expect(cardText(reply)).toContain("You can't remove the last item of this chat's daily digest");
      expect(titles(await others.get(CHAT))).toEqual(['Alpha']);
      expect(lookups).toEqual([{ lockHeld: false }]);
    });

    it('the group owner is looked up outside the lock and then allowed on the fresh subscription', async () => {
      await subscribed([A]);
      const reply = await run({ kind: 'off' }, OWNER, 'om_owner_off_1');
      expect(cardText(reply)).toMatch(/daily digest is off/);
      expect(await others.get(CHAT)).toBeNull();
      expect(lookups).toEqual([{ lockHeld: false }]);
    });
  });
});
