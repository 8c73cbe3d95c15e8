import { type AxiosError, isAxiosError } from 'axios';
import type { LevelWithSilent, Logger } from 'pino';
import { type Scrubber, scrubPatterns } from './scrub.js';

/** Structurally the SDK's `Logger` interface, so no SDK type leaks out of src/feishu. */
export interface SdkLogger {
  error(...msg: unknown[]): void;
  warn(...msg: unknown[]): void;
  info(...msg: unknown[]): void;
  debug(...msg: unknown[]): void;
  trace(...msg: unknown[]): void;
}

const SENSITIVE_KEY = /secret|token|authorization|encrypt|password/i;
const REDACTED = '[redacted]';
const MAX_DEPTH = 6;

function stripQuery(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).pathname;
  } catch {
    return url.split(/[?#]/, 1)[0];
  }
}

/** An AxiosError holds the request config (headers with `Bearer`, `data` with `app_secret`): keep facts only. */
function summariseAxiosError(error: AxiosError, scrub: Scrubber): Record<string, unknown> {
  const body = error.response?.data as { code?: unknown; msg?: unknown } | undefined;
  return {
    message: scrub(error.message),
    method: error.config?.method?.toUpperCase(),
    url: stripQuery(error.config?.url),
    status: error.response?.status,
    feishuCode: typeof body?.code === 'number' ? body.code : undefined,
    feishuMsg: typeof body?.msg === 'string' ? scrub(body.msg) : undefined,
  };
}

/** Reduces anything the SDK hands its logger to data that is safe to write out. */
export function sanitizeLogValue(
  value: unknown,
  scrub: Scrubber = scrubPatterns,
  depth = 0,
  seen = new WeakSet<object>(),
): unknown {
  if (typeof value === 'string') return scrub(value);
  if (value === null || typeof value !== 'object') {
    if (typeof value === 'function') return '[function]';
    if (typeof value === 'bigint' || typeof value === 'symbol') return value.toString();
    return value;
  }
  if (isAxiosError(value)) return summariseAxiosError(value, scrub);
  if (seen.has(value) || depth >= MAX_DEPTH) return '[…]';
  seen.add(value);
  if (value instanceof Error) return { name: value.name, message: scrub(value.message) };
  if (Array.isArray(value)) return value.map((item) => sanitizeLogValue(item, scrub, depth + 1, seen));
  const copy: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) {
    copy[key] = SENSITIVE_KEY.test(key) ? REDACTED : sanitizeLogValue(item, scrub, depth + 1, seen);
  }
  return copy;
}

/**
 * The SDK's LoggerProxy calls `logger.error(args)` with its arguments packed into one array, and its typed
 * calls log `formatErrors(e)`, itself an array; flatten both so strings become the message.
 */
function write(
  logger: Logger,
  scrub: Scrubber,
  level: Exclude<LevelWithSilent, 'silent' | 'fatal'>,
  args: unknown[],
): void {
  if (!logger.isLevelEnabled(level)) return;
  const parts = args.flat(2);
  const text = parts
    .filter((part): part is string => typeof part === 'string')
    .map(scrub)
    .join(' ');
  const details = parts
    .filter((part) => typeof part !== 'string')
    .map((part) => sanitizeLogValue(part, scrub));
  if (details.length > 0) logger[level]({ sdk: details }, text || 'lark sdk');
  else logger[level](text || 'lark sdk');
}

/**
 * A logger for `new lark.Client({ logger })` that never writes the app secret or an access token: `scrub` knows
 * the configured secrets and the current token (see `createScrubber`).
 */
export function createSdkLogger(logger: Logger, scrub: Scrubber = scrubPatterns): SdkLogger {
  const sdkLogger = logger.child({ component: 'lark-sdk' });
  return {
    error: (...msg) => write(sdkLogger, scrub, 'error', msg),
    warn: (...msg) => write(sdkLogger, scrub, 'warn', msg),
    // "client ready", "use cache token", … are chatter, not events worth an info line.
    info: (...msg) => write(sdkLogger, scrub, 'debug', msg),
    debug: (...msg) => write(sdkLogger, scrub, 'trace', msg),
    trace: (...msg) => write(sdkLogger, scrub, 'trace', msg),
  };
}
