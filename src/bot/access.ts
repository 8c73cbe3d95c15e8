import type { Logger } from 'pino';
import type { FeishuClient } from '../feishu/client.js';
import { isMissingScope } from '../feishu/codes.js';
import { missingScopes } from '../feishu/errors.js';
import type { DocRef, PermissionMember } from '../feishu/types.js';
import type { JsonCache } from '../store/cache.js';

/**
 * Who may see what. View records and likes name people, so they are shown only to the document's owner, to
 * people the document grants full access, and to BOT_ADMINS. Workplace and app usage are tenant-wide: admins only.
 * Aggregate statistics are open to anyone who can talk to the bot.
 */
export type AccessDecision =
  | { allowed: true; via: 'admin' | 'owner' | 'full_access' }
  | { allowed: false; reason: 'not_allowed' }
  | { allowed: false; reason: 'missing_scope'; scope: string }
  | { allowed: false; reason: 'cannot_verify' };

/** Membership changes rarely and a revoked grant should not linger: two minutes. */
const MEMBERS_TTL_MS = 2 * 60_000;
const OWNER_TTL_MS = 10 * 60_000;
// Any one of these lets the bot list a document's collaborators.
// https://open.feishu.cn/document/server-docs/docs/permission/permission-member/list
const MEMBERS_SCOPE_HINT = 'docs:permission.member:readonly';

export class AccessPolicy {
  private readonly admins: ReadonlySet<string>;

  constructor(
    admins: readonly string[],
    private readonly feishu: FeishuClient,
    private readonly cache: JsonCache,
    private readonly log: Logger,
  ) {
    this.admins = new Set(admins);
  }

  isAdmin(openId: string | undefined): boolean {
    return openId !== undefined && this.admins.has(openId);
  }

  /** Tenant-wide data (workplace, app usage). */
  canSeeTenantData(openId: string | undefined): AccessDecision {
    return this.isAdmin(openId) ? { allowed: true, via: 'admin' } : { allowed: false, reason: 'not_allowed' };
  }

  /** Lists that name people (view records, likes) for one document. */
  async canSeePeople(doc: DocRef, openId: string | undefined): Promise<AccessDecision> {
    if (!openId) return { allowed: false, reason: 'not_allowed' };
    if (this.isAdmin(openId)) return { allowed: true, via: 'admin' };

    // Owner first: one cached metas call answers the most common asker.
    const owner = await this.ownerOf(doc);
    if (owner === openId) return { allowed: true, via: 'owner' };

    let members: PermissionMember[];
    try {
      ({ value: members } = await this.cache.getOrLoad(
        `members:${doc.type}:${doc.token}`,
        () => this.feishu.listPermissionMembers(doc),
        { ttlMs: MEMBERS_TTL_MS },
      ));
    } catch (err) {
      // Deny on doubt, and say why: an operator can fix a missing scope, a user can retry a hiccup.
      if (isMissingScope(err)) {
        this.log.warn({ feishu_msg: err.feishuMsg }, 'cannot check document members: scope missing');
        return {
          allowed: false,
          reason: 'missing_scope',
          scope: missingScopes(err.feishuMsg)[0] ?? MEMBERS_SCOPE_HINT,
        };
      }
      this.log.warn({ err }, 'cannot check document members; denying');
      return { allowed: false, reason: 'cannot_verify' };
    }
    const fullAccess = members.some(
      (m) => m.perm === 'full_access' && m.memberType === 'openid' && m.memberId === openId,
    );
    return fullAccess ? { allowed: true, via: 'full_access' } : { allowed: false, reason: 'not_allowed' };
  }

  private async ownerOf(doc: DocRef): Promise<string | undefined> {
    try {
      const { value } = await this.cache.getOrLoad(
        `owner:${doc.type}:${doc.token}`,
        async () => (await this.feishu.batchQueryMetas([doc])).get(doc.token)?.ownerId ?? '',
        { ttlMs: OWNER_TTL_MS },
      );
      return value || undefined;
    } catch (err) {
      // The members list can still grant access; log and carry on.
      this.log.warn({ err }, 'document owner unavailable');
      return undefined;
    }
  }
}
