/**
 * exportOnnx: trace a module's forward in evaluation mode and write it as an ONNX model (opset 17).
 *
 * How: the forward runs under the engine's observer, which sees every op-table op applied; layers
 * that ONNX has as one op are taken whole (modules.ts), the rest op by op (ops.ts). Parameters and
 * buffers become initializers named by their state-dict keys; other tensors the forward uses
 * (numbers in `x.add(1)`, kernels it builds) become constants.
 *
 * Dynamic batch: the forward is traced twice, at batch sizes 2 and 3 (the example rows repeated),
 * and the two traces must apply the same ops to the same sources. A dim that differs between them
 * depends on the batch: graph inputs and outputs name it, and a shape that holds it (a Reshape, an
 * Expand) is computed from the input's batch size at run time instead of baked in. An attribute or
 * a constant that depends on the batch (a mean over the batch dim, a tensor computed outside the
 * op table from the input) is an OnnxExportError, never a graph that only works at one batch size.
 */
import { Module, type AnyModule } from "../layers/module.js";
import { indexSelect } from "../ops/indexing.js";
import { contiguousData } from "../tensor/layout.js";
import { sameShape, shapeStr } from "../tensor/shape.js";
import { Tensor } from "../tensor/tensor.js";
import type { Pool2dParams } from "../kernels/backend.js";
import { OnnxExportError } from "./errors.js";
import { attr, BATCH_A, BATCH_B, dimExpr, GraphBuilder, isDynamic, type Dim } from "./graph.js";
import type { EmitContext } from "./modules.js";
import { emitOp, maxPoolAttrs } from "./ops.js";
import { encodeModel, ONNX_DTYPE, type DimSpec, type ValueInfoSpec } from "./proto.js";
import { traceForward, type Trace, type TraceEvent } from "./trace.js";

/** The ONNX opset the exporter writes (the default domain, "ai.onnx"). */
export const ONNX_OPSET = 17;
/** The ONNX IR version of the models written (8: the IR of opset 17). */
export const ONNX_IR_VERSION = 8;

/** Options of `exportOnnx`. */
export interface ExportOnnxOptions {
  /** Names of the graph inputs, one per example input (default "input", or "input_0", "input_1", ...). */
  inputNames?: readonly string[];
  /**
   * Names of the graph outputs, one per output of the forward (default: the keys when the forward
   * returns a record of tensors, else "output", or "output_0", "output_1", ...).
   */
  outputNames?: readonly string[];
  /**
   * Make dim 0 of every input and the dims computed from it a symbolic batch dim (default true).
   * With false every shape is fixed at the example inputs' sizes.
   */
  dynamicBatch?: boolean;
  /**
   * The batch dim of each input, when it is not dim 0 (a sequence-first RNN's [T, N, F] input and
   * [layers, N, H] state: `[1, 1]`). Default: 0 for every input.
   */
  batchAxes?: readonly number[];
  /** The name of the symbolic batch dim in the graph's input and output types (default "batch"). */
  batchDimName?: string;
  /** The graph's name (default: the model's class name). */
  graphName?: string;
  /** Free text stored as the model's doc_string (default: none). */
  docString?: string;
  /** Key-value pairs stored in the model's metadata_props (default: none). */
  metadata?: Readonly<Record<string, string>>;
}

const DTYPES_OK = new Set(["float32", "float64", "int32", "bool"]);

/** Entries i % n0 of t along its batch dim, n of them (the example batch repeated to size n). */
function batchOf(t: Tensor, axis: number, n: number): Tensor {
  const n0 = t.shape[axis]!;
  const idx = new Int32Array(n).map((_, i) => i % n0);
  return indexSelect(t, axis, new Tensor(idx, [n])).contiguous();
}

/** Default names: "base" for one, else "base_0", "base_1", ... */
const defaultNames = (base: string, n: number): string[] => (n === 1 ? [base] : Array.from({ length: n }, (_, i) => `${base}_${i}`));

/** Where a tensor comes from in a trace. */
type Source = string;

