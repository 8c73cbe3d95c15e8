import { Socket } from 'node:net';
import type { TestProject } from 'vitest/node';
import { onFreePort, spawnRedisServer, startInTempDir, waitForServer } from './support/redis-process.js';

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
export function startRedisServer(): Promise<RedisServerHandle> {
  return startInTempDir('fsb-redis-', (dir) =>
    onFreePort(async (port) => {
      const child = await spawnRedisServer(redisArgs(port, dir), () =>
        waitForServer(`redis-server on port ${port}`, async () =>
          (await sendRaw(port, [['PING']])).startsWith('+PONG'),
        ),
      );
      return { child, handle: { port, url: `redis://127.0.0.1:${port}` } };
    }),
  );
}

function redisArgs(port: number, dir: string): string[] {
  return [
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
