/**
 * Gradcheck samples for elementwise math, activations, predicates and bitwise ops (issue 20); joined into the op-table samples by samples.ts.
 */
import type { GradSample, Sample } from "./sample-kit.js";

/** Samples for primitive ops, keyed by op name. */
export const mathOpSamples: Record<string, Sample> = {};
/** Samples for composite ops, keyed by a name. */
export const mathCompositeSamples: Record<string, GradSample> = {};
