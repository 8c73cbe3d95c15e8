import type { Redis } from 'ioredis';
import type { StoreLogger } from './redis-store.js';

/**
 * The server settings that decide whether acknowledged work survives: a Redis with neither AOF nor RDB loses
 * every event the webhook acknowledged but a worker had not finished when it restarts, and an evicting Redis
 * drops BullMQ jobs and locks under memory pressure. `undefined` means we could not read that setting.
 * https://redis.io/docs/latest/operate/oss_and_stack/management/persistence/
 * https://docs.bullmq.io/guide/going-to-production#max-memory-policy
 */
export interface RedisSettings {
  /** `CONFIG GET appendonly` (`yes`/`no`), or INFO's `aof_enabled` when CONFIG is not allowed. */
  appendonly?: string | undefined;
  /** `CONFIG GET save`: RDB snapshot points such as `3600 1 300 100`; empty means no snapshots. */
  save?: string | undefined;
  /** `CONFIG GET maxmemory-policy`, or INFO's `maxmemory_policy`. */
  maxmemoryPolicy?: string | undefined;
}

export interface RedisSettingsRisk {
  code: 'NO_PERSISTENCE' | 'EVICTION';
  /** Exactly what to set on the server. */
  set: string;
  /** What goes wrong, and what to set, in words for the log line. */
  why: string;
}

export interface RedisSettingsAssessment {
  risks: RedisSettingsRisk[];
  /** What we could not tell from the settings we could read. */
  unchecked: Array<'persistence' | 'eviction'>;
}

export const SET_APPENDONLY = 'appendonly yes';
export const SET_NOEVICTION = 'maxmemory-policy noeviction';

/** Pure: what the settings put at risk, and what they leave unknown. */
export function assessRedisSettings(settings: RedisSettings): RedisSettingsAssessment {
  const risks: RedisSettingsRisk[] = [];
  const unchecked: RedisSettingsAssessment['unchecked'] = [];

  const { appendonly, save, maxmemoryPolicy } = settings;
  const aof = appendonly?.trim().toLowerCase() === 'yes';
  const rdb = save !== undefined && save.trim() !== '';
  if (!aof && !rdb) {
    // Either one on is enough; both known off is a finding, anything else we cannot tell.
    if (appendonly === undefined || save === undefined) unchecked.push('persistence');
    else {
      risks.push({
        code: 'NO_PERSISTENCE',
        set: SET_APPENDONLY,
        why:
          'neither AOF nor RDB snapshots are on, so acknowledged events and digest state are lost when Redis ' +
          `restarts (set ${SET_APPENDONLY}, or RDB snapshots with save)`,
      });
    }
  }

  const policy = maxmemoryPolicy?.trim().toLowerCase();
  if (policy === undefined) unchecked.push('eviction');
  else if (policy !== 'noeviction') {
    // Worded like BullMQ's own console warning ("Eviction policy is X. It should be \"noeviction\"").
    risks.push({
      code: 'EVICTION',
      set: SET_NOEVICTION,
      why:
        `maxmemory-policy is ${policy}, so Redis may evict BullMQ jobs and locks under memory pressure ` +
        `(set ${SET_NOEVICTION}, as BullMQ requires)`,
    });
  }
  return { risks, unchecked };
}

export interface RedisSettingsReading {
  settings: RedisSettings;
  /** Why CONFIG GET gave no answer (disabled or renamed on many managed services), when it did not. */
  configError?: string;
}

/**
 * Reads the settings with `CONFIG GET`; where that is refused, falls back to `INFO persistence` and
 * `INFO memory`, which managed services keep. INFO shows whether AOF is on but not the RDB schedule, so
 * `save` stays unknown then. Never throws: a setting that cannot be read is left `undefined`.
 */
export async function readRedisSettings(client: Redis): Promise<RedisSettingsReading> {
  const [appendonly, save, maxmemoryPolicy] = await Promise.allSettled([
    configGet(client, 'appendonly'),
    configGet(client, 'save'),
    configGet(client, 'maxmemory-policy'),
  ]);
  const settings: RedisSettings = {
    appendonly: settledValue(appendonly),
    save: settledValue(save),
    maxmemoryPolicy: settledValue(maxmemoryPolicy),
  };
  const failed = [appendonly, save, maxmemoryPolicy].find((r) => r.status === 'rejected');
  const reading: RedisSettingsReading = { settings };
  if (failed) reading.configError = reasonOf(failed.reason);
  if (settings.appendonly !== undefined && settings.maxmemoryPolicy !== undefined) return reading;

  const [persistence, memory] = await Promise.allSettled([client.info('persistence'), client.info('memory')]);
  if (settings.appendonly === undefined) {
    const aofEnabled = infoField(settledValue(persistence), 'aof_enabled');
    if (aofEnabled !== undefined) settings.appendonly = aofEnabled === '1' ? 'yes' : 'no';
  }
  settings.maxmemoryPolicy ??= infoField(settledValue(memory), 'maxmemory_policy');
  return reading;
}

/**
 * Reads the settings once at start-up and logs what they put at risk: one warning naming what to set, or,
 * where the server would not say, one info line (many managed services disable CONFIG; that is not a fault).
 */
export async function checkRedisSettings(
  client: Redis,
  logger: StoreLogger,
): Promise<RedisSettingsAssessment> {
  const { settings, configError } = await readRedisSettings(client);
  const assessment = assessRedisSettings(settings);
  const seen = {
    appendonly: settings.appendonly ?? null,
    save: settings.save ?? null,
    maxmemory_policy: settings.maxmemoryPolicy ?? null,
  };
  if (assessment.risks.length > 0) {
    logger.warn(
      { store: 'redis', redis_settings: seen, set: assessment.risks.map((r) => r.set) },
      `Redis may lose the bot's work: ${assessment.risks.map((r) => r.why).join('; ')}`,
    );
  }
  if (assessment.unchecked.length > 0) {
    const needs = assessment.unchecked.map((u) =>
      u === 'persistence' ? `${SET_APPENDONLY} (or RDB snapshots)` : SET_NOEVICTION,
    );
    logger.info(
      {
        store: 'redis',
        redis_settings: seen,
        unchecked: assessment.unchecked,
        ...(configError ? { reason: configError } : {}),
      },
      `could not check Redis ${assessment.unchecked.join(' or ')} settings (${
        configError
          ? 'CONFIG GET is not allowed here, as on many managed services'
          : 'the server does not report them'
      }): the bot needs ${needs.join(' and ')}`,
    );
  }
  return assessment;
}

async function configGet(client: Redis, name: string): Promise<string | undefined> {
  // The reply is a flat [name, value] list; an empty one means this server has no such setting.
  const reply = await client.config('GET', name);
  if (!Array.isArray(reply)) return undefined;
  const value: unknown = reply[1];
  return typeof value === 'string' ? value : undefined;
}

function settledValue<T>(result: PromiseSettledResult<T>): T | undefined {
  return result.status === 'fulfilled' ? result.value : undefined;
}

function reasonOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** One `name:value` line of an INFO reply. */
function infoField(info: string | undefined, name: string): string | undefined {
  if (info === undefined) return undefined;
  for (const line of info.split(/\r?\n/)) {
    if (line.startsWith(`${name}:`)) return line.slice(name.length + 1).trim();
  }
  return undefined;
}
