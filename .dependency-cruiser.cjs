/**
 * Import cycles fail `npm run lint`, at two levels:
 * - between files, counting every import (type-only ones too): a cycle makes both files one unit to read;
 * - between modules (`cards/`, each `src/<dir>/`), counting value imports only: `.dependency-cruiser-modules.cjs`.
 *   The layering it keeps: cards ← feishu ← data, present ← bot, digest ← jobs ← plugins ← app, never back.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Files that import each other, directly or through others: move what both need into a third.',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
