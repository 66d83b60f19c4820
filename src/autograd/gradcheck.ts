import { AutogradError } from "../errors.js";
import { Tensor } from "../tensor/tensor.js";
import { contiguousData } from "../tensor/layout.js";
import { grad } from "./engine.js";
import { noGrad } from "./grad-mode.js";
import { shapeStr } from "../tensor/shape.js";

/** Options of `gradcheck`. An element passes when |analytic - numeric| <= atol + rtol * |numeric|. */
export interface GradcheckOptions {
  /** Step of the central difference (default 1e-6). */
  eps?: number;
  /** Absolute tolerance (default 1e-5). */
  atol?: number;
  /** Relative tolerance (default 1e-3). */
  rtol?: number;
  /** Name used in the failure report (default: the function's name). */
  name?: string;
  /** Throw a GradcheckError on failure (default true); otherwise return the result. */
  raise?: boolean;
}

/** The worst mismatch `gradcheck` found (in `GradcheckError.failure`). */
export interface GradcheckFailure {
  /** The checked function's name (`options.name`, or the function's own). */
  name: string;
  /** Index of the input (in the `inputs` list) whose gradient is wrong. */
  input: number;
  /** That input's shape. */
  inputShape: number[];
  /** Flat (row-major) index of the input element. */
  element: number;
  /** Flat index of the output element whose Jacobian row was checked. */
  output: number;
  /** The gradient the VJPs gave. */
  analytic: number;
  /** The central-difference estimate. */
  numeric: number;
  /** |analytic - numeric|. */
  difference: number;
}

/**
 * Thrown by `gradcheck` when an analytic gradient disagrees with the numeric one; the message
 * names the function, input, element and both values.
 * @example
 * const v = tensor([1, 2], { dtype: "float64", requiresGrad: true });
 * const wrongVjp = (t: Tensor) => t.detach().square().add(t.mul(0)); // hides the square from autograd
 * try {
 *   gradcheck(wrongVjp, [v]);
 * } catch (e) {
 *   if (e instanceof GradcheckError) e.failure.input; // 0
 * }
 */
export class GradcheckError extends AutogradError {
  override readonly code: string = "GRADCHECK";
  /** The worst mismatch. */
  declare readonly failure: GradcheckFailure;
  constructor(f: GradcheckFailure) {
    super(
      "gradcheck",
      `${f.name}: gradient of output element ${f.output} w.r.t. input ${f.input} (shape ${shapeStr(f.inputShape)}) element ${f.element}: analytic ${f.analytic}, numeric ${f.numeric} (difference ${f.difference})`,
    );
    this.failure = f;
  }
}

/**
 * Compare the analytic VJP of `fn` with float64 central differences, for every input that
 * requires grad. Inputs must be float64. Returns true, or throws a {@link GradcheckError} naming
 * the function, the input, the worst element and both values.
 * @example
 * const x = randn([3], { dtype: "float64", requiresGrad: true });
 * gradcheck((t) => t.tanh(), [x]); // true
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], options: GradcheckOptions = {}): boolean {
  const eps = options.eps ?? 1e-6;
  const atol = options.atol ?? 1e-5;
  const rtol = options.rtol ?? 1e-3;
  const name = options.name ?? (fn.name || "fn");
  for (const t of inputs) {
    if (t.requiresGrad && t.dtype !== "float64") throw new AutogradError("gradcheck", `${name}: inputs must be float64, got ${t.dtype}`);
  }
  const diffInputs = inputs.map((t, i) => [t, i] as const).filter(([t]) => t.requiresGrad);
  // Work on private contiguous copies so perturbing one element touches exactly one element.
  const own = inputs.map((t) => (t.requiresGrad ? new Tensor(t.toTypedArray(), t.shape).requiresGrad_(true) : t));
  const out0 = fn(...own);
  const nOut = out0.numel;
  const outAt = (k: number): number => noGrad(() => contiguousData(fn(...own))[k]!);

  let worst: GradcheckFailure | null = null;
  for (let k = 0; k < nOut; k++) {
    // Analytic: row k of the Jacobian, from a one-hot upstream gradient.
    const go = new Float64Array(nOut);
    go[k] = 1;
    const gOut = new Tensor(go, out0.shape);
    const needed = diffInputs.map(([, i]) => own[i]!);
    const o = fn(...own);
    // An output that does not depend on the inputs (e.g. the gradient of a linear op) has a zero Jacobian.
    const rows = o.requiresGrad ? grad([o], needed, { gradOutputs: [gOut], allowUnused: true }) : needed.map(() => null);
    diffInputs.forEach(([, i], j) => {
      const x = own[i]!;
      const analytic = rows[j] ? contiguousData(rows[j]!) : new Float64Array(x.numel);
      for (let e = 0; e < x.numel; e++) {
        const orig = x.storage[e]!;
        x.storage[e] = orig + eps;
        const plus = outAt(k);
        x.storage[e] = orig - eps;
        const minus = outAt(k);
        x.storage[e] = orig;
        const numeric = (plus - minus) / (2 * eps);
        const a = analytic[e]!;
        const diff = Math.abs(a - numeric);
        const bad = !(diff <= atol + rtol * Math.abs(numeric)); // also when either is NaN
        if (bad && (!worst || diff > worst.difference || Number.isNaN(diff))) {
          worst = { name, input: i, inputShape: [...x.shape], element: e, output: k, analytic: a, numeric, difference: diff };
        }
      }
    });
  }
  if (worst) {
    if (options.raise === false) return false;
    throw new GradcheckError(worst);
  }
  return true;
}
