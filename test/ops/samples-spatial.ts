/**
 * Gradcheck samples for convolution, pooling and resampling ops (issues 16 and 20); joined into the op-table samples by samples.ts.
 */
import type { GradSample, Sample } from "./sample-kit.js";

/** Samples for primitive ops, keyed by op name. */
export const spatialOpSamples: Record<string, Sample> = {};
/** Samples for composite ops, keyed by a name. */
export const spatialCompositeSamples: Record<string, GradSample> = {};
