/**
 * Building an ONNX graph: nodes with unique names, initializers (constants deduplicated), the
 * batch size of a dynamic-batch graph and shape tensors whose batch-dependent dims are computed
 * from it, and pruning to what the outputs need.
 */
import type { AttrValue, NodeSpec, OnnxElemType, TensorProtoSpec } from "./proto.js";
import { OnnxExportError } from "./errors.js";

/**
 * One dim of a traced value, seen at the two batch sizes of a dynamic-batch export (`a` at batch
 * BATCH_A, `b` at BATCH_B); equal for a static dim.
 */
export interface Dim {
  a: number;
  b: number;
}

/** The two batch sizes a dynamic-batch export traces the forward at. */
export const BATCH_A = 2;
export const BATCH_B = 3;

/** A batch-dependent dim as k · batch + c (k = 0 for a static dim). */
export function dimExpr(d: Dim): { k: number; c: number } {
  const k = (d.b - d.a) / (BATCH_B - BATCH_A);
  return { k, c: d.a - k * BATCH_A };
}

/** Whether a dim depends on the batch size. */
export const isDynamic = (d: Dim): boolean => d.a !== d.b;

/** Attribute helpers. */
export const attr = {
  int: (value: number): AttrValue => ({ kind: "int", value }),
  float: (value: number): AttrValue => ({ kind: "float", value }),
  ints: (value: readonly number[]): AttrValue => ({ kind: "ints", value }),
  string: (value: string): AttrValue => ({ kind: "string", value }),
};

/** Where an op that has no ONNX mapping was applied (the node stands in for it until pruning). */
interface Unsupported {
  op: string;
  path: string;
  why: string;
}

interface BuiltNode extends NodeSpec {
  unsupported?: Unsupported;
}

/** The graph being built. */
export class GraphBuilder {
  readonly nodes: BuiltNode[] = [];
  readonly #initializers = new Map<string, TensorProtoSpec>();
  readonly #constKeys = new Map<string, string>();
  readonly #names = new Set<string>();
  #batchSize: string | null = null;
  /** The module path of the event being emitted (node names start with it). */
  scope = "";

  /**
   * @param batchSource - the graph input holding the batch size and its batch dim (null: a static graph)
   */
  constructor(readonly batchSource: { input: string; axis: number } | null) {}

