/**
 * Training parity with real PyTorch in float64: the same initial weights (drawn here, sent to
 * torch as safetensors), the same 50 batches of digits (sent as a file), the same optimizer, in
 * training mode (BatchNorm on batch statistics). The 50 losses must agree within 1e-9 relative,
 * for an MLP and for a CNN with BatchNorm2d, with SGD (momentum 0.9, no Nesterov, weight decay
 * 1e-4) and with Adam (weight decay 1e-4). The final weights and running statistics are compared
 * too (reported, and held to a looser bound: 50 steps of Adam amplify last-bit differences in
 * parameters whose gradients are near zero).
 */
import { afterAll, describe, expect, it } from "vitest";
import { Adam, DataLoader, SGD, crossEntropy, io, manualSeed, registerFastBackends, setBackend, tensor, type Tensor } from "../src/node.js";
import { CNN, MLP, buildModel, differences, digits, exchangeDir, isImage, requireTorch, runTorch, saveRecords, values, type LayerSpec } from "./helpers.js";

const STEPS = 50;
const BATCH = 32;
const LOSS_TOL = 1e-9;
const WEIGHT_TOL = 1e-6;
const ex = exchangeDir("parity");
afterAll(() => ex.cleanup());

type OptimizerSpec =
  | { name: "sgd"; lr: number; momentum: number; dampening: number; nesterov: boolean; weight_decay: number }
  | { name: "adam"; lr: number; betas: [number, number]; eps: number; weight_decay: number };

const optimizers: Array<{ label: string; spec: OptimizerSpec }> = [
  { label: "SGD(momentum 0.9, weight decay 1e-4)", spec: { name: "sgd", lr: 0.05, momentum: 0.9, dampening: 0, nesterov: false, weight_decay: 1e-4 } },
  { label: "Adam(weight decay 1e-4)", spec: { name: "adam", lr: 0.005, betas: [0.9, 0.999], eps: 1e-8, weight_decay: 1e-4 } },
];

function makeOptimizer(params: Tensor[], o: OptimizerSpec): SGD | Adam {
  return o.name === "sgd"
    ? new SGD(params, { lr: o.lr, momentum: o.momentum, dampening: o.dampening, nesterov: o.nesterov, weightDecay: o.weight_decay })
    : new Adam(params, { lr: o.lr, betas: o.betas, eps: o.eps, weightDecay: o.weight_decay });
}

/** Initial weights and batches for one model, written once and shared by both optimizers. */
async function prepare(name: string, spec: LayerSpec[], seed: number) {
  manualSeed(seed);
  const init = buildModel(spec, "float64").stateDict();
  const initPath = ex.path(`${name}.init.safetensors`);
  await io.save(init, initPath);
  const d = digits();
  const featureShape = isImage(spec) ? [1, 8, 8] : [64];
  const loader = new DataLoader({ x: Float64Array.from(d.x), y: d.y, featureShape }, null, { batchSize: BATCH, shuffle: true, seed: seed + 1 });
  const batches: Array<{ x: Float64Array; y: Int32Array; shape: number[] }> = [];
  for (const b of loader) {
    if (batches.length === STEPS) break;
    batches.push(b);
  }
  const per = BATCH * featureShape.reduce((a, b) => a * b, 1);
  const x = new Float64Array(STEPS * per);
  const y = new Int32Array(STEPS * BATCH);
  batches.forEach((b, i) => {
    x.set(b.x, i * per);
    y.set(b.y, i * BATCH);
  });
  const batchesPath = ex.path(`${name}.batches.safetensors`);
  await saveRecords(batchesPath, { x: { data: x, shape: [STEPS, BATCH, ...featureShape] }, y: { data: y, shape: [STEPS, BATCH] } });
  return { init, initPath, batches, batchesPath };
}

const models: Array<{ name: string; spec: LayerSpec[] }> = [
  { name: "MLP", spec: MLP },
  { name: "CNN with BatchNorm2d", spec: CNN },
];

