import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'examples/**/*.test.ts'],
    // tests/live/ times a server process's event loop; it runs alone (vitest.live.config.ts).
    exclude: ['tests/live/**', '**/node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Contract tests start real servers on ephemeral ports; two workers suit a 2-core machine.
    maxWorkers: 2,
  },
});
