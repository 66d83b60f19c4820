import { SafegradError } from "../errors.js";

/**
 * Thrown by `exportOnnx` when a model cannot be written as an ONNX graph that computes what it
 * computes: an op with no ONNX mapping (`unsupportedOp`, with `modulePath`, the dotted path of the
 * module whose forward applied it, "" for the model itself), a forward whose ops change with the
 * batch size, a value computed outside the op table, or an unsuitable input or option. Its `code`
 * is `"ONNX_EXPORT"`; `op` is `"exportOnnx"`. Nothing is exported on such an error: never a graph
 * that silently differs.
 * @example
 * class WeightGrad extends Module {
 *   readonly conv = this.registerModule("conv", new Conv2d(1, 1, 3));
 *   forward(v: Tensor): Tensor {
 *     // the gradient of a convolution's weight: an op (conv2dWeightGrad) that ONNX does not have
 *     return enableGrad(() => grad(this.conv.forward(v).sum(), [this.conv.weight]))[0]!;
 *   }
 * }
 * try {
 *   exportOnnx(new Sequential(new WeightGrad()), randn([1, 1, 5, 5]));
 * } catch (e) {
 *   if (e instanceof OnnxExportError) [e.code, e.unsupportedOp, e.modulePath]; // ["ONNX_EXPORT", "conv2dWeightGrad", "0"]
 * }
 */
export class OnnxExportError extends SafegradError {
  override readonly code: string = "ONNX_EXPORT";
  /** The op-table op that has no ONNX mapping, or null when the problem is another. */
  declare readonly unsupportedOp: string | null;
  /** The dotted path of the module whose forward applied that op ("" for the model itself), or null. */
  declare readonly modulePath: string | null;
  /**
   * @param message - what cannot be exported and why
   * @param unsupportedOp - the op with no ONNX mapping, if that is the problem
   * @param modulePath - the module that applied it
   */
  constructor(message: string, unsupportedOp: string | null = null, modulePath: string | null = null) {
    super("exportOnnx", message);
    this.unsupportedOp = unsupportedOp;
    this.modulePath = modulePath;
  }
}
