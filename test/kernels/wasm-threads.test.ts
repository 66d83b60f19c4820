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
import { WasmRuntime } from "../../src/kernels/wasm/runtime.js";
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
