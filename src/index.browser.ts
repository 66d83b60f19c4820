/**
 * "safegrad" as browsers and bundlers load it (every export condition but "node"): the same API
 * as src/index.ts, fast by default with no call. The first op starts loading the fast kernels
 * (src/kernels/fast.ts) by a dynamic import, so a bundler puts them in a separate chunk and the
 * page's first download stays small; until the chunk arrives, ops run on the reference backend.
 * `await ready()` waits for it. A `setBackend` call made before it arrives wins.
 * NOTE: a side effect at import (the default chooser), declared in package.json's "sideEffects".
 * @module safegrad (browser)
 */
import { referenceBackend } from "./kernels/reference.js";
import { setBackendLoader, setBackendUnlessChosen, setDefaultBackendChooser } from "./kernels/registry.js";

export * from "./index.js";

let loading: Promise<void> | null = null;

/** Load the fast kernels once and make the best active, unless the user chose a backend meanwhile. */
function loadFast(): Promise<void> {
  return (loading ??= import("./kernels/fast.js").then(
    (fast) => void setBackendUnlessChosen(fast.bestFastBackendName()),
    // NOTE: a failed chunk load (offline, a blocked request) leaves the reference backend, which
    // computes the same results: being slower is better than failing. ready() still resolves; the
    // reason is said once on the console, since nothing else would show it.
    (e: unknown) => console.warn("safegrad: the fast kernels did not load; staying on the reference backend:", e),
  ));
}

setDefaultBackendChooser(() => {
  void loadFast();
  return referenceBackend;
});
setBackendLoader(loadFast);
