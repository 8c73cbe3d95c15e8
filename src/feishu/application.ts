import { pathSegment } from './path.js';
import type { FeishuTransport } from './transport.js';
import type { AppUsageCycle, AppUsageOverview, AppUsageQuery } from './types.js';

/** Application: usage overview of a custom app. */
export interface ApplicationApi {
  /** 211011 (no data, HTTP 200) and 211004 (tenant edition) throw like any other Feishu code. */
  getAppUsageOverview(query: AppUsageQuery): Promise<AppUsageOverview>;
}

const CYCLE_TYPES: Record<AppUsageCycle, number> = { day: 1, week: 2, month: 3 };

export function createApplicationApi(transport: FeishuTransport): ApplicationApi {
  const { sdk } = transport;
  return {
    async getAppUsageOverview(query) {
      const endpoint = 'application.v6.applicationAppUsage.overview';
      // https://open.feishu.cn/document/server-docs/application-v6/app-usage/overview
      const appId = pathSegment(query.appId);
      const body = await transport.call(endpoint, () =>
        sdk.application.v6.applicationAppUsage.overview({
          path: { app_id: appId },
          params: { department_id_type: 'open_department_id' },
          data: {
            date: query.date,
            cycle_type: CYCLE_TYPES[query.cycle],
            ability: query.ability,
            ...(query.departmentId ? { department_id: query.departmentId } : {}),
          },
        }),
      );
      if (!body.data) throw transport.unexpected(endpoint, body, 'data');
      const metrics: AppUsageOverview['metrics'] = {};
      for (const item of body.data.items ?? []) {
        if (typeof item.metric_name === 'string' && typeof item.metric_value === 'number') {
          metrics[item.metric_name] = item.metric_value;
        }
      }
      return { metrics };
    },
  };
}
