import { type PageOptions, pageSize, toPage } from './pages.js';
import type { FeishuTransport } from './transport.js';
import type { Page, WorkplaceAccessDay } from './types.js';

/** Workplace: tenant-wide access figures per day. */
export interface WorkplaceApi {
  /** One page of days (yyyy-MM-dd, both ends included); `pageSize` 1–200, default 200. */
  searchWorkplaceAccessData(
    opts: { fromDate: string; toDate: string } & PageOptions,
  ): Promise<Page<WorkplaceAccessDay>>;
}

// 1–200 days per page: ask for the most, so a month is one call.
const MAX_WORKPLACE_PAGE_SIZE = 200;

export function createWorkplaceApi(transport: FeishuTransport): WorkplaceApi {
  const { sdk } = transport;
  return {
    async searchWorkplaceAccessData(query) {
      const endpoint = 'workplace.v1.workplaceAccessData.search';
      // POST, yet every parameter is a query parameter and the body is empty:
      // https://open.feishu.cn/document/workplace-v1/workplace_access_data/search
      const body = await transport.call(endpoint, () =>
        sdk.workplace.v1.workplaceAccessData.search({
          params: {
            from_date: query.fromDate,
            to_date: query.toDate,
            page_size: pageSize(query.pageSize, MAX_WORKPLACE_PAGE_SIZE, MAX_WORKPLACE_PAGE_SIZE),
            ...(query.pageToken ? { page_token: query.pageToken } : {}),
          },
        }),
      );
      if (!body.data) throw transport.unexpected(endpoint, body, 'data');
      const items: WorkplaceAccessDay[] = [];
      for (const item of body.data.items ?? []) {
        if (!item.date) continue;
        items.push({
          date: item.date,
          allWorkplace: { pv: item.all_workplace?.pv ?? 0, uv: item.all_workplace?.uv ?? 0 },
          defaultWorkplace: { pv: item.default_workplace?.pv ?? 0, uv: item.default_workplace?.uv ?? 0 },
        });
      }
      return toPage(items, body.data);
    },
  };
}
