import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    /** `redis://127.0.0.1:<port>` of the throwaway redis-server started for this run (DB 0 is bookkeeping). */
    redisUrl: string;
  }
}

/** Present in DB 0 only on a server this file started: `test/redis.ts` refuses to flush anything else. */
export const THROWAWAY_MARKER_KEY = 'fsb:test:throwaway-server';
/** List in DB 0 of logical databases not handed out yet (see `freshRedisDb`). */
export const FREE_DBS_KEY = 'fsb:test:free-dbs';
/**
 * Enough logical databases that none is handed out twice in one run (see `freshRedisDb`): a database returned
 * while something of its last holder still runs (an orphaned child server's worker, a connection not yet closed)
 * could otherwise hand that holder's jobs and keys to the next test. A few hundred empty databases cost nothing.
 */
export const DATABASE_COUNT = 512;

export interface RedisServerHandle {
  port: number;
  url: string;
  stop(): Promise<void>;
}

/**
 * Vitest global setup: one throwaway redis-server for the whole run, on a free port, with no persistence
 * and a temp working dir. Never the developer's own 6379.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const server = await startRedisServer();
  await prepareDatabases(server.port);
  project.provide('redisUrl', server.url);
  return () => server.stop();
}

/** Starts redis-server on a free loopback port and resolves once it answers PING. */
export async function startRedisServer(): Promise<RedisServerHandle> {
  const dir = await mkdtemp(join(tmpdir(), 'fsb-redis-'));
  // The free port is found by a bind-then-close, so another process may grab it before redis does; retry.
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await findFreePort();
    try {
      const child = await spawnRedis(port, dir);
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        stop: async () => {
          await stopProcess(child);
          await rm(dir, { recursive: true, force: true });
        },
      };
    } catch (err) {
      if (err instanceof RedisNotInstalledError) {
        await rm(dir, { recursive: true, force: true });
        throw err;
      }
      lastError = err;
    }
  }
  await rm(dir, { recursive: true, force: true });
  throw lastError;
}

class RedisNotInstalledError extends Error {
  constructor() {
    super(
      'redis-server is not installed, and the Redis tests need a throwaway one (they never use your own ' +
        'database). Install it with `apt-get install redis-server` (Debian/Ubuntu) or ' +
        '`brew install redis` (macOS), then rerun the tests.',
    );
  }
}

async function spawnRedis(port: number, dir: string): Promise<ChildProcess> {
  const args = [
    '--port',
    String(port),
    '--bind',
    '127.0.0.1',
    '--save',
    '',
    '--appendonly',
    'no',
    '--dir',
    dir,
    '--databases',
    String(DATABASE_COUNT),
    '--loglevel',
    'warning',
  ];
  const child = spawn('redis-server', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  // If vitest dies without running teardown, do not leave an orphan server behind.
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
    await Promise.race([waitForPong(port, 5_000), spawnFailure]);
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return child;
}

/** DB 0 holds the marker and the pool of logical databases handed to test files. */
async function prepareDatabases(port: number): Promise<void> {
  const dbs = Array.from({ length: DATABASE_COUNT - 1 }, (_, i) => String(i + 1));
  const reply = await sendRaw(port, [
    ['SET', THROWAWAY_MARKER_KEY, String(process.pid)],
    ['RPUSH', FREE_DBS_KEY, ...dbs],
  ]);
  if (reply.includes('-ERR')) throw new Error(`could not prepare the throwaway redis-server: ${reply}`);
}

function findFreePort(): Promise<number> {
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

async function waitForPong(port: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      if ((await sendRaw(port, [['PING']])).startsWith('+PONG')) return;
    } catch (err) {
      lastError = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(
    `redis-server on port ${port} did not answer PING within ${timeoutMs} ms: ${String(lastError)}`,
  );
}

/**
 * Sends commands in RESP and returns the raw replies once every one has arrived. Setup talks RESP by hand
 * so it depends on nothing but the server it just started.
 */
function sendRaw(port: number, commands: string[][]): Promise<string> {
  const payload = commands
    .map((cmd) => `*${cmd.length}\r\n${cmd.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    .join('');
  return new Promise((resolve, reject) => {
    const socket = new Socket();
    let reply = '';
    socket.setTimeout(1_000, () => socket.destroy(new Error('timeout')));
    socket.once('error', reject);
    socket.on('data', (chunk: Buffer) => {
      reply += chunk.toString();
      // Every reply here is a single line (+OK, +PONG, :n, -ERR …).
      if (reply.split('\r\n').length > commands.length) {
        socket.end();
        resolve(reply);
      }
    });
    socket.connect(port, '127.0.0.1', () => socket.write(payload));
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  // No pid means spawn itself failed (ENOENT): there is no process and no 'exit' will ever come.
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 2_000);
  await exited;
  clearTimeout(timer);
}
