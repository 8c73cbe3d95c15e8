/**
 * The shape check at the edge (finding 8 of issue 9): a verified event whose fields the bot reads have the wrong
 * types is reported with the first field that failed, by path and type only, and a well-formed one passes as is.
 */
import { describe, expect, it } from 'vitest';
import { checkEventShape } from '../src/ingress/event-shape.js';
import { allMention, botMention, cardActionEvent, menuEvent, messageEvent } from './emulator/fixtures.js';

type Json = Record<string, unknown>;

/** A deep copy of `envelope` with `path` (dot-separated, `[i]` for array items) set, or deleted for `DELETE`. */
const DELETE = Symbol('delete');
function withField(envelope: object, path: string, value: unknown): Json {
  const copy = structuredClone(envelope) as Json;
  const keys = path.split('.').flatMap((part) => part.split(/\[(\d+)\]/).filter(Boolean));
  let node = copy as Record<string, unknown>;
  for (const key of keys.slice(0, -1)) node = node[key] as Record<string, unknown>;
  const last = keys.at(-1) as string;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return copy;
}

const message = () =>
  messageEvent({
    chatType: 'group',
    text: '@_user_1 stats',
    mentions: [botMention('ou_84aad35d084aa403a838cf73ee18467')],
  });
const card = () =>
  cardActionEvent({
    operatorOpenId: 'ou_7dede290d6a27698b969a7fd70ca53da',
    value: { v: 1, a: 'refresh' },
    openMessageId: 'om_dc13264520392913993dd051dba21dcf',
    openChatId: 'oc_5ad11d72b830411d72b836c20',
  });
const botAdded = () => ({
  schema: '2.0',
  header: { event_id: 'bc447199585340d1f3728d26b1c0297a', event_type: 'im.chat.member.bot.added_v1' },
  event: { chat_id: 'oc_26b66a5eb603162b849f91bcd8815b20', operator_id: { open_id: 'ou_operator' } },
});

const menu = () => menuEvent({ eventKey: 'digest', operatorOpenId: 'ou_0a1b2c3d4e5f60718293a4b5c6d7e8f9' });

describe('well-formed events pass unchanged', () => {
  it.each([
    ['im.message.receive_v1 in a group', message()],
    ['im.message.receive_v1 in a private chat, no mentions', messageEvent({ text: 'help' })],
    [
      'im.message.receive_v1 with @all (empty ids)',
      withField(message(), 'event.message.mentions', [allMention()]),
    ],
    ['im.message.receive_v1 post', messageEvent({ post: { content: [[{ tag: 'text', text: 'help' }]] } })],
    ['card.action.trigger', card()],
    ['card.action.trigger without context', withField(card(), 'event.context', DELETE)],
    ['im.chat.member.bot.added_v1', botAdded()],
    ['application.bot.menu_v6', menu()],
    [
      'application.bot.menu_v6 with operator_name',
      menuEvent({ eventKey: 'help', operatorOpenId: 'ou_a', operatorName: 'Li' }),
    ],
    // The docs say a string, the SDK's types a number.
    ['application.bot.menu_v6 with a numeric timestamp', withField(menu(), 'event.timestamp', 1_732_161_600)],
    ['application.bot.menu_v6 without timestamp', withField(menu(), 'event.timestamp', DELETE)],
    [
      'application.bot.menu_v6 with an unknown key (answered with help)',
      withField(menu(), 'event.event_key', 'halp'),
    ],
  ])('%s', (_name, envelope) => {
    const checked = checkEventShape(envelope);
    expect(checked).toEqual({ ok: true, envelope });
    // The same object, not a copy: what is queued is what Feishu sent.
    expect(checked.ok && checked.envelope).toBe(envelope);
  });

  it('lets unknown event types through with only the envelope checked (the bot ignores them)', () => {
    const envelope = {
      schema: '2.0',
      header: { event_id: 'e1', event_type: 'im.chat.access_event.bot_p2p_chat_entered_v1' },
      event: { chat_id: 123, anything: [null] },
    };
    expect(checkEventShape(envelope).ok).toBe(true);
  });
});

