/**
 * The bot as a separate process, for tests that must kill it (`kill -9` mid-burst), run several side by side
 * on one Redis, or restart it: `process.execPath --import tsx <entry>` with a clean environment, its pino JSON
 * lines parsed and kept.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { FeishuEmulator } from '../emulator/feishu-emulator.js';
import { DEFAULT_VERIFICATION_TOKEN } from '../emulator/fixtures.js';
import { TEST_ENCRYPT_KEY } from '../helper.js';

export type LogLine = Record<string, unknown>;

export interface ChildExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** IPC messages `test/support/replica-main.ts` understands. */
export type ReplicaMessage = { type: 'clock'; offsetMs: number };

export interface ChildServerOptions {
  /** Added to (and overriding) the clean base env: PATH, HOME, NODE_ENV=test, LOG_LEVEL=info, HOST, PORT=0. */
  env: Record<string, string>;
  /** `server` = `src/server.ts` as operators run it; `replica` = `test/support/replica-main.ts`. */
  entry?: 'server' | 'replica';
  /** Shown in errors; default `<entry>-<n>`. */
  name?: string;
  startTimeoutMs?: number;
}

export interface ChildServer {
  /** `http://127.0.0.1:<port>` from Fastify's "Server listening at …" line. */
  readonly url: string;
  readonly pid: number;
  readonly name: string;
  /** Every stdout line in order: pino records, or `{ raw: line }` for a line that is not JSON. */
  readonly logs: LogLine[];
  readonly stderr: string;
  readonly running: boolean;
  /** Settles once the process has exited and its output is fully read. Never rejects. */
  readonly exited: Promise<ChildExit>;
  /** The first line (already logged or still to come) matching `predicate`; rejects on timeout or exit. */
  waitForLog(predicate: (line: LogLine) => boolean, timeoutMs?: number): Promise<LogLine>;
  /** Sends `signal` (default SIGKILL) and resolves on exit; an already exited child just reports its exit. */
  kill(signal?: NodeJS.Signals): Promise<ChildExit>;
  /** SIGTERM and wait for a graceful exit; after `timeoutMs` it is SIGKILLed and this rejects. */
  stop(timeoutMs?: number): Promise<ChildExit>;
  /** IPC to a `replica` entry; resolves once the message is handed to the channel. */
  send(message: ReplicaMessage): Promise<void>;
}

const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const ENTRIES = { server: 'src/server.ts', replica: 'test/support/replica-main.ts' } as const;
const LISTENING = /^Server listening at (https?:\/\/\S+)$/;
const DEFAULT_START_TIMEOUT_MS = 20_000;
const DEFAULT_WAIT_TIMEOUT_MS = 10_000;
const DEFAULT_STOP_TIMEOUT_MS = 10_000;

/**
 * Preloaded into every child: exit when the test process that started it is gone. `afterAll` and the 'exit'
 * hook below cover failures and normal ends; this covers a worker killed outright (SIGKILL, OOM), which runs no
 * JavaScript at all. `process.ppid` is read once at start in Node 20, so poll the parent with signal 0 instead.
 */
const ORPHAN_WATCHDOG = `const parent = process.ppid;
setInterval(() => { try { process.kill(parent, 0); } catch { process.exit(70); } }, 500).unref();`;
const WATCHDOG_IMPORT = `data:text/javascript,${encodeURIComponent(ORPHAN_WATCHDOG)}`;

const live = new Set<ChildServerProcess>();
let started = 0;

process.on('exit', () => {
  // Synchronous only: kill(2) is, awaiting the exit is not possible here.
  for (const server of live) server.child.kill('SIGKILL');
});

/** SIGKILLs every child this process started that is still running, and waits for them to exit. */
export async function killAllChildServers(): Promise<void> {
  await Promise.all([...live].map((child) => child.kill('SIGKILL')));
}

/** Credentials and emulator address the child needs; `extra` (e.g. `REDIS_URL`) is merged on top. */
export function childEnvFor(
  emulator: Pick<FeishuEmulator, 'url' | 'appId' | 'appSecret'>,
  extra: Record<string, string> = {},
): Record<string, string> {
  return {
    FEISHU_APP_ID: emulator.appId,
    FEISHU_APP_SECRET: emulator.appSecret,
    FEISHU_DOMAIN: emulator.url,
    FEISHU_ENCRYPT_KEY: TEST_ENCRYPT_KEY,
    FEISHU_VERIFICATION_TOKEN: DEFAULT_VERIFICATION_TOKEN,
    ...extra,
  };
}

