/**
 * Weights cross between safegrad and real PyTorch as safetensors files, with no renaming, and give
 * the same logits (float32, within 1e-5):
 * - trained here, saved with `io.save`, loaded by torch with `load_state_dict(strict=True)`;
 * - trained in torch, saved by python, loaded here with `io.loadTensors` + `loadStateDict`.
 * Models: an MLP with Dropout (so the keys skip an index: 0, 3, 5) and a CNN with BatchNorm2d
 * (running statistics and num_batches_tracked, which we store as int32 and torch as int64).
 */
import { afterAll, describe, expect, it } from "vitest";
import { Adam, DataLoader, crossEntropy, io, manualSeed, noGrad, tensor, type Sequential } from "../src/node.js";
import { CNN, MLP_DROPOUT, buildModel, differences, digitRows, digits, exchangeDir, isImage, requireTorch, runTorch, saveRecords, values, type LayerSpec } from "./helpers.js";

const TOL = 1e-5;
const TRAIN_ROWS = 1400; // rows [0, 1400) train, [1400, 1797) are the inputs whose logits are compared
const ex = exchangeDir("weights");
afterAll(() => ex.cleanup());

const cases: Array<{ name: string; spec: LayerSpec[] }> = [
  { name: "MLP with Dropout", spec: MLP_DROPOUT },
  { name: "CNN with BatchNorm2d", spec: CNN },
];

type KeyInfo = [string, string, number[]];

function logitsHere(model: Sequential, spec: LayerSpec[]): { logits: number[]; accuracy: number } {
  const n = digits().n;
  const inputs = digitRows(spec, TRAIN_ROWS, n, "float32");
  model.eval();
  const out = noGrad(() => model.forward(tensor(inputs.x, { shape: inputs.shape })));
  const pred = out.argmax(1).toTypedArray();
  let correct = 0;
  for (let i = 0; i < inputs.y.length; i++) if (pred[i] === inputs.y[i]) correct++;
  return { logits: values(out), accuracy: correct / inputs.y.length };
}

async function writeInputs(spec: LayerSpec[], name: string): Promise<string> {
  const inputs = digitRows(spec, TRAIN_ROWS, digits().n, "float32");
  const path = ex.path(`${name}.inputs.safetensors`);
  await saveRecords(path, { x: { data: inputs.x, shape: inputs.shape } });
  return path;
}

function report(what: string, d: { maxAbs: number; maxRel: number }, accuracy: number): void {
  console.log(`${what}: max |logit difference| ${d.maxAbs.toExponential(2)} (max relative ${d.maxRel.toExponential(2)}), test accuracy ${(100 * accuracy).toFixed(1)}%`);
}

