import { defineConfig } from 'vitest/config';

/** `npm run test:cluster`: the suite against the cluster `bash scripts/cluster.sh up` started (not part of `npm test`). */
export default defineConfig({
  test: {
    pool: 'forks',
    // One file at a time: cluster.test.ts kills the cluster's services, which the TLS tests share.
    fileParallelism: false,
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/support/global-setup.ts'],
    testTimeout: 300_000,
    hookTimeout: 180_000,
    // A JSON report too, from which .ci/run prints a plain "N passed, N failed" line.
    reporters: ['default', ['json', { outputFile: '.data/cluster-test-results.json' }]],
  },
});
