/**
 * `im/v1/chats/:chat_id` at the Feishu boundary (nock, the docs' body shape) and through `ChatDirectory` (cache,
 * and "private" only when Feishu says p2p): what the forwarded-card rule and the digest permissions stand on.
 * https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/im-v1/chat/get
 */
import nock from 'nock';
import pino from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatDirectory } from '../src/data/chats.js';
import { createFeishuClient, type FeishuClient } from '../src/feishu/client.js';
import { FeishuApiError, FeishuUnexpectedResponseError } from '../src/feishu/errors.js';
import type { ChatInfo } from '../src/feishu/types.js';
import { JsonCache } from '../src/store/cache.js';
import { MemoryStore } from '../src/store/memory-store.js';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';

const BASE = 'http://feishu.test';
const CHAT = 'oc_a0553eda9014c201e6969b478895c230';
const CHAT_PATH = `/open-apis/im/v1/chats/${CHAT}`;
const OWNER = 'ou_7d8a6e6df7621556ce0d21922b676706ccs';
const MANAGER = 'ou_155184d1e73cbfb8973e5a9e698e74f2';

/** The docs' response example, with the ids asked for as open_ids. */
function chatBody(overrides: Record<string, unknown> = {}) {
  return {
    code: 0,
    msg: 'success',
    data: {
      avatar: 'https://p3-lark-file.byteimg.com/img/lark-avatar-staging/default-avatar_44ae0ca3~100x100.jpg',
      name: '测试群名称',
      description: '测试群描述',
      i18n_names: { zh_cn: '群聊', en_us: 'group chat', ja_jp: 'グループチャット' },
      add_member_permission: 'all_members',
      share_card_permission: 'allowed',
      at_all_permission: 'all_members',
      edit_permission: 'all_members',
      owner_id_type: 'open_id',
      owner_id: OWNER,
      user_manager_id_list: [MANAGER],
      bot_manager_id_list: ['cli_a5f3b2c1d0e9f8a7'],
      group_message_type: 'chat',
      chat_mode: 'group',
      chat_type: 'private',
      chat_tag: 'inner',
      join_message_visibility: 'all_members',
      leave_message_visibility: 'all_members',
      membership_approval: 'no_approval_required',
      moderation_permission: 'all_members',
      external: false,
      tenant_key: '736588c9260f175e',
      user_count: '3',
      bot_count: '1',
      chat_status: 'normal',
      ...overrides,
    },
  };
}

const clients: FeishuClient[] = [];

function client(): FeishuClient {
  const created = createFeishuClient({
    appId: 'cli_a5f3b2c1d0e9f8a7',
    appSecret: 'Zq8mVw3LrT6yHc1NxK0pUeB4sJd7Gf2a',
    domain: BASE,
    logger: pino({ level: 'silent' }),
    sleep: async () => {},
  });
  clients.push(created);
  return created;
}

function replyWith(status: number, body: unknown) {
  return nock(BASE)
    .post('/open-apis/auth/v3/tenant_access_token/internal')
    .reply(200, { code: 0, msg: 'ok', tenant_access_token: 't-chatinfo00000000000000000000', expire: 7200 })
    .get(CHAT_PATH)
    .query({ user_id_type: 'open_id' })
    .reply(status, body);
}

beforeAll(() => nock.disableNetConnect());
afterEach(() => {
  for (const created of clients.splice(0)) created.close();
  nock.cleanAll();
});
afterAll(() => nock.enableNetConnect());

describe('FeishuClient.getChatInfo', () => {
  it('asks for open_ids and maps mode, owner and user managers (not bot managers)', async () => {
    const scope = replyWith(200, chatBody());
    expect(await client().getChatInfo(CHAT)).toEqual({
      chatId: CHAT,
      mode: 'group',
      ownerId: OWNER,
      managerIds: [MANAGER],
    });
    scope.done();
  });

  it('keeps no owner when the owner is not a person (a group the bot created)', async () => {
    replyWith(200, chatBody({ owner_id_type: 'app_id', owner_id: 'cli_a5f3b2c1d0e9f8a7' }));
    const info = await client().getChatInfo(CHAT);
    expect(info.ownerId).toBeUndefined();
  });

  it('has no mode when the bot is not in the chat (Feishu serves name, avatar, count and status only)', async () => {
    replyWith(200, {
      code: 0,
      msg: 'success',
      data: { avatar: 'https://example.invalid/a.jpg', name: 'x', user_count: '2', chat_status: 'normal' },
    });
    expect(await client().getChatInfo(CHAT)).toEqual({ chatId: CHAT, managerIds: [] });
  });

  it('a body without data is a FeishuUnexpectedResponseError naming what is missing', async () => {
    replyWith(200, { code: 0, msg: 'success' });
    const error = await client()
      .getChatInfo(CHAT)
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FeishuUnexpectedResponseError);
    expect(error).toMatchObject({ endpoint: 'im.v1.chat.get', missing: 'data' });
  });

  it('a refusal is a FeishuApiError with Feishu’s code', async () => {
    replyWith(400, { code: 232006, msg: 'Your request specifies a chat_id which is invalid.' });
    const error = await client()
      .getChatInfo(CHAT)
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(FeishuApiError);
    expect(error).toMatchObject({ feishuCode: 232006, endpoint: 'im.v1.chat.get' });
  });
});

