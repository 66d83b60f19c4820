/** Writing an ONNX export to a file (Node only). */
import type { Module } from "../layers/module.js";
import { writeFileAtomic } from "../io/fs.js";
import type { Tensor } from "../tensor/tensor.js";
import { exportOnnx, type ExportOnnxOptions } from "./export.js";

/**
 * Export `model` with {@link exportOnnx} and write the bytes to `path` atomically (readers see the
 * old file or the whole new one). Resolves to the number of bytes written.
 * @param path - the file to write, e.g. "model.onnx"
 * @param model - the module to export
 * @param exampleInputs - one tensor, or one per forward argument
 * @param options - as exportOnnx's
 * @example
 * const mlp = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 3));
 * await saveOnnx("model.onnx", mlp, randn([1, 4])); // then: new InferenceSession("model.onnx") in ONNX Runtime
 */
export async function saveOnnx(
  path: string,
  model: Module<never[], unknown>,
  exampleInputs: Tensor | readonly Tensor[],
  options: ExportOnnxOptions = {},
): Promise<number> {
  const bytes = exportOnnx(model, exampleInputs, options);
  await writeFileAtomic(path, bytes);
  return bytes.length;
}
