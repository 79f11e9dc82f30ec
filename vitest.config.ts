import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // @roamhq/wrtc and the SIPp/baresip peers need real processes, not worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: true,
    maxWorkers: 2
  }
});
