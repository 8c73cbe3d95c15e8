/**
 * DocumentService.statistics tells `onStatistics` (the day's snapshot) of figures fetched from Feishu only: a
 * cached answer was offered when it was fetched, and recording it again would cost every cached `stats` a store
 * round trip. A refresh fetches again and is offered again.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import type { FileStatistics } from '../cards/data.js';
import { DocumentService } from '../src/data/documents.js';
import type { FeishuClient } from '../src/feishu/client.js';
import type { DocRef } from '../src/feishu/types.js';
import { JsonCache } from '../src/store/cache.js';
import { MemoryStore } from '../src/store/memory-store.js';

const DOC: DocRef = { token: 'doxcnRecorderAbCdEfGhIjKlMn', type: 'docx' };
const FIGURES: FileStatistics = {
  uv: 3,
  pv: 9,
  likeCount: 1,
  timestamp: 1_764_000_000,
  uvToday: 1,
  pvToday: 2,
  likeCountToday: 0,
};

describe('DocumentService.statistics and onStatistics', () => {
  it('offers fetched figures once, not the cached answers after them, and a refresh again', async () => {
    let fetches = 0;
    const feishu = {
      getFileStatistics: async () => {
        fetches += 1;
        return FIGURES;
      },
    } as unknown as FeishuClient;
    const offered: Array<{ cached: boolean; pv: number }> = [];
    const documents = new DocumentService(
      feishu,
      new JsonCache(new MemoryStore()),
      pino({ level: 'silent' }),
      {
        onStatistics: async (_doc, figures) => {
          offered.push({ cached: figures.cached, pv: figures.stats.pv });
        },
      },
    );

    const first = await documents.statistics(DOC);
    const second = await documents.statistics(DOC);
    await documents.statistics(DOC, { refresh: true });

    expect([first.cached, second.cached]).toEqual([false, true]);
    expect(fetches).toBe(2);
    expect(offered).toEqual([
      { cached: false, pv: 9 },
      { cached: false, pv: 9 },
    ]);
  });
});
