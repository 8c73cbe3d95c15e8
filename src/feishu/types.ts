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
