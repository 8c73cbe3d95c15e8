/**
 * The module half of the cycle check (see `.dependency-cruiser.cjs`): no cycle between folders (`cards/`, each
 * `src/<dir>/`, and folders inside them), counting value imports only; type-only imports vanish at compile time.
 * @type {import('dependency-cruiser').IConfiguration}
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular-modules',
      severity: 'error',
      comment:
        'Modules that import each other (value imports): one of them holds code that belongs lower down.',
      scope: 'folder',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: false,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
