import { type ApplicationApi, createApplicationApi } from './application.js';
import { type BotInfoApi, createBotInfoApi } from './bot-info.js';
import { createDriveApi, type DriveApi } from './drive.js';
import { createImApi, type ImApi } from './im.js';
import { FeishuTransport, type TransportOptions } from './transport.js';
import { createWikiApi, type WikiApi } from './wiki.js';
import { createWorkplaceApi, type WorkplaceApi } from './workplace.js';

export type { PageOptions } from './pages.js';
export { TENANT_TOKEN_ENDPOINT, worstCaseCallMs } from './transport.js';

export type FeishuClientOptions = TransportOptions;

/** Every Feishu endpoint the bot calls, by product area, over one transport. */
export interface FeishuClient extends BotInfoApi, DriveApi, WikiApi, WorkplaceApi, ApplicationApi, ImApi {
  close(): void;
}

export function createFeishuClient(opts: FeishuClientOptions): FeishuClient {
  const transport = new FeishuTransport(opts);
  return {
    ...createBotInfoApi(transport),
    ...createDriveApi(transport),
    ...createWikiApi(transport),
    ...createWorkplaceApi(transport),
    ...createApplicationApi(transport),
    ...createImApi(transport),
    close: () => transport.close(),
  };
}
