import { epochSeconds, type PageOptions, pageSize, toPage } from './pages.js';
import { pathSegment } from './path.js';
import type { FeishuTransport } from './transport.js';
import type {
  DocLike,
  DocMeta,
  DocRef,
  FileStatistics,
  Page,
  PermissionMember,
  ViewRecord,
} from './types.js';

/** Drive: document statistics, who viewed, who liked, metas and collaborators. */
export interface DriveApi {
  getFileStatistics(doc: DocRef): Promise<FileStatistics>;
  /** Keyed by document token; documents Feishu could not read (`failed_list`) are simply absent. */
  batchQueryMetas(docs: DocRef[]): Promise<Map<string, DocMeta>>;
  /** Most recent first; `pageSize` 1–50, default 20. */
  listViewRecords(doc: DocRef, opts?: PageOptions): Promise<Page<ViewRecord>>;
  /** Most recent first; only doc, docx and file have likes. `pageSize` 1–50, default 20. */
  listLikes(doc: DocRef, opts?: PageOptions): Promise<Page<DocLike>>;
  /** Every collaborator of the document (the owner is in the metas, not necessarily here). */
  listPermissionMembers(doc: DocRef): Promise<PermissionMember[]>;
}

// https://open.feishu.cn/document/server-docs/docs/drive-v1/file/batch_query: at most 200 docs per request.
const METAS_PER_REQUEST = 200;
// View records and likes take 1–50 per page; the bot shows 20 people per card.
const DEFAULT_PEOPLE_PAGE_SIZE = 20;
const MAX_PEOPLE_PAGE_SIZE = 50;

