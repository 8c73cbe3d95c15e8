import { createHash, randomBytes } from 'node:crypto';
import type { Store } from '../store/store.js';

/**
 * Feishu lists hand out a token for the *next* page only. To offer Previous as well, a paging session remembers
 * the token of every page reached so far; the buttons carry only the session id and a page index.
 * Sessions outlive the list cache by far: a card left open over lunch must still page.
 */
export const PAGING_TTL_MS = 24 * 60 * 60 * 1000;

const PREFIX = 'fsb:paging:';

/** `tokens[i]` is the page_token that fetches page i (0-based); page 0 needs none (`null`). */
type Tokens = Array<string | null>;

export class PagingSessions {
  constructor(private readonly store: Store) {}

  /**
   * A new session. With a `seed` (the message a command answers) the id is derived from it, so a retried attempt
   * renders the same buttons and finds the pages the first attempt reached.
   */
  async start(seed?: string): Promise<string> {
    const initial = JSON.stringify([null] satisfies Tokens);
    if (seed === undefined) {
      const id = randomBytes(9).toString('base64url');
      await this.store.set(PREFIX + id, initial, PAGING_TTL_MS);
      return id;
    }
    const id = createHash('sha256').update(seed).digest('base64url').slice(0, 12);
    await this.store.setIfAbsent(PREFIX + id, initial, PAGING_TTL_MS);
    return id;
  }

  /**
   * The token for page `index`: `null` for the first page, a string for a page reached before, `undefined` when
   * the session expired or that page was never reached (a stale or forged button).
   */
  async tokenFor(id: string, index: number): Promise<string | null | undefined> {
    const tokens = await this.read(id);
    if (!tokens || index < 0 || index >= tokens.length) return undefined;
    return tokens[index] ?? null;
  }

  /** Record the token that leads from page `index` to page `index + 1`. */
  async remember(id: string, index: number, nextToken: string): Promise<void> {
    const tokens = (await this.read(id)) ?? [null];
    // Going back re-reads pages already known; only write when something changed. Later tokens are kept so
    // Next still works after Previous (a page token stays valid while the list does).
    if (tokens[index + 1] === nextToken) return;
    tokens[index + 1] = nextToken;
    await this.store.set(PREFIX + id, JSON.stringify(tokens), PAGING_TTL_MS);
  }

  private async read(id: string): Promise<Tokens | undefined> {
    const raw = await this.store.get(PREFIX + id);
    if (!raw) return undefined;
    try {
      const parsed: unknown = JSON.parse(raw);
      return Array.isArray(parsed) && parsed.every((t) => t === null || typeof t === 'string')
        ? (parsed as Tokens)
        : undefined;
    } catch {
      return undefined;
    }
  }
}
