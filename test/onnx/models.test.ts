/**
 * The real models: the digits MLP and CNN exactly as `npm start` builds them
 * (examples/digits-models.ts), trained for a few steps so the weights and BatchNorm statistics are
 * not their initial values, exported, and run in ONNX Runtime on random and real (held-out digits)
 * inputs at batch sizes 1 and 17: float32 within 1e-5 of each sample's largest logit (the worst
 * figure per model is printed). Also: the file's bytes in a fresh process, the loader with graph
 * optimizations on (and the optimized model it writes), what the ModelProto holds, saveOnnx.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Adam, crossEntropy, Generator, noGrad, randn, tensor, type Sequential, type Tensor } from "../../src/index.js";
import { trainTestSplit } from "../../src/data.js";
import { loadDigits, saveOnnx } from "../../src/node.js";
import { exportOnnx, ONNX_OPSET } from "../../src/onnx.js";
import { buildModel, defaultModelConfig, featureShape, type ModelKind } from "../../examples/digits-models.js";
import { evalForward, runOnnx, session, summarize, worstRelative } from "./helpers.js";

const digits = loadDigits();
const split = trainTestSplit(digits.n, { testFraction: 0.2, seed: 0, labels: digits.y });
const train = Array.from(split.train);
const test = Array.from(split.test);

/** Rows of the digits set as a [n, ...shape] float32 tensor, and their labels. */
function rows(idx: readonly number[], shape: readonly number[]): { x: Tensor; y: Tensor } {
  const x = new Float32Array(idx.length * 64);
  idx.forEach((r, i) => x.set(digits.x.subarray(r * 64, r * 64 + 64), i * 64));
  return { x: tensor(x, { shape: [idx.length, ...shape] }), y: tensor(Int32Array.from(idx, (r) => digits.y[r]!)) };
}

/** A few Adam steps on the training rows (weights and BatchNorm running statistics move). */
function trained(kind: ModelKind): Sequential {
  const config = defaultModelConfig(kind);
  const model = buildModel(config);
  const shape = featureShape(config);
  const opt = new Adam(model.parameters(), { lr: 3e-3 });
  const g = new Generator(1);
  model.train();
  for (let step = 0; step < 40; step++) {
    const batch = Array.from({ length: 32 }, () => train[Math.floor(g.random() * train.length)]!);
    const { x, y } = rows(batch, shape);
    opt.zeroGrad();
    crossEntropy(model.forward(x), y).backward();
    opt.step();
  }
  return model;
}

const worst: Record<string, number> = {};
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "safegrad-onnx-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
  console.log(`worst relative difference per model (float32, ONNX Runtime vs safegrad, batch 1 and 17, random and real inputs):\n${Object.entries(worst).map(([k, v]) => `  ${k}: ${v.toExponential(2)}`).join("\n")}`);
});

