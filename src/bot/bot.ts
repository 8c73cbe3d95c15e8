import type { Logger } from 'pino';
import { buildHelpCard, buildUsageCard, type Card, type HelpCardInput } from '../../cards/index.js';
import type { FeishuClient } from '../feishu/client.js';
import { isTransient } from '../feishu/codes.js';
import {
  type BotAddedEvent,
  type BotMenuEvent,
  EVENT_BOT_ADDED,
  EVENT_BOT_MENU,
  EVENT_MESSAGE_RECEIVE,
  type EventEnvelope,
  type MessageMention,
  type MessageReceiveEvent,
} from '../feishu/events.js';
import type { Metrics } from '../metrics.js';
import { presentError, retryIfTransient } from '../present/present-error.js';
import type { Store } from '../store/store.js';
import { type Deadline, withDeadline } from '../util/deadline.js';
import { SingleFlight } from '../util/single-flight.js';
import { MAX_LINKS_PER_COMMAND, parseCommand } from './commands.js';
import { createMenuContext, createMessageContext, type MessageContext, messageUuid } from './context.js';
import { type Delivery, RunLaterError } from './dispatcher.js';
import { type DigestDeps, runDigestCommand } from './handlers/digest.js';
import { runExportCommand } from './handlers/export.js';
import { type PeopleDeps, runPeopleCommand } from './handlers/people.js';
import { runStats } from './handlers/stats.js';
import { runTenantCommand, type TenantDeps } from './handlers/tenant.js';
import { runTrendCommand, type TrendDeps } from './handlers/trend.js';
import { runUnreadCommand } from './handlers/unread.js';
import { runUsageCommand, type UsageDeps } from './handlers/usage.js';
import { findPrivateChat, rememberPrivateChat, resolveMenuKey } from './menu.js';
import { extractMessage } from './message.js';

export interface BotDeps extends PeopleDeps, TenantDeps, DigestDeps, TrendDeps, UsageDeps {
  feishu: FeishuClient;
  store: Store;
  logger: Logger;
  metrics: Metrics;
  /** Called when the bot joins a chat, before the welcome card (digests resume a paused subscription). */
  onAddedToChat?: (chatId: string) => Promise<void>;
}

type Outcome = 'handled' | 'ignored';

/** A direct call (tests, tools) has nobody to retry it: errors become cards at once. */
const ONLY_ATTEMPT: Delivery = { attempt: 1, finalAttempt: true };

/**
 * The bot proper: typed events in, cards out. It knows nothing of HTTP; the webhook hands it verified envelopes
 * through the dispatcher, and tests may call `handleEvent` directly. Duplicate deliveries never reach it: the
 * dispatcher drops them on acceptance (a job id in Redis, a claim in memory).
 */
export class Bot {
  private readonly identity = new SingleFlight<string>();
  private botOpenId: string | undefined;

  constructor(private readonly deps: BotDeps) {}

  /**
   * True when `handleEvent` would certainly do nothing with this event, decided without I/O: a message from another
   * bot or app, a group message that mentions nobody's open_id or (once the bot's own open_id is known) not the
   * bot's, an event type the bot does not handle. The dispatcher acknowledges these without queueing them: in a
   * group where the app may read every message, most traffic is chatter, and none of it (text included) then sits
   * in Redis for the 12 h a job is kept. Anything it cannot be sure of goes to the handler, which decides as before.
   */
  ignoresAtOnce(envelope: EventEnvelope): boolean {
    const type = envelope.header.event_type;
    if (type === EVENT_BOT_ADDED || type === EVENT_BOT_MENU) return false;
    if (type !== EVENT_MESSAGE_RECEIVE) return true;
    const event = envelope.event as MessageReceiveEvent;
    // A message the handler would log as malformed goes there, to be logged.
    if (!isMessageEvent(event)) return false;
    if (event.sender.sender_type !== 'user') return true;
    if (event.message.chat_type === 'p2p') return false;
    return mentionsBot(event.message.mentions, this.botOpenId) === false;
  }

