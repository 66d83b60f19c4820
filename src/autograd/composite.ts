/**
 * Known safe composites as units for the static hazard audit (guard/audit.ts). A composite such as
 * `normalize` is written with ops whose intervals alone cannot see that it is safe (x / max(|x|, eps)
 * is at most 1 in size; max(-x, 0) + log(e^-m + e^(-x-m)) never overflows): it declares interval
 * rules for itself as a whole, and the audit takes them instead of looking inside. When no audit
 * runs, `composite` is one null check and a call.
 */
import type { Tensor } from "../tensor/tensor.js";
import type { IntervalRules } from "./node.js";

/**
 * @internal A composite's name and its interval rules over its tensor inputs (`vjp` is required:
 * the gradient of each input, in its shape).
 */
export interface CompositeDef<A = unknown> {
  readonly name: string;
  readonly interval: IntervalRules<readonly Tensor[], A> & Required<Pick<IntervalRules<readonly Tensor[], A>, "vjp">>;
}

/** @internal What the audit sees of a composite call. */
export interface CompositeObserver {
  enter(def: CompositeDef, inputs: readonly Tensor[], attrs: unknown): void;
  exit(out: Tensor | null): void;
}

let observer: CompositeObserver | null = null;

/** @internal Install (or remove with null) the composite observer; returns the previous one. */
export function setCompositeObserver(o: CompositeObserver | null): CompositeObserver | null {
  const prev = observer;
  observer = o;
  return prev;
}

/** @internal Run a known safe composite's body as one unit (for the audit). */
export function composite<A>(def: CompositeDef<A>, inputs: readonly Tensor[], attrs: A, body: () => Tensor): Tensor {
  const o = observer;
  if (!o) return body();
  o.enter(def as CompositeDef, inputs, attrs);
  let out: Tensor | null = null;
  try {
    out = body();
    return out;
  } finally {
    o.exit(out);
  }
}
