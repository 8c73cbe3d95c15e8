/**
 * One snapshot per item per local day: Feishu only serves running totals, so every trend a digest draws is
 * built from figures the bot recorded itself.
 */
import type { Store } from '../store/store.js';
import { addDays } from './schedule.js';
import type { Snapshot } from './types.js';

/** Long enough for a quarter's trend; retention is each key's TTL, so nothing ever needs pruning. */
export const SNAPSHOT_RETENTION_DAYS = 90;

const DAY_MS = 86_400_000;

export interface SnapshotStoreOptions {
  retentionDays?: number;
  logger?: { warn(obj: object, msg?: string): void };
}

/** Key `fsb:snap:<itemKey>:<date>` → JSON `Snapshot`. */
export class SnapshotStore {
  readonly #store: Store;
  readonly #ttlMs: number;
  readonly #logger: SnapshotStoreOptions['logger'];

  constructor(store: Store, opts: SnapshotStoreOptions = {}) {
    const days = opts.retentionDays ?? SNAPSHOT_RETENTION_DAYS;
    if (!Number.isFinite(days) || days <= 0)
      throw new RangeError(`retentionDays must be positive, got ${days}`);
    this.#store = store;
    this.#ttlMs = days * DAY_MS;
    this.#logger = opts.logger;
  }

  /** Records `snapshot` for its date; a later put on the same day replaces it (the last fetch wins). */
  async put(itemKey: string, snapshot: Snapshot): Promise<void> {
    await this.#store.set(snapshotKey(itemKey, snapshot.date), JSON.stringify(snapshot), this.#ttlMs);
  }

  /**
   * Records `snapshot` only when its date has none yet (one atomic SET NX): what commands record, so a busy day's
   * first figures stand and a digest's snapshot, which `put` writes, is never replaced by them.
   */
  async putIfAbsent(itemKey: string, snapshot: Snapshot): Promise<boolean> {
    return this.#store.setIfAbsent(
      snapshotKey(itemKey, snapshot.date),
      JSON.stringify(snapshot),
      this.#ttlMs,
    );
  }

  async get(itemKey: string, date: string): Promise<Snapshot | null> {
    const raw = await this.#store.get(snapshotKey(itemKey, date));
    return raw === null ? null : this.#parse(itemKey, date, raw);
  }

  /**
   * The snapshots recorded for the `days` dates ending at `endDate`, plus the day before them so the first
   * day of the window can show a change; ascending, missing days left out. One round-trip.
   */
  async history(itemKey: string, endDate: string, days = 7): Promise<Snapshot[]> {
    if (!Number.isInteger(days) || days < 1)
      throw new RangeError(`days must be a positive integer, got ${days}`);
    const dates = Array.from({ length: days + 1 }, (_, i) => addDays(endDate, i - days));
    const raws = await this.#store.getMany(dates.map((date) => snapshotKey(itemKey, date)));
    return raws.flatMap((raw, i) => {
      const date = dates[i];
      return raw === null || date === undefined ? [] : (this.#parse(itemKey, date, raw) ?? []);
    });
  }

  #parse(itemKey: string, date: string, raw: string): Snapshot | null {
    let value: unknown;
    try {
      value = JSON.parse(raw);
    } catch {
      value = undefined;
    }
    if (isSnapshot(value) && value.date === date) return value;
    // A bad snapshot costs one point of one chart; it must not cost the whole digest.
    this.#logger?.warn({ itemKey, date }, 'skipping unreadable digest snapshot');
    return null;
  }
}

export function snapshotKey(itemKey: string, date: string): string {
  return `fsb:snap:${itemKey}:${date}`;
}

function isSnapshot(value: unknown): value is Snapshot {
  if (typeof value !== 'object' || value === null) return false;
  const { date, takenAt, figures } = value as Record<string, unknown>;
  return (
    typeof date === 'string' &&
    typeof takenAt === 'number' &&
    typeof figures === 'object' &&
    figures !== null &&
    Object.values(figures).every((n) => typeof n === 'number' && Number.isFinite(n))
  );
}