function sourcesOf(trace: Trace, params: ReadonlyMap<Tensor, string>): Map<Tensor, Source> {
  const s = new Map<Tensor, Source>();
  trace.inputs.forEach((t, i) => s.set(t, `input ${i}`));
  for (const [t, key] of params) if (!s.has(t)) s.set(t, `parameter ${key}`);
  trace.events.forEach((e, i) => {
    if (!s.has(e.out)) s.set(e.out, `output of op ${i}`);
  });
  return s;
}

const eventName = (e: TraceEvent): string => (e.kind === "op" ? `op "${e.op}"` : `layer ${e.handler.name}`);
const where = (e: TraceEvent): string => (e.path ? `module "${e.path}"` : "the model's own forward");

/** Max pooling's index tensor, not materialised unless something other than its gather needs it. */
interface PoolIndices {
  x: Tensor;
  xName: string;
  values: string;
  params: Pool2dParams;
  /** dims of the index tensor (a reshape of the kernel's output keeps the base). */
  dims: readonly Dim[];
  base: PoolIndices | null;
  name: string | null;
}

/**
 * Export `model` as an ONNX model (a serialized `ModelProto`, opset {@link ONNX_OPSET}): its
 * forward is traced in evaluation mode on `exampleInputs` (the model's training flags are restored
 * afterwards) and written as ONNX nodes, with the parameters and buffers as initializers named by
 * their state-dict keys. By default dim 0 of the inputs is a symbolic batch dim ("batch"): the
 * model runs at any batch size. An op with no ONNX mapping, or a forward that cannot be written for
 * every batch size, is an {@link OnnxExportError} naming the op and the module. Browser-safe; the
 * bytes run in ONNX Runtime (onnxruntime-node, onnxruntime-web, Python, C#, ...).
 * @param model - the module to export
 * @param exampleInputs - one tensor, or one per forward argument (any batch size)
 * @param options - input and output names, dynamicBatch, names and metadata
 * @example
 * const mlp = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
 * const onnx = exportOnnx(mlp, randn([1, 4]), { inputNames: ["features"], outputNames: ["logits"] });
 * onnx instanceof Uint8Array; // true: write it to model.onnx, or give it to an InferenceSession
 */
export function exportOnnx(model: Module<never[], unknown>, exampleInputs: Tensor | readonly Tensor[], options: ExportOnnxOptions = {}): Uint8Array {
  if (!(model instanceof Module)) throw new OnnxExportError(`expects a Module, got ${model === null ? "null" : typeof model}`);
  const inputs = exampleInputs instanceof Tensor ? [exampleInputs] : [...(exampleInputs as readonly Tensor[])];
  if (inputs.length === 0) throw new OnnxExportError("needs at least one example input");
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor)) throw new OnnxExportError(`example input ${i} is not a Tensor`);
    if (!DTYPES_OK.has(t.dtype)) throw new OnnxExportError(`example input ${i} has dtype ${t.dtype}`);
  });
  const dynamic = options.dynamicBatch ?? true;
  const axes = options.batchAxes ? [...options.batchAxes] : inputs.map(() => 0);
  if (axes.length !== inputs.length) throw new OnnxExportError(`${axes.length} batchAxes for ${inputs.length} inputs`);
  if (dynamic) {
    const size = (i: number): number | undefined => inputs[i]!.shape[axes[i]!];
    inputs.forEach((t, i) => {
      const a = axes[i]!;
      if (!Number.isInteger(a) || a < 0 || a >= t.ndim || t.shape[a] === 0) {
        throw new OnnxExportError(`example input ${i} (shape ${shapeStr(t.shape)}) has no batch dim ${a} to make dynamic; pass batchAxes, or { dynamicBatch: false }`);
      }
      if (size(i) !== size(0)) {
        throw new OnnxExportError(`example inputs 0 and ${i} have different batch sizes ${size(0)} and ${size(i)} (dims ${axes[0]} and ${a}); pass batchAxes, or { dynamicBatch: false }`);
      }
    });
  }
  const inputNames = options.inputNames ? [...options.inputNames] : defaultNames("input", inputs.length);
  if (inputNames.length !== inputs.length) throw new OnnxExportError(`${inputNames.length} input names for ${inputs.length} inputs`);

  const m = model as AnyModule;
  const modes = m.modules().map((mod) => [mod, mod.training] as const);
  m.eval();
  let traceA: Trace;
  let traceB: Trace;
  try {
    if (dynamic) {
      traceA = traceForward(m, inputs.map((t, i) => batchOf(t, axes[i]!, BATCH_A)));
      traceB = traceForward(m, inputs.map((t, i) => batchOf(t, axes[i]!, BATCH_B)));
    } else {
      traceA = traceB = traceForward(m, inputs);
    }
  } finally {
    for (const [mod, training] of modes) mod.training = training;
  }
  return encodeModel(buildModel(m, traceA, traceB, inputNames, dynamic ? axes[0]! : null, options));
}