describe(`training parity with PyTorch in float64 (${STEPS} steps, losses within ${LOSS_TOL} relative)`, () => {
  it("PyTorch is importable (a missing torch fails here, it is never skipped)", () => {
    expect(requireTorch()).toMatch(/^\d+\.\d+/);
  });

  for (const { name, spec } of models) {
    const tag = name.replace(/\W+/g, "-");
    let prepared: ReturnType<typeof prepare> | undefined;

    for (const { label, spec: opt } of optimizers) {
      it(`${name}, ${label}`, async () => {
        requireTorch();
        const { init, initPath, batches, batchesPath } = await (prepared ??= prepare(tag, spec, 3));

        // Here.
        const model = buildModel(spec, "float64");
        model.loadStateDict(init);
        model.train();
        const optimizer = makeOptimizer(model.parameters(), opt);
        const losses: number[] = [];
        for (const b of batches) {
          optimizer.zeroGrad();
          const loss = crossEntropy(model.forward(tensor(b.x, { shape: b.shape })), tensor(b.y));
          loss.backward();
          optimizer.step();
          losses.push(loss.item());
        }

        // PyTorch, from the same file and batches.
        const weightsOut = ex.path(`${tag}.${opt.name}.final.safetensors`);
        const r = await runTorch<{ losses: number[]; load: { missing: string[]; unexpected: string[] }; num_batches_tracked: Record<string, [string, number]> }>(
          ex.dir, "trajectory", { spec, init: initPath, batches: batchesPath, optimizer: opt, weights_out: weightsOut }, `${tag}-${opt.name}`,
        );
        expect(r.load).toEqual({ missing: [], unexpected: [] });
        expect(r.losses.length).toBe(STEPS);

        const loss = differences(losses, r.losses);
        // Final state: per tensor, max |a - b| relative to the tensor's largest magnitude.
        const theirs = await io.loadTensors(weightsOut);
        let weightRel = 0;
        let worst = "";
        for (const [k, t] of model.stateDict()) {
          const b = values(theirs.get(k)!);
          if (k.endsWith("num_batches_tracked")) {
            expect(values(t), k).toEqual(b);
            continue;
          }
          const scale = Math.max(...b.map(Math.abs));
          const rel = differences(values(t), b).maxAbs / scale;
          if (!(rel <= weightRel)) [weightRel, worst] = [rel, k];
        }
        console.log(
          `parity ${name}, ${label}: loss ${losses[0]!.toFixed(4)} → ${losses[STEPS - 1]!.toFixed(4)} over ${STEPS} steps; ` +
            `max relative loss difference ${loss.maxRel.toExponential(2)} (max absolute ${loss.maxAbs.toExponential(2)}); ` +
            `final weights max relative difference ${weightRel.toExponential(2)} (${worst})`,
        );
        expect(losses[STEPS - 1]!).toBeLessThan(losses[0]! * 0.8); // it really trained
        expect(loss.maxRel).toBeLessThanOrEqual(LOSS_TOL);
        expect(weightRel).toBeLessThanOrEqual(WEIGHT_TOL);
      });
    }
  }
});

// The wasm backend in float32 against PyTorch in float32: GEMMs, elementwise kernels, the fused
// log-softmax and the fused Adam step end to end. Float32 trajectories drift apart by rounding (sums
// in another order), so this is a looser bound than float64's; it catches a wrong formula at once.
const LOSS_TOL_32 = 1e-5;
// Adam without weight decay takes the fused wasm kernel (Backend.adamUpdate); with it, the JS loop.
const optimizers32 = [...optimizers, { label: "Adam (no weight decay: the fused kernel)", spec: { ...optimizers[1]!.spec, weight_decay: 0 } }];
describe(`the wasm backend in float32 against PyTorch in float32 (${STEPS} steps, losses within ${LOSS_TOL_32} relative)`, () => {
  afterAll(() => setBackend("js"));
  let prepared: ReturnType<typeof prepare> | undefined;
  for (const { label, spec: opt } of optimizers32) {
    it(`MLP, ${label}`, async () => {
      requireTorch();
      const { init, initPath, batches, batchesPath } = await (prepared ??= prepare("MLP32", MLP, 5));
      expect(registerFastBackends()).toContain("wasm");
      setBackend("wasm");
      const model = buildModel(MLP, "float32");
      model.loadStateDict(new Map([...init].map(([k, t]) => [k, t.to("float32")])));
      model.train();
      const optimizer = makeOptimizer(model.parameters(), opt);
      const losses: number[] = [];
      for (const b of batches) {
        optimizer.zeroGrad();
        const loss = crossEntropy(model.forward(tensor(b.x, { shape: b.shape }).to("float32")), tensor(b.y));
        loss.backward();
        optimizer.step();
        losses.push(loss.item());
      }
      setBackend("js");
      const weightsOut = ex.path(`MLP32.${opt.name}.${opt.weight_decay}.final.safetensors`);
      const r = await runTorch<{ losses: number[]; load: { missing: string[]; unexpected: string[] } }>(
        ex.dir, "trajectory", { spec: MLP, init: initPath, batches: batchesPath, optimizer: opt, weights_out: weightsOut, dtype: "float32" }, `MLP32-${opt.name}-${opt.weight_decay}`,
      );
      expect(r.load).toEqual({ missing: [], unexpected: [] });
      const loss = differences(losses, r.losses);
      console.log(
        `parity float32 on wasm, MLP, ${label}: loss ${losses[0]!.toFixed(4)} → ${losses[STEPS - 1]!.toFixed(4)}; ` +
          `max relative loss difference ${loss.maxRel.toExponential(2)} (max absolute ${loss.maxAbs.toExponential(2)})`,
      );
      expect(losses[STEPS - 1]!).toBeLessThan(losses[0]! * 0.8);
      expect(loss.maxRel).toBeLessThanOrEqual(LOSS_TOL_32);
    });
  }
});
