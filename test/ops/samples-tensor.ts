/**
 * Gradcheck samples for reductions, cumulative, shape and indexing ops (issue 20); joined into the op-table samples by samples.ts.
 */
import type { GradSample, Sample } from "./sample-kit.js";

/** Samples for primitive ops, keyed by op name. */
export const tensorOpSamples: Record<string, Sample> = {};
/** Samples for composite ops, keyed by a name. */
export const tensorCompositeSamples: Record<string, GradSample> = {};