/** The ModelProto's content; `batchAxis` is input 0's batch dim (null: a static graph). */
function buildModel(model: AnyModule, A: Trace, B: Trace, inputNames: string[], batchAxis: number | null, options: ExportOnnxOptions) {
  const params = new Map<Tensor, string>();
  for (const [k, t] of [...model.namedParameters(), ...model.namedBuffers()]) if (!params.has(t)) params.set(t, k);
  const srcA = sourcesOf(A, params);
  const srcB = sourcesOf(B, params);

  const outputNames = options.outputNames ? [...options.outputNames] : A.outputs.every(([k]) => k !== null) ? A.outputs.map(([k]) => k!) : defaultNames("output", A.outputs.length);
  if (outputNames.length !== A.outputs.length) throw new OnnxExportError(`${outputNames.length} output names for ${A.outputs.length} outputs`);
  const g = new GraphBuilder(batchAxis === null ? null : { input: inputNames[0]!, axis: batchAxis });
  for (const n of [...inputNames, ...outputNames]) g.reserve(n);

  if (A.events.length !== B.events.length) {
    throw new OnnxExportError(`the forward applies ${A.events.length} ops at batch size ${BATCH_A} and ${B.events.length} at ${BATCH_B}: its ops depend on the batch size; export with { dynamicBatch: false }`);
  }

  const names = new Map<Tensor, string>();
  const partner = new Map<Tensor, Tensor>();
  A.inputs.forEach((t, i) => {
    names.set(t, inputNames[i]!);
    partner.set(t, B.inputs[i]!);
  });
  const poolIndices = new Map<Tensor, PoolIndices>();
  const reshapeOf = new Map<Tensor, Tensor>();

  const dimsOf = (t: Tensor): Dim[] => {
    const p = partner.get(t) ?? t;
    return t.shape.map((s, i) => ({ a: s, b: p.shape[i] ?? s }));
  };

  const paramName = (t: Tensor, key: string): string => {
    g.initializer({ name: key, dtype: t.dtype, dims: t.shape, data: contiguousData(t) }); // reserves the name (an input or output of that name is an error)
    names.set(t, key);
    return key;
  };
  const constantName = (t: Tensor): string => g.constant(t.dtype, t.shape, contiguousData(t));

  const materialize = (p: PoolIndices): string => {
    if (p.name) return p.name;
    if (p.base) {
      p.name = g.op("Reshape", [materialize(p.base), g.shape(p.dims, true)]);
      return p.name;
    }
    // MaxPool's Indices are flat over N·C·H·W; safegrad's are h·W + w within each plane.
    const [, idx] = g.add("MaxPool", [p.xName], maxPoolAttrs(p.params), 2);
    const hw = p.x.shape[2]! * p.x.shape[3]!;
    p.name = g.op("Cast", [g.op("Mod", [idx!, g.int64s([hw])])], { to: attr.int(ONNX_DTYPE.int32) });
    return p.name;
  };

  /** The name of a tensor an event reads (an event output, input, parameter, or a new constant). */
  const nameOf = (t: Tensor): string => {
    const n = names.get(t);
    if (n !== undefined) return n;
    const p = poolIndices.get(t);
    if (p) return materialize(p);
    const key = params.get(t);
    if (key !== undefined) return paramName(t, key);
    const c = constantName(t);
    names.set(t, c);
    return c;
  };

  const ctx: EmitContext = { g, tensor: nameOf };

  A.events.forEach((ea, i) => {
    const eb = B.events[i]!;
    const sameKind = ea.kind === eb.kind && (ea.kind === "op" ? ea.op === (eb as typeof ea).op : ea.handler === (eb as typeof ea).handler);
    if (!sameKind || ea.inputs.length !== eb.inputs.length || ea.path !== eb.path) {
      throw new OnnxExportError(`the forward applies ${eventName(ea)} in ${where(ea)} at batch size ${BATCH_A} but ${eventName(eb)} in ${where(eb)} at ${BATCH_B}: its ops depend on the batch size; export with { dynamicBatch: false }`);
    }
    // Each input must come from the same place in both traces; a constant must be the same tensor value.
    ea.inputs.forEach((ta, j) => {
      const tb = eb.inputs[j]!;
      const sa = srcA.get(ta);
      const sb = srcB.get(tb);
      if (sa !== sb) {
        throw new OnnxExportError(`input ${j} of ${eventName(ea)} in ${where(ea)} comes from ${sa ?? "a tensor made outside the op table"} at batch size ${BATCH_A} but from ${sb ?? "a tensor made outside the op table"} at ${BATCH_B}; export with { dynamicBatch: false }`);
      }
      if (sa === undefined && !(sameShape(ta.shape, tb.shape) && sameValues(ta, tb)) && !names.has(ta)) {
        // a tensor filled with one value whose shape holds the batch size (an RNN's zero state)
        const v = fillValue(ta);
        if (v !== null && ta.ndim === tb.ndim && ta.dtype === tb.dtype && Object.is(fillValue(tb), v)) {
          partner.set(ta, tb);
          names.set(ta, g.op("Expand", [g.scalar(v, ta.dtype), g.shape(dimsOf(ta), false)]));
          return;
        }
      }
      if (sa === undefined && !(sameShape(ta.shape, tb.shape) && sameValues(ta, tb)) && !names.has(ta)) {
        throw new OnnxExportError(
          `input ${j} of ${eventName(ea)} in ${where(ea)} is a tensor made outside the op table (a number, or a tensor built in JavaScript: ${ta.dtype} ${shapeStr(ta.shape)} at batch size ${BATCH_A}, ${shapeStr(tb.shape)} at ${BATCH_B}) whose value changes with the batch size or with the input: the graph would hold it as a constant. If it is the batch size (a mean over the batch dim divides by it), export with { dynamicBatch: false }; if it is computed from the input, compute it with tensor ops`,
          null,
          ea.path,
        );
      }
      if (!partner.has(ta)) partner.set(ta, tb);
    });
    if (ea.out.ndim !== eb.out.ndim) throw new OnnxExportError(`${eventName(ea)} in ${where(ea)} gives ${ea.out.ndim} dims at batch size ${BATCH_A} and ${eb.out.ndim} at ${BATCH_B}`);
    partner.set(ea.out, eb.out);
    g.scope = ea.path;

    if (ea.kind === "module") {
      names.set(ea.out, ea.handler.emit(ctx, ea.module, ea.inputs.map(nameOf), ea.inputs[0]!));
      return;
    }
    const op = ea.op;
    if (op === "maxPool2dIndices") {
      const x = ea.inputs[0]!;
      const xName = nameOf(x);
      const params = ea.attrs as Pool2dParams;
      const values = g.op("MaxPool", [xName], maxPoolAttrs(params));
      poolIndices.set(ea.out, { x, xName, values, params, dims: dimsOf(ea.out), base: null, name: null });
      return;
    }
    if (op === "reshape") {
      reshapeOf.set(ea.out, ea.inputs[0]!);
      const p = poolIndices.get(ea.inputs[0]!);
      if (p && !names.has(ea.inputs[0]!)) {
        poolIndices.set(ea.out, { ...p, dims: dimsOf(ea.out), base: p, name: null });
        return;
      }
    }
    if (op === "gather") {
      // max pooling's gather of its own indices: the MaxPool values, reshaped
      const [data, index] = ea.inputs as [Tensor, Tensor];
      const p = poolIndices.get(index);
      if (p && p.base && !p.base.base && reshapeOf.get(data) === p.base.x && (ea.attrs as { dim: number }).dim === 2 && data.ndim === 3) {
        names.set(ea.out, g.op("Reshape", [p.base.values, g.shape(dimsOf(ea.out), true)]));
        return;
      }
    }
    const ins = ea.inputs.map(nameOf);
    const out = emitOp({
      g,
      op,
      ins,
      inDims: ea.inputs.map(dimsOf),
      outDims: dimsOf(ea.out),
      inDtypes: ea.inputs.map((t) => t.dtype),
      outDtype: ea.out.dtype,
      attrs: ea.attrs,
      attrsB: (eb as typeof ea).attrs,
    });
    names.set(ea.out, out ?? g.unsupported(op, ea.path, ins, "has no ONNX mapping in this exporter; see docs/onnx.md for the supported ops"));
  });

  // Outputs: the same sources in both traces, named as asked.
  if (A.outputs.length !== B.outputs.length) throw new OnnxExportError(`the forward returns ${A.outputs.length} outputs at batch size ${BATCH_A} and ${B.outputs.length} at ${BATCH_B}`);
  const batchName = options.batchDimName ?? "batch";
  const dimSpecs = (dims: readonly Dim[]): DimSpec[] =>
    dims.map((d) => {
      if (!isDynamic(d)) return d.a;
      const { k, c } = dimExpr(d);
      return k === 1 && c === 0 ? batchName : null;
    });
  const outputs: ValueInfoSpec[] = [];
  const renamed = new Set<string>();
  const graphInputs = new Set(inputNames);
  A.outputs.forEach(([, t], i) => {
    const tb = B.outputs[i]![1];
    if (srcA.get(t) !== srcB.get(tb)) throw new OnnxExportError(`output ${i} comes from ${srcA.get(t) ?? "outside the op table"} at batch size ${BATCH_A} but from ${srcB.get(tb) ?? "outside the op table"} at ${BATCH_B}`);
    if (!partner.has(t)) partner.set(t, tb);
    g.scope = "";
    const internal = nameOf(t);
    const want = outputNames[i]!;
    const node = g.nodes.find((n) => n.outputs.includes(internal));
    if (node && !renamed.has(internal) && !graphInputs.has(internal)) {
      // the node's output takes the output's name, everywhere it is read
      g.rename(internal, want);
      for (const [k, v] of names) if (v === internal) names.set(k, want);
      renamed.add(want);
    } else {
      g.identity(internal, want);
    }
    outputs.push({ name: want, dtype: t.dtype, shape: dimSpecs(dimsOf(t)) });
  });

  const { nodes, initializers } = g.prune(outputNames);
  const graphInputsSpec: ValueInfoSpec[] = A.inputs.map((t, i) => ({ name: inputNames[i]!, dtype: t.dtype, shape: dimSpecs(dimsOf(t)) }));
  return {
    irVersion: ONNX_IR_VERSION,
    opset: ONNX_OPSET,
    producerName: "safegrad",
    producerVersion: "",
    ...(options.docString ? { docString: options.docString } : {}),
    metadata: Object.entries(options.metadata ?? {}),
    graph: { name: options.graphName ?? model.constructor.name, nodes, initializers, inputs: graphInputsSpec, outputs },
  };
}

/** The value every element of t holds, or null (also for an empty tensor). */
function fillValue(t: Tensor): number | null {
  const d = contiguousData(t);
  if (d.length === 0) return null;
  const v = d[0]!;
  for (let i = 1; i < d.length; i++) if (!Object.is(d[i], v)) return null;
  return v;
}

function sameValues(a: Tensor, b: Tensor): boolean {
  if (a.dtype !== b.dtype) return false;
  const da = contiguousData(a);
  const db = contiguousData(b);
  for (let i = 0; i < da.length; i++) if (!Object.is(da[i], db[i])) return false;
  return true;
}
