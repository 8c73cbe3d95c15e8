// `npm start` runs compiled JavaScript; build it on demand so `npm ci && npm start` works on a fresh clone.
// tsc is incremental (dist/.tsbuildinfo), so a start with nothing changed costs a couple of seconds at most.
// In an image built with `npm ci --omit=dev` there is no TypeScript: use the dist/ the build stage produced.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
let tsc;
try {
  tsc = require.resolve('typescript/bin/tsc');
} catch {
  tsc = undefined;
}

if (!tsc) {
  if (existsSync('dist/src/server.js')) process.exit(0);
  console.error(
    'dist/ is missing and TypeScript is not installed: run `npm ci` (with dev dependencies) first.',
  );
  process.exit(1);
}

const result = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], { stdio: 'inherit' });
process.exit(result.status ?? 1);
