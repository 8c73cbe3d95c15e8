// Whether dist/ is up to date: its build info is newer than every file the build reads. A walk of a few hundred
// files is a few milliseconds; running tsc to find nothing changed costs seconds.
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

/** What `tsc -p tsconfig.build.json` reads (tsconfig.build.json includes src and cards). */
const SOURCE_DIRS = ['src', 'cards'];
const SOURCE_FILES = ['tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];
export const BUILD_INFO = 'dist/.tsbuildinfo';
export const ENTRY = 'dist/src/server.js';

function mtimeMs(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

function newestIn(dir) {
  let newest = 0;
  let entries;
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return 0;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestIn(path));
    else newest = Math.max(newest, mtimeMs(path) ?? 0);
  }
  return newest;
}

/** True when `root`'s dist/ was built after the last change to any source, config or lock file. */
export function isBuildCurrent(root = '.') {
  const built = mtimeMs(join(root, BUILD_INFO));
  if (built === undefined || mtimeMs(join(root, ENTRY)) === undefined) return false;
  let newest = 0;
  for (const dir of SOURCE_DIRS) newest = Math.max(newest, newestIn(join(root, dir)));
  for (const file of SOURCE_FILES) newest = Math.max(newest, mtimeMs(join(root, file)) ?? 0);
  return built > newest;
}
