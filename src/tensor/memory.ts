/**
 * TF.js's memory API: `tidy`, `keep` and `dispose` over containers of tensors (Tensor.dispose is
 * the one primitive; tensor/pool.ts says when a disposed tensor's memory is reused).
 */
import { Tensor, tidyScope } from "./tensor.js";

/** Tensors in `x` (arrays and objects, nested; not inside typed arrays) into `out`, with the objects seen. */
function collect(x: unknown, out: Set<unknown>): Set<unknown> {
  if (x instanceof Tensor) out.add(x);
  else if (x && typeof x === "object" && !out.has(x) && !ArrayBuffer.isView(x)) {
    out.add(x);
    for (const v of Object.values(x)) collect(v, out);
  }
  return out;
}

/**
 * Run `fn` and dispose every tensor created while it runs, except the ones it returns (also
 * inside a returned array or object, nested), the ones passed to {@link keep}, leaves that
 * require grad (parameters, as TF.js's variables), module parameters and buffers, and gradients
 * (`.grad`): TF.js's `tf.tidy`. Only op results and tensors built directly are tracked: not what an
 * op makes inside itself, nor anything made during a backward pass (gradients, `grad()`'s results).
 * Tidies nest; a returned tensor belongs to the enclosing tidy. `fn` must be synchronous (an
 * async fn's tensors made after its first `await` are not tracked, and the ones made before are
 * disposed when it returns its promise: using them then throws). Tensors
 * an autograd graph saved for backward are disposed as handles, but the graph keeps their memory,
 * so `tidy(() => model.forward(x).mean()).backward()` works. See `Tensor.dispose` for when memory
 * is reused.
 * @example
 * const y = tidy(() => x.mul(2).add(1).relu()); // the two intermediates are disposed
 * y.isDisposed; // false
 */
export function tidy<T>(fn: () => T): T {
  const prev = tidyScope.current;
  const mine: Tensor[] = (tidyScope.current = []);
  let result: T | undefined;
  try {
    result = fn();
  } finally {
    tidyScope.current = prev;
    const out = collect(result, new Set());
    for (const t of mine) {
      if (out.has(t)) prev?.push(t);
      else if (!t.keepFromTidy()) t.dispose();
    }
  }
  return result;
}

/**
 * Keep `t` from being disposed by any {@link tidy} (an explicit `t.dispose()` still disposes
 * it); returns `t`.
 * @example
 * let kept: Tensor;
 * tidy(() => { kept = keep(x.mul(2)); x.add(1); });
 */
export function keep<T extends Tensor>(t: T): T {
  t.keepFromTidy(true);
  return t;
}

/**
 * Dispose every tensor in `x` (a tensor, or arrays and objects of them, nested), as TF.js's
 * `tf.dispose`; see `Tensor.dispose`.
 * @example
 * dispose([a, { b }]);
 */
export function dispose(x: unknown): void {
  for (const t of collect(x, new Set())) if (t instanceof Tensor) t.dispose();
}
