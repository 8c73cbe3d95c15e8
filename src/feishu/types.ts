/**
 * Domain types of the Feishu boundary: plain data, no SDK types leak out. Those a card renders are the cards' own
 * (`cards/data.ts`); the endpoint modules map Feishu's bodies into them.
 */
import type { DocumentType } from '../../cards/data.js';

export type {
  AccessFigures,
  AppAbility,
  AppUsageCycle,
  AppUsageMetric,
  AppUsageOverview,
  AppUsageQuery,
  DocLike,
  DocumentType,
  FileStatistics,
  ViewRecord,
  WorkplaceAccessDay,
} from '../../cards/data.js';

/** `file_type` values the drive APIs accept. */
export type FileType = DocumentType | 'wiki';

/** A concrete cloud document (wiki links are resolved to one of these first). */
export interface DocRef {
  token: string;
  type: Exclude<FileType, 'wiki'>;
}

/**
 * What `parseDocLink` makes of one URL.
 * - `document`: token + type straight from the path.
 * - `wiki`: a wiki node token that must be resolved with `wiki/v2/spaces/get_node`.
 * - `not_document`: a Feishu link to something without statistics (folder, wiki settings, …).
 */
export type DocLink =
  | { kind: 'document'; url: string; token: string; type: Exclude<FileType, 'wiki'> }
  | { kind: 'wiki'; url: string; token: string }
  | { kind: 'not_document'; url: string; what: string };

export interface WikiNode {
  objToken: string;
  objType: Exclude<FileType, 'wiki'>;
  title?: string;
}

export interface DocMeta {
  token: string;
  type: string;
  title: string;
  ownerId?: string;
  url?: string;
}

export interface BotInfo {
  openId: string;
  appName: string;
}

/** One page of a paginated Feishu list; `pageToken` is present only when `hasMore`. */
export interface Page<T> {
  items: T[];
  pageToken?: string;
  hasMore: boolean;
}

/** `drive/v1/permissions/:token/members` item. */
export interface PermissionMember {
  /** `openid`, `unionid`, `userid`, `email`, `openchat`, `opendepartmentid`, `groupid`, `wikispaceid`, … */
  memberType: string;
  memberId: string;
  /** `view`, `edit` or `full_access`. */
  perm: string;
  /** `user`, `chat`, `department`, `group`, … when returned. */
  type?: string;
}

/**
 * `im/v1/chats/:chat_id`, the parts the bot decides on. Feishu returns only name, avatar, member count and status
 * when the bot is not in the chat, so `mode` is absent then (and treated as "not known to be private").
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get
 */
export interface ChatInfo {
  chatId: string;
  /** `chat_mode`: `p2p` (a private chat with the bot), `group` or `topic`. */
  mode?: string;
  /** The owner's open_id; absent when `owner_id_type` is not `open_id` (a group a bot created is the bot's). */
  ownerId?: string;
  /** `user_manager_id_list`: open_ids of the people the owner made managers. */
  managerIds: string[];
}

/** `im/v1/chats/:chat_id/members` item, asked for as open_ids. Feishu never lists the chat's bots. */
export interface ChatMember {
  openId: string;
  name?: string;
}

/** One page of chat members; `memberTotal` is Feishu's own count (`member_total`) when it sends one. */
export interface ChatMembersPage extends Page<ChatMember> {
  memberTotal?: number;
}

/** A file for `im/v1/files`: the bytes and the name the recipient sees. */
export interface UploadFile {
  fileName: string;
  bytes: Buffer;
  /** `stream` for anything that is not audio, video, PDF or Office (a CSV is a stream). */
  fileType?: 'opus' | 'mp4' | 'pdf' | 'doc' | 'xls' | 'ppt' | 'stream';
}

/** A `post` (rich text) message per language; each paragraph is a list of inline nodes. */
export type PostContent = Partial<Record<'zh_cn' | 'en_us', { title?: string; content: PostNode[][] }>>;

export type PostNode =
  | { tag: 'text'; text: string }
  | { tag: 'a'; text: string; href: string }
  | { tag: 'at'; user_id: string };
