import { buildApp } from './app.js';
import { canVerifyRequests, loadConfig } from './config.js';
import { ConfigError } from './errors.js';
import { serveUntilSignalled } from './lifecycle.js';
import { createLogger } from './logger.js';

/** Entry point: read config, start listening, shut down gracefully on SIGTERM/SIGINT. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      // Before the logger exists, and meant for a human reading a terminal or container log.
      console.error(
        `feishu-stats-bot cannot start.\n${err.message}\nSee README.md → Configuration and .env.example.`,
      );
      process.exit(1);
    }
    throw err;
  }

  const logger = createLogger({ level: config.logLevel });
  if (config.eventMode === 'webhook' && !canVerifyRequests(config)) {
    logger.warn(
      'neither FEISHU_ENCRYPT_KEY nor FEISHU_VERIFICATION_TOKEN is set: every webhook request will be refused (401) ' +
        'until one is; copy them from Developer Console → Events & Callbacks → Encryption Strategy',
    );
  }

  const app = await buildApp(config, { logger });
  await serveUntilSignalled(app, logger, { port: config.port, host: config.host });
}

main().catch((err: unknown) => {
  console.error('feishu-stats-bot failed to start:', err instanceof Error ? err.message : err);
  process.exit(1);
});