describe("weights cross between safegrad and PyTorch (float32 logits within 1e-5)", () => {
  it("PyTorch is importable (a missing torch fails here, it is never skipped)", () => {
    const version = requireTorch();
    console.log(`interop against torch ${version}`);
    expect(version).toMatch(/^\d+\.\d+/);
  });

  for (const { name, spec } of cases) {
    const tag = name.replace(/\W+/g, "-");

    it(`${name}: trained here → torch load_state_dict(strict=True) → same logits`, async () => {
      requireTorch();
      manualSeed(0);
      const model = buildModel(spec, "float32");
      const d = digits();
      const dataset = { x: d.x, y: d.y, featureShape: isImage(spec) ? [1, 8, 8] : [64] };
      const loader = new DataLoader(dataset, Array.from({ length: TRAIN_ROWS }, (_, i) => i), { batchSize: 32, shuffle: true, seed: 1 });
      const optimizer = new Adam(model.parameters(), { lr: 0.01 });
      model.train();
      let steps = 0;
      for (const b of loader) {
        if (steps++ === 40) break;
        optimizer.zeroGrad();
        crossEntropy(model.forward(tensor(b.x, { shape: b.shape })), tensor(b.y)).backward();
        optimizer.step();
      }
      const here = logitsHere(model, spec);
      const sd = model.stateDict();
      const weights = ex.path(`${tag}.here.safetensors`);
      await io.save(sd, weights, { metadata: { format: "pt" } });
      const out = ex.path(`${tag}.here.logits.safetensors`);
      const r = await runTorch<{ file_keys: KeyInfo[]; module_keys: KeyInfo[]; load: { missing: string[]; unexpected: string[] }; num_batches_tracked: Record<string, [string, number]> }>(
        ex.dir, "logits", { spec, dtype: "float32", weights, inputs: await writeInputs(spec, tag), out }, `${tag}-here`,
      );

      // No renaming: torch's own keys are ours, in the same order, with the same shapes.
      expect(r.module_keys.map(([k, , s]) => [k, s])).toEqual([...sd].map(([k, t]) => [k, [...t.shape]]));
      expect(r.file_keys.map(([k]) => k).sort()).toEqual([...sd.keys()].sort());
      expect(r.load).toEqual({ missing: [], unexpected: [] });
      // BatchNorm's counter: int32 in our file, copied by torch into its int64 buffer.
      const ours = [...sd].filter(([k]) => k.endsWith("num_batches_tracked"));
      expect(Object.entries(r.num_batches_tracked)).toEqual(ours.map(([k, t]) => [k, ["int64", t.item()]]));
      for (const [k] of ours) expect(r.file_keys.find(([f]) => f === k)?.[1]).toBe("int32");
      if (isImage(spec)) expect(ours.every(([, t]) => t.item() === 40)).toBe(true);

      const theirs = values((await io.loadTensors(out)).get("logits")!);
      const diff = differences(here.logits, theirs);
      report(`${name} trained here, run by torch`, diff, here.accuracy);
      expect(here.accuracy).toBeGreaterThan(0.6); // really trained: the logits carry information
      expect(diff.maxAbs).toBeLessThanOrEqual(TOL);
    });

    it(`${name}: trained in torch → io.loadTensors + loadStateDict → same logits`, async () => {
      requireTorch();
      const train = digitRows(spec, 0, TRAIN_ROWS, "float32");
      const data = ex.path(`${tag}.train.safetensors`);
      await saveRecords(data, { x: { data: train.x, shape: train.shape }, y: { data: train.y, shape: [train.y.length] } });
      const weights = ex.path(`${tag}.torch.safetensors`);
      const logitsOut = ex.path(`${tag}.torch.logits.safetensors`);
      const steps = 60;
      const r = await runTorch<{ module_keys: KeyInfo[]; losses: number[]; num_batches_tracked: Record<string, [string, number]> }>(
        ex.dir, "train", { spec, seed: 0, steps, batch_size: 32, lr: 0.01, data, inputs: await writeInputs(spec, `${tag}-t`), weights_out: weights, logits_out: logitsOut }, `${tag}-torch`,
      );
      expect(r.losses.length).toBe(steps);
      expect(r.losses[steps - 1]!).toBeLessThan(r.losses[0]!);

      // A fresh model with other weights; the file must replace all of them.
      manualSeed(123);
      const model = buildModel(spec, "float32");
      const before = model.stateDict();
      const file = await io.load(weights);
      for (const [k, [dtype]] of Object.entries(r.num_batches_tracked)) {
        expect(dtype).toBe("int64"); // torch's dtype in the file (I64) ...
        expect(file.tensors[k]!.dtype).toBe("int32"); // ... narrowed by our reader to our buffer's dtype
      }
      const loaded = await io.loadTensors(weights);
      expect([...loaded.keys()].sort()).toEqual(r.module_keys.map(([k]) => k).sort());
      model.loadStateDict(loaded); // strict, no renaming
      for (const [k, t] of model.stateDict()) {
        expect(values(t), k).toEqual(values(loaded.get(k)!));
        expect(values(t), `${k} was replaced`).not.toEqual(values(before.get(k)!));
      }
      for (const [k, [, n]] of Object.entries(r.num_batches_tracked)) expect(model.stateDict().get(k)!.item()).toBe(n);

      const here = logitsHere(model, spec);
      const theirs = values((await io.loadTensors(logitsOut)).get("logits")!);
      const diff = differences(here.logits, theirs);
      report(`${name} trained in torch, run here`, diff, here.accuracy);
      expect(here.accuracy).toBeGreaterThan(0.6);
      expect(diff.maxAbs).toBeLessThanOrEqual(TOL);
    });
  }
});
