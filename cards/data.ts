/**
 * The plain data the cards render. Cards own these shapes and import nothing from `src/`: the Feishu boundary
 * (`src/feishu/types.ts`) and the digest (`src/digest/types.ts`) map what they fetch and record into them.
 */

/** A cloud document's type, as the drive APIs name it (wiki links are resolved to one of these first). */
export type DocumentType = 'doc' | 'docx' | 'sheet' | 'bitable' | 'mindnote' | 'file' | 'slides';

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

/** Something a chat can subscribe to. */
export type DigestItem =
  | { kind: 'doc'; token: string; type: DocumentType; url: string; title?: string }
  | { kind: 'workplace' }
  | { kind: 'app'; appId: string };

/** Figures one item reports; only the ones that apply are present (a sheet has no likes). */
export interface DigestFigures {
  /** Documents: unique visitors so far. Workplace: visitors on `date`. Apps: active users on `date`. */
  uv?: number;
  /** Documents: views so far. Workplace: page views on `date`. */
  pv?: number;
  /** Documents that support likes: likes so far. */
  likes?: number;
}

/** Tenant-wide figures are per day and final only once the day is over: they describe `date` (yesterday). */
export interface ItemFigures {
  figures: DigestFigures;
  /** yyyy-MM-dd the figures describe, for day-based items (workplace, app). */
  date?: string;
  /** Epoch ms at which Feishu's answer was fetched. */
  fetchedAt: number;
}

/** One point of a trend chart: the metric on `date` and its change from the previous recorded day. */
export interface TrendPoint {
  date: string;
  value: number;
  /** null for the first day the bot has on record. */
  delta: number | null;
}

export interface DigestTime {
  hour: number;
  minute: number;
}

/**
 * How often a chat's digest goes out, at its time of day. Weekdays are ISO 8601 (1 = Monday … 7 = Sunday);
 * a monthly day stops at 28 so that every month has it.
 */
export type DigestCadence =
  | { kind: 'daily' }
  | { kind: 'weekly'; weekday: number }
  | { kind: 'monthly'; day: number };

/** The metric a trend follows for each kind of item. */
export function primaryMetric(item: DigestItem): keyof DigestFigures {
  return item.kind === 'app' ? 'uv' : 'pv';
}
