import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Component tests start real HTTP servers; a slow machine must not turn
    // into a flaky suite, so the budget is generous. No test asserts a time.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
