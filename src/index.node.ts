/**
 * "safegrad" as Node loads it (the "node" export condition): the same API as the browser entry,
 * with one difference: the first op runs on the fastest backend (see `chooseFastBackend`), with no
 * call needed, at once (not as a separate chunk, as src/index.browser.ts does for browsers and
 * bundles). NOTE: a side effect at import, declared in package.json's "sideEffects".
 * @module safegrad (Node)
 */
import { chooseFastBackend } from "./kernels/fast.js";
import { setDefaultBackendChooser } from "./kernels/registry.js";

export * from "./index.js";

setDefaultBackendChooser(chooseFastBackend);
