import type { Logger } from 'pino';
import { buildNoticeCard } from '../../cards/index.js';
import type { FeishuClient } from '../feishu/client.js';
import { type CardActionEvent, EVENT_CARD_ACTION, type EventEnvelope } from '../feishu/events.js';
import { type CardActions, type CardCallbackAnswer, toast } from './card-actions.js';
import { messageUuid } from './context.js';
import type { LateWork } from './late-work.js';

/**
 * Feishu shows the clicker an error when a callback is not answered within 3 s; past this point the callback is
 * answered with a "working on it" toast and the result follows on its own.
 * https://open.feishu.cn/document/uAjLw4CM/ukzMukzMukzM/feishu-cards/card-callback-communication
 */
export const CARD_CALLBACK_DEADLINE_MS = 2_500;

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
    if (!late.toast || late.toast.type === 'success' || !operator) return;
    log.info({ toast_type: late.toast.type }, 'late callback answer sent privately');
    const card = buildNoticeCard({ toast: late.toast });
    await this.#deps.feishu.sendCard(operator, card, messageUuid(envelope.header.event_id, 'late'), {
      receiveIdType: 'open_id',
    });
  }
}
