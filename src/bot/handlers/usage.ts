import type { Logger } from 'pino';
import {
  buildCallBudgetWarningCard,
  buildCallUsageCard,
  buildCallUsageDeniedCard,
} from '../../../cards/call-usage-card.js';
import { type BudgetWarning, type CallUsage, projectMonth } from '../../data/call-usage.js';
import type { FeishuClient } from '../../feishu/client.js';
import { presentOrRetry } from '../../present/present-error.js';
import { withoutDeadline } from '../../util/deadline.js';
import type { AccessPolicy } from '../access.js';
import { type MessageContext, messageUuid } from '../context.js';

export interface UsageDeps {
  callUsage: CallUsage;
  access: AccessPolicy;
}

/**
 * `usage` (用量): this month's Feishu API calls by endpoint, the last digest run's cost, the projection and the
 * budget. Tenant-wide like `workplace`, so BOT_ADMINS only. It asks Feishu nothing: everything is the bot's count.
 */
export async function runUsageCommand(ctx: MessageContext, deps: UsageDeps): Promise<void> {
  if (!deps.access.isAdmin(ctx.senderOpenId)) {
    ctx.log.info({ command: 'usage' }, 'call usage denied: not an admin');
    return ctx.reply(buildCallUsageDeniedCard());
  }
  const { callUsage } = deps;
  try {
    // This replica's own counts still on their way to the store are part of the answer.
    await callUsage.flush();
    const now = ctx.asOf;
    const [usage, lastRun] = await Promise.all([
      callUsage.usage(callUsage.month(now)),
      callUsage.lastDigestRun(),
    ]);
    const card = buildCallUsageCard({
      month: usage.month,
      timeZone: callUsage.timeZone,
      byEndpoint: usage.byEndpoint,
      total: usage.total,
      projection: projectMonth(usage.total, now, callUsage.timeZone),
      ...(lastRun ? { lastRun } : {}),
      ...(callUsage.budget !== undefined ? { budget: callUsage.budget } : {}),
    });
    return ctx.reply(card);
  } catch (err) {
    return ctx.reply(presentOrRetry(err, ctx.log, ctx));
  }
}

export interface BudgetWarningDeps {
  feishu: FeishuClient;
  /** BOT_ADMINS. */
  admins: readonly string[];
  logger: Logger;
}

/**
 * The month's 80 % warning, to each admin in a private chat (`receive_id_type=open_id`). Called once per month
 * across replicas (CallUsage claims it); a uuid per admin and month keeps a retried send from posting twice. A
 * failed send is logged and not retried (see CallUsage: its own calls would count).
 */
export async function warnAdminsOfBudget(warning: BudgetWarning, deps: BudgetWarningDeps): Promise<void> {
  const log = deps.logger.child({ month: warning.month, calls: warning.total, budget: warning.budget });
  if (deps.admins.length === 0) {
    log.warn('call budget at 80 %, but BOT_ADMINS is empty: nobody to warn');
    return;
  }
  const card = buildCallBudgetWarningCard(warning);
  await Promise.all(
    deps.admins.map(async (openId) => {
      try {
        // Set off by whichever call crossed 80 %, perhaps a command's: its deadline is not the warning's.
        await withoutDeadline(() =>
          deps.feishu.sendCard(openId, card, messageUuid(`cb-${warning.month}`, openId), {
            receiveIdType: 'open_id',
          }),
        );
        log.info({ admin: openId }, 'call budget warning sent');
      } catch (err) {
        log.warn({ err, admin: openId }, 'call budget warning could not be sent');
      }
    }),
  );
}
