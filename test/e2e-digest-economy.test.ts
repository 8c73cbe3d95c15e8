/**
 * The digest run at scale against an emulator that enforces Feishu's message limits (50/s and 1000/min per app):
 * 1,000 chats subscribed to 5 documents each, drawn from 50. Each distinct document must be fetched once, and every
 * chat must get exactly one digest. The shared limiter keeps sends under Feishu's limits as granted; on a loaded
 * machine requests granted in one second can still arrive in the next, so the emulator may refuse a few: those
 * must be waited out and sent once, never lost or doubled. How long the run takes against the send-limit floor,
 * and how many refusals there were (0 on a calm machine), are printed here and by `npm run bench`, never asserted:
 * a loaded CI machine is slow, not wrong. In a file of its own: a fresh Redis DB and emulator, so no earlier send has used this minute's budget.
 */
import { describe, expect, it } from 'vitest';
import { cardText } from './helper.js';
import { useFreshRedisDb } from './redis.js';
import { DIGEST_RUN, describeDigestRun, runDigestAtScale } from './support/digest-run.js';

const db = useFreshRedisDb();

describe('digest run economy', () => {
  it('fetches each distinct document once and sends 1,000 digests, once each, a refused send retried', async () => {
    const run = await runDigestAtScale(db().url);
    console.log(`[figure] ${describeDigestRun(run)}`);

    expect(run.sentBeforeDue).toBe(0);
    const chats = new Set(run.messages.map((m) => m.targetId));
    expect(run.messages).toHaveLength(DIGEST_RUN.chats);
    expect(chats.size).toBe(DIGEST_RUN.chats);
    expect(cardText(run.messages[0]?.content)).toContain('Daily digest');
    expect(run.statisticsCalls).toBe(DIGEST_RUN.docs);
    // One send per chat, plus one retry per refused send: nothing else.
    expect(run.sendCalls).toBe(DIGEST_RUN.chats + run.refusedSends);
  }, 150_000);
});
