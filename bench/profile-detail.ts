/**
 * Per-call-site breakdown of a W4/W5/W6 step (a diagnostic): like profile-ops.ts, but each backend
 * call is keyed by method, op, shapes and layout (dense "d", strided "s", broadcast "b"):
 *   npx tsx bench/profile-detail.ts [wasm|js-fast] [W6] [iters] [top]
 */
import * as sg from "../src/index.js";
import { registerFastBackends } from "../src/kernels/fast.js";
import { getBackend, registerBackend } from "../src/kernels/registry.js";
import type { Backend, View } from "../src/kernels/backend.js";
import { isDense } from "../src/kernels/js/runs.js";
import { buildCases } from "./common.js";
import { oursImpl } from "./impl-ours.js";

const [name = "wasm", wl = "W6", itersS = "3", topS = "40"] = process.argv.slice(2);
registerFastBackends();
sg.setBackend(name);
const inner = getBackend();
const acc = new Map<string, { ms: number; n: number }>();
const lay = (v: unknown): string => {
  const x = v as View;
  if (!x || typeof x !== "object" || !("shape" in x)) return typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v) : Array.isArray(v) ? `[${v.join(",")}]` : "";
  const kind = isDense(x.shape, x) ? "d" : x.strides.some((s, i) => s === 0 && x.shape[i]! > 1) ? "b" : "s";
  return `${kind}[${x.shape.join(",")}]`;
};
const wrapped: Record<string, unknown> = { name: `${name}-prof` };
for (const [k, v] of Object.entries(inner)) {
  if (typeof v !== "function") continue;
  wrapped[k] = (...args: unknown[]) => {
    const t = performance.now();
    const r = (v as (...a: unknown[]) => unknown).apply(inner, args);
    const dt = performance.now() - t;
    const key = `${k} ${args.map(lay).filter(Boolean).join(" ")}`;
    const e = acc.get(key) ?? { ms: 0, n: 0 };
    e.ms += dt;
    e.n++;
    acc.set(key, e);
    return r;
  };
}
registerBackend(wrapped as unknown as Backend);
const c = buildCases([wl], false)[0]!;
const run = await oursImpl(name).prepare(c);
sg.setBackend(`${name}-prof`);
for (let i = 0; i < 2; i++) await run();
acc.clear();
const iters = Number(itersS);
const t0 = performance.now();
for (let i = 0; i < iters; i++) await run();
const total = (performance.now() - t0) / iters;
let inK = 0;
for (const [, e] of acc) inK += e.ms / iters;
for (const [k, e] of [...acc.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, Number(topS))) {
  console.log(`${(e.ms / iters).toFixed(1).padStart(8)} ms ${(e.n / iters).toFixed(0).padStart(4)}x  ${k}`);
}
console.log(`kernels ${inK.toFixed(1)} ms, outside ${(total - inK).toFixed(1)} ms, step ${total.toFixed(1)} ms`);
