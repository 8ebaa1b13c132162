import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["packages/*/test/**/*.test.ts", "apps/*/test/**/*.test.ts", "test/**/*.test.ts"],
    globalSetup: ["test/setup/redis.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Integration tests spawn real processes; two cores run two files at a time well.
    maxWorkers: 2,
    reporters: process.env.CI ? ["default"] : ["default"],
  },
});
