import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['server/src/**/*.test.ts', 'streams/src/**/*.test.ts', 'scripts/**/*.test.ts', 'tests/**/*.test.ts'],
    // Two cores: run files in two forks, tests inside a file in order.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // expect.poll waits for something a user would see (a banner, a tile going live). Its 1 s
    // default is a wall-clock bound that a loaded 2-core CI machine can miss; this is only the
    // give-up point, never an assertion of speed.
    expect: { poll: { timeout: 15_000, interval: 100 } },
    reporters: ['default', './tests/helpers/summary-reporter.ts'],
  },
});
