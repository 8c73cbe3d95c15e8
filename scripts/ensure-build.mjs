// `npm start` runs compiled JavaScript; build it on demand so `npm ci && npm start` works on a fresh clone.
// When dist/ is newer than every source the compile is skipped (a start costs milliseconds here, not tsc's
// seconds); otherwise tsc runs, incrementally (dist/.tsbuildinfo).
// In an image built with `npm ci --omit=dev` there is no TypeScript: use the dist/ the build stage produced.
import { spawnSync } from 'node:child_process';
import { existsSync, utimesSync } from 'node:fs';
import { createRequire } from 'node:module';
import { BUILD_INFO, isBuildCurrent } from './build-state.mjs';

if (isBuildCurrent()) process.exit(0);

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
// An incremental build that found nothing to emit leaves the build info as it was: mark it as checked now, so the
// next start skips the compile.
if (result.status === 0 && existsSync(BUILD_INFO)) {
  const now = new Date();
  utimesSync(BUILD_INFO, now, now);
}
process.exit(result.status ?? 1);
