import { defineConfig } from "vitest/config";

/** `npm run test:chaos`: fault injection and load with real processes, one scenario at a time. */
export default defineConfig({
  test: {
    include: ["test/chaos/**/*.chaos.ts"],
    globalSetup: ["test/setup/redis.ts", "test/chaos/summary.ts"],
    testTimeout: 300_000,
    hookTimeout: 60_000,
    fileParallelism: false,
    maxWorkers: 1,
  },
});