describe('ChatDirectory', () => {
  function directory(answer: (chatId: string) => Promise<ChatInfo>) {
    const calls: string[] = [];
    const chats = new ChatDirectory(
      {
        getChatInfo: (chatId) => {
          calls.push(chatId);
          return answer(chatId);
        },
      },
      new JsonCache(new MemoryStore()),
      pino({ level: 'silent' }),
    );
    return { chats, calls };
  }

  it('is private only for a p2p chat, and asks Feishu once per chat', async () => {
    const { chats, calls } = directory(async (chatId) => ({
      chatId,
      managerIds: [],
      ...(chatId === 'oc_p2p' ? { mode: 'p2p' } : chatId === 'oc_group' ? { mode: 'group' } : {}),
    }));
    expect(await chats.isPrivate('oc_p2p')).toBe(true);
    expect(await chats.isPrivate('oc_p2p')).toBe(true);
    expect(await chats.isPrivate('oc_group')).toBe(false);
    expect(await chats.isPrivate('oc_not_a_member')).toBe(false);
    expect(await chats.isPrivate(undefined)).toBe(false);
    expect(calls).toEqual(['oc_p2p', 'oc_group', 'oc_not_a_member']);
  });

  it('a failed lookup is "not private" and is not remembered', async () => {
    let fail = true;
    const { chats, calls } = directory(async (chatId) => {
      if (fail) throw new Error('Feishu unreachable');
      return { chatId, mode: 'p2p', managerIds: [] };
    });
    expect(await chats.isPrivate('oc_p2p')).toBe(false);
    fail = false;
    expect(await chats.isPrivate('oc_p2p')).toBe(true);
    expect(calls).toHaveLength(2);
  });
});

describe('the emulator’s GET /im/v1/chats/:chat_id', () => {
  let emulator: FeishuEmulator;
  let feishu: FeishuClient;
  beforeAll(async () => {
    nock.enableNetConnect('127.0.0.1');
    emulator = await startFeishuEmulator();
    feishu = createFeishuClient({
      appId: emulator.appId,
      appSecret: emulator.appSecret,
      domain: emulator.url,
      logger: pino({ level: 'silent' }),
    });
  });
  afterAll(async () => {
    feishu?.close();
    await emulator?.close();
  });

  it('serves a registered group with its owner and managers, as the bot maps them', async () => {
    emulator.addChat({ chatId: 'oc_emulated_group', ownerId: OWNER, managers: [MANAGER] });
    expect(await feishu.getChatInfo('oc_emulated_group')).toEqual({
      chatId: 'oc_emulated_group',
      mode: 'group',
      ownerId: OWNER,
      managerIds: [MANAGER],
    });
    const [call] = emulator.callsTo('GET', '/im/v1/chats/oc_emulated_group');
    expect(call?.query).toEqual({ user_id_type: 'open_id' });
  });

  it('a group without a person as owner is the bot’s; a chat nobody added is a p2p chat; outside a chat, no mode', async () => {
    emulator.addChat({ chatId: 'oc_bot_made' });
    expect(await feishu.getChatInfo('oc_bot_made')).toEqual({
      chatId: 'oc_bot_made',
      mode: 'group',
      managerIds: [],
    });
    expect((await feishu.getChatInfo('oc_never_added')).mode).toBe('p2p');
    emulator.addChat({ chatId: 'oc_not_in', ownerId: OWNER, managers: [MANAGER], botIsMember: false });
    expect(await feishu.getChatInfo('oc_not_in')).toEqual({ chatId: 'oc_not_in', managerIds: [] });
  });

  it('refuses an id that is not a chat id with 232006', async () => {
    const error = await feishu.getChatInfo('not_a_chat').catch((err: unknown) => err);
    expect(error).toMatchObject({ feishuCode: 232006 });
  });
});
