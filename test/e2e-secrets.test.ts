/**
 * An upstream that echoes the request back in its error messages (a proxy, a misbehaving gateway) must not get a
 * secret into a log line or a card: not the app secret, the encrypt key, the verification token, nor the tenant
 * access token. Checked at every log level, since trace and debug log the most.
 */
import { describe, expect, it } from 'vitest';
import { LOG_LEVELS } from '../src/config.js';
import { cardActionEvent, DEFAULT_VERIFICATION_TOKEN, messageEvent } from './emulator/fixtures.js';
import { buttons, buttonValue, TEST_ENCRYPT_KEY } from './helper.js';
import { startE2e, useEmulator } from './support/e2e.js';

const OWNER = 'ou_owner0000000000000000000000s1';
const DOC = 'doxcnSecretsE2eAbCdEfGhIjKlM';
const DOC_URL = `https://acme.feishu.cn/docx/${DOC}`;
const STATS_PATH = `/drive/v1/files/${DOC}/statistics`;
const TOKEN_PATH = '/auth/v3/tenant_access_token/internal';

const emulator = useEmulator({ docs: [{ token: DOC, type: 'docx', title: 'Budget', ownerId: OWNER }] });

/** The token the emulator handed the bot: it reuses its current token while that is valid. */
async function currentTenantToken(): Promise<string> {
  const res = await fetch(`${emulator.url}/open-apis${TOKEN_PATH}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ app_id: emulator.appId, app_secret: emulator.appSecret }),
  });
  const body = (await res.json()) as { tenant_access_token: string };
  return body.tenant_access_token;
}

describe('secrets echoed by an upstream', () => {
  it.each(LOG_LEVELS.filter((level) => level !== 'silent'))(
    'never reach a log line or a card at LOG_LEVEL=%s',
    async (logLevel) => {
      emulator.reset();
      const bot = await startE2e({ emulator, logLevel });
      const seen: string[] = [];
      try {
        const ask = async () => {
          await bot.deliver(messageEvent({ text: `stats ${DOC_URL}`, senderOpenId: OWNER }));
          await bot.settle();
        };
        // 1. The token request refused, with the request (app id and secret) echoed back.
        emulator.failNext('POST', TOKEN_PATH, {
          httpStatus: 400,
          code: 10014,
          msg: `app secret invalid: app_secret=${emulator.appSecret}; you sent {"app_id":"${emulator.appId}","app_secret":"${emulator.appSecret}"}`,
        });
        await ask();

        // 2. A statistics call refused with everything echoed: the Authorization header, the keys, bare.
        await ask();
        const token = await currentTenantToken();
        const echo = `echo: Authorization: Bearer ${token}; ${token}; encrypt_key=${TEST_ENCRYPT_KEY}; ${TEST_ENCRYPT_KEY}; token ${DEFAULT_VERIFICATION_TOKEN}; ${emulator.appSecret}`;
        emulator.failNext('GET', STATS_PATH, { httpStatus: 400, code: 1069699, msg: echo });
        await ask();

        // 3. A Refresh click that meets the same echo.
        const card = emulator.messages.find((m) => buttons(m.content).size > 0);
        emulator.failNext('GET', STATS_PATH, { httpStatus: 400, code: 1069699, msg: echo });
        const answer = await bot.click(
          cardActionEvent({
            operatorOpenId: OWNER,
            value: buttonValue(card?.content, /refresh/i),
            openMessageId: card?.messageId ?? '',
            openChatId: 'oc_p2p',
          }),
        );
        await bot.settle();

        seen.push(
          bot.logs.text,
          JSON.stringify(answer.body),
          ...emulator.messages.map((m) => JSON.stringify(m.content)),
        );
        const everything = seen.join('\n');
        // Something was logged and shown about each failure, so the check below looks at real output.
        expect(emulator.messages.length).toBeGreaterThanOrEqual(3);
        if (logLevel === 'trace' || logLevel === 'debug' || logLevel === 'info' || logLevel === 'warn') {
          expect(bot.logs.text).toContain('1069699');
        }
        for (const secret of [emulator.appSecret, TEST_ENCRYPT_KEY, DEFAULT_VERIFICATION_TOKEN, token]) {
          expect(everything.includes(secret), `${secret.slice(0, 6)}… at ${logLevel}`).toBe(false);
        }
      } finally {
        await bot.close();
      }
    },
    30_000,
  );
});