describe('malformed but verified events name the first failing field', () => {
  const HUGE = `om_${'x'.repeat(10_000)}`;
  it.each([
    // The examples of finding 8: mentions that are not an array, or null; missing keys; numeric keys.
    [message, 'event.message.mentions', 'not an array', 'x', 'expected an array, got string'],
    [message, 'event.message.mentions', 'an object', {}, 'expected an array, got an object'],
    [message, 'event.message.mentions', 'null', null, 'expected an array, got null'],
    [message, 'event.message.mentions[0]', 'a null mention', null, 'expected an object, got null'],
    [message, 'event.message.mentions[0].key', 'a mention without key', DELETE, 'missing'],
    [message, 'event.message.mentions[0].id', 'a mention with id null', null, 'expected an object, got null'],
    [
      message,
      'event.message.mentions[0].id.open_id',
      'a numeric open_id',
      7,
      'expected a string, got number',
    ],
    [message, 'event.message', 'no message', DELETE, 'missing'],
    [message, 'event.sender', 'no sender', DELETE, 'missing'],
    [message, 'event.message.chat_id', 'no chat_id', DELETE, 'missing'],
    [message, 'event.message.message_id', 'a numeric message_id', 123, 'expected a string, got number'],
    [message, 'event.message.message_id', 'an empty message_id', '', 'empty'],
    [
      message,
      'event.message.message_id',
      'a traversal message_id',
      'om_x/../../auth',
      'not a message id (om_…)',
    ],
    [message, 'event.message.message_id', 'an encoded traversal', 'om_%2e%2e', 'not a message id (om_…)'],
    [message, 'event.message.message_id', 'a 10 KB message_id', HUGE, 'not a message id (om_…)'],
    [message, 'event.message.message_id', 'a message id without om_', 'post', 'not a message id (om_…)'],
    [
      message,
      'event.message.message_id',
      'a chat id as message id',
      'oc_5ad11d72b830411d72b836c20',
      'not a message id (om_…)',
    ],
    [message, 'event.message.chat_id', 'a numeric chat_id', 456, 'expected a string, got number'],
    [
      message,
      'event.message.content',
      'content as an object',
      { text: 'help' },
      'expected a string, got an object',
    ],
    [message, 'event.message.message_type', 'a numeric message_type', 1, 'expected a string, got number'],
    [message, 'event.message.chat_type', 'chat_type as an array', ['p2p'], 'expected a string, got an array'],
    [message, 'event.sender.sender_type', 'a numeric sender_type', 0, 'expected a string, got number'],
    [message, 'event.sender.sender_id', 'sender_id a string', 'ou_x', 'expected an object, got string'],
    [message, 'event.sender.sender_id.open_id', 'a traversal open_id', 'ou_../x', 'not an open_id (ou_…)'],
    [card, 'event.operator', 'operator null', null, 'expected an object, got null'],
    [card, 'event.operator.open_id', 'a numeric operator', 123, 'expected a string, got number'],
    [
      card,
      'event.operator.open_id',
      'a union_id as operator',
      'on_e6e14f667cfe239d7b129b521dce0569',
      'not an open_id (ou_…)',
    ],
    [card, 'event.action', 'no action', DELETE, 'missing'],
    [card, 'event.context', 'context a number', 5, 'expected an object, got number'],
    [
      card,
      'event.context.open_message_id',
      'a traversal open_message_id',
      'om_x/../../auth',
      'not a message id (om_…)',
    ],
    [
      card,
      'event.context.open_chat_id',
      'a query in open_chat_id',
      'oc_x?user_id_type=x#',
      'not a chat id (oc_…)',
    ],
    [botAdded, 'event.chat_id', 'no chat_id', DELETE, 'missing'],
    [botAdded, 'event.chat_id', 'a numeric chat_id', 123, 'expected a string, got number'],
    [botAdded, 'event.chat_id', 'a traversal chat_id', '../../messages', 'not a chat id (oc_…)'],
    [botAdded, 'schema', 'another schema', '1.0', 'not "2.0"'],
    [botAdded, 'header.event_type', 'a numeric event_type', 7, 'expected a string, got number'],
    [botAdded, 'header.event_id', 'a 1 KB event_id', 'e'.repeat(1024), 'longer than 256'],
    [botAdded, 'event', 'event an array', [], 'expected an object, got an array'],
    [menu, 'event.operator', 'a menu click without operator', DELETE, 'missing'],
    [menu, 'event.operator', 'operator null', null, 'expected an object, got null'],
    [menu, 'event.operator.operator_id', 'no operator_id', DELETE, 'missing'],
    [menu, 'event.operator.operator_id.open_id', 'no open_id', DELETE, 'missing'],
    [menu, 'event.operator.operator_id.open_id', 'an empty open_id', '', 'empty'],
    [
      menu,
      'event.operator.operator_id.open_id',
      'a union_id as operator',
      'on_e6e14f667cfe239d7b129b521dce0569',
      'not an open_id (ou_…)',
    ],
    [
      menu,
      'event.operator.operator_id.open_id',
      'a traversal open_id',
      'ou_x/../../auth',
      'not an open_id (ou_…)',
    ],
    [menu, 'event.event_key', 'no event_key', DELETE, 'missing'],
    [menu, 'event.event_key', 'a numeric event_key', 7, 'expected a string, got number'],
    [menu, 'event.event_key', 'event_key null', null, 'expected a string, got null'],
    [menu, 'event.event_key', 'an empty event_key', '', 'empty'],
    [menu, 'event.event_key', 'a 1 KB event_key', 'k'.repeat(1024), 'longer than 64'],
    [menu, 'event.timestamp', 'timestamp an object', {}, 'expected a string or a number, got an object'],
  ] as Array<[() => object, string, string, unknown, string]>)(
    '%#: %s → %s',
    (base, field, _what, value, problem) => {
      const envelope = withField(base(), field, value);
      const checked = checkEventShape(envelope);
      expect(checked).toMatchObject({ ok: false, field, problem });
      if (checked.ok) return;
      expect(checked.eventType).toBe(
        field === 'header.event_type' ? undefined : (envelope.header as Json).event_type,
      );
      // The log line may carry the event id, but never the value that failed, nor the event id when it failed.
      expect(checked.eventId).toBe(
        field === 'header.event_id' ? undefined : (envelope.header as Json).event_id,
      );
      if (typeof value === 'string' && value.length > 3) expect(JSON.stringify(checked)).not.toContain(value);
    },
  );

  it('reports the first failure in document order, not every one', () => {
    let envelope = withField(message(), 'event.sender', null);
    envelope = withField(envelope, 'event.message.message_id', 5);
    expect(checkEventShape(envelope)).toMatchObject({ ok: false, field: 'event.sender' });
  });

  it.each([null, 'text', 42, [], {}, { schema: '2.0' }, { schema: '2.0', header: {}, event: {} }])(
    'rejects a non-envelope %j without throwing',
    (value) => {
      expect(checkEventShape(value)).toMatchObject({ ok: false });
    },
  );
});
