import { createHash } from 'node:crypto';
import type { Store } from '../store/store.js';
import type { ActionDoc } from './actions.js';

/**
 * What an `unread` card's **Remind them** button stands for: the group and the document it was asked about. The
 * button carries only the session id, so the group a reminder goes to comes from the bot's own record, never from
 * a value on a card (a card forwarded elsewhere still reminds the group it was about, and no copied value can aim
 * a reminder at another chat). Kept as long as paging sessions: a card read after lunch still works.
 */
export const UNREAD_SESSION_TTL_MS = 24 * 60 * 60 * 1000;

const SESSION_PREFIX = 'fsb:unread:';
const REMINDED_PREFIX = 'fsb:unread:reminded:';

export interface UnreadSession {
  chatId: string;
  doc: ActionDoc;
  /** Who asked; for the log only: every click is checked for the clicker. */
  askedBy?: string;
}

export interface ReminderClaim {
  /** Epoch ms of the click that sent it. */
  at: number;
  by?: string;
}

export class UnreadSessions {
  constructor(private readonly store: Store) {}

  /**
   * A session for the message `seed` answers, with an id derived from it: a retried attempt renders the same
   * button, and its session says the same.
   */
  async start(seed: string, session: UnreadSession): Promise<string> {
    const id = createHash('sha256').update(`unread:${seed}`).digest('base64url').slice(0, 16);
    await this.store.set(SESSION_PREFIX + id, JSON.stringify(session), UNREAD_SESSION_TTL_MS);
    return id;
  }

  async get(id: string): Promise<UnreadSession | undefined> {
    const raw = await this.store.get(SESSION_PREFIX + id);
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<UnreadSession>;
      return typeof parsed.chatId === 'string' && parsed.doc && typeof parsed.doc.t === 'string'
        ? (parsed as UnreadSession)
        : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * One reminder per card: true for the click that may send it, false once one was sent (or is being sent) for
   * this session, by anyone. Released again when the send fails, so a later click can try.
   */
  claimReminder(id: string, claim: ReminderClaim): Promise<boolean> {
    return this.store.setIfAbsent(REMINDED_PREFIX + id, JSON.stringify(claim), UNREAD_SESSION_TTL_MS);
  }

  async reminder(id: string): Promise<ReminderClaim | undefined> {
    const raw = await this.store.get(REMINDED_PREFIX + id);
    if (!raw) return undefined;
    try {
      const parsed = JSON.parse(raw) as Partial<ReminderClaim>;
      return typeof parsed.at === 'number' ? (parsed as ReminderClaim) : undefined;
    } catch {
      return undefined;
    }
  }

  releaseReminder(id: string): Promise<void> {
    return this.store.delete(REMINDED_PREFIX + id);
  }
}