export function createDriveApi(transport: FeishuTransport): DriveApi {
  const { sdk } = transport;
  // The SDK's unions lag the API; Feishu itself answers 1069602 / 1061002 for a type it does not take.
  type StatisticsFileType = NonNullable<
    Parameters<typeof sdk.drive.v1.fileStatistics.get>[0]
  >['params']['file_type'];
  type MetaDocType = NonNullable<
    Parameters<typeof sdk.drive.v1.meta.batchQuery>[0]
  >['data']['request_docs'][number]['doc_type'];
  type ViewRecordFileType = NonNullable<
    Parameters<typeof sdk.drive.v1.fileViewRecord.list>[0]
  >['params']['file_type'];
  type LikeFileType = NonNullable<Parameters<typeof sdk.drive.v2.fileLike.list>[0]>['params']['file_type'];
  type MemberDocType = NonNullable<
    Parameters<typeof sdk.drive.v1.permissionMember.list>[0]
  >['params']['type'];

  return {
    async getFileStatistics(doc) {
      const endpoint = 'drive.v1.fileStatistics.get';
      const fileToken = pathSegment(doc.token);
      const body = await transport.call(endpoint, () =>
        sdk.drive.v1.fileStatistics.get({
          path: { file_token: fileToken },
          params: { file_type: doc.type as StatisticsFileType },
        }),
      );
      const stats = body.data?.statistics;
      if (!stats) throw transport.unexpected(endpoint, body, 'data.statistics');
      return {
        uv: stats.uv ?? 0,
        pv: stats.pv ?? 0,
        likeCount: stats.like_count ?? -1,
        timestamp: stats.timestamp ?? 0,
        uvToday: stats.uv_today ?? 0,
        pvToday: stats.pv_today ?? 0,
        likeCountToday: stats.like_count_today ?? 0,
      };
    },

    async batchQueryMetas(docs) {
      const endpoint = 'drive.v1.meta.batchQuery';
      const unique = [...new Map(docs.map((doc) => [`${doc.type}:${doc.token}`, doc])).values()];
      const metas = new Map<string, DocMeta>();
      // Sequential on purpose: chunks share one rate-limit bucket.
      for (let start = 0; start < unique.length; start += METAS_PER_REQUEST) {
        const chunk = unique.slice(start, start + METAS_PER_REQUEST);
        const body = await transport.call(endpoint, () =>
          sdk.drive.v1.meta.batchQuery({
            data: {
              request_docs: chunk.map((doc) => ({ doc_token: doc.token, doc_type: doc.type as MetaDocType })),
              with_url: true,
            },
            params: { user_id_type: 'open_id' },
          }),
        );
        for (const meta of body.data?.metas ?? []) {
          metas.set(meta.doc_token, {
            token: meta.doc_token,
            type: meta.doc_type,
            title: meta.title,
            ownerId: meta.owner_id || undefined,
            url: meta.url || undefined,
          });
        }
      }
      return metas;
    },

    async listViewRecords(doc, page) {
      const endpoint = 'drive.v1.fileViewRecord.list';
      const fileToken = pathSegment(doc.token);
      const body = await transport.call(endpoint, () =>
        sdk.drive.v1.fileViewRecord.list({
          path: { file_token: fileToken },
          params: {
            file_type: doc.type as ViewRecordFileType,
            page_size: pageSize(page?.pageSize, DEFAULT_PEOPLE_PAGE_SIZE, MAX_PEOPLE_PAGE_SIZE),
            viewer_id_type: 'open_id',
            ...(page?.pageToken ? { page_token: page.pageToken } : {}),
          },
        }),
      );
      if (!body.data) throw transport.unexpected(endpoint, body, 'data');
      const items: ViewRecord[] = [];
      // An entry without a viewer cannot be shown or linked to anyone; skip it rather than invent one.
      for (const item of body.data.items ?? []) {
        if (!item.viewer_id) continue;
        items.push({
          viewerId: item.viewer_id,
          name: item.name || undefined,
          avatarUrl: item.avatar_url || undefined,
          lastViewTime: epochSeconds(item.last_view_time),
        });
      }
      return toPage(items, body.data);
    },

    async listLikes(doc, page) {
      const endpoint = 'drive.v2.fileLike.list';
      const fileToken = pathSegment(doc.token);
      const body = await transport.call(endpoint, () =>
        sdk.drive.v2.fileLike.list({
          path: { file_token: fileToken },
          params: {
            // Only doc, docx and file have likes; Feishu answers 1061002 for anything else.
            file_type: doc.type as LikeFileType,
            page_size: pageSize(page?.pageSize, DEFAULT_PEOPLE_PAGE_SIZE, MAX_PEOPLE_PAGE_SIZE),
            user_id_type: 'open_id',
            ...(page?.pageToken ? { page_token: page.pageToken } : {}),
          },
        }),
      );
      if (!body.data) throw transport.unexpected(endpoint, body, 'data');
      const items = (body.data.items ?? []).map(
        (item): DocLike => ({
          userId: item.user_id ?? '',
          name: item.user_name || undefined,
          enName: item.user_en_name || undefined,
          avatarUrl: item.user_avatar_url || undefined,
          lastLikedTime: epochSeconds(item.last_liked_time),
          // Names and avatars are withheld for desensitised users; a liker without an id is one too.
          desensitized: item.user_is_desensitized ?? !item.user_id,
        }),
      );
      return toPage(items, body.data);
    },

    async listPermissionMembers(doc) {
      const endpoint = 'drive.v1.permissionMember.list';
      // Not paginated: one answer holds every collaborator. `fields` asks for `type` (user, chat, department…),
      // which is left out by default; names and avatars are not needed for an access check.
      // https://open.feishu.cn/document/server-docs/docs/permission/permission-member/list
      const token = pathSegment(doc.token);
      const body = await transport.call(endpoint, () =>
        sdk.drive.v1.permissionMember.list({
          path: { token },
          params: { type: doc.type as MemberDocType, fields: 'type' },
        }),
      );
      if (!body.data) throw transport.unexpected(endpoint, body, 'data');
      return (body.data.items ?? []).map((item) => ({
        memberType: item.member_type,
        memberId: item.member_id,
        perm: item.perm,
        ...(item.type ? { type: item.type } : {}),
      }));
    },
  };
}
