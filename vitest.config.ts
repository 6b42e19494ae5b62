import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // The JSON report lets .ci/run print one plain "N passed, N failed" line; the skip
    // reporter names, one line each, the tools whose absence skipped a suite.
    reporters: ['default', 'json', './test/skip-reporter.ts'],
    outputFile: { json: 'build/test-report.json' },
  },
});