  async handleEvent(envelope: EventEnvelope, delivery: Delivery = ONLY_ATTEMPT): Promise<void> {
    const type = envelope.header.event_type;
    let outcome: Outcome;
    if (type === EVENT_MESSAGE_RECEIVE) {
      outcome = await this.onMessage(
        envelope.header.event_id,
        envelope.event as MessageReceiveEvent,
        delivery,
      );
    } else if (type === EVENT_BOT_ADDED) {
      outcome = await this.onAddedToChat(envelope.header.event_id, envelope.event as BotAddedEvent);
    } else if (type === EVENT_BOT_MENU) {
      outcome = await this.onMenu(envelope.header.event_id, envelope.event as BotMenuEvent, delivery);
    } else {
      this.deps.logger.debug(
        { event_type: type, event_id: envelope.header.event_id },
        'event type not handled',
      );
      outcome = 'ignored';
    }
    this.deps.metrics.events.inc({ type, outcome });
  }

  private async onMessage(eventId: string, event: MessageReceiveEvent, delivery: Delivery): Promise<Outcome> {
    const log = this.deps.logger.child({ event_id: eventId, message_id: event?.message?.message_id });
    if (!isMessageEvent(event)) {
      log.warn('message event without sender or message; ignored');
      return 'ignored';
    }
    // Other bots and apps (including this one) post into the same chats; answering them invites loops.
    if (event.sender.sender_type !== 'user') return 'ignored';
    const isPrivate = event.message.chat_type === 'p2p';
    if (!isPrivate && !(await this.addressedInGroup(event.message.mentions, delivery))) return 'ignored';

    if (isPrivate) await this.rememberPrivateChat(event, log);

    const message = extractMessage(event.message) ?? { text: '', links: [], mentions: [] };
    // One budget for the whole command across every attempt, counted from the first attempt's start: a Feishu
    // that hangs gets the reader a clear card within it, instead of after every attempt's timeouts in turn.
    const deadline = commandDeadline(delivery);
    const ctx = createMessageContext({
      eventId,
      event,
      message,
      feishu: this.deps.feishu,
      log,
      metrics: this.deps.metrics,
      isFinalAttempt: () => isFinalAttempt(delivery, deadline),
      asOf: asOfFirstAttempt(this.deps.now(), delivery),
    });
    await this.answer(ctx, log, delivery, deadline);
    return 'handled';
  }

  /**
   * A bot menu click: the command its key stands for (src/bot/menu.ts), run as if typed in the person's private
   * chat, with the same budget, retries and error cards as a message; the cards go to the person by open_id. An
   * unknown key gets the help card. Redeliveries are dropped by event id before this, like any event's.
   */
  private async onMenu(eventId: string, event: BotMenuEvent, delivery: Delivery): Promise<Outcome> {
    const eventKey = event?.event_key;
    const operatorOpenId = event?.operator?.operator_id?.open_id;
    if (typeof eventKey !== 'string' || typeof operatorOpenId !== 'string' || operatorOpenId === '') {
      this.deps.logger.warn({ event_id: eventId }, 'menu event without operator or key; ignored');
      return 'ignored';
    }
    const log = this.deps.logger.child({ event_id: eventId, event_key: eventKey });
    const { entry, known } = resolveMenuKey(eventKey);
    if (known) log.info({ clicked_at: event.timestamp }, 'menu clicked');
    // A key the console has and this list does not: the operator's to fix, the person gets help meanwhile.
    else log.info({ clicked_at: event.timestamp }, 'unknown menu key; answering with the help card');

    const deadline = commandDeadline(delivery);
    let chatId = '';
    let lookup: { failed: unknown } | undefined;
    if (entry.needsChat) {
      try {
        chatId = (await withDeadline(deadline, () => findPrivateChat(operatorOpenId, this.deps))) ?? '';
      } catch (err) {
        lookup = { failed: err };
      }
    }
    const ctx = createMenuContext({
      eventId,
      operatorOpenId,
      chatId,
      message: { text: entry.text, links: [], mentions: [] },
      feishu: this.deps.feishu,
      log,
      metrics: this.deps.metrics,
      isFinalAttempt: () => isFinalAttempt(delivery, deadline),
      asOf: asOfFirstAttempt(this.deps.now(), delivery),
    });
    // A failed lookup (the store down) is answered as a failed command is, retried or an error card: the list of
    // no chat would tell the person their digest is empty.
    await this.answer(ctx, log, delivery, deadline, lookup ? () => Promise.reject(lookup.failed) : undefined);
    return 'handled';
  }

