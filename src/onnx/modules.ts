/**
 * Layers the exporter maps as a whole, where ONNX has the layer as one op: Linear (Gemm, for 2-D
 * input), Conv2d (Conv with its bias), MaxPool2d (MaxPool: safegrad's max pooling is an index
 * kernel and a gather, which ONNX has no direct form of), AvgPool2d (AveragePool), BatchNorm in
 * evaluation (BatchNormalization), LayerNorm (LayerNormalization) and Embedding (Gather). Other
 * layers (RMSNorm, activations, Flatten, Dropout, ...) are mapped op by op from their trace.
 */
import type { AnyModule } from "../layers/module.js";
import { Linear } from "../layers/linear.js";
import { AvgPool2d, Conv2d, MaxPool2d } from "../layers/conv.js";
import { BatchNormBase, LayerNorm } from "../layers/norm.js";
import { Embedding } from "../layers/embedding.js";
import { two } from "../ops/conv.js";
import { Tensor } from "../tensor/tensor.js";
import { attr, type GraphBuilder } from "./graph.js";
import type { AttrValue } from "./proto.js";

/** What a handler needs from the exporter. */
export interface EmitContext {
  g: GraphBuilder;
  /** The name of a parameter or buffer (its state-dict key), or of a constant holding `t`. */
  tensor(t: Tensor): string;
}

/** A layer mapped as a whole: `emit` writes its nodes and returns the output's name. */
export interface ModuleHandler {
  name: string;
  emit(ctx: EmitContext, module: AnyModule, inputs: readonly string[], x: Tensor): string;
}

type Pair = number | readonly [number, number];

/** ONNX pads [top, left, bottom, right] of a symmetric [height, width] padding. */
const pads2 = (p: readonly [number, number]): AttrValue => attr.ints([p[0], p[1], p[0], p[1]]);

const linear: ModuleHandler = {
  name: "Linear",
  emit({ g, tensor }, m, [x]) {
    const l = m as unknown as Linear;
    const ins = [x!, tensor(l.weight)];
    if (l.bias) ins.push(tensor(l.bias));
    return g.op("Gemm", ins, { transB: attr.int(1) });
  },
};

const conv2d: ModuleHandler = {
  name: "Conv2d",
  emit({ g, tensor }, m, [x]) {
    const c = m as unknown as Conv2d;
    const padding = c.padding as [number, number];
    const ins = [x!, tensor(c.weight)];
    if (c.bias) ins.push(tensor(c.bias));
    return g.op("Conv", ins, {
      kernel_shape: attr.ints(c.kernelSize),
      strides: attr.ints(c.stride),
      pads: pads2(padding),
      dilations: attr.ints(c.dilation),
      group: attr.int(c.groups),
    });
  },
};

const maxPool2d: ModuleHandler = {
  name: "MaxPool2d",
  emit({ g }, m, [x]) {
    const p = m as unknown as MaxPool2d;
    const kernel = two("MaxPool2d", "kernelSize", p.kernelSize, 1, 1);
    const o = p.options;
    return g.op("MaxPool", [x!], {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(o.stride === undefined ? kernel : two("MaxPool2d", "stride", o.stride as Pair, 1, 1)),
      pads: pads2(two("MaxPool2d", "padding", o.padding as Pair | undefined, 0, 0)),
      dilations: attr.ints(two("MaxPool2d", "dilation", o.dilation as Pair | undefined, 1, 1)),
    });
  },
};

const avgPool2d: ModuleHandler = {
  name: "AvgPool2d",
  emit({ g }, m, [x], input) {
    const p = m as unknown as AvgPool2d;
    const kernel = two("AvgPool2d", "kernelSize", p.kernelSize, 1, 1);
    const o = p.options;
    const divisor = o.divisorOverride;
    const y = g.op("AveragePool", [x!], {
      kernel_shape: attr.ints(kernel),
      strides: attr.ints(o.stride === undefined ? kernel : two("AvgPool2d", "stride", o.stride as Pair, 1, 1)),
      pads: pads2(two("AvgPool2d", "padding", o.padding as Pair | undefined, 0, 0)),
      count_include_pad: attr.int(divisor !== undefined || (o.countIncludePad ?? true) ? 1 : 0),
    });
    // A divisor override: the window mean times window size / divisor.
    if (divisor === undefined) return y;
    return g.op("Mul", [y, g.scalar((kernel[0] * kernel[1]) / divisor, input.dtype)]);
  },
};

const batchNorm: ModuleHandler = {
  name: "BatchNorm",
  emit({ g, tensor }, m, [x]) {
    const bn = m as unknown as BatchNormBase;
    const C = bn.numFeatures;
    const dtype = bn.runningMean!.dtype;
    const scale = bn.weight ? tensor(bn.weight) : g.constant(dtype, [C], new Array<number>(C).fill(1));
    const bias = bn.bias ? tensor(bn.bias) : g.constant(dtype, [C], new Array<number>(C).fill(0));
    return g.op("BatchNormalization", [x!, scale, bias, tensor(bn.runningMean!), tensor(bn.runningVar!)], { epsilon: attr.float(bn.eps) });
  },
};

const layerNorm: ModuleHandler = {
  name: "LayerNorm",
  emit({ g, tensor }, m, [x], input) {
    const ln = m as unknown as LayerNorm;
    const shape = ln.normalizedShape;
    const scale = ln.weight ? tensor(ln.weight) : g.constant(input.dtype, shape, new Array<number>(shape.reduce((a, s) => a * s, 1)).fill(1));
    const ins = [x!, scale];
    if (ln.bias) ins.push(tensor(ln.bias));
    return g.op("LayerNormalization", ins, { axis: attr.int(input.ndim - shape.length), epsilon: attr.float(ln.eps) });
  },
};

const embedding: ModuleHandler = {
  name: "Embedding",
  emit({ g, tensor }, m, [x]) {
    return g.op("Gather", [tensor((m as unknown as Embedding).weight), x!], { axis: attr.int(0) });
  },
};

/**
 * The handler for a call of module `m` with `args`, or null (then its ops are traced one by one).
 * Only the common, well-defined forms are taken as a whole: a single tensor input of the layer's
 * batched rank, float (int32 for Embedding).
 */
export function moduleHandlerFor(m: AnyModule, args: readonly unknown[]): ModuleHandler | null {
  const x = args[0];
  if (args.length !== 1 || !(x instanceof Tensor)) return null;
  const float = x.dtype === "float32" || x.dtype === "float64";
  if (m instanceof Embedding) return x.dtype === "int32" ? embedding : null;
  if (!float) return null;
  if (m instanceof Linear) return x.ndim === 2 && x.dtype === m.weight.dtype ? linear : null;
  // NOTE: a padding mode other than zeros, and ceilMode pools, are exported op by op (the traced
  // pad gathers; max pooling in ceil mode is refused there), never as a Conv/pool node that would
  // silently drop them.
  if (m instanceof Conv2d) return x.ndim === 4 && m.padding !== "same" && (m.paddingMode ?? "zeros") === "zeros" ? conv2d : null;
  if (m instanceof MaxPool2d) return x.ndim === 4 && !m.options.ceilMode ? maxPool2d : null;
  if (m instanceof AvgPool2d) return x.ndim === 4 && !m.options.ceilMode ? avgPool2d : null;
  if (m instanceof BatchNormBase) return !m.training && m.runningMean && m.runningVar && x.ndim >= 2 ? batchNorm : null;
  if (m instanceof LayerNorm) return x.numel > 0 ? layerNorm : null;
  return null;
}
