/**
 * `npm start` skips the compile when dist/ is newer than every source (scripts/build-state.mjs), and builds
 * otherwise: on a fresh clone, after any source, config or lock file changes, or with dist/ incomplete.
 */
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs script without types, run by npm before start.
import { isBuildCurrent } from '../scripts/build-state.mjs';

let root: string;

function file(path: string, at: number): void {
  const full = join(root, path);
  mkdirSync(join(full, '..'), { recursive: true });
  writeFileSync(full, '');
  const when = new Date(at);
  utimesSync(full, when, when);
}

const T = Date.parse('2026-12-01T00:00:00Z');

beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), 'fsb-build-state-'));
  for (const path of ['src/server.ts', 'src/bot/bot.ts', 'cards/card.ts', 'tsconfig.json', 'package.json'])
    file(path, T);
  file('dist/src/server.js', T + 1_000);
  file('dist/.tsbuildinfo', T + 1_000);
});

afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

describe('isBuildCurrent', () => {
  it('is true when the build info is newer than every source', () => {
    expect(isBuildCurrent(root)).toBe(true);
  });

  it.each(['src/bot/bot.ts', 'cards/card.ts', 'tsconfig.json', 'package.json', 'src/new-file.ts'])(
    'is false once %s is newer than the build',
    (path) => {
      file(path, T + 2_000);
      expect(isBuildCurrent(root)).toBe(false);
    },
  );

  it('is false on a fresh clone (no dist), and with the entry point missing', () => {
    rmSync(join(root, 'dist'), { recursive: true });
    expect(isBuildCurrent(root)).toBe(false);
    file('dist/.tsbuildinfo', T + 1_000);
    expect(isBuildCurrent(root)).toBe(false);
  });
});