  /**
   * Runs the command (or `work`) within the deadline and makes sure the reader hears something: a transient failure
   * with attempts left goes back to the queue, which runs the whole command again; the replies already sent carry
   * the same uuids the second time, so Feishu does not post them twice. The next attempt keeps the budget this one
   * had left, limiter pauses included.
   */
  private async answer(
    ctx: MessageContext,
    log: Logger,
    delivery: Delivery,
    deadline: Deadline,
    work: () => Promise<void> = () => this.runCommand(ctx),
  ): Promise<void> {
    try {
      await withDeadline(deadline, work);
    } catch (err) {
      if (!delivery.finalAttempt) delivery.budgetFrom = deadline.at - COMMAND_BUDGET_MS;
      retryIfTransient(err, log, ctx);
      // The command's own failures are already cards; this is a failed reply or a bug. Try to say so once.
      try {
        await ctx.reply(presentError(err, log));
      } catch (replyErr) {
        // Not even the error card went out, and for a reason that passes (the token endpoint or the message API
        // down): the reader has heard nothing. The queue keeps the event and runs it again later, with a budget
        // of its own, until Feishu takes messages again; the reader then gets one card.
        if (delivery.mayRunLater && isTransient(replyErr)) throw new RunLaterError(replyErr);
        log.error({ err: replyErr }, 'could not deliver the error card');
      }
    }
  }

  /**
   * Where a menu click from this person must look for their digest (src/bot/menu.ts). Not worth failing the
   * command over: the click after the next message finds it.
   */
  private async rememberPrivateChat(event: MessageReceiveEvent, log: Logger): Promise<void> {
    const openId = event.sender.sender_id?.open_id;
    if (!openId) return;
    try {
      await rememberPrivateChat(this.deps.store, openId, event.message.chat_id);
    } catch (err) {
      log.warn({ err }, 'could not remember the private chat for the bot menu');
    }
  }

  private async runCommand(ctx: MessageContext): Promise<void> {
    const outcome = parseCommand(ctx.message, { chatType: ctx.chatType });
    switch (outcome.kind) {
      case 'empty':
        return ctx.reply(this.helpCard());
      case 'unknown':
        this.deps.metrics.commands.inc({ command: 'unknown' });
        return ctx.reply(
          this.helpCard({
            unknownWord: outcome.word,
            ...(outcome.suggestion ? { suggestion: outcome.suggestion } : {}),
          }),
        );
      case 'usage':
        this.deps.metrics.commands.inc({ command: outcome.command });
        return ctx.reply(
          buildUsageCard({
            command: outcome.command,
            problem: outcome.problem,
            max: MAX_LINKS_PER_COMMAND,
            ...(outcome.detail ? { detail: outcome.detail } : {}),
          }),
        );
      case 'command': {
        const { command } = outcome;
        this.deps.metrics.commands.inc({ command: command.name });
        ctx.log.info({ command: command.name }, 'command received');
        switch (command.name) {
          case 'help':
            return ctx.reply(this.helpCard());
          case 'stats':
            return runStats(ctx, command.links, this.deps.documents);
          case 'viewers':
          case 'likes':
            return runPeopleCommand(command.name, ctx, command.link, this.deps);
          case 'unread':
            return runUnreadCommand(ctx, command.link, this.deps);
          case 'export':
            return runExportCommand(ctx, command.what, command.link, this.deps);
          case 'trend':
            return runTrendCommand(ctx, command.link, command.days, this.deps);
          case 'workplace':
          case 'app':
            return runTenantCommand(ctx, command, this.deps);
          case 'usage':
            return runUsageCommand(ctx, this.deps);
          case 'digest':
            return runDigestCommand(ctx, command.action, this.deps);
        }
      }
    }
  }

  /** The help card, naming this deployment's default digest time. */
  private helpCard(input: HelpCardInput = {}): Card {
    return buildHelpCard({
      ...input,
      digestDefault: { ...this.deps.digest.time, timeZone: this.deps.digest.timeZone },
    });
  }