  /** Reserve a name (graph inputs and initializers named by the user or the state dict). */
  reserve(name: string): void {
    if (this.#names.has(name)) throw new OnnxExportError(`the name "${name}" is used twice (an input or output name equal to a parameter name?)`);
    this.#names.add(name);
  }

  /** Whether a name is taken. */
  has(name: string): boolean {
    return this.#names.has(name);
  }

  /** A fresh name starting with the current scope. */
  fresh(base: string): string {
    const stem = `${this.scope ? `/${this.scope}` : ""}/${base}`;
    let name = stem;
    for (let i = 1; this.#names.has(name); i++) name = `${stem}_${i}`;
    this.#names.add(name);
    return name;
  }

  /** Add a node; returns its output names. */
  add(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}, outputs = 1): string[] {
    const name = this.fresh(opType);
    const outs = outputs === 1 ? [name] : Array.from({ length: outputs }, (_, i) => (i === 0 ? name : this.fresh(`${opType}_out${i}`)));
    this.nodes.push({ opType, inputs, outputs: outs, name, attrs: Object.entries(attrs) });
    return outs;
  }

  /** Add a node with one output; returns its name. */
  op(opType: string, inputs: readonly string[], attrs: Record<string, AttrValue> = {}): string {
    return this.add(opType, inputs, attrs)[0]!;
  }

  /** Rename a value everywhere (a node output that becomes a graph output). */
  rename(from: string, to: string): void {
    const r = (v: string): string => (v === from ? to : v);
    for (let i = 0; i < this.nodes.length; i++) {
      const n = this.nodes[i]!;
      this.nodes[i] = { ...n, inputs: n.inputs.map(r), outputs: n.outputs.map(r) };
    }
  }

  /** An Identity node writing `from` to the (reserved) name `to`. */
  identity(from: string, to: string): void {
    this.nodes.push({ opType: "Identity", inputs: [from], outputs: [to], name: this.fresh(`${to}/Identity`), attrs: [] });
  }

  /** A stand-in for an op with no ONNX mapping: an error if an output needs it. */
  unsupported(op: string, path: string, inputs: readonly string[], why: string): string {
    const name = this.fresh(`unsupported_${op}`);
    this.nodes.push({ opType: op, inputs, outputs: [name], name, attrs: [], unsupported: { op, path, why } });
    return name;
  }

  /** Add an initializer under its own name (a state-dict key). */
  initializer(t: TensorProtoSpec): string {
    this.reserve(t.name);
    this.#initializers.set(t.name, t);
    return t.name;
  }

  /** A constant initializer (equal constants share one). */
  constant(dtype: OnnxElemType, dims: readonly number[], data: ArrayLike<number> | ArrayLike<bigint>, hint = "const"): string {
    const key = `${dtype}|${dims.join(",")}|${Array.from(data as ArrayLike<number>, String).join(",")}`;
    const known = this.#constKeys.get(key);
    if (known) return known;
    const saved = this.scope;
    this.scope = "";
    const name = this.fresh(hint);
    this.scope = saved;
    this.#initializers.set(name, { name, dtype, dims, data });
    this.#constKeys.set(key, name);
    return name;
  }

  /** A 1-D int64 constant (axes, shapes, pads, slice bounds). */
  int64s(values: readonly number[]): string {
    return this.constant("int64", [values.length], values, "ints");
  }

  /** A 0-d constant of `dtype`. */
  scalar(value: number, dtype: OnnxElemType): string {
    return this.constant(dtype, [], [value], "scalar");
  }

  /** The batch size, an int64 [1] tensor: the batch dim of the batch source input (made once). */
  batchSize(): string {
    if (this.#batchSize) return this.#batchSize;
    if (!this.batchSource) throw new OnnxExportError("internal: a batch-dependent dim in a static export");
    const saved = this.scope;
    this.scope = "";
    const { input, axis } = this.batchSource;
    this.#batchSize = this.op("Shape", [input], { start: attr.int(axis), end: attr.int(axis + 1) });
    this.scope = saved;
    return this.#batchSize;
  }

  /**
   * A 1-D int64 shape tensor for `dims`: a constant when no dim depends on the batch; for a
   * Reshape with one batch-dependent dim, a constant with -1 there; else computed from the batch
   * size (k · batch + c per dim, concatenated with the static runs).
   */
  shape(dims: readonly Dim[], forReshape: boolean): string {
    const dynamic = dims.filter(isDynamic).length;
    if (dynamic === 0) return this.int64s(dims.map((d) => d.a));
    if (forReshape && dynamic === 1 && !dims.some((d) => d.a === 0)) return this.int64s(dims.map((d) => (isDynamic(d) ? -1 : d.a)));
    const parts: string[] = [];
    let run: number[] = [];
    const flush = (): void => {
      if (run.length) parts.push(this.int64s(run));
      run = [];
    };
    for (const d of dims) {
      if (!isDynamic(d)) {
        run.push(d.a);
        continue;
      }
      flush();
      const { k, c } = dimExpr(d);
      if (!Number.isInteger(k) || !Number.isInteger(c)) throw new OnnxExportError(`a dim of size ${d.a} at batch size ${BATCH_A} and ${d.b} at ${BATCH_B} is not a whole multiple of the batch size`);
      let v = this.batchSize();
      if (k !== 1) v = this.op("Mul", [v, this.int64s([k])]);
      if (c !== 0) v = this.op("Add", [v, this.int64s([c])]);
      parts.push(v);
    }
    flush();
    return parts.length === 1 ? parts[0]! : this.op("Concat", parts, { axis: attr.int(0) });
  }

  /**
   * The nodes and initializers the outputs need, in order. Throws an OnnxExportError naming the
   * op and the module when a needed node stands for an unsupported op.
   */
  prune(outputs: readonly string[]): { nodes: NodeSpec[]; initializers: TensorProtoSpec[] } {
    const producer = new Map<string, BuiltNode>();
    for (const n of this.nodes) for (const o of n.outputs) producer.set(o, n);
    const needed = new Set<BuiltNode>();
    const used = new Set<string>();
    const stack = [...outputs];
    while (stack.length) {
      const v = stack.pop()!;
      if (used.has(v)) continue;
      used.add(v);
      const n = producer.get(v);
      if (!n || needed.has(n)) continue;
      if (n.unsupported) {
        const { op, path, why } = n.unsupported;
        throw new OnnxExportError(`op "${op}" (applied by ${path ? `module "${path}"` : "the model's own forward"}) ${why}`, op, path);
      }
      needed.add(n);
      for (const i of n.inputs) if (i) stack.push(i);
    }
    const nodes = this.nodes.filter((n) => needed.has(n)).map(({ unsupported: _, ...n }) => n);
    const initializers = [...this.#initializers.values()].filter((t) => used.has(t.name));
    return { nodes, initializers };
  }
}
