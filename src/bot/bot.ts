import type { Logger } from 'pino';
import { buildHelpCard, buildUsageCard } from '../../cards/index.js';
import type { FeishuClient } from '../feishu/client.js';
import {
  EVENT_MESSAGE_RECEIVE,
  type EventEnvelope,
  type MessageMention,
  type MessageReceiveEvent,
} from '../feishu/events.js';
import type { Metrics } from '../metrics.js';
import type { Store } from '../store/store.js';
import { SingleFlight } from '../util/single-flight.js';
import { MAX_LINKS_PER_COMMAND, parseCommand } from './commands.js';
import { createMessageContext, type MessageContext } from './context.js';
import { claimDelivery } from './dedupe.js';
import { type PeopleDeps, runPeopleCommand } from './handlers/people.js';
import { runStats } from './handlers/stats.js';
import { runTenantCommand, type TenantDeps } from './handlers/tenant.js';
import { extractMessage } from './message.js';
import { presentError } from './present-error.js';

export interface BotDeps extends PeopleDeps, TenantDeps {
  feishu: FeishuClient;
  store: Store;
  logger: Logger;
  metrics: Metrics;
}

type Outcome = 'handled' | 'duplicate' | 'ignored';

/**
 * The bot proper: typed events in, cards out. It knows nothing of HTTP; the webhook hands it verified envelopes
 * through the dispatcher, and tests may call `handleEvent` directly.
 */
export class Bot {
  private readonly identity = new SingleFlight<string>();
  private botOpenId: string | undefined;

  constructor(private readonly deps: BotDeps) {}

  async handleEvent(envelope: EventEnvelope): Promise<void> {
    const type = envelope.header.event_type;
    let outcome: Outcome;
    if (type === EVENT_MESSAGE_RECEIVE) {
      outcome = await this.onMessage(envelope.header.event_id, envelope.event as MessageReceiveEvent);
    } else {
      this.deps.logger.debug(
        { event_type: type, event_id: envelope.header.event_id },
        'event type not handled',
      );
      outcome = 'ignored';
    }
    this.deps.metrics.inc('fsb_events_total', { type, outcome });
  }

  private async onMessage(eventId: string, event: MessageReceiveEvent): Promise<Outcome> {
    const log = this.deps.logger.child({ event_id: eventId, message_id: event?.message?.message_id });
    if (!isMessageEvent(event)) {
      log.warn('message event without sender or message; ignored');
      return 'ignored';
    }
    // Other bots and apps (including this one) post into the same chats; answering them invites loops.
    if (event.sender.sender_type !== 'user') return 'ignored';
    const isPrivate = event.message.chat_type === 'p2p';
    if (!isPrivate && !(await this.mentionsBot(event.message.mentions))) return 'ignored';

    if (!(await claimDelivery(this.deps.store, { eventId, messageId: event.message.message_id }))) {
      log.debug('duplicate delivery dropped');
      return 'duplicate';
    }

    const message = extractMessage(event.message) ?? { text: '', links: [], mentions: [] };
    const ctx = createMessageContext({
      eventId,
      event,
      message,
      feishu: this.deps.feishu,
      log,
      metrics: this.deps.metrics,
    });
    try {
      await this.runCommand(ctx);
    } catch (err) {
      // The command's own failures are already cards; this is a failed reply or a bug. Try to say so once.
      await ctx.reply(presentError(err, log)).catch((replyErr: unknown) => {
        log.error({ err: replyErr }, 'could not deliver the error card');
      });
    }
    return 'handled';
  }

  private async runCommand(ctx: MessageContext): Promise<void> {
    const outcome = parseCommand(ctx.message, { chatType: ctx.chatType });
    switch (outcome.kind) {
      case 'empty':
        return ctx.reply(buildHelpCard());
      case 'unknown':
        this.deps.metrics.inc('fsb_commands_total', { command: 'unknown' });
        return ctx.reply(
          buildHelpCard({
            unknownWord: outcome.word,
            ...(outcome.suggestion ? { suggestion: outcome.suggestion } : {}),
          }),
        );
      case 'usage':
        this.deps.metrics.inc('fsb_commands_total', { command: outcome.command });
        return ctx.reply(
          buildUsageCard({ command: outcome.command, problem: outcome.problem, max: MAX_LINKS_PER_COMMAND }),
        );
      case 'command': {
        const { command } = outcome;
        this.deps.metrics.inc('fsb_commands_total', { command: command.name });
        ctx.log.info({ command: command.name }, 'command received');
        switch (command.name) {
          case 'help':
            return ctx.reply(buildHelpCard());
          case 'stats':
            return runStats(ctx, command.links, this.deps.documents);
          case 'viewers':
          case 'likes':
            return runPeopleCommand(command.name, ctx, command.link, this.deps);
          case 'workplace':
          case 'app':
            return runTenantCommand(ctx, command, this.deps);
        }
      }
    }
  }

  /**
   * A group message is for us only when a mention carries the bot's own open_id (from /bot/v3/info, fetched once).
   * Never match by display name: any member can be called "Stats Bot", and `@_all` carries empty ids.
   */
  private async mentionsBot(mentions: readonly MessageMention[] | undefined): Promise<boolean> {
    if (!mentions?.some((m) => m.id?.open_id)) return false;
    const botOpenId = await this.getBotOpenId();
    return mentions.some((m) => m.id?.open_id === botOpenId);
  }

  async getBotOpenId(): Promise<string> {
    if (this.botOpenId) return this.botOpenId;
    const openId = await this.identity.run('bot', async () => (await this.deps.feishu.getBotInfo()).openId);
    this.botOpenId = openId;
    return openId;
  }
}

function isMessageEvent(event: MessageReceiveEvent | undefined): event is MessageReceiveEvent {
  return Boolean(
    event?.sender &&
      event.message &&
      typeof event.message.message_id === 'string' &&
      typeof event.message.chat_id === 'string' &&
      typeof event.message.content === 'string',
  );
}
