/**
 * The wasm backend on two threads (a worker sharing its memory, wasm-threads.ts): the whole
 * property suite and the medium shapes against the reference with every GEMM and convolution
 * split (splitMin = 0), and a training script that must exit on its own.
 */
import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { Conv2dParams, View } from "../../src/kernels/backend.js";
import { referenceBackend } from "../../src/kernels/reference.js";
import { contiguousStrides } from "../../src/tensor/layout.js";
import { wasmBackendOn } from "../../src/kernels/wasm/backend.js";
import { BASE, GEMM, GEMM_NT, WasmRuntime } from "../../src/kernels/wasm/runtime.js";
import { ENTERED } from "../../src/kernels/wasm/threads.js";
import { backendSuite, expectClose } from "./suite.js";
import { mediumShapeSuite } from "./wasm-shapes.js";

const here = dirname(fileURLToPath(import.meta.url));
const rt = new WasmRuntime(2);
rt.splitMin = 0;
if (rt.pieces < 2) throw new Error("two threads are unavailable here (SharedArrayBuffer, process.getBuiltinModule)");
for (let i = 0; i < 1000 && !rt.ready; i++) await new Promise((r) => setTimeout(r, 5));
const wasm2 = { ...wasmBackendOn(rt), name: "wasm (2 threads)" };

describe("wasm on two threads", () => {
  it("starts its worker", () => {
    expect(rt.ready).toBe(true);
    expect(rt.pieces).toBeGreaterThan(1);
  });
});

backendSuite(wasm2, { rtol32: 2e-6, dot32: 1.2e-7 });
mediumShapeSuite(wasm2, "wasm on two threads");

