import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['core/test/**/*.test.ts', 'sdk/test/**/*.test.ts', 'firmware-build/test/**/*.test.ts', 'examples/**/test/**/*.test.ts', 'plugins/*/test/**/*.test.ts', 'bench/test/**/*.test.ts'],
    // Integration suites start real processes (qjs, the host); give them room on a
    // shared 2-core machine.
    testTimeout: 30_000,
    hookTimeout: 60_000,
    setupFiles: ['core/test/setup.ts'],
  },
});