for (const kind of ["mlp", "cnn"] as const) {
  describe(`the digits ${kind}`, () => {
    const config = defaultModelConfig(kind);
    const shape = featureShape(config);
    let model: Sequential;
    let bytes: Uint8Array;
    beforeAll(() => {
      model = trained(kind);
      bytes = exportOnnx(model, rows([test[0]!], shape).x, { inputNames: ["image"], outputNames: ["logits"] });
    });

    it("is accurate on the held-out digits (sanity: it learned something)", () => {
      const { x, y } = rows(test, shape);
      const pred = evalForward(model, [x])[0]!.argmax(1).toTypedArray();
      const labels = y.toTypedArray();
      const acc = pred.filter((p, i) => p === labels[i]).length / labels.length;
      expect(acc).toBeGreaterThan(0.6);
    });

    it("holds what an ONNX consumer reads: opset, IR, names, a symbolic batch dim, the state-dict keys as initializers", () => {
      const s = summarize(bytes);
      expect(s).toMatchObject({ irVersion: 8, producer: "safegrad", opsetDomain: "", opset: ONNX_OPSET });
      expect(s.inputs).toEqual([{ name: "image", elemType: 1, dims: ["batch", ...shape] }]);
      expect(s.outputs).toEqual([{ name: "logits", elemType: 1, dims: ["batch", 10] }]);
      const keys = [...model.stateDict().keys()].filter((k) => !k.endsWith("num_batches_tracked"));
      // the state-dict entries the graph reads are named by their keys; other constants start with "/"
      expect(s.initializers.filter((n) => !n.startsWith("/")).sort()).toEqual(keys.sort());
      if (kind === "mlp") expect(s.ops).toEqual(["Gemm", "Relu", "Gemm", "Relu", "Gemm"]);
      else expect(s.ops).toEqual(["Conv", "BatchNormalization", "Relu", "MaxPool", "Conv", "BatchNormalization", "Relu", "MaxPool", "Reshape", "Gemm"]);
    });

    for (const inputs of ["random", "real"] as const) {
      it(`${inputs} inputs at batch sizes 1 and 17 give safegrad's logits (float32, 1e-5 relative)`, async () => {
        const s = await session(bytes, { graphOptimizationLevel: "all" });
        for (const n of [1, 17]) {
          const x = inputs === "random" ? randn([n, ...shape], { generator: new Generator(n) }).mul(4) : rows(test.slice(n, 2 * n), shape).x;
          const want = evalForward(model, [x])[0]!;
          const [got] = await runOnnx(s, { image: x });
          expect([...got!.dims]).toEqual([n, 10]);
          const d = worstRelative(want, got!.data as Float32Array);
          expect(d).toBeLessThanOrEqual(1e-5);
          worst[kind] = Math.max(worst[kind] ?? 0, d);
        }
      });
    }

    it("the whole held-out set in one batch: the same predictions", async () => {
      const { x } = rows(test, shape);
      const want = evalForward(model, [x])[0]!;
      const [got] = await runOnnx(bytes, { image: x });
      const d = worstRelative(want, got!.data as Float32Array);
      expect(d).toBeLessThanOrEqual(1e-5);
      worst[kind] = Math.max(worst[kind] ?? 0, d);
      const pred = want.argmax(1).toTypedArray();
      const logits = got!.data as Float32Array;
      let agree = 0;
      for (let i = 0; i < test.length; i++) {
        const row = logits.subarray(i * 10, i * 10 + 10);
        if (row.indexOf(Math.max(...row)) === pred[i]) agree++;
      }
      expect(agree).toBe(test.length);
    });

    it("loads with every graph optimization on, and the optimized model it writes runs the same", async () => {
      const optimized = join(dir, `${kind}.optimized.onnx`);
      const s = await session(bytes, { graphOptimizationLevel: "all", optimizedModelFilePath: optimized });
      expect(existsSync(optimized)).toBe(true);
      const x = rows(test.slice(0, 5), shape).x;
      const [a] = await runOnnx(s, { image: x });
      const [b] = await runOnnx(new Uint8Array(readFileSync(optimized)), { image: x });
      expect(Array.from(b!.data as Float32Array)).toEqual(Array.from(a!.data as Float32Array));
    });

    it("saveOnnx writes the same bytes, and a fresh Node process runs the file", async () => {
      const file = join(dir, `${kind}.onnx`);
      const n = await saveOnnx(file, model, rows([test[0]!], shape).x, { inputNames: ["image"], outputNames: ["logits"] });
      expect(n).toBe(statSync(file).size);
      expect(new Uint8Array(readFileSync(file))).toEqual(bytes);
      const x = rows(test.slice(0, 17), shape).x;
      const input = join(dir, `${kind}.input.json`);
      writeFileSync(input, JSON.stringify({ data: Array.from(x.toTypedArray()), dims: x.shape }));
      // plain JavaScript, as a user would write it: only onnxruntime-node, the .onnx file and the input
      const script = `
        const ort = require("onnxruntime-node");
        const fs = require("node:fs");
        (async () => {
          const { data, dims } = JSON.parse(fs.readFileSync(process.argv[2], "utf8"));
          const session = await ort.InferenceSession.create(process.argv[1]);
          const out = await session.run({ image: new ort.Tensor("float32", Float32Array.from(data), dims) });
          process.stdout.write(JSON.stringify({ dims: out.logits.dims, data: Array.from(out.logits.data) }));
        })().catch((e) => { console.error(e); process.exit(1); });`;
      const r = spawnSync(process.execPath, ["-e", script, file, input], { encoding: "utf8", cwd: join(import.meta.dirname, "../..") });
      expect(r.status, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { dims: number[]; data: number[] };
      expect(out.dims).toEqual([17, 10]);
      const want = noGrad(() => evalForward(model, [x])[0]!);
      const d = worstRelative(want, out.data);
      expect(d).toBeLessThanOrEqual(1e-5);
      worst[kind] = Math.max(worst[kind] ?? 0, d);
    });

    it("exporting twice gives the same bytes, and leaves the model as it was (training mode, forwards)", () => {
      model.train();
      const forwards = () => model.modules().map((m) => Object.getOwnPropertyDescriptor(m, "forward"));
      const before = forwards();
      const again = exportOnnx(model, rows([test[0]!], shape).x, { inputNames: ["image"], outputNames: ["logits"] });
      expect(again).toEqual(bytes);
      expect(model.modules().every((m) => m.training)).toBe(true);
      expect(forwards()).toEqual(before);
    });
  });
}
