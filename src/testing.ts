/**
 * The conformance kit ("safegrad/testing"), for authors of backends: `checkBackend(backend)` runs
 * every Backend method the backend overrides against the reference backend, on seeded random
 * shapes, layouts, broadcasts and adversarial values, within per-dtype tolerances, then the
 * op-table gradchecks with the backend active, and returns a report (`formatReport` prints it).
 * It has no dependency (no test runner): call it from any test framework or script. safegrad's own
 * kernel tests run the same kit on its fast backends.
 *
 * ```ts
 * import { referenceBackend } from "safegrad";
 * import { checkBackend, formatReport } from "safegrad/testing";
 *
 * const mine = { ...referenceBackend, name: "mine", unary: myUnary };
 * const report = checkBackend(mine, { runs: 10 });
 * console.log(formatReport(report));
 * if (!report.ok) process.exitCode = 1;
 * ```
 * @module safegrad/testing
 */
export { checkBackend, withBackend } from "./testing/check.js";
export type { BackendReport, CaseFailure, CheckOptions, FailedInput, MethodSummary } from "./testing/check.js";
export { formatFailure, formatReport } from "./testing/report.js";
export { DEFAULT_TOLERANCES, compareArrays, ulpDistance } from "./testing/compare.js";
export type { CompareOptions, DTypeTolerance, KitTolerances, Mismatch } from "./testing/compare.js";
export { buildCases, KIT_BINARY_OPS, KIT_METHODS, KIT_UNARY_OPS, unaryPairs } from "./testing/cases.js";
export type { CaseOptions, KitCase, KitInput, KitMethod } from "./testing/cases.js";
export { denseView, elementAt, fillValues, KitRandom, LAYOUTS, randomShape, randomView, specialValues } from "./testing/generate.js";
export type { Layout, ValueKind } from "./testing/generate.js";
export { kitGradcheckCases, runGradchecks, uncoveredOps } from "./testing/gradchecks.js";
export type { GradcheckCase, GradcheckResult, GradcheckRunOptions, GradcheckSample } from "./testing/gradchecks.js";
