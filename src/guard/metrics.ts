/**
 * Metrics for `Trainer.fit` and `Trainer.evaluate`: a metric turns one batch's output and target
 * into a sum and a count; the value over an epoch (or a whole loader) is the sum of the sums over
 * the sum of the counts, so it does not depend on how the data was cut into batches.
 */
import { ShapeError, ValueError } from "../errors.js";
import { noGrad } from "../autograd/grad-mode.js";
import { contiguousData } from "../tensor/layout.js";
import { sameShape, shapeStr } from "../tensor/shape.js";
import type { Tensor } from "../tensor/tensor.js";

/**
 * A metric as an object: `batch(output, target)` returns `[sum, count]`, the metric summed over
 * the batch's samples and how many samples that is; over an epoch the value is `Σsum / Σcount`.
 * It runs without gradient tracking. {@link accuracy} is one.
 * @example
 * // Mean absolute error, exact over the epoch whatever the batch sizes.
 * const mae: Metric = { batch: (out, t) => [out.sub(t).abs().sum().item(), t.numel] };
 * const m = new Linear(4, 1);
 * const trainer = new Trainer({ model: m, loss: mseLoss, optimizer: new SGD(m.parameters(), { lr: 0.1 }) });
 * trainer.evaluate([[randn([8, 4]), randn([8, 1])]], { metrics: { mae } }).mae; // a number
 */
export interface Metric {
  /** One batch's contribution: the metric summed over its samples, and their count. */
  batch(output: Tensor, target: Tensor): readonly [sum: number, count: number];
}

/**
 * A metric as a function: the batch's mean value; over an epoch the means are averaged weighted
 * by batch size (the first dim of the output).
 * @example
 * const mse: MetricFn = (out, t) => out.sub(t).square().mean().item();
 */
export type MetricFn = (output: Tensor, target: Tensor) => number;

/**
 * The metrics of a fit or an evaluation, by the name they are logged under (`{ accuracy }` logs
 * `accuracy`, and `val_accuracy` for the validation data).
 * @example
 * const metrics: Metrics = { accuracy, mse: (out, t) => out.sub(t).square().mean().item() };
 */
export type Metrics = Readonly<Record<string, Metric | MetricFn>>;

/**
 * Classification accuracy: the fraction of samples whose predicted class is the target.
 * The output holds one score (logit or probability) per class in dim 1 (`[N, C]`, or `[N, C, ...]`
 * per position); the prediction is the argmax. The target holds class indices (`[N]`, or
 * `[N, ...]`; int32 or float), or has the output's shape (one-hot or probabilities: its argmax is
 * the class). Targets below 0 (`crossEntropy`'s `ignoreIndex` -100) are left out. An output with
 * one score per sample (`[N]` or `[N, 1]`) is a binary logit: positive predicts class 1 (targets
 * 0/1).
 * @example
 * const out = tensor([[2, 1, 0], [0, 1, 2], [0, 3, 1]]);
 * accuracy.batch(out, tensor([0, 2, 0], { dtype: "int32" })); // [2, 3]: two of three right
 */
export const accuracy: Metric = {
  batch(output: Tensor, target: Tensor): [number, number] {
    const op = "accuracy";
    const out = contiguousData(output);
    const t = contiguousData(target);
    const n = output.shape[0] ?? 1;
    if (output.ndim >= 2 && output.shape[1]! > 1) {
      const c = output.shape[1]!;
      const inner = output.numel / Math.max(n * c, 1);
      const oneHot = sameShape(target.shape, output.shape);
      const want = [output.shape[0]!, ...output.shape.slice(2)];
      if (!oneHot && !sameShape(target.shape, want)) {
        throw new ShapeError(op, `output ${shapeStr(output.shape)} (classes in dim 1) needs a target of class indices ${shapeStr(want)} or one of shape ${shapeStr(output.shape)}, got ${shapeStr(target.shape)}`);
      }
      let correct = 0;
      let count = 0;
      for (let b = 0; b < n; b++) {
        for (let i = 0; i < inner; i++) {
          const base = b * c * inner + i;
          const pred = argmaxStrided(out, base, c, inner);
          const cls = oneHot ? argmaxStrided(t, base, c, inner) : t[b * inner + i]!;
          if (cls < 0) continue;
          count++;
          if (pred === cls) correct++;
        }
      }
      return [correct, count];
    }
    if (output.numel !== target.numel || output.numel !== n) {
      throw new ShapeError(op, `a binary output (one logit per sample) ${shapeStr(output.shape)} needs one 0/1 target per sample, got ${shapeStr(target.shape)}`);
    }
    let correct = 0;
    for (let i = 0; i < n; i++) if (out[i]! > 0 === t[i]! > 0.5) correct++;
    return [correct, n];
  },
};

function argmaxStrided(a: ArrayLike<number>, base: number, c: number, stride: number): number {
  let best = 0;
  let bestV = a[base]!;
  for (let k = 1; k < c; k++) {
    const v = a[base + k * stride]!;
    // A NaN score never wins (a row of NaNs predicts class 0).
    if (v > bestV || (Number.isNaN(bestV) && !Number.isNaN(v))) {
      best = k;
      bestV = v;
    }
  }
  return best;
}

/** @internal Sums and counts of the given metrics over the batches of one pass. */
export class MetricAccumulator {
  readonly #entries: [string, Metric | MetricFn][];
  readonly #sums: number[];
  readonly #counts: number[];

  constructor(metrics: Metrics | undefined) {
    this.#entries = Object.entries(metrics ?? {});
    for (const [name, m] of this.#entries) {
      if (name === "loss" || name.startsWith("val_")) throw new ValueError("metrics", `"${name}" is a reserved name (the loss, and the validation values, are logged under it)`);
      if (typeof m !== "function" && (typeof m !== "object" || m === null || typeof m.batch !== "function")) {
        throw new ValueError("metrics", `metric "${name}" must be a function (output, target) => number or an object with batch(output, target) => [sum, count]`);
      }
    }
    this.#sums = this.#entries.map(() => 0);
    this.#counts = this.#entries.map(() => 0);
  }

  /** The metric names, in the order given. */
  get names(): string[] {
    return this.#entries.map(([n]) => n);
  }

  update(output: Tensor, target: Tensor): void {
    if (this.#entries.length === 0) return;
    noGrad(() => {
      this.#entries.forEach(([name, m], i) => {
        let sum: number;
        let count: number;
        if (typeof m === "function") {
          count = output.shape[0] ?? 1;
          sum = m(output, target) * count;
        } else {
          [sum, count] = m.batch(output, target);
        }
        if (typeof sum !== "number" || typeof count !== "number") throw new ValueError("metrics", `metric "${name}" must give numbers, got ${typeof sum} and ${typeof count}`);
        this.#sums[i]! += sum;
        this.#counts[i]! += count;
      });
    });
  }

  /** Each metric's value so far (NaN for one that counted nothing). */
  values(prefix = ""): Record<string, number> {
    const out: Record<string, number> = {};
    this.#entries.forEach(([name], i) => (out[prefix + name] = this.#counts[i]! > 0 ? this.#sums[i]! / this.#counts[i]! : NaN));
    return out;
  }
}
