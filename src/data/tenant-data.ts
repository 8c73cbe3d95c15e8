import type { FeishuClient } from '../feishu/client.js';
import type { AppUsageOverview, AppUsageQuery, WorkplaceAccessDay } from '../feishu/types.js';
import type { JsonCache } from '../store/cache.js';

/**
 * Tenant-wide figures (workplace access, app usage) with a cache policy that follows how final the data is:
 * days and periods that have ended no longer change and are kept a day; anything still open is kept minutes.
 */
export const TENANT_TTL = {
  final: 24 * 60 * 60_000,
  open: 5 * 60_000,
} as const;

/** Largest page the workplace API serves; fewer pages means fewer calls against its 20/s limit. */
const WORKPLACE_PAGE_SIZE = 200;
/** 366 days fit in two pages; anything past this is a page_token loop, not data. */
const MAX_WORKPLACE_PAGES = 20;

export class TenantData {
  constructor(
    private readonly feishu: FeishuClient,
    private readonly cache: JsonCache,
  ) {}

  /** Every day in [from, to], walking all pages, in date order whatever order Feishu returns them in. */
  async workplaceDays(
    range: { from: string; to: string; final: boolean },
    opts: { refresh?: boolean } = {},
  ): Promise<{ days: WorkplaceAccessDay[]; fetchedAt: Date; cached: boolean }> {
    const { value, storedAt, cached } = await this.cache.getOrLoad(
      `workplace:${range.from}:${range.to}`,
      () => this.walkWorkplace(range.from, range.to),
      { ttlMs: range.final ? TENANT_TTL.final : TENANT_TTL.open, ...(opts.refresh ? { refresh: true } : {}) },
    );
    return { days: value, fetchedAt: new Date(storedAt), cached };
  }

  async appOverview(
    query: AppUsageQuery,
    final: boolean,
    opts: { refresh?: boolean } = {},
  ): Promise<{ overview: AppUsageOverview; fetchedAt: Date; cached: boolean }> {
    const key = `app:${query.appId}:${query.cycle}:${query.date}:${query.ability}:${query.departmentId ?? 'all'}`;
    const { value, storedAt, cached } = await this.cache.getOrLoad(
      key,
      () => this.feishu.getAppUsageOverview(query),
      {
        ttlMs: final ? TENANT_TTL.final : TENANT_TTL.open,
        ...(opts.refresh ? { refresh: true } : {}),
      },
    );
    return { overview: value, fetchedAt: new Date(storedAt), cached };
  }

  private async walkWorkplace(fromDate: string, toDate: string): Promise<WorkplaceAccessDay[]> {
    // The SDK's listWithIterator swallows errors (FEISHU.md), so walk the pages ourselves.
    const byDate = new Map<string, WorkplaceAccessDay>();
    let pageToken: string | undefined;
    for (let pages = 0; pages < MAX_WORKPLACE_PAGES; pages++) {
      const page = await this.feishu.searchWorkplaceAccessData({
        fromDate,
        toDate,
        pageSize: WORKPLACE_PAGE_SIZE,
        ...(pageToken ? { pageToken } : {}),
      });
      for (const day of page.items) byDate.set(day.date, day);
      if (!page.hasMore || !page.pageToken || page.pageToken === pageToken) break;
      pageToken = page.pageToken;
    }
    return [...byDate.values()].sort((a, b) => a.date.localeCompare(b.date));
  }
}