/** Spawns the entry and resolves once it listens; rejects with its output if it exits or times out first. */
export async function startChildServer(opts: ChildServerOptions): Promise<ChildServer> {
  const entry = opts.entry ?? 'server';
  started += 1;
  const name = opts.name ?? `${entry}-${started}`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--import', WATCHDOG_IMPORT, ENTRIES[entry]], {
    cwd: REPO_ROOT,
    // Only what is asked for: no FEISHU_* or REDIS_URL leaking in from the developer's shell.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      LOG_LEVEL: 'info',
      HOST: '127.0.0.1',
      PORT: '0',
      ...opts.env,
    },
    stdio: entry === 'replica' ? ['ignore', 'pipe', 'pipe', 'ipc'] : ['ignore', 'pipe', 'pipe'],
  });
  const server = new ChildServerProcess(child, name);
  const timeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  try {
    const line = await server.waitForLog(
      (l) => typeof l.msg === 'string' && LISTENING.test(l.msg),
      timeoutMs,
      'start listening',
    );
    server.url = LISTENING.exec(String(line.msg))?.[1] ?? '';
  } catch (err) {
    await server.kill('SIGKILL');
    throw err;
  }
  return server;
}

class ChildServerProcess implements ChildServer {
  url = '';
  readonly pid: number;
  readonly logs: LogLine[] = [];
  readonly exited: Promise<ChildExit>;
  private stderrText = '';
  private exit: ChildExit | undefined;
  private readonly lineListeners = new Set<(line: LogLine) => void>();
  private readonly exitListeners = new Set<(exit: ChildExit) => void>();

  constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    this.pid = child.pid ?? -1;
    live.add(this);
    if (child.stdout) createInterface({ input: child.stdout }).on('line', (text) => this.onLine(text));
    child.stderr?.on('data', (chunk: Buffer) => {
      this.stderrText += chunk.toString();
    });
    this.exited = new Promise<ChildExit>((resolve) => {
      const settle = (exit: ChildExit): void => {
        if (this.exit) return;
        this.exit = exit;
        live.delete(this);
        for (const listener of this.exitListeners) listener(exit);
        resolve(exit);
      };
      // 'close' rather than 'exit': it comes after stdout and stderr are drained, so `logs` is complete.
      child.once('close', (code, signal) => settle({ code, signal }));
      child.once('error', (err) => {
        this.stderrText += `\n[spawn error] ${err.message}`;
        // A process that never started emits no 'close'.
        if (child.pid === undefined) settle({ code: null, signal: null });
      });
    });
  }

  get stderr(): string {
    return this.stderrText;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  waitForLog(
    predicate: (line: LogLine) => boolean,
    timeoutMs = DEFAULT_WAIT_TIMEOUT_MS,
    what = 'log the expected line',
  ): Promise<LogLine> {
    const found = this.logs.find(predicate);
    if (found) return Promise.resolve(found);
    return new Promise<LogLine>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        this.lineListeners.delete(onLine);
        this.exitListeners.delete(onExit);
      };
      const onLine = (line: LogLine): void => {
        if (!predicate(line)) return;
        done();
        resolve(line);
      };
      const onExit = (exit: ChildExit): void => {
        done();
        reject(this.failure(`exited (code ${exit.code}, signal ${exit.signal}) before it could ${what}`));
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`did not ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.lineListeners.add(onLine);
      this.exitListeners.add(onExit);
      if (this.exit) onExit(this.exit);
    });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<ChildExit> {
    if (this.exit) return this.exit;
    this.child.kill(signal);
    return this.exited;
  }

  async stop(timeoutMs = DEFAULT_STOP_TIMEOUT_MS): Promise<ChildExit> {
    if (this.exit) return this.exit;
    this.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), timeoutMs);
    });
    const outcome = await Promise.race([this.exited, timedOut]);
    clearTimeout(timer);
    if (outcome !== 'timeout') return outcome;
    await this.kill('SIGKILL');
    throw this.failure(`did not shut down within ${timeoutMs} ms of SIGTERM, so it was SIGKILLed`);
  }

  send(message: ReplicaMessage): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.child.connected) {
        reject(new Error(`${this.name} has no IPC channel (only the 'replica' entry has one) or has exited`));
        return;
      }
      this.child.send(message, (err) => (err ? reject(err) : resolve()));
    });
  }

  private onLine(text: string): void {
    let line: LogLine;
    try {
      const parsed: unknown = JSON.parse(text);
      line = parsed && typeof parsed === 'object' ? (parsed as LogLine) : { raw: text };
    } catch {
      line = { raw: text };
    }
    this.logs.push(line);
    for (const listener of [...this.lineListeners]) listener(line);
  }

  /** An error carrying what the child said, since that is usually the only clue to why it failed. */
  private failure(problem: string): Error {
    const stdout = this.logs
      .slice(-30)
      .map((line) => (typeof line.raw === 'string' ? line.raw : JSON.stringify(line)))
      .join('\n');
    const stderr = this.stderrText.trim().split('\n').slice(-30).join('\n');
    return new Error(
      `${this.name} (pid ${this.pid}) ${problem}.\n--- stdout (last 30 lines) ---\n${stdout}\n` +
        `--- stderr (last 30 lines) ---\n${stderr}`,
    );
  }
}
