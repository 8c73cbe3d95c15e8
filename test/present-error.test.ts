import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { CommandUsageError } from '../src/errors.js';
import { FeishuApiError, FeishuUnexpectedResponseError, TRANSPORT_FAILURE } from '../src/feishu/errors.js';
import { InvalidPathParameterError } from '../src/feishu/path.js';
import { presentDigestLine, presentError, presentToast, toastCause } from '../src/present/present-error.js';
import { DeadlineExceededError } from '../src/util/deadline.js';
import { cardText } from './helper.js';

const log = pino({ level: 'silent' });

describe('presentError: the card says what happened', () => {
  it.each([
    {
      case: 'an HTTP 502 page from a gateway',
      err: new FeishuApiError(
        'drive.v1.fileStatistics.get',
        TRANSPORT_FAILURE,
        'HTTP 502 without a Feishu body',
        502,
      ),
      says: ['Feishu server error', 'HTTP 502'],
      not: 'took too long',
    },
    {
      case: 'a timeout',
      err: new FeishuApiError('drive.v1.fileStatistics.get', TRANSPORT_FAILURE, 'timeout'),
      says: ['Feishu took too long to answer'],
      not: 'server error',
    },
    {
      case: 'a refused connection',
      err: new FeishuApiError('drive.v1.fileStatistics.get', TRANSPORT_FAILURE, 'connection refused'),
      says: ['Could not reach Feishu', 'FEISHU_DOMAIN'],
      not: 'took too long',
    },
    {
      case: 'a body of the wrong shape',
      err: new FeishuUnexpectedResponseError('bot.v3.info', 'bot.open_id', 200, 'LOG42'),
      says: ['Feishu sent an answer the bot cannot read', 'bot.v3.info', 'LOG42'],
      not: 'took too long',
    },
  ])('$case', ({ err, says, not }) => {
    const text = cardText(presentError(err, log));
    for (const words of says) expect(text).toContain(words);
    expect(text).not.toContain(not);
  });
});

describe('one understanding, three forms', () => {
  const err = new FeishuApiError('drive.v1.fileStatistics.get', 1069603, 'forbidden', 403);

  it('a toast names the problem and the code, in both languages', () => {
    const toast = presentToast(err, log);
    expect(toast.type).toBe('error');
    expect(toast.i18n.en_us).toBe("No access to this document's statistics (1069603)");
    expect(toast.i18n.zh_cn).toBe('无权查看该文档的统计数据（1069603）');
  });

  it('a digest line says what it means', () => {
    expect(presentDigestLine(err, log).en).toContain('not a collaborator with manage permission');
  });

  it("never shows Feishu's own message, in any form", () => {
    const echoed = new FeishuApiError('x', 1069603, 'ECHO <at id=all></at>', 403);
    expect(cardText(presentError(echoed, log))).not.toContain('ECHO');
    expect(JSON.stringify(presentToast(echoed, log))).not.toContain('ECHO');
    expect(JSON.stringify(presentDigestLine(echoed, log))).not.toContain('ECHO');
  });

  it('a usage error is the usage card', () => {
    expect(cardText(presentError(new CommandUsageError('stats', 'no_link'), log))).toContain('stats');
  });
});

describe('failures of our own making that are not bugs', () => {
  it('an id no Feishu request can carry is an answer about the link or id, in both languages', () => {
    const err = new InvalidPathParameterError();
    const text = cardText(presentError(err, log));
    expect(text).toContain('This link or id is not valid');
    expect(text).toContain('链接或 ID 无效');
    expect(text).toContain('Share');
    expect(text).not.toContain('Something went wrong');
    expect(text).not.toContain('Error ID');
    expect(presentToast(err, log).i18n).toEqual({
      en_us: 'This link or id is not valid',
      zh_cn: '链接或 ID 无效',
    });
    expect(presentDigestLine(err, log).en).toBe('The link or id of this item is not valid.');
  });

  it('a deadline that passed while waiting for a call another caller started is the timeout card', () => {
    const text = cardText(presentError(new DeadlineExceededError(), log));
    expect(text).toContain('Feishu took too long to answer');
    expect(text).not.toContain('Something went wrong');
    expect(presentToast(new DeadlineExceededError(), log).i18n.en_us).toBe('Feishu took too long to answer');
  });

  it('remembers what each toast was made from, for a late answer that must know what failed', () => {
    const err = new FeishuApiError('im.v1.message.create', 230013, 'no availability', 400);
    const toast = presentToast(err, log);
    expect(toastCause(toast)).toBe(err);
    expect(toastCause({ ...toast })).toBeUndefined();
  });
});
