/**
 * Test entry point: `src/server.ts` with a bot clock the test can move while the process runs, for
 * multi-process tests of time-driven work (digests). Started by `startChildServer({ entry: 'replica' })`.
 *
 * Env on top of the usual config: TEST_CLOCK_OFFSET_MS (initial offset, default 0) and TEST_DIGEST_TICK_MS
 * (digest scheduler period). IPC: `{ type: 'clock', offsetMs }` sets the offset and logs 'test clock moved'.
 */

import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { ConfigError } from '../../src/errors.js';
import { serveUntilSignalled } from '../../src/lifecycle.js';
import { createLogger } from '../../src/logger.js';
import type { ReplicaMessage } from './child-server.js';

async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`test replica cannot start.\n${err.message}`);
      process.exit(1);
    }
    throw err;
  }
  const logger = createLogger({ level: config.logLevel });

  let offsetMs = readMs('TEST_CLOCK_OFFSET_MS') ?? 0;
  const clock = (): number => Date.now() + offsetMs;
  const digestTickMs = readMs('TEST_DIGEST_TICK_MS');
  if (digestTickMs !== undefined && digestTickMs <= 0) throw new Error('TEST_DIGEST_TICK_MS must be > 0');
  logger.info({ offsetMs, digestTickMs }, 'test replica starting');

  const app = await buildApp(config, {
    logger,
    clock,
    ...(digestTickMs !== undefined ? { digestTickMs } : {}),
  });

  process.on('message', (message: unknown) => {
    if (!isClockMessage(message)) {
      logger.warn({ message }, 'test replica: unknown IPC message ignored');
      return;
    }
    offsetMs = message.offsetMs;
    // `now` lets a test check the clock the bot reads, not just that the message arrived.
    logger.info({ offsetMs, now: new Date(clock()).toISOString() }, 'test clock moved');
  });
  // The channel closes when the test process goes away: do not outlive it.
  process.on('disconnect', () => process.exit(70));

  await serveUntilSignalled(app, logger, { port: config.port, host: config.host });
}

/** A whole number of milliseconds from the environment; a typo must fail loudly, not mean "0". */
function readMs(name: string): number | undefined {
  const text = process.env[name]?.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new Error(`${name} must be a whole number of ms (got "${text}")`);
  return value;
}

function isClockMessage(message: unknown): message is ReplicaMessage {
  const m = message as Partial<ReplicaMessage> | null;
  return m?.type === 'clock' && typeof m.offsetMs === 'number' && Number.isFinite(m.offsetMs);
}

main().catch((err: unknown) => {
  console.error('test replica failed to start:', err instanceof Error ? err.stack : err);
  process.exit(1);
});
