import { defineConfig } from 'vitest/config';

/**
 * Two projects (docs/architecture.md, "Tests"):
 * - unit: test/unit/, no database, no build, no Inlet process. `npm run test:unit` runs it alone, so it
 *   pays none of the integration set-up. Its files share one module graph per worker (isolate: false):
 *   importing aws-cdk-lib, the AWS SDK and zod once instead of once per file halves its CPU time. A unit
 *   test therefore restores what it changes in the process (vi.unstubAllEnvs, mockRestore, real timers).
 * - integration: test/integration/, with the global set-up (an embedded PostgreSQL, a migrated template
 *   database, the CLI transpiled once). It runs after the unit group (groupOrder) in `npm test`.
 */
export default defineConfig({
  test: {
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          isolate: false,
          // Unit tests are CPU only: every core (the default leaves one free, for the database).
          maxWorkers: '100%',
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/harness/global-setup.ts'],
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
