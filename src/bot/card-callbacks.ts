import type { Logger } from 'pino';
import { buildNoticeCard, type Toast } from '../../cards/index.js';
import type { FeishuClient } from '../feishu/client.js';
import { FeishuApiError } from '../feishu/errors.js';
import { type CardActionEvent, EVENT_CARD_ACTION, type EventEnvelope } from '../feishu/events.js';
import { toastCause } from '../present/present-error.js';
import { type CardActions, type CardCallbackAnswer, toast } from './card-actions.js';
import { messageUuid } from './context.js';
import type { LateWork } from './late-work.js';

/**
 * Feishu shows the clicker an error when a callback is not answered within 3 s; past this point the callback is
 * answered with a "working on it" toast and the result follows on its own.
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 */
export const CARD_CALLBACK_DEADLINE_MS = 2_500;

/**
 * 230013: the person is outside the app's availability range (FEISHU.md, "More endpoints and codes"), so Feishu
 * refuses every message the bot sends them privately, not only the one that met it. The code table
 * (src/feishu/codes.ts) files it under `permission`, with scopes and collaborator rights, which say nothing of that.
 */
const OUTSIDE_AVAILABILITY = 230013;

function isOutsideAvailability(err: unknown): boolean {
  return err instanceof FeishuApiError && err.feishuCode === OUTSIDE_AVAILABILITY;
}

export interface CardCallbacksDeps {
  actions: CardActions;
  feishu: FeishuClient;
  lateWork: LateWork;
  logger: Logger;
  /** Tests shorten it to exercise the late path. */
  deadlineMs?: number;
}

/**
 * The one owner of a card callback's answer, whichever ingress it came through: the deadline, and what happens to
 * a result that misses it. A late card is PATCHed onto the message; a late toast that says something went wrong
 * (a denial, an error, a warning) reaches the clicker as a private message, so nobody is left with
 * "Working on it…". A late success toast is dropped: its effect (the card, the private list) is already visible.
 * Feishu cannot message a person outside the app's availability range privately at all (230013): their late
 * toast is a reply to the card they clicked instead, never a private send known to fail.
 */
export class CardCallbacks {
  readonly #deps: CardCallbacksDeps;
  readonly #deadlineMs: number;

  constructor(deps: CardCallbacksDeps) {
    this.#deps = deps;
    this.#deadlineMs = deps.deadlineMs ?? CARD_CALLBACK_DEADLINE_MS;
  }

  /** The answer to send back now: the result when it is quick, otherwise a toast while the result follows. */
  async answer(envelope: EventEnvelope): Promise<CardCallbackAnswer> {
    const log = this.#deps.logger.child({ event_id: envelope.header.event_id });
    if (envelope.header.event_type !== EVENT_CARD_ACTION) {
      log.warn(
        { event_type: envelope.header.event_type },
        'non-card event on the card callback path; ignored',
      );
      return {};
    }
    const work = this.#deps.actions.handle(envelope);
    const answer = await this.#deps.lateWork.within(work, this.#deadlineMs);
    if (answer) return answer;
    this.#deps.lateWork.track(
      work.then((late) => this.#followUp(envelope, late, log)),
      log,
    );
    return toast('info', { en: 'Working on it…', zh: '正在处理…' });
  }

  async #followUp(envelope: EventEnvelope, late: CardCallbackAnswer, log: Logger): Promise<void> {
    const event = envelope.event as CardActionEvent;
    const messageId = event?.context?.open_message_id;
    if (late.card) {
      if (messageId) await this.#deps.feishu.patchCard(messageId, late.card.data);
      return;
    }
    const operator = event?.operator?.open_id;
    const { toast } = late;
    if (!toast || toast.type === 'success' || !operator) return;
    if (isOutsideAvailability(toastCause(toast))) {
      // The answer is that Feishu refused to message this person privately (the list); so would it the notice.
      // That failure was logged where it happened.
      await this.#answerInChat(envelope, toast, log, 'info');
      return;
    }
    const card = buildNoticeCard({ toast });
    try {
      await this.#deps.feishu.sendCard(operator, card, messageUuid(envelope.header.event_id, 'late'), {
        receiveIdType: 'open_id',
      });
    } catch (err) {
      if (!isOutsideAvailability(err)) throw err;
      // Learnt only now (a denial, say, for someone who was never sent anything): the one line about it.
      await this.#answerInChat(envelope, toast, log, 'warn');
      return;
    }
    log.info({ toast_type: toast.type }, 'late callback answer sent privately');
  }

  /**
   * The late toast as a reply to the card that was clicked, for a clicker the bot cannot message privately: what it
   * says (a denial, an error) names no one and lists nothing, so the card's chat may see it. One log line.
   */
  async #answerInChat(
    envelope: EventEnvelope,
    toast: Toast,
    log: Logger,
    level: 'info' | 'warn',
  ): Promise<void> {
    const context = (envelope.event as CardActionEvent | undefined)?.context;
    const messageId = context?.open_message_id;
    const fields = { toast_type: toast.type, feishu_code: OUTSIDE_AVAILABILITY };
    if (!messageId) {
      log[level](fields, 'late callback answer dropped: the clicker is outside the app availability range');
      return;
    }
    log[level](
      fields,
      'late callback answer sent as a reply to the card: the clicker is outside the app availability range',
    );
    await this.#deps.feishu.replyCard(
      messageId,
      buildNoticeCard({ toast }),
      messageUuid(envelope.header.event_id, 'late-reply'),
      context?.open_chat_id ? { chatId: context.open_chat_id } : {},
    );
  }
}
