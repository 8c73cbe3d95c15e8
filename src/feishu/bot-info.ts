import type { FeishuTransport } from './transport.js';
import type { BotInfo } from './types.js';

/** Who the bot is: its open_id decides whether a group message @-mentions it. */
export interface BotInfoApi {
  getBotInfo(): Promise<BotInfo>;
}

export function createBotInfoApi(transport: FeishuTransport): BotInfoApi {
  return {
    async getBotInfo() {
      const endpoint = 'bot.v3.info';
      // Not a typed call in the SDK; `bot` sits at the top level, not under `data`.
      // https://open.feishu.cn/document/client-docs/bot-v3/obtain-bot-info
      const body: unknown = await transport.call(endpoint, () =>
        transport.sdk.request({ url: '/open-apis/bot/v3/info', method: 'GET' }),
      );
      const bot = (body as { bot?: { open_id?: unknown; app_name?: unknown } } | undefined)?.bot;
      if (typeof bot?.open_id !== 'string') throw transport.unexpected(endpoint, body, 'bot.open_id');
      return { openId: bot.open_id, appName: typeof bot.app_name === 'string' ? bot.app_name : '' };
    },
  };
}
