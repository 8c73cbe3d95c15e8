/**
 * Page walks end even when an upstream keeps handing out fresh page tokens over pages that add nobody new: the
 * item bound alone would never be reached, so the number of pages is bounded too.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { walkChatMembers } from '../src/data/chat-members.js';
import { DocumentService } from '../src/data/documents.js';
import type { FeishuClient } from '../src/feishu/client.js';
import { JsonCache } from '../src/store/cache.js';
import { MemoryStore } from '../src/store/memory-store.js';

const DOC = { token: 'doxcnWalkBoundsAbCdEfGhIjKlM', type: 'docx' } as const;

describe('page walks against an upstream that never ends', () => {
  it('view records: the same visitor on every page with a new token stops after the pages the bound needs', async () => {
    let calls = 0;
    const feishu = {
      async listViewRecords() {
        calls += 1;
        return {
          items: [{ viewerId: 'ou_same', name: 'Same', lastViewTime: 1 }],
          hasMore: true,
          pageToken: `t${calls}`,
        };
      },
    } as unknown as FeishuClient;
    const documents = new DocumentService(
      feishu,
      new JsonCache(new MemoryStore()),
      pino({ level: 'silent' }),
    );
    const walk = await documents.walkPeople('viewers', DOC, { maxItems: 100 });
    // 100 items at 50 a page is 2 pages; 5 more at most.
    expect(calls).toBe(7);
    expect(walk.pages).toBe(7);
    expect(walk.more).toBe(true);
    expect(walk.items).toHaveLength(1);
  });

  it('chat members: empty pages with new tokens stop after the pages the bound needs', async () => {
    let calls = 0;
    const feishu = {
      async listChatMembers() {
        calls += 1;
        return { items: [], hasMore: true, pageToken: `t${calls}` };
      },
    } as unknown as Pick<FeishuClient, 'listChatMembers'>;
    const walk = await walkChatMembers(feishu, 'oc_walkbounds', { maxMembers: 200 });
    expect(calls).toBe(7);
    expect(walk).toMatchObject({ openIds: [], more: true, pages: 7 });
  });
});
