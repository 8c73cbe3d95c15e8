/** Domain types shared by the Feishu client, the bot and the cards. Plain data, no SDK types leak out. */

/** `file_type` values the drive APIs accept. */
export type FileType = 'doc' | 'docx' | 'sheet' | 'bitable' | 'mindnote' | 'file' | 'wiki' | 'slides';

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

/** `drive/v1/files/:token/statistics` → `data.statistics`, camel-cased. */
export interface FileStatistics {
  uv: number;
  pv: number;
  /** -1 when the document type does not support likes. */
  likeCount: number;
  /** Epoch seconds at which Feishu computed the figures. */
  timestamp: number;
  uvToday: number;
  pvToday: number;
  likeCountToday: number;
}

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

/** `drive/v1/files/:token/view_records` item. https://open.feishu.cn/document/server-docs/docs/drive-v1/file-view_record/list */
export interface ViewRecord {
  /** open_id (viewer_id_type=open_id). */
  viewerId: string;
  name?: string;
  avatarUrl?: string;
  /** Epoch seconds. */
  lastViewTime: number;
}

/** `drive/v2/files/:token/likes` item. Names are absent when the user is desensitised. */
export interface DocLike {
  /** open_id (user_id_type=open_id). */
  userId: string;
  name?: string;
  enName?: string;
  avatarUrl?: string;
  /** Epoch seconds. */
  lastLikedTime: number;
  desensitized: boolean;
}

export interface AccessFigures {
  pv: number;
  uv: number;
}

/** `workplace/v1/workplace_access_data/search` item. */
export interface WorkplaceAccessDay {
  /** yyyy-MM-dd */
  date: string;
  allWorkplace: AccessFigures;
  defaultWorkplace: AccessFigures;
}

export type AppUsageCycle = 'day' | 'week' | 'month';
export type AppAbility = 'app' | 'mp' | 'h5' | 'bot';
export type AppUsageMetric = 'uv' | 'total_users' | 'new_users' | 'pv' | 'lifecycle';

/** Request for `application/v6/applications/:app_id/app_usage/overview`; `date` already aligned to the cycle. */
export interface AppUsageQuery {
  appId: string;
  /** yyyy-MM-dd; a Monday for `week`, the 1st for `month`. */
  date: string;
  cycle: AppUsageCycle;
  ability: AppAbility;
  departmentId?: string;
}

export interface AppUsageOverview {
  /** Only the metrics the API returned (bots get `uv` only; unknown metric names are kept as they come). */
  metrics: Partial<Record<AppUsageMetric, number>> & Record<string, number | undefined>;
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
