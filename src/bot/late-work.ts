import type { Logger } from 'pino';

/**
 * Work that outlived the request that started it (a card callback past its deadline). Tracked so shutdown waits
 * for it and failures are logged once instead of surfacing as unhandled rejections.
 */
export class LateWork {
  private readonly pending = new Set<Promise<unknown>>();

  /** The result if `work` settles within `ms`, otherwise undefined (the work keeps running). */
  async within<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), ms);
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  track(work: Promise<unknown>, log: Pick<Logger, 'error'>): void {
    const tracked = work
      .catch((err: unknown) => log.error({ err }, 'late card update failed'))
      .finally(() => this.pending.delete(tracked));
    this.pending.add(tracked);
  }

  async drain(): Promise<void> {
    await Promise.allSettled([...this.pending]);
  }
}
