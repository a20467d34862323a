import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Kernel, notebook and chromium tests start processes: give them room on a loaded 2-core machine.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // Test files that start kernels and browsers compete for 2 cores: run files one at a time.
    fileParallelism: false,
  },
});
