import { defineConfig } from "vitest/config";

// `npm run test:browser`: the ESM build in headless Chromium (Debian's package, /usr/bin/chromium).
export default defineConfig({
  test: {
    include: ["test-browser/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 300_000,
    // One test file at a time: CI has two cores, and each file keeps a Chromium busy.
    fileParallelism: false,
  },
});
