/**
 * The IM endpoints `unread` and `export` add, against the emulator: chat members through every page with Feishu's
 * bots left out, a multipart upload that survives the transport's retry, and file and post messages.
 */
import nock from 'nock';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { walkChatMembers } from '../src/data/chat-members.js';
import { createFeishuClient, type FeishuClient } from '../src/feishu/client.js';
import { type FeishuEmulator, startFeishuEmulator } from './emulator/feishu-emulator.js';

const CHAT = 'oc_filesandmembers0000000000001';

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
beforeEach(() => emulator.reset());
afterAll(async () => {
  feishu?.close();
  await emulator?.close();
});

describe('chat members', () => {
  it('reads a chat of 25 with two bots as its 23 people, over every page, each once', async () => {
    const people = Array.from({ length: 23 }, (_, i) => `ou_member${String(i).padStart(23, '0')}`);
    emulator.addChat({
      chatId: CHAT,
      members: [
        ...people.slice(0, 12).map((openId) => ({ openId })),
        { openId: 'ou_bot1000000000000000000000000', bot: true },
        { openId: 'ou_bot2000000000000000000000000', bot: true },
        ...people.slice(12).map((openId) => ({ openId })),
      ],
      pageSizeCap: 5,
    });
    const first = await feishu.listChatMembers(CHAT, { pageSize: 100 });
    expect(first.items).toHaveLength(5);
    expect(first.memberTotal).toBe(23);
    emulator.reset();

    const walk = await walkChatMembers(feishu, CHAT);
    expect(walk.openIds).toEqual(people);
    expect(walk.more).toBe(false);
    // 25 entries in pages of 5; the page holding both bots comes with three people.
    expect(walk.pages).toBe(5);
    const calls = emulator.callsTo('GET', `/im/v1/chats/${CHAT}/members`);
    expect(calls).toHaveLength(5);
    expect(calls[0]?.query).toMatchObject({ member_id_type: 'open_id', page_size: '100' });
  });

  it('stops at the bound and says there were more', async () => {
    emulator.addChat({
      chatId: CHAT,
      members: Array.from({ length: 30 }, (_, i) => ({ openId: `ou_crowd${String(i).padStart(24, '0')}` })),
      pageSizeCap: 10,
    });
    const walk = await walkChatMembers(feishu, CHAT, { maxMembers: 15 });
    expect(walk.openIds).toHaveLength(15);
    expect(walk.more).toBe(true);
    expect(emulator.callsTo('GET', `/im/v1/chats/${CHAT}/members`)).toHaveLength(2);
  });
});

describe('uploadFile', () => {
  const bytes = Buffer.from('\uFEFFname,open_id,time\r\n张三,ou_1,\r\n', 'utf8');

  it('sends a multipart body with the fields and a named file part, and returns the file_key', async () => {
    const { fileKey } = await feishu.uploadFile({ fileName: 'viewers-计划-2026-11-20.csv', bytes });
    const [stored] = emulator.files;
    expect(stored?.fileKey).toBe(fileKey);
    expect(stored?.fileType).toBe('stream');
    expect(stored?.fileName).toBe('viewers-计划-2026-11-20.csv');
    // The part's own filename is a header value: ASCII; the name people see is file_name.
    expect(stored?.partFilename).toBe('viewers-__-2026-11-20.csv');
    expect(stored?.contentType).toBe('text/csv');
    expect(stored?.bytes.equals(bytes)).toBe(true);
  });

  it('retries with a fresh token after an HTTP-200 token refusal, sending the whole file again', async () => {
    emulator.failNext('POST', '/im/v1/files', { httpStatus: 200, code: 99991663, msg: 'invalid token' });
    const { fileKey } = await feishu.uploadFile({ fileName: 'a.csv', bytes });
    expect(emulator.callsTo('POST', '/im/v1/files')).toHaveLength(2);
    expect(emulator.files).toHaveLength(1);
    expect(emulator.files[0]?.fileKey).toBe(fileKey);
    expect(emulator.files[0]?.bytes.equals(bytes)).toBe(true);
  });

  it('refuses an empty file without asking Feishu', async () => {
    await expect(feishu.uploadFile({ fileName: 'a.csv', bytes: Buffer.alloc(0) })).rejects.toThrow(
      RangeError,
    );
    expect(emulator.calls.filter((c) => c.path.endsWith('/im/v1/files'))).toEqual([]);
  });
});

describe('file and post messages', () => {
  it('sends the uploaded file as a file message once per uuid', async () => {
    const { fileKey } = await feishu.uploadFile({ fileName: 'a.csv', bytes: Buffer.from('x') });
    const first = await feishu.sendFile('ou_someone00000000000000000001', fileKey, 'uuid-f1', {
      receiveIdType: 'open_id',
    });
    const again = await feishu.sendFile('ou_someone00000000000000000001', fileKey, 'uuid-f1', {
      receiveIdType: 'open_id',
    });
    expect(again.messageId).toBe(first.messageId);
    expect(emulator.messages).toHaveLength(1);
    expect(emulator.messages[0]).toMatchObject({ msgType: 'file', content: { file_key: fileKey } });
  });

  it('sends a post with its at nodes', async () => {
    await feishu.sendPost(
      CHAT,
      {
        zh_cn: {
          title: 't',
          content: [
            [
              { tag: 'at', user_id: 'ou_x' },
              { tag: 'text', text: ' 请阅读' },
            ],
          ],
        },
      },
      'uuid-p1',
    );
    expect(emulator.messages[0]).toMatchObject({ msgType: 'post', targetId: CHAT, receiveIdType: 'chat_id' });
  });
});
