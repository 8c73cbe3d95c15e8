/**
 * Every variable the config reads is documented where an operator looks: README's configuration table and
 * `.env.example`. The names come from `loadConfig` itself (an env object that records what is read), so a new
 * variable without documentation fails here.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';

function variablesRead(): string[] {
  const read = new Set<string>();
  const env = new Proxy<Record<string, string | undefined>>(
    { FEISHU_APP_ID: 'cli_a1b2c3d4e5f60718', FEISHU_APP_SECRET: 'Sx9kq2LmN3pQ4rS5tU6vW7xY8zA9bC0d' },
    {
      get(target, name) {
        if (typeof name === 'string') read.add(name);
        return typeof name === 'string' ? target[name] : undefined;
      },
    },
  );
  loadConfig(env);
  return [...read].sort();
}

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const envExample = readFileSync(new URL('../.env.example', import.meta.url), 'utf8');
/** The README rows of the configuration table: `| \`NAME\` | …`. */
const readmeRows = new Set(
  readme
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.slice(3, line.indexOf('`', 3))),
);
/** Names set or shown commented out in .env.example: `NAME=` or `# NAME=` at a line's start. */
const exampleNames = new Set(
  envExample
    .split('\n')
    .map((line) => line.replace(/^# ?/, ''))
    .filter((line) => line.includes('='))
    .map((line) => line.slice(0, line.indexOf('='))),
);

describe('configuration documentation', () => {
  const names = variablesRead();

  it('reads the variables of the public contract', () => {
    expect(names).toEqual(
      expect.arrayContaining([
        'FEISHU_APP_ID',
        'FEISHU_APP_SECRET',
        'FEISHU_ENCRYPT_KEY',
        'FEISHU_VERIFICATION_TOKEN',
        'FEISHU_DOMAIN',
        'FEISHU_EVENT_MODE',
        'REDIS_URL',
        'PORT',
        'HOST',
        'LOG_LEVEL',
        'BOT_ADMINS',
        'DIGEST_TIME',
        'DIGEST_TZ',
        'FEISHU_MONTHLY_CALL_BUDGET',
      ]),
    );
  });

  it.each(names)('documents %s in the README configuration table and in .env.example', (name) => {
    expect(readmeRows).toContain(name);
    expect(exampleNames).toContain(name);
  });
});
