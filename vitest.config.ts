import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Says once whether the PostgreSQL suite runs (NEWSLOOM_TEST_DATABASE_URL).
    globalSetup: ['tests/helpers/global-setup.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    // Tests start real servers on loopback and spawn the CLI; two cores are plenty for two workers.
    maxWorkers: 2,
  },
});
