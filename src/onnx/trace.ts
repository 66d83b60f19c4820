/**
 * Tracing a module's forward for the exporter: every op-table op applied (through the engine's
 * observer hook) and every module called (through a temporary wrapper around each module's
 * `forward`), in order, with the dotted path of the innermost module running.
 *
 * A module that the exporter maps as a whole (see modules.ts: Linear, Conv2d, pools, norms,
 * Embedding) is recorded as one event, and the ops inside it are not.
 */
import { setEngineObserver, type EngineObserver } from "../autograd/engine.js";
import { noGrad } from "../autograd/grad-mode.js";
import type { AnyModule } from "../layers/module.js";
import { Tensor } from "../tensor/tensor.js";
import { moduleHandlerFor, type ModuleHandler } from "./modules.js";
import { OnnxExportError } from "./errors.js";

/** An op of the op table, applied during the forward. */
export interface OpEvent {
  kind: "op";
  op: string;
  inputs: readonly Tensor[];
  out: Tensor;
  attrs: unknown;
  /** The dotted path of the innermost module running ("" for the model itself). */
  path: string;
  module: AnyModule;
}

/** A module call the exporter maps as a whole. */
export interface ModuleEvent {
  kind: "module";
  handler: ModuleHandler;
  module: AnyModule;
  inputs: readonly Tensor[];
  out: Tensor;
  path: string;
}

export type TraceEvent = OpEvent | ModuleEvent;

/** What one traced forward gives. */
export interface Trace {
  inputs: readonly Tensor[];
  /** The forward's outputs, with names when it returned a record. */
  outputs: ReadonlyArray<readonly [string | null, Tensor]>;
  events: readonly TraceEvent[];
}

/**
 * The forward's result as named tensors: a tensor, or arrays and records of them, nested (an LSTM's
 * [output, [h, c]]), flattened in order; null entries (an attention's absent weights) are skipped.
 * A record's entries are named by their keys (joined with "." when nested), others have no name.
 */
function outputsOf(result: unknown): Array<[string | null, Tensor]> {
  const out: Array<[string | null, Tensor]> = [];
  const walk = (v: unknown, name: string | null, depth: number): void => {
    if (v instanceof Tensor) out.push([name, v]);
    else if (v === null || v === undefined) return;
    else if (depth < 8 && Array.isArray(v)) v.forEach((x) => walk(x, null, depth + 1));
    else if (depth < 8 && typeof v === "object" && Object.getPrototypeOf(v) === Object.prototype) {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) walk(x, name === null && depth > 0 ? null : name ? `${name}.${k}` : k, depth + 1);
    } else throw new OnnxExportError(`the model's forward must return tensors (a Tensor, or arrays and records of them), got ${describe(v)}`);
  };
  walk(result, null, 0);
  if (out.length === 0) throw new OnnxExportError(`the model's forward returned no tensor (${describe(result)})`);
  return out;
}

const describe = (v: unknown): string => (v === null ? "null" : Array.isArray(v) ? "an array" : typeof v === "object" ? (v.constructor?.name ?? "an object") : typeof v);

/**
 * Run `model.forward(...inputs)` without recording a graph, recording every op and mapped module.
 * The model's modules and the engine's observer are restored afterwards, also on a throw; an
 * observer that was installed (the anomaly guard) still sees every op.
 */
export function traceForward(model: AnyModule, inputs: readonly Tensor[]): Trace {
  const events: TraceEvent[] = [];
  const stack: Array<{ path: string; module: AnyModule }> = [{ path: "", module: model }];
  let suppressed = 0;

  const observer: EngineObserver = {
    forward(op, opInputs, out, attrs, node) {
      prev?.forward?.(op, opInputs, out, attrs, node);
      if (suppressed > 0) return;
      const top = stack[stack.length - 1]!;
      events.push({ kind: "op", op, inputs: [...opInputs], out, attrs, path: top.path, module: top.module });
    },
    backward(node, gradOut, gradIns) {
      prev?.backward?.(node, gradOut, gradIns);
    },
    backwardStart(roots) {
      prev?.backwardStart?.(roots);
    },
  };

  const restore: Array<() => void> = [];
  const prev = setEngineObserver(observer);
  try {
    for (const [path, m] of model.namedModules()) {
      // NOTE: a module may hold its own `forward` (Module's constructor wraps the prototype's): the
      // property is replaced for the trace and its descriptor put back exactly afterwards.
      const desc = Object.getOwnPropertyDescriptor(m, "forward");
      if (desc && !desc.configurable) continue; // cannot be put back: its ops are traced, not the layer
      const original = (m as unknown as { forward: (...args: unknown[]) => unknown }).forward;
      const traced = function (this: unknown, ...args: unknown[]): unknown {
        stack.push({ path, module: m });
        try {
          const handler = suppressed === 0 ? moduleHandlerFor(m, args) : null;
          if (!handler) return original.apply(this, args);
          suppressed++;
          let out: unknown;
          try {
            out = original.apply(this, args);
          } finally {
            suppressed--;
          }
          if (out instanceof Tensor && !args.includes(out)) {
            events.push({ kind: "module", handler, module: m, inputs: args as Tensor[], out, path });
          }
          return out;
        } finally {
          stack.pop();
        }
      };
      Object.defineProperty(m, "forward", { configurable: true, writable: true, enumerable: false, value: traced });
      restore.push(() => {
        if (desc) Object.defineProperty(m, "forward", desc);
        else delete (m as { forward?: unknown }).forward;
      });
    }
    const result = noGrad(() => (model.forward as (...a: Tensor[]) => unknown)(...inputs));
    return { inputs, outputs: outputsOf(result), events };
  } finally {
    for (const r of restore.reverse()) r();
    setEngineObserver(prev);
  }
}