describe("wasm on two threads: the worker", () => {
  // NOTE: the suites above are small, so the caller often runs every list before the worker wakes
  // up; these are large enough for both threads to take lists of one call. On a loaded machine the
  // worker may still miss a few calls (or have exited when idle and be restarting): repeat until it
  // took part, at least 3 times and at most 30.
  it("large matmuls and convolutions match the reference with both threads in them", () => {
    const view = (shape: number[], seed: number): View => ({
      storage: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + seed)),
      shape, strides: contiguousStrides(shape), offset: 0, dtype: "float32",
    });
    const t = (v: View): View => ({ ...v, shape: [v.shape[1]!, v.shape[0]!], strides: [v.strides[1]!, v.strides[0]!] });
    const close = (got: ArrayLike<number>, want: ArrayLike<number>, terms: number, what: string): void =>
      expectClose(got, want, 0, 2e-7 * terms * 4, what);
    const [M, K, N] = [301, 517, 263];
    const a = view([M, K], 1), b = view([K, N], 2), at = t(view([K, M], 3)), bt = t(view([N, K], 4));
    const p: Conv2dParams = { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };
    const x = view([9, 16, 20, 20], 5), w = view([30, 16, 3, 3], 6), gy = view([9, 30, 20, 20], 7);
    const cases: [string, () => ArrayLike<number>, ArrayLike<number>, number][] = [
      ["A @ B", () => wasm2.matmul(a, b), referenceBackend.matmul(a, b), K],
      ["A^T @ B", () => wasm2.matmul(at, b), referenceBackend.matmul(at, b), K],
      ["A @ B^T", () => wasm2.matmul(a, bt), referenceBackend.matmul(a, bt), K],
      ["conv2d", () => wasm2.conv2d(x, w, p), referenceBackend.conv2d(x, w, p), 144],
      ["input grad", () => wasm2.conv2dInputGrad(gy, w, x.shape, p), referenceBackend.conv2dInputGrad(gy, w, x.shape, p), 30 * 9],
      ["weight grad", () => wasm2.conv2dWeightGrad(x, gy, w.shape, p), referenceBackend.conv2dWeightGrad(x, gy, w.shape, p), 9 * 400],
    ];
    const before = rt.forked;
    for (let rep = 0; rep < 30 && (rep < 3 || rt.forked === before); rep++) for (const [what, got, want, terms] of cases) close(got(), want, terms, what);
    expect(rt.forked).toBeGreaterThan(before);
  }, 60_000);

  it("exits after 1 s idle and is started again by the next split call", async () => {
    const r2 = new WasmRuntime(2);
    r2.splitMin = 0;
    const b2 = wasmBackendOn(r2);
    for (let i = 0; i < 1000 && !r2.ready; i++) await new Promise((r) => setTimeout(r, 5));
    expect(r2.ready).toBe(true);
    await new Promise((r) => setTimeout(r, 1500));
    expect(r2.ready).toBe(false); // exited
    const a: View = { storage: Float32Array.from({ length: 64 * 64 }, (_, i) => (i % 7) - 3), shape: [64, 64], strides: [64, 1], offset: 0, dtype: "float32" };
    expectClose(b2.matmul(a, a), referenceBackend.matmul(a, a), 0, 1e-3, "matmul while the worker restarts");
    for (let i = 0; i < 1000 && !r2.ready; i++) await new Promise((r) => setTimeout(r, 5));
    expect(r2.ready).toBe(true);
  }, 20_000);

  it("does not keep a training script alive (SAFEGRAD_THREADS=2)", async () => {
    const tsx = pathToFileURL(resolve(here, "../../node_modules/tsx/dist/esm/index.mjs")).href;
    const r = await new Promise<{ code: number | null; out: string; exitAt: number }>((done) => {
      const child = spawn(process.execPath, ["--import", tsx, join(here, "fixtures/train-threads.ts")], {
        env: { ...process.env, SAFEGRAD_THREADS: "2", SAFEGRAD_BACKEND: "", NODE_NO_WARNINGS: "1" },
        stdio: ["ignore", "pipe", "inherit"],
        timeout: 60_000,
      });
      let out = "";
      child.stdout.on("data", (d: Buffer) => (out += d.toString()));
      child.on("exit", (code) => done({ code, out, exitAt: Date.now() }));
    });
    expect(r.code).toBe(0);
    const m = /backend=(\S+) forked=(\d+) done=(\d+)/.exec(r.out);
    expect(m, r.out).not.toBeNull();
    expect(m![1]).toBe("wasm");
    expect(Number(m![2])).toBeGreaterThan(0); // the worker did run
    // NOTE: the worker is unref'd, so the exit follows the last line at once; its own idle
    // timeout (1 s) is a second guard. Allow for a loaded machine.
    expect(r.exitAt - Number(m![3])).toBeLessThan(3000);
  }, 90_000);
});

