/**
 * The hardening tests against a live nimsim process (tests/live/): each sends a hostile request
 * and asserts that the server's health probe kept answering within a bound. They measure how
 * promptly another process answers, so they run after the rest of the suite, one file at a time,
 * with no other test competing for the two cores of a CI machine.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/live/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
