import type { FeishuClient } from '../feishu/client.js';

/** Most members a walk reads: 20 pages of 100. Past it `unread` says it checked only these. */
export const MAX_CHAT_MEMBERS = 2_000;
/** The members API's largest page. https://open.feishu.cn/document/server-docs/group/chat-member/get */
const MEMBERS_PAGE_SIZE = 100;
/** Pages past what the member bound needs before a walk is cut off anyway (pages smaller than asked for). */
const EXTRA_PAGES = 5;

export interface ChatMembersWalk {
  /** open_ids in Feishu's order, each once. People only: Feishu never lists bots, this one included. */
  openIds: string[];
  /** Feishu had more members than the walk read. */
  more: boolean;
  pages: number;
}

/**
 * Every person in a chat, through every page, up to `maxMembers`. Not cached: someone who joined or left a minute
 * ago changes who has not read the document. The bot must be in the chat; needs one of `im:chat.members:read`,
 * `im:chat:readonly`, `im:chat.group_info:readonly`, `im:chat`.
 */
export async function walkChatMembers(
  feishu: Pick<FeishuClient, 'listChatMembers'>,
  chatId: string,
  opts: { maxMembers?: number } = {},
): Promise<ChatMembersWalk> {
  const maxMembers = opts.maxMembers ?? MAX_CHAT_MEMBERS;
  const openIds: string[] = [];
  const seen = new Set<string>();
  let pageToken: string | undefined;
  let pages = 0;
  for (;;) {
    const page = await feishu.listChatMembers(chatId, {
      pageSize: MEMBERS_PAGE_SIZE,
      ...(pageToken ? { pageToken } : {}),
    });
    pages += 1;
    for (const member of page.items) {
      if (seen.has(member.openId)) continue;
      seen.add(member.openId);
      openIds.push(member.openId);
    }
    const next = page.hasMore ? page.pageToken : undefined;
    // A repeated token would loop forever: treat it as the end.
    const more = next !== undefined && next !== pageToken;
    if (openIds.length >= maxMembers) {
      return { openIds: openIds.slice(0, maxMembers), more: more || openIds.length > maxMembers, pages };
    }
    if (!more) return { openIds, more: false, pages };
    // Pages of members already seen (or none) with ever new tokens would never reach the bound: pages do.
    if (pages >= Math.ceil(maxMembers / MEMBERS_PAGE_SIZE) + EXTRA_PAGES)
      return { openIds, more: true, pages };
    pageToken = next;
  }
}