describe("wasm on two threads: a worker that dies (issue 13, item 11)", () => {
  const sleep = (ms: number): Promise<unknown> => new Promise((r) => setTimeout(r, ms));
  const untilReady = async (r: WasmRuntime): Promise<void> => {
    for (let i = 0; i < 1000 && !r.ready; i++) await sleep(5);
  };
  const view = (shape: number[], seed: number): View => ({
    storage: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i * 0.37 + seed)),
    shape, strides: contiguousStrides(shape), offset: 0, dtype: "float32",
  });
  const t = (v: View): View => ({ ...v, shape: [v.shape[1]!, v.shape[0]!], strides: [v.strides[1]!, v.strides[0]!] });
  const bits = (a: ArrayLike<number>): number[] => Array.from(new Uint32Array(Float32Array.from(a).buffer));
  /** The kernels the calling thread runs (WasmRuntime.fns, private), to hook one. */
  const fnsOf = (r: WasmRuntime): ((...a: number[]) => unknown)[] => (r as unknown as { fns: ((...a: number[]) => unknown)[] }).fns;
  /** A stand-in for a kernel (exec passes it as many arguments as the kernel's arity). */
  const hook = (f: (...a: number[]) => unknown, before: () => void): ((...a: number[]) => unknown) =>
    Object.defineProperty((...a: number[]) => (before(), f(...a)), "length", { value: f.length });
  const state = (r: WasmRuntime): number => new Int32Array(r.memory.buffer, 0, 1)[0]!;
  const one = wasmBackendOn(new WasmRuntime(1));
  const [M, K, N] = [301, 517, 263];
  const a = view([M, K], 1), b = view([K, N], 2), bt = t(view([N, K], 4));
  const p: Conv2dParams = { stride: [1, 1], padding: [1, 1], dilation: [1, 1], groups: 1 };
  const x = view([9, 16, 20, 20], 5), w = view([30, 16, 3, 3], 6), gy = view([9, 30, 20, 20], 7);
  const cases: [string, (be: typeof one) => ArrayLike<number>][] = [
    ["A @ B", (be) => be.matmul(a, b)],
    ["A @ B^T", (be) => be.matmul(a, bt)],
    ["conv2d", (be) => be.conv2d(x, w, p)],
    ["weight grad", (be) => be.conv2dWeightGrad(x, gy, w.shape, p)],
  ];
  const want = cases.map(([, f]) => bits(f(one)));

  it("terminated in the middle of a job: the call completes with the one-thread bits, and the next split call starts a worker again", async () => {
    const r = new WasmRuntime(2);
    r.splitMin = 0;
    const b2 = wasmBackendOn(r);
    // terminate the worker from the calling thread's kernels, once the worker is in the job
    const fns = fnsOf(r);
    let armed = false;
    const kill = (): void => {
      if (armed && state(r) === ENTERED) {
        armed = false;
        r.terminateWorker();
      }
    };
    for (const i of [GEMM, GEMM_NT]) fns[i] = hook(fns[i]!, kill);
    let killed = 0;
    for (let rep = 0; rep < 40 && (killed < 4 || r.lostJobs < 2); rep++) {
      const c = rep % cases.length;
      await untilReady(r);
      expect(r.ready).toBe(true);
      armed = true;
      const got = cases[c]![1](b2);
      const hit = !armed;
      armed = false;
      expect(bits(got), `${cases[c]![0]}, repeat ${rep}`).toEqual(want[c]);
      if (!hit) continue; // the worker did not enter that job in time
      killed++;
      // the worker is gone: the next calls run on this thread, with the same bits
      expect(r.ready).toBe(false);
      expect(bits(cases[(c + 1) % cases.length]![1](b2))).toEqual(want[(c + 1) % cases.length]);
      await sleep(20); // its exit event: the next split call starts another
      expect(bits(cases[c]![1](b2))).toEqual(want[c]);
    }
    // killed in a job and the job run again (a worker that finished its lists just before the
    // termination took effect leaves a complete job: no rerun needed)
    expect(killed).toBeGreaterThanOrEqual(4);
    expect(r.lostJobs).toBeGreaterThanOrEqual(2);
    expect(r.base).toBe(BASE); // the dead workers have ended: arenas back at the start
    // back on two threads: a new worker takes part again
    await untilReady(r);
    expect(r.ready).toBe(true);
    const forked = r.forked;
    for (let rep = 0; rep < 30 && r.forked === forked; rep++) cases.forEach(([, f], i) => expect(bits(f(b2))).toEqual(want[i]));
    expect(r.forked).toBeGreaterThan(forked);
    expect(r.lostJobs).toBeLessThanOrEqual(killed);
  }, 90_000);

  it("killed in a job without a word to the runtime (its Node Worker terminated): stallMs later the job is run again, same bits", async () => {
    const r = new WasmRuntime(2);
    r.splitMin = 0;
    r.stallMs = 200;
    const b2 = wasmBackendOn(r);
    const fns = fnsOf(r);
    let armed = false;
    let raw: { terminate(): unknown } | null = null;
    const kill = (): void => {
      if (armed && state(r) === ENTERED) {
        armed = false;
        void raw!.terminate();
      }
    };
    for (const i of [GEMM, GEMM_NT]) fns[i] = hook(fns[i]!, kill);
    const lost = r.lostJobs;
    for (let rep = 0; rep < 30 && r.lostJobs === lost; rep++) {
      await untilReady(r);
      raw = (r as unknown as { worker: { terminate(): unknown } }).worker;
      armed = true;
      const t0 = Date.now();
      const got = cases[0]![1](b2);
      const hit = !armed;
      armed = false;
      expect(bits(got)).toEqual(want[0]);
      if (hit && r.lostJobs > lost) expect(Date.now() - t0).toBeGreaterThanOrEqual(200);
      await sleep(50); // if the worker was not in that job: its exit, and a restart
      cases[1]![1](b2);
    }
    expect(r.lostJobs).toBe(lost + 1);
    expect(bits(cases[2]![1](b2))).toEqual(want[2]);
    await sleep(50);
    cases[3]![1](b2);
    await untilReady(r);
    expect(r.ready).toBe(true);
    expect(r.base).toBe(BASE);
  }, 60_000);

  it("terminated while idle: the next call runs on this thread, the one after its exit on two again", async () => {
    const r = new WasmRuntime(2);
    r.splitMin = 0;
    const b2 = wasmBackendOn(r);
    await untilReady(r);
    const started = r.started;
    r.terminateWorker();
    expect(r.ready).toBe(false);
    expect(bits(cases[0]![1](b2))).toEqual(want[0]);
    expect(r.started).toBe(started); // not before the old one has ended
    await sleep(50);
    expect(bits(cases[1]![1](b2))).toEqual(want[1]);
    expect(r.started).toBe(started + 1);
    await untilReady(r);
    const forked = r.forked;
    for (let rep = 0; rep < 30 && r.forked === forked; rep++) expect(bits(cases[0]![1](b2))).toEqual(want[0]);
    expect(r.forked).toBeGreaterThan(forked);
    expect(r.lostJobs).toBe(0);
  }, 60_000);

  it("a kernel that throws in the worker: the job is not left half done, and after 3 such deaths in a row one warning and one thread", async () => {
    const r = new WasmRuntime(2);
    r.splitMin = 0;
    const b2 = wasmBackendOn(r);
    const warnings: string[] = [];
    r.onWarning = (m) => warnings.push(m);
    // the calling thread's GEMM does nothing (slowly, so the worker gets a list); the worker's real
    // one reads out of bounds and throws
    const fns = fnsOf(r);
    const gemm = fns[GEMM]!;
    const slow = Object.defineProperty((..._: number[]) => {
      for (const t0 = performance.now(); performance.now() - t0 < 2; );
    }, "length", { value: gemm.length });
    const bad = [GEMM, 0x7ff00000, 16, 16, 0x7ff00000, 32, 32, 0x7ff00000, 32, 4, 8, 1, 0];
    for (let death = 0; death < 3; death++) {
      await untilReady(r);
      expect(r.ready, `death ${death}`).toBe(true);
      // NOTE: in Node a worker's uncaught error is an 'error' event that fails the process unless
      // handled: this test handles it (the worker is a Node Worker here)
      (r as unknown as { worker: { on(e: string, f: () => void): void } }).worker.on("error", () => {});
      const lost = r.lostJobs;
      fns[GEMM] = slow;
      for (let rep = 0; rep < 20 && r.lostJobs === lost; rep++) {
        try {
          r.run(Array.from({ length: 8 }, () => bad));
        } catch (e) {
          expect(String(e)).toMatch(/the worker died in a job/);
        }
      }
      fns[GEMM] = gemm;
      expect(r.lostJobs).toBe(lost + 1);
      // results stay right while it ends, and once it has
      expect(bits(cases[0]![1](b2))).toEqual(want[0]);
      await sleep(50);
      expect(warnings).toHaveLength(death === 2 ? 1 : 0);
      expect(bits(cases[1]![1](b2))).toEqual(want[1]); // starts the next worker (not after the third death)
    }
    expect(warnings[0]).toMatch(/ended 3 times in a row; running on one thread/);
    const started = r.started;
    for (let rep = 0; rep < 3; rep++) cases.forEach(([, f], i) => expect(bits(f(b2))).toEqual(want[i]));
    await sleep(50);
    expect(r.started).toBe(started);
    expect(r.ready).toBe(false);
    expect(warnings).toHaveLength(1);
  }, 60_000);
});
