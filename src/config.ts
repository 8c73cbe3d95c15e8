import { ConfigError } from './errors.js';

/**
 * The whole runtime configuration, read once from the environment by `loadConfig`.
 * Every variable is documented in README.md and .env.example; keep the three in step.
 */
export interface Config {
  feishu: {
    appId: string;
    appSecret: string;
    /** Events & Callbacks → Encryption Strategy. When set, bodies are encrypted and signed. */
    encryptKey?: string;
    verificationToken?: string;
    /** Resolved base URL of the Open Platform, without a trailing slash. */
    domain: string;
    /**
     * FEISHU_MONTHLY_CALL_BUDGET: the API calls a month this bot may spend (the tenant's quota, less what its
     * other custom apps use). At 80 % the admins are warned once; once spent, digests fetch each item once a day.
     */
    monthlyCallBudget?: number;
  };
  /**
   * How Feishu delivers events and card callbacks: `webhook` (POST /webhook/event and /webhook/card, a public URL)
   * or `websocket` (the SDK's long connection, opened by the bot: no public URL, no encrypt key).
   */
  eventMode: EventMode;
  /** Unset → in-memory store (single instance, nothing survives a restart). */
  redisUrl?: string;
  port: number;
  host: string;
  logLevel: LogLevel;
  /** open_ids allowed to see tenant-wide data and every document's visitor list. */
  botAdmins: readonly string[];
  digest: { hour: number; minute: number; timeZone: string };
}

export const EVENT_MODES = ['webhook', 'websocket'] as const;
export type EventMode = (typeof EVENT_MODES)[number];

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

const FEISHU_DOMAINS: Record<string, string> = {
  feishu: 'https://open.feishu.cn',
  lark: 'https://open.larksuite.com',
};

// Where each value lives in the Feishu developer console (https://open.feishu.cn/app), so a failed start tells
// the operator exactly where to look rather than just "missing".
const CREDENTIALS_HINT = 'Developer Console → your app → Credentials & Basic Info (凭证与基础信息)';
const EVENTS_HINT =
  'Developer Console → your app → Events & Callbacks → Encryption Strategy (事件与回调 → 加密策略)';

// https://open.feishu.cn/document/platform-notices/platform-updates-/custom-app-api-call-limit
const CALLS_HINT =
  "Feishu's notice on custom app API call limits (free plan: 10,000 calls a month for all the tenant's custom apps)";

const SUBSCRIPTION_HINT =
  'Developer Console → your app → Events & Callbacks → Subscription mode, for events and for callbacks ' +
  '(事件与回调 → 订阅方式)';

type Env = Record<string, string | undefined>;

/**
 * Validate the environment and apply defaults. Collects every problem before failing, so one restart is enough
 * to see everything that is wrong.
 */
