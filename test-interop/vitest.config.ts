import { defineConfig } from "vitest/config";

/**
 * `npm run test:interop`: checks against real PyTorch (Debian's python3-torch, run as
 * /usr/bin/python3). Not part of `npm test`, which must not need torch. A missing torch fails
 * every test with a message saying how to install it; nothing is skipped.
 */
export default defineConfig({
  test: {
    include: ["test-interop/**/*.test.ts"],
    testTimeout: 600_000,
    hookTimeout: 300_000,
    // NOTE: the figures printed with console.log are part of the output (the parity note quotes them).
    silent: false,
  },
});
