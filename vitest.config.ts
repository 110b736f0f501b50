import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts', 'examples/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Contract tests start real servers on ephemeral ports; two workers suit a 2-core machine.
    maxWorkers: 2,
  },
});