export function loadConfig(env: Env = process.env): Config {
  const problems: string[] = [];
  const read = (name: string): string | undefined => {
    const value = env[name]?.trim();
    return value === '' ? undefined : value;
  };

  const appId = read('FEISHU_APP_ID');
  if (!appId) problems.push(`FEISHU_APP_ID is required: the App ID (cli_…) from ${CREDENTIALS_HINT}`);
  // Every App ID is `cli_` and 16 hex digits; the SDK's long connection silently does nothing for any other.
  else if (!/^cli_[0-9a-fA-F]{16}$/.test(appId))
    problems.push(
      `FEISHU_APP_ID must be cli_ followed by 16 hex digits, e.g. cli_a1b2c3d4e5f60718 (got "${appId}"): ` +
        `see ${CREDENTIALS_HINT}`,
    );

  const appSecret = read('FEISHU_APP_SECRET');
  if (!appSecret) problems.push(`FEISHU_APP_SECRET is required: the App Secret from ${CREDENTIALS_HINT}`);
  else if (/\s/.test(appSecret))
    problems.push(`FEISHU_APP_SECRET contains whitespace: copy it again from ${CREDENTIALS_HINT}`);

  const encryptKey = read('FEISHU_ENCRYPT_KEY');
  const verificationToken = read('FEISHU_VERIFICATION_TOKEN');
  for (const [name, value] of [
    ['FEISHU_ENCRYPT_KEY', encryptKey],
    ['FEISHU_VERIFICATION_TOKEN', verificationToken],
  ] as const) {
    if (value && /\s/.test(value))
      problems.push(`${name} contains whitespace: copy it again from ${EVENTS_HINT}`);
  }

  const domain = parseDomain(read('FEISHU_DOMAIN'), problems);

  const budgetText = read('FEISHU_MONTHLY_CALL_BUDGET');
  const monthlyCallBudget = budgetText === undefined ? undefined : parseInteger(budgetText, 0);
  if (
    budgetText !== undefined &&
    (monthlyCallBudget === undefined || monthlyCallBudget < 1 || !Number.isSafeInteger(monthlyCallBudget))
  )
    problems.push(
      `FEISHU_MONTHLY_CALL_BUDGET must be a positive whole number of API calls a month, e.g. 8000 (got ` +
        `"${budgetText}"): the share of the tenant's quota this bot may spend, see ${CALLS_HINT}; leave it unset ` +
        'for no budget',
    );

  const eventMode = (read('FEISHU_EVENT_MODE') ?? 'webhook').toLowerCase();
  if (!isEventMode(eventMode))
    problems.push(
      `FEISHU_EVENT_MODE must be webhook (Feishu posts to this server's public URL) or websocket (the bot opens ` +
        `Feishu's long connection; no public URL), got "${eventMode}": it must match ${SUBSCRIPTION_HINT}`,
    );

  const redisUrl = read('REDIS_URL');
  if (redisUrl && !isRedisUrl(redisUrl))
    problems.push('REDIS_URL must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379/0');

  const port = parseInteger(read('PORT'), 3000);
  if (port === undefined || port < 0 || port > 65535)
    problems.push('PORT must be an integer from 0 to 65535');

  const host = read('HOST') ?? '0.0.0.0';

  const logLevel = (read('LOG_LEVEL') ?? 'info').toLowerCase();
  if (!isLogLevel(logLevel)) problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}`);

  const botAdmins = (read('BOT_ADMINS') ?? '')
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  const badAdmins = botAdmins.filter((id) => !/^ou_[A-Za-z0-9]+$/.test(id));
  if (badAdmins.length > 0)
    problems.push(
      `BOT_ADMINS must be comma-separated open_ids (ou_…), bad: ${badAdmins.join(', ')}; ` +
        'an open_id is shown in the Developer Console API Explorer or in this bot’s logs as sender_open_id',
    );

  const digestTime = read('DIGEST_TIME') ?? '10:30';
  const timeMatch = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(digestTime);
  if (!timeMatch)
    problems.push(`DIGEST_TIME must be HH:MM in 24-hour time, e.g. 10:30 (got "${digestTime}")`);

  const timeZone = read('DIGEST_TZ') ?? 'Asia/Shanghai';
  if (!isTimeZone(timeZone))
    problems.push(`DIGEST_TZ must be an IANA time zone such as Asia/Shanghai (got "${timeZone}")`);

  if (
    problems.length > 0 ||
    !appId ||
    !appSecret ||
    !domain ||
    port === undefined ||
    !isLogLevel(logLevel) ||
    !isEventMode(eventMode) ||
    !timeMatch
  ) {
    throw new ConfigError(problems);
  }

  return {
    feishu: {
      appId,
      appSecret,
      ...(encryptKey ? { encryptKey } : {}),
      ...(verificationToken ? { verificationToken } : {}),
      domain,
      ...(monthlyCallBudget !== undefined ? { monthlyCallBudget } : {}),
    },
    eventMode,
    ...(redisUrl ? { redisUrl } : {}),
    port,
    host,
    logLevel,
    botAdmins,
    digest: { hour: Number(timeMatch[1]), minute: Number(timeMatch[2]), timeZone },
  };
}

/** `feishu` (default), `lark`, or a base URL such as `http://127.0.0.1:4010` for the emulator. */
function parseDomain(value: string | undefined, problems: string[]): string | undefined {
  if (!value) return FEISHU_DOMAINS.feishu;
  const named = FEISHU_DOMAINS[value.toLowerCase()];
  if (named) return named;
  try {
    const url = new URL(value);
    if (
      (url.protocol === 'http:' || url.protocol === 'https:') &&
      url.pathname.replace(/\/+$/, '') === '' &&
      !url.search
    ) {
      return `${url.protocol}//${url.host}`;
    }
  } catch {
    // fall through to the problem below
  }
  problems.push(
    `FEISHU_DOMAIN must be "feishu", "lark" or a base URL like https://open.feishu.cn (got "${value}")`,
  );
  return undefined;
}

function parseInteger(value: string | undefined, fallback: number): number | undefined {
  if (value === undefined) return fallback;
  return /^\d+$/.test(value) ? Number(value) : undefined;
}

function isLogLevel(value: string): value is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(value);
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

function isTimeZone(value: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}

/** Whether the webhook can verify anything at all; without either value every request is refused (fail closed). */
export function canVerifyRequests(config: Config): boolean {
  return Boolean(config.feishu.encryptKey || config.feishu.verificationToken);
}

function isEventMode(value: string): value is EventMode {
  return (EVENT_MODES as readonly string[]).includes(value);
}
