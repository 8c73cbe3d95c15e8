import {
  buildAccessDeniedCard,
  buildAppUsageCard,
  buildWorkplaceCard,
  type Card,
} from '../../../cards/index.js';
import type { TenantData } from '../../data/tenant-data.js';
import type { AppUsageQuery } from '../../feishu/types.js';
import { presentOrRetry } from '../../present/present-error.js';
import type { AccessPolicy } from '../access.js';
import { encodeAction } from '../actions.js';
import type { Command, WorkplaceRangeSpec } from '../commands.js';
import type { MessageContext } from '../context.js';
import { resolveAppPeriod, resolveWorkplaceRange } from '../periods.js';

export interface TenantDeps {
  tenant: TenantData;
  access: AccessPolicy;
  /** The bot's own app id: `app` without an id reports on this bot. */
  ownAppId: string;
  timeZone: string;
  now: () => number;
}

type AppCommand = Extract<Command, { name: 'app' }>;

/** `workplace [range]` and `app …`: tenant-wide, so BOT_ADMINS only. */
export async function runTenantCommand(
  ctx: MessageContext,
  command: Extract<Command, { name: 'workplace' | 'app' }>,
  deps: TenantDeps,
): Promise<void> {
  const decision = deps.access.canSeeTenantData(ctx.senderOpenId);
  if (!decision.allowed) {
    ctx.log.info({ command: command.name }, 'tenant data denied: not an admin');
    return ctx.reply(buildAccessDeniedCard({ what: command.name, reason: 'not_allowed' }));
  }
  try {
    const card =
      command.name === 'workplace'
        ? await buildWorkplaceReply(command.range, deps, {})
        : await buildAppReply(toAppQuery(command, deps), deps, {});
    return ctx.reply(card);
  } catch (err) {
    return ctx.reply(presentOrRetry(err, ctx.log, ctx));
  }
}

export async function buildWorkplaceReply(
  spec: WorkplaceRangeSpec,
  deps: TenantDeps,
  opts: { refresh?: boolean },
): Promise<Card> {
  const range = resolveWorkplaceRange(spec, new Date(deps.now()), deps.timeZone);
  const { days, fetchedAt } = await deps.tenant.workplaceDays(range, opts);
  return buildWorkplaceCard({
    from: range.from,
    to: range.to,
    rangeLabel: range.label,
    days,
    fetchedAt,
    refresh: encodeAction({ v: 1, a: 'workplace', r: spec }),
  });
}

/** The query as typed: the period is resolved (aligned, defaulted) when the card is built. */
export interface AppRequest {
  appId: string;
  cycle: AppUsageQuery['cycle'];
  date?: string;
  ability: AppUsageQuery['ability'];
  departmentId?: string;
}

export function toAppQuery(command: AppCommand, deps: Pick<TenantDeps, 'ownAppId'>): AppRequest {
  return {
    appId: command.appId ?? deps.ownAppId,
    cycle: command.cycle,
    ability: command.ability,
    ...(command.date ? { date: command.date } : {}),
    ...(command.departmentId ? { departmentId: command.departmentId } : {}),
  };
}

export async function buildAppReply(
  request: AppRequest,
  deps: TenantDeps,
  opts: { refresh?: boolean },
): Promise<Card> {
  const period = resolveAppPeriod(request.cycle, request.date, new Date(deps.now()), deps.timeZone);
  const query: AppUsageQuery = {
    appId: request.appId,
    date: period.date,
    cycle: request.cycle,
    ability: request.ability,
    ...(request.departmentId ? { departmentId: request.departmentId } : {}),
  };
  const { overview, fetchedAt } = await deps.tenant.appOverview(query, period.final, opts);
  return buildAppUsageCard({
    query,
    ...(period.requestedDate ? { requestedDate: period.requestedDate } : {}),
    periodEnd: period.periodEnd,
    metrics: overview.metrics,
    isOwnApp: request.appId === deps.ownAppId,
    fetchedAt,
    // The refresh button re-asks for the same aligned period, not "yesterday" as of the click.
    refresh: encodeAction({
      v: 1,
      a: 'app',
      q: {
        appId: query.appId,
        cycle: query.cycle,
        date: query.date,
        ability: query.ability,
        ...(query.departmentId ? { dept: query.departmentId } : {}),
      },
    }),
  });
}
