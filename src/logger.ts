import { createRequire } from 'node:module';
import pino, { type DestinationStream, type Logger } from 'pino';
import type { LogLevel } from './config.js';

/**
 * Paths pino blanks in every log line. Secrets should never be logged in the first place; this is the net under
 * that rule for objects that reach a log call whole (configs, request headers, SDK payloads).
 */
export const REDACT_PATHS = [
  'appSecret',
  'app_secret',
  'encryptKey',
  'encrypt_key',
  'verificationToken',
  'token',
  'tenant_access_token',
  'authorization',
  '*.appSecret',
  '*.app_secret',
  '*.encryptKey',
  '*.verificationToken',
  '*.token',
  '*.tenant_access_token',
  '*.authorization',
  'req.headers.authorization',
  'req.headers["x-lark-signature"]',
  'feishu.appSecret',
  'feishu.encryptKey',
  'feishu.verificationToken',
];

export interface LoggerOptions {
  level: LogLevel;
  /** Pretty output for humans; defaults to "stdout is a TTY and pino-pretty is installed". */
  pretty?: boolean;
  /** Where lines go; tests pass a memory stream to assert on what was logged. */
  destination?: DestinationStream;
}

export function createLogger(opts: LoggerOptions): Logger {
  const base = {
    level: opts.level,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    base: { service: 'feishu-stats-bot' },
  };
  if (opts.destination) return pino(base, opts.destination);
  const pretty = opts.pretty ?? (process.stdout.isTTY === true && hasPinoPretty());
  if (pretty) {
    return pino({
      ...base,
      transport: { target: 'pino-pretty', options: { translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(base);
}

// pino-pretty is a dev dependency: the production image logs JSON and must not fail for lack of it.
function hasPinoPretty(): boolean {
  try {
    createRequire(import.meta.url).resolve('pino-pretty');
    return true;
  } catch {
    return false;
  }
}
