/**
 * The processes a bench run starts: targets (one process each, so their memory is theirs alone), the load
 * generator, a throwaway redis-server. Everything started here is killed when the bench exits, however it exits.
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import ts from 'typescript';

const started = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of started) child.kill('SIGKILL');
});
// A signal ends Node without 'exit' by default: exit on it, so Ctrl-C leaves no target or redis-server behind.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));

/** Spawns and remembers the child, so that it never outlives the bench. */
export function spawnTracked(...args: Parameters<typeof spawn>): ChildProcess {
  const child = spawn(...args);
  started.add(child);
  child.once('exit', () => started.delete(child));
  return child;
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

/** Resident memory of a process from /proc: now, and its high-water mark since it started. */
export function readMemory(pid: number): { rssMiB: number; peakMiB: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
}

/** Clock ticks per second of /proc/<pid>/stat's CPU times (USER_HZ; 100 on every Linux build that matters). */
const CLOCK_TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout.trim()) || 100;

/**
 * CPU seconds (user + system) a process has used so far. Divided by the requests answered meanwhile it is what a
 * request costs, a figure a noisy machine disturbs far less than a rate: other work takes turns, not cycles.
 */
export function readCpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name (field 2) may hold spaces; utime and stime are fields 14 and 15, counted after it.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS;
}

export interface TargetSpec {
  /** Arguments to `node`. */
  args: string[];
  cwd: string;
  env: Record<string, string>;
  /** stdout and stderr go here: a log file is what production writes to, and nothing here has to read it. */
  logFile: string;
}

export interface RunningTarget {
  readonly pid: number;
  readonly url: string;
  /** How the process ended before `stop()` was called (a crash, or a signal from outside); undefined while up. */
  readonly endedEarly: string | undefined;
  /** SIGTERM (a graceful shutdown, which also writes a `--cpu-prof` profile), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** Starts `node <args>` on a free port and resolves once the port takes connections. */
export async function startTarget(spec: TargetSpec): Promise<RunningTarget> {
  const port = await freePort();
  mkdirSync(dirname(spec.logFile), { recursive: true });
  const log = openSync(spec.logFile, 'w');
  const child = spawnTracked(process.execPath, spec.args, {
    cwd: spec.cwd,
    // Only what is asked for: no FEISHU_* or REDIS_URL from the shell running the bench.
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...spec.env, PORT: String(port) },
    stdio: ['ignore', log, log],
  });
  const exited = once(child, 'exit');
  let stopping = false;
  let endedEarly: string | undefined;
  child.once('exit', (code, signal) => {
    if (!stopping) endedEarly = signal ? `killed by ${signal}` : `exited with code ${code}`;
  });
  const deadline = Date.now() + 30_000;
  while (!(await canConnect(port))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      const tail = readFileSync(spec.logFile, 'utf8').split('\n').slice(-20).join('\n');
      throw new Error(`${spec.args.join(' ')} did not start listening:\n${tail}`);
    }
    await delay(50);
  }
  return {
    pid: child.pid ?? -1,
    url: `http://127.0.0.1:${port}`,
    get endedEarly() {
      return endedEarly;
    },
    async stop(graceMs = 20_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      stopping = true;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/**
 * The anchor targets, compiled to plain JavaScript beside the bot's build (dist/, not committed): run through tsx
 * they would carry its loader, some 30 MiB of RSS that is not theirs.
 */
export function compileTargets(repoRoot: string, names: readonly string[]): Record<string, string> {
  const compiled: Record<string, string> = {};
  for (const name of names) {
    const source = readFileSync(join(repoRoot, 'bench', 'targets', `${name}.ts`), 'utf8');
    const { outputText } = ts.transpileModule(source, {
      compilerOptions: {
        module: ts.ModuleKind.ESNext,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
    });
    const file = join(repoRoot, 'dist', 'bench', 'targets', `${name}.js`);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, outputText);
    compiled[name] = file;
  }
  return compiled;
}

export interface ThrowawayRedis {
  /** The redis-server process, for its CPU time. */
  pid: number;
  urlFor(db: number): string;
  /** Empties every database: the server is ours alone. */
  flush(): Promise<void>;
  stop(): void;
}

/** A throwaway redis-server on a free port, or undefined when there is none on the PATH. */
export async function startThrowawayRedis(): Promise<ThrowawayRedis | undefined> {
  const port = await freePort();
  const child = spawnTracked(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const failed = await new Promise<boolean>((resolve) => {
    child.once('error', () => resolve(true));
    setTimeout(() => resolve(false), 300);
  });
  if (failed) return undefined;
  const urlFor = (db: number) => `redis://127.0.0.1:${port}/${db}`;
  const admin = new Redis(urlFor(0), { lazyConnect: true, maxRetriesPerRequest: 1 });
  for (let i = 0; i < 50; i++) {
    try {
      await admin.connect();
      break;
    } catch {
      await delay(100);
    }
  }
  return {
    pid: child.pid ?? 0,
    urlFor,
    flush: async () => {
      await admin.flushall();
    },
    stop: () => {
      admin.disconnect();
      child.kill('SIGTERM');
    },
  };
}
