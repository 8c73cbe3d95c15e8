import type { DocRef } from '../feishu/types.js';
import type { WorkplaceRangeSpec } from './commands.js';

/**
 * What a card button carries. Feishu returns `behaviors[].value` verbatim in `card.action.trigger`, so the value
 * is the only state a click brings back: keep it small (it is repeated in every card) and versioned, and treat
 * anything that does not decode as a stale card.
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 */

/** A document as a button remembers it: token, type, canonical url, title. */
export interface ActionDoc {
  t: string;
  y: DocRef['type'];
  u: string;
  n?: string;
}

/** Where the card lives: `p` a private chat (the list may be shown in place), `g` a group (lists go privately). */
export type ChatKind = 'p' | 'g';

export type CardAction =
  | { v: 1; a: 'refresh'; d: ActionDoc; c: ChatKind }
  | { v: 1; a: 'back'; d: ActionDoc; c: ChatKind }
  /** Open a people list (from the stats card) or move to page `i` of paging session `s`. */
  | { v: 1; a: 'viewers' | 'likes'; d: ActionDoc; c: ChatKind; s?: string; i?: number }
  | { v: 1; a: 'workplace'; r: WorkplaceRangeSpec }
  | { v: 1; a: 'app'; q: AppActionQuery }
  /** Remove one item (by `itemKey`) from the chat's daily digest. */
  | { v: 1; a: 'digest_remove'; k: string }
  /** Add document `d` to the clicked chat's digest (the `trend` card's "history starts" offer). */
  | { v: 1; a: 'digest_add'; d: ActionDoc }
  /** Remind the group of `unread` session `s` (src/bot/unread-sessions.ts) of the document. */
  | { v: 1; a: 'remind'; s: string };

export interface AppActionQuery {
  appId: string;
  cycle: 'day' | 'week' | 'month';
  date: string;
  ability: 'app' | 'mp' | 'h5' | 'bot';
  dept?: string;
}

export const ACTION_VERSION = 1;

export function toActionDoc(doc: DocRef & { url: string; title?: string }): ActionDoc {
  // Titles only label the card; cap them so a long one cannot push a card towards the 30 KB limit.
  return { t: doc.token, y: doc.type, u: doc.url, ...(doc.title ? { n: doc.title.slice(0, 100) } : {}) };
}

export function fromActionDoc(d: ActionDoc): DocRef & { url: string; title?: string } {
  return { token: d.t, type: d.y, url: d.u, ...(d.n ? { title: d.n } : {}) };
}

/** The value to put on a button. */
export function encodeAction(action: CardAction): Record<string, unknown> {
  return { ...action };
}

const DOC_TYPES = new Set(['doc', 'docx', 'sheet', 'bitable', 'mindnote', 'file', 'slides']);

/** Validate a value that came back from Feishu; null for anything stale, foreign or tampered with. */
export function decodeAction(value: unknown): CardAction | null {
  if (!isObject(value) || value.v !== ACTION_VERSION || typeof value.a !== 'string') return null;
  switch (value.a) {
    case 'refresh':
    case 'back': {
      const d = decodeDoc(value.d);
      const c = decodeChatKind(value.c);
      return d && c ? { v: 1, a: value.a, d, c } : null;
    }
    case 'viewers':
    case 'likes': {
      const d = decodeDoc(value.d);
      const c = decodeChatKind(value.c);
      if (!d || !c) return null;
      const s = value.s;
      const i = value.i;
      if (s !== undefined && (typeof s !== 'string' || !/^[A-Za-z0-9_-]{6,40}$/.test(s))) return null;
      if (i !== undefined && (typeof i !== 'number' || !Number.isInteger(i) || i < 0 || i > 10_000))
        return null;
      return {
        v: 1,
        a: value.a,
        d,
        c,
        ...(typeof s === 'string' ? { s } : {}),
        ...(typeof i === 'number' ? { i } : {}),
      };
    }
    case 'workplace': {
      const r = decodeRange(value.r);
      return r ? { v: 1, a: 'workplace', r } : null;
    }
    case 'app': {
      const q = value.q;
      if (!isObject(q)) return null;
      const { appId, cycle, date, ability, dept } = q;
      if (typeof appId !== 'string' || !/^cli_[A-Za-z0-9]+$/.test(appId)) return null;
      if (cycle !== 'day' && cycle !== 'week' && cycle !== 'month') return null;
      if (typeof date !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(date)) return null;
      if (ability !== 'app' && ability !== 'mp' && ability !== 'h5' && ability !== 'bot') return null;
      if (dept !== undefined && (typeof dept !== 'string' || dept.length > 64)) return null;
      return {
        v: 1,
        a: 'app',
        q: { appId, cycle, date, ability, ...(typeof dept === 'string' ? { dept } : {}) },
      };
    }
    case 'digest_remove':
      return typeof value.k === 'string' && /^[A-Za-z0-9_-]{1,120}$/.test(value.k)
        ? { v: 1, a: 'digest_remove', k: value.k }
        : null;
    case 'digest_add': {
      const d = decodeDoc(value.d);
      return d ? { v: 1, a: 'digest_add', d } : null;
    }
    case 'remind':
      return typeof value.s === 'string' && /^[A-Za-z0-9_-]{6,40}$/.test(value.s)
        ? { v: 1, a: 'remind', s: value.s }
        : null;
    default:
      return null;
  }
}

function decodeDoc(value: unknown): ActionDoc | null {
  if (!isObject(value)) return null;
  const { t, y, u, n } = value;
  if (typeof t !== 'string' || !/^[A-Za-z0-9]{10,64}$/.test(t)) return null;
  if (typeof y !== 'string' || !DOC_TYPES.has(y)) return null;
  if (typeof u !== 'string' || !/^https:\/\//.test(u) || u.length > 300) return null;
  if (n !== undefined && typeof n !== 'string') return null;
  return { t, y: y as ActionDoc['y'], u, ...(typeof n === 'string' ? { n: n.slice(0, 100) } : {}) };
}

function decodeChatKind(value: unknown): ChatKind | null {
  return value === 'p' || value === 'g' ? value : null;
}

function decodeRange(value: unknown): WorkplaceRangeSpec | null {
  if (!isObject(value)) return null;
  switch (value.kind) {
    case 'last_days':
      return typeof value.days === 'number' &&
        Number.isInteger(value.days) &&
        value.days > 0 &&
        value.days <= 366
        ? { kind: 'last_days', days: value.days }
        : null;
    case 'this_week':
      return { kind: 'this_week' };
    case 'last_month':
      return { kind: 'last_month' };
    case 'between':
      return typeof value.from === 'string' &&
        typeof value.to === 'string' &&
        /^\d{4}-\d{2}-\d{2}$/.test(value.from) &&
        /^\d{4}-\d{2}-\d{2}$/.test(value.to)
        ? { kind: 'between', from: value.from, to: value.to }
        : null;
    default:
      return null;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
