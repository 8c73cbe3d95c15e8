import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // One throwaway redis-server for the whole run (test/global-setup.ts); never a developer's database.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Two cores here: keep forks bounded so e2e servers and redis are not starved.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
