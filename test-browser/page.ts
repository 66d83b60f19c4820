/**
 * Runs inside Chromium (bundled by esbuild, see browser.test.ts): on every backend available in
 * the page, train a small MLP for 50 steps and plant NaNs for the guard to find. Results go back
 * to the test as plain JSON through `window.safegradBrowserSuite()`.
 */
import { Adam, AnomalyError, Generator, Linear, ReLU, Sequential, crossEntropy, detectAnomaly, getBackend, listBackends, manualSeed, noGrad, randn, setBackend, tensor, zeros, type Tensor } from "../src/index.browser.js";
import { registerFastBackends, simdSupported } from "../src/fast.js";
import { ready } from "../src/index.browser.js";

export interface TrainResult {
  backend: string;
  activeBackend: string;
  losses: number[];
  accuracy: number;
  ms: number;
}

export interface GuardResult {
  backend: string;
  name: string;
  reported: boolean;
  isAnomalyError: boolean;
  phase?: string;
  op?: string;
  created?: boolean;
  originKind?: string;
  text?: string;
}

export interface SuiteResult {
  userAgent: string;
  simd: boolean;
  /** The active backend after the first op with no call, and after `await ready()`. */
  defaultBackend: { firstOp: string; afterReady: string };
  registered: string[];
  backends: string[];
  train: TrainResult[];
  guard: GuardResult[];
}

/** Three Gaussian blobs in 8 dimensions, 32 points each: separable, so 50 steps of Adam fit it. */
function blobs(seed: number): { x: Tensor; y: Tensor } {
  const g = new Generator(seed);
  const centers = randn([3, 8], { generator: g }).mul(2);
  const n = 96;
  const labels = Int32Array.from({ length: n }, (_, i) => i % 3);
  const y = tensor(labels, { dtype: "int32" });
  const x = centers.indexSelect(0, y).add(randn([n, 8], { generator: g }).mul(0.7));
  return { x, y };
}

function train(backend: string): TrainResult {
  setBackend(backend);
  manualSeed(0);
  const { x, y } = blobs(1);
  const model = new Sequential(new Linear(8, 32), new ReLU(), new Linear(32, 3));
  const opt = new Adam(model.parameters(), { lr: 0.01 });
  const losses: number[] = [];
  const t0 = performance.now();
  for (let step = 0; step < 50; step++) {
    opt.zeroGrad();
    const loss = crossEntropy(model.forward(x), y);
    loss.backward();
    opt.step();
    losses.push(loss.item());
  }
  const ms = performance.now() - t0;
  const accuracy = noGrad(() => model.forward(x).argmax(1).eq(y).float().mean().item());
  return { backend, activeBackend: getBackend().name, losses, accuracy, ms };
}

function plant(backend: string, name: string, fn: () => void): GuardResult {
  setBackend(backend);
  try {
    detectAnomaly(fn);
    return { backend, name, reported: false, isAnomalyError: false };
  } catch (e) {
    if (!(e instanceof AnomalyError)) {
      return { backend, name, reported: true, isAnomalyError: false, text: e instanceof Error ? `${e.name}: ${e.message}` : String(e) };
    }
    const r = e.report;
    const result: GuardResult = { backend, name, reported: true, isAnomalyError: true, phase: r.phase, op: r.op, created: r.created, text: r.toString() };
    if (r.origin) result.originKind = r.origin.kind;
    return result;
  }
}

function guard(backend: string): GuardResult[] {
  return [
    // sqrt of a negative number: NaN born in the forward pass.
    plant(backend, "forward sqrt(-1)", () => tensor([4, -1], { requiresGrad: true }).sqrt().sum().backward()),
    // sqrt at 0 is finite, its derivative is not: +Inf born in the backward pass.
    plant(backend, "backward sqrt'(0)", () => tensor([0, 1], { requiresGrad: true }).sqrt().sum().backward()),
    // A NaN planted in a weight: reported at the matmul that first sees it, traced back to the weight.
    plant(backend, "NaN weight", () => {
      manualSeed(0);
      const model = new Sequential(new Linear(4, 8), new ReLU(), new Linear(8, 2));
      const w = model.parameters()[0]!;
      noGrad(() => w.storage.fill(Number.NaN, 1, 2));
      model.forward(zeros([2, 4]).add(1)).sum().backward();
    }),
  ];
}

export async function runSuite(): Promise<SuiteResult> {
  // Fast by default, no call: the first op runs on the reference backend and starts loading the
  // fast kernels (a separate chunk in a split bundle); ready() resolves once the best is active.
  tensor([1, 2]).add(1);
  const firstOp = getBackend().name;
  const afterReady = await ready();
  const registered = registerFastBackends();
  const backends = listBackends();
  const result: SuiteResult = { userAgent: navigator.userAgent, simd: simdSupported(), defaultBackend: { firstOp, afterReady }, registered, backends, train: [], guard: [] };
  for (const b of backends) {
    result.train.push(train(b));
    result.guard.push(...guard(b));
  }
  setBackend("js");
  return result;
}

(globalThis as unknown as { safegradBrowserSuite: () => Promise<SuiteResult> }).safegradBrowserSuite = runSuite;
