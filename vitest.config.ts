import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway redis-server for the whole run (test/global-setup.ts); never a developer's database.
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/node20-polyfills.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores here: keep forks bounded so e2e servers and redis are not starved.
    pool: 'forks',
    maxWorkers: 2,
    // CI (.ci/run) reads the JSON report to print its closing 'N passed, N failed' line.
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.ci-results.json' }]] : ['default'],
  },
});
