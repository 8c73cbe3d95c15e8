import type { Logger } from 'pino';

/**
 * Shutdown from signal to exit, everything included (finishing events, digests, queues, Feishu, Redis). Well under
 * the 30 s orchestrators usually wait before SIGKILL (Kubernetes' terminationGracePeriodSeconds, `docker stop`),
 * so what was left is said by us, in one line, rather than lost to a kill.
 */
export const SHUTDOWN_BUDGET_MS = 10_000;

/** The part of the budget for finishing accepted events; the rest is for closing queues, Feishu and Redis. */
export const DRAIN_BUDGET_MS = 8_000;

/**
 * Without Redis an event is accepted only while the whole backlog is estimated to finish within this (the rule is
 * in `InProcessDispatcher`): a quarter under DRAIN_BUDGET_MS, for estimates that run low.
 */
export const ADMIT_WITHIN_MS = 6_000;

declare module 'fastify' {
  interface FastifyInstance {
    shutdownSteps: ShutdownSteps;
  }
}

/**
 * The close steps under way, so a shutdown past its budget can say which one hung. Plugins run their preClose
 * and onClose work through `app.shutdownSteps.run(name, work)`.
 */
export class ShutdownSteps {
  readonly #running = new Set<string>();

  async run<T>(step: string, work: () => Promise<T>): Promise<T> {
    this.#running.add(step);
    try {
      return await work();
    } finally {
      this.#running.delete(step);
    }
  }

  /** Steps started and not finished, in the order they started. */
  unfinished(): string[] {
    return [...this.#running];
  }
}

/** What shutdown needs of the app, by shape: `app.ts` imports this file, so this file cannot import it. */
export interface ServedApp {
  listen(opts: { port: number; host: string }): Promise<string>;
  close(): PromiseLike<unknown>;
  dispatcher: { unfinishedHere(): number };
  shutdownSteps: ShutdownSteps;
}

/**
 * Listen, and on SIGTERM/SIGINT close the app within SHUTDOWN_BUDGET_MS: while accepted work finishes the listener
 * stays open and answers 503 (see the bot plugin's preClose), then Redis and HTTP close. Exits 0 when everything
 * accepted was finished and closed; 1 when the close failed, events were left unfinished, or the budget ran out
 * (then after one error line saying what was left). Shared by `server.ts` and the test replica entry.
 */
export async function serveUntilSignalled(
  app: ServedApp,
  logger: Logger,
  listen: { port: number; host: string },
  budgetMs = SHUTDOWN_BUDGET_MS,
): Promise<void> {
  let closing = false;
  const shutdown = async (signal: string) => {
    if (closing) return;
    closing = true;
    const started = Date.now();
    logger.info({ signal, budget_ms: budgetMs }, 'shutting down: refusing new work, finishing accepted work');
    // Not unref'd: a step waiting on something that holds no handle (a command queued for a Redis that is gone)
    // would otherwise let the process end with code 0, as if it had finished.
    const overrun = setTimeout(() => {
      logger.error(
        {
          budget_ms: budgetMs,
          unfinished_events: app.dispatcher.unfinishedHere(),
          unfinished_steps: app.shutdownSteps.unfinished(),
        },
        'shutdown ran past its budget; exiting with work left',
      );
      process.exit(1);
    }, budgetMs);
    let code = 0;
    try {
      await app.close();
      const left = app.dispatcher.unfinishedHere();
      if (left > 0) {
        code = 1;
        logger.error(
          { unfinished_events: left, ms: Date.now() - started },
          'shutdown left events unfinished',
        );
      } else {
        logger.info({ ms: Date.now() - started }, 'shutdown complete');
      }
    } catch (err) {
      code = 1;
      logger.error({ err, unfinished_steps: app.shutdownSteps.unfinished() }, 'shutdown failed');
    }
    clearTimeout(overrun);
    process.exit(code);
  };
  process.once('SIGTERM', () => void shutdown('SIGTERM'));
  process.once('SIGINT', () => void shutdown('SIGINT'));
  await app.listen(listen);
}