  /**
   * Added to a group: introduce ourselves once with the help card (the job id dedupes redeliveries, the uuid a
   * retried job), and resume the chat's digest if it was paused because the bot had been removed.
   */
  private async onAddedToChat(eventId: string, event: BotAddedEvent): Promise<Outcome> {
    const chatId = event?.chat_id;
    if (typeof chatId !== 'string' || chatId === '') return 'ignored';
    const log = this.deps.logger.child({ event_id: eventId, chat_id: chatId });
    await this.deps.onAddedToChat?.(chatId);
    const card = this.helpCard();
    await this.deps.feishu.sendCard(chatId, card, messageUuid(eventId, 'welcome'), {
      receiveIdType: 'chat_id',
    });
    this.deps.metrics.replies.inc({ outcome: 'sent' });
    log.info('added to a chat; welcome card sent');
    return 'handled';
  }

  /**
   * Whether a group message is for the bot. Until that is known nothing may be said in the group, not even an error
   * card: a failure is retried like any other, and on the last attempt (the token endpoint down, say) the event
   * runs again later like a command whose answer could not be sent.
   */
  private async addressedInGroup(
    mentions: readonly MessageMention[] | undefined,
    delivery: Delivery,
  ): Promise<boolean> {
    try {
      return await this.mentionsBot(mentions);
    } catch (err) {
      if (delivery.finalAttempt && delivery.mayRunLater && isTransient(err)) throw new RunLaterError(err);
      throw err;
    }
  }

  /**
   * A group message is for us only when a mention carries the bot's own open_id (from /bot/v3/info, fetched once).
   * Never match by display name: any member can be called "Stats Bot", and `@_all` carries empty ids.
   */
  private async mentionsBot(mentions: readonly MessageMention[] | undefined): Promise<boolean> {
    const known = mentionsBot(mentions, this.botOpenId);
    if (known !== undefined) return known;
    return mentionsBot(mentions, await this.getBotOpenId()) === true;
  }

  async getBotOpenId(): Promise<string> {
    if (this.botOpenId) return this.botOpenId;
    const openId = await this.identity.run('bot', async () => (await this.deps.feishu.getBotInfo()).openId);
    this.botOpenId = openId;
    return openId;
  }
}

/**
 * Whether `mentions` include the bot: false when no mention carries an open_id (`@_all`, or none at all), undefined
 * when some does but the bot's own open_id is not known yet.
 */
function mentionsBot(
  mentions: readonly MessageMention[] | undefined,
  botOpenId: string | undefined,
): boolean | undefined {
  if (!mentions?.some((m) => m.id?.open_id)) return false;
  if (botOpenId === undefined) return undefined;
  return mentions.some((m) => m.id?.open_id === botOpenId);
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

/**
 * How long a command may take from its first attempt's start to its answer, all attempts together (the backoff
 * between attempts counts). Waiting for a worker before the first attempt, and time queued behind the bot's own
 * rate limiter, do not (src/util/deadline.ts `pauseDeadline`).
 */
export const COMMAND_BUDGET_MS = 20_000;
/** A retry is only worth it with this much of the budget left once its backoff is over. */
const MIN_ATTEMPT_MS = 3_000;

/** The command's deadline: its budget counted from the first attempt's start (see `Delivery.budgetFrom`). */
function commandDeadline(delivery: Delivery): Deadline {
  return { at: (delivery.budgetFrom ?? delivery.startedAt ?? Date.now()) + COMMAND_BUDGET_MS };
}

/** No attempt follows, or the next one could not start with time enough left before the deadline. */
function isFinalAttempt(delivery: Delivery, deadline: Deadline): boolean {
  if (delivery.finalAttempt) return true;
  return Date.now() + (delivery.retryDelayMs ?? 0) + MIN_ATTEMPT_MS > deadline.at;
}

/**
 * The bot's clock when the event's first attempt started: `now` less the real time since then. In production the
 * clock is real time and this is that start itself, the same on every attempt.
 */
function asOfFirstAttempt(now: number, delivery: Delivery): number {
  if (delivery.startedAt === undefined) return now;
  return now - Math.max(0, Date.now() - delivery.startedAt);
}
