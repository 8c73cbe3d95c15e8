/**
 * The entry point as an operator runs it: a child process reading only its environment.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startFeishuEmulator } from './emulator/feishu-emulator.js';

const ENTRY = ['--import', 'tsx', 'src/server.ts'];

function run(env: Record<string, string>): ChildProcess {
  // Only what the server needs: no inherited FEISHU_* or REDIS_URL from the developer's shell.
  return spawn(process.execPath, ENTRY, {
    cwd: process.cwd(),
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
}

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

function collect(child: ChildProcess): { out: () => string } {
  let text = '';
  child.stdout?.on('data', (chunk) => {
    text += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    text += String(chunk);
  });
  return { out: () => text };
}

describe('server entry point', () => {
  it('exits non-zero and names each missing credential when started without them', async () => {
    const child = run({});
    const output = collect(child);
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(1);
    expect(output.out()).toContain('FEISHU_APP_ID is required');
    expect(output.out()).toContain('FEISHU_APP_SECRET is required');
  });

  it('listens on PORT with the in-memory store, warns once about it, and shuts down cleanly on SIGTERM', async () => {
    const port = await freePort();
    const child = run({
      FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718',
      FEISHU_APP_SECRET: 'not-a-real-secret-for-start-test',
      FEISHU_VERIFICATION_TOKEN: 'start-test-token',
      FEISHU_DOMAIN: 'http://127.0.0.1:9', // never called by this test
      PORT: String(port),
      HOST: '127.0.0.1',
    });
    const output = collect(child);
    try {
      // A deadline, not a count of tries: a loaded machine starts the process slowly, never wrongly.
      let health: Response | undefined;
      const deadline = Date.now() + 45_000;
      while (!health && Date.now() < deadline) {
        health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (!health) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(health?.status).toBe(200);
      const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready', store: 'memory' });
      const memoryWarnings = output
        .out()
        .split('\n')
        .filter((line) => /in-memory|in memory/i.test(line));
      expect(memoryWarnings).toHaveLength(1);
      expect(output.out()).not.toContain('not-a-real-secret-for-start-test');
    } finally {
      child.kill('SIGTERM');
    }
    const [code] = (await once(child, 'exit')) as [number];
    expect(code).toBe(0);
  });

  it('in websocket mode, exits non-zero naming FEISHU_APP_SECRET when Feishu refuses the secret', async () => {
    const emulator = await startFeishuEmulator();
    const secret = 'wrong-secret-for-the-start-test';
    try {
      const child = run({
        FEISHU_APP_ID: emulator.appId,
        FEISHU_APP_SECRET: secret,
        FEISHU_EVENT_MODE: 'websocket',
        FEISHU_DOMAIN: emulator.url,
        // Every line the SDK and the bot can write, none of which may carry the secret.
        LOG_LEVEL: 'trace',
        PORT: String(await freePort()),
        HOST: '127.0.0.1',
      });
      const output = collect(child);
      const [code] = (await once(child, 'exit')) as [number];
      expect(code).toBe(1);
      expect(output.out()).toContain('FEISHU_APP_SECRET is wrong');
      expect(output.out()).toContain('Credentials & Basic Info');
      expect(output.out()).not.toContain(secret);
      expect(emulator.ws.endpointCalls).toBe(1);
    } finally {
      await emulator.close();
    }
  });
});
