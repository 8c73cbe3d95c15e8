/**
 * Anchor: what a user of the Lark SDK would write: `adaptDefault` and an `EventDispatcher` (signature check and
 * decryption, with the keys every bench target gets) on `http.createServer`, and a handler that does nothing.
 * Run by `bench/run.ts` as a process of its own, on `PORT`.
 */
import { createServer } from 'node:http';
import * as lark from '@larksuiteoapi/node-sdk';

const dispatcher = new lark.EventDispatcher({
  encryptKey: process.env.FEISHU_ENCRYPT_KEY ?? '',
  verificationToken: process.env.FEISHU_VERIFICATION_TOKEN ?? '',
}).register({ 'im.message.receive_v1': async () => {} });

createServer(lark.adaptDefault('/webhook/event', dispatcher)).listen(Number(process.env.PORT), '127.0.0.1');
