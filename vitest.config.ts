import { defineConfig } from 'vitest/config';

// Tests that measure the audio a conference keeps under a flood run alone, after the rest: with
// another file's Chromium, npm install or SIPp peers on the second core, the host and not the
// engine decides whether a 100 ms gap is heard.
const alone = ['test/interop/sipp-flood.test.ts'];

export default defineConfig({
  test: {
    // @roamhq/wrtc and the SIPp/baresip peers need real processes, not worker threads.
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 30_000,
    fileParallelism: true,
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: { name: 'suite', include: ['test/**/*.test.ts'], exclude: alone, sequence: { groupOrder: 0 } }
      },
      {
        extends: true,
        test: { name: 'alone', include: alone, sequence: { groupOrder: 1 } }
      }
    ]
  }
});
