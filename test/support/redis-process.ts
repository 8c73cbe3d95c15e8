/**
 * Starting and stopping throwaway redis-server processes, shared by the suite's own server (`global-setup.ts`),
 * the TLS server (`redis-tls.ts`) and the servers with odd settings (`redis-settings.test.ts`). Never the
 * developer's own 6379: always a free loopback port and a temp dir.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export class RedisNotInstalledError extends Error {
  constructor() {
    super(
      'redis-server is not installed, and the Redis tests need a throwaway one (they never use your own ' +
        'database). Install it with `apt-get install redis-server` (Debian/Ubuntu) or ' +
        '`brew install redis` (macOS), then rerun the tests.',
    );
  }
}

export function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => (port ? resolve(port) : reject(new Error('no port from listen(0)'))));
    });
  });
}

/**
 * `start(port)` on a free port, up to three times: the port comes from a bind-then-close, so another process may
 * take it first. A missing redis-server is final.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await start(await findFreePort());
    } catch (err) {
      if (err instanceof RedisNotInstalledError) throw err;
      lastError = err;
    }
  }
  throw lastError;
}

/**
 * Spawns `redis-server args` and resolves once `ready()` does; rejects with what the server printed if it exits
 * first (a taken port, a directive this build lacks), or with RedisNotInstalledError. The process is killed if the
 * test process exits without stopping it.
 */
export async function spawnRedisServer(args: string[], ready: () => Promise<void>): Promise<ChildProcess> {
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output += chunk.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const killOnExit = (): void => {
    child.kill('SIGKILL');
  };
  process.once('exit', killOnExit);
  child.once('exit', () => process.off('exit', killOnExit));

  const spawnFailure = new Promise<never>((_, reject) => {
    child.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'ENOENT' ? new RedisNotInstalledError() : err);
    });
    child.once('exit', (code, signal) => {
      reject(new Error(`redis-server exited early (code ${code}, signal ${signal}):\n${output.trim()}`));
    });
  });
  spawnFailure.catch(() => {}); // Observed below via Promise.race; this only silences the late one.

  try {
    await Promise.race([ready(), spawnFailure]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return child;
}

/**
 * A server in a temp dir of its own: `start(dir)` spawns it (usually through `onFreePort`) and says what to hand
 * back; `stop()` then kills it and deletes the dir, which is deleted at once if the start fails.
 */
export async function startInTempDir<T extends object>(
  prefix: string,
  start: (dir: string) => Promise<{ child: ChildProcess; handle: T }>,
): Promise<T & { stop(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  const removeDir = () => rm(dir, { recursive: true, force: true });
  try {
    const { child, handle } = await start(dir);
    return {
      ...handle,
      stop: async () => {
        await stopProcess(child);
        await removeDir();
      },
    };
  } catch (err) {
    await removeDir();
    throw err;
  }
}

/** Polls `probe` every 50 ms until it resolves true, or fails after `timeoutMs` with the last error. */
export async function waitForServer(
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if (await probe()) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} did not answer PING within ${timeoutMs} ms: ${String(lastError)}`);
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  // No pid means spawn itself failed (ENOENT): there is no process and no 'exit' will ever come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}
