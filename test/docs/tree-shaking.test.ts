/**
 * Tree-shaking: a user who imports only `tensor` (and calls backward) must not ship the layer
 * library, the optimizers, the NaN guard or the safetensors code. Bundled with esbuild exactly as
 * `npm run size` does (scripts/bundle-size.ts).
 */
import { beforeAll, describe, expect, it } from "vitest";
import { bundle, ENTRIES, TARGETS_KB, type BundleResult } from "../../scripts/bundle-size.js";

// Strings that only the layer library, optimizers, guard and I/O code contain. Each is checked to
// be in the whole-library bundle first, so the test cannot pass because a string was renamed.
const MARKERS = ["BatchNorm", "crossEntropy", "running_mean", "num_batches_tracked", "Adam", "detectAnomaly", "safetensors"];

describe("tree-shaking (esbuild, minified, browser)", () => {
  let whole: BundleResult;
  let minimal: BundleResult;
  beforeAll(async () => {
    [whole, minimal] = await Promise.all([bundle(ENTRIES.whole), bundle(ENTRIES.minimal)]);
  });

  it("the minimal import (tensor + backward) holds no module from layers, optim, guard, io or data", () => {
    const paths = minimal.modules.map((m) => m.path);
    expect(paths.some((p) => p.startsWith("src/autograd/engine"))).toBe(true);
    const unwanted = paths.filter((p) => /^src\/(layers|optim|guard|io|data)\//.test(p));
    expect(unwanted).toEqual([]);
  });

  it("the minimal bundle holds none of the layer library's strings (which the whole bundle holds)", () => {
    for (const s of MARKERS) {
      expect(whole.code, `"${s}" should be in the whole-library bundle`).toContain(s);
      expect(minimal.code, `"${s}" leaked into the minimal bundle`).not.toContain(s);
    }
  });

  it("the fast kernels are a lazy chunk: in neither first download, loaded on first use", () => {
    for (const b of [minimal, whole]) {
      const first = b.modules.map((m) => m.path);
      expect(first.filter((p) => /^src\/kernels\/(js|wasm)\//.test(p) || p === "src/kernels/fast.ts")).toEqual([]);
      const lazy = b.lazyModules.map((m) => m.path);
      expect(lazy).toContain("src/kernels/fast.ts");
      expect(lazy).toContain("src/kernels/wasm/backend.ts");
    }
  });

  it("both bundles meet the gzipped size targets", () => {
    expect(whole.gzipBytes).toBeLessThanOrEqual(TARGETS_KB.whole * 1024);
    expect(minimal.gzipBytes).toBeLessThanOrEqual(TARGETS_KB.minimal * 1024);
  });
});
