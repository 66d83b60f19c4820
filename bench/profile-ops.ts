/**
 * Per-backend-method time breakdown of W4 / W5 (a diagnostic, not part of the table):
 *   npx tsx bench/profile-ops.ts [wasm|js-fast] [W4|W5] [iters]   (--help)
 * Wraps every Backend method of the active backend with a timer; the rest of the step time
 * (autograd bookkeeping, the optimizer's JS loop) is reported as "outside kernels".
 */
import * as sg from "../src/index.js";
import { registerFastBackends } from "../src/kernels/fast.js";
import { getBackend, registerBackend } from "../src/kernels/registry.js";
import type { Backend } from "../src/kernels/backend.js";
import { parseCli, usageError } from "../scripts/cli.js";
import { buildCases, median } from "./common.js";
import { oursImpl } from "./impl-ours.js";

const { positionals } = parseCli({
  command: "npx tsx bench/profile-ops.ts",
  description: `Per-backend-method time breakdown of a W4 or W5 step: every Backend method of the active backend
is wrapped with a timer; the rest of the step (autograd bookkeeping, the optimizer) is reported as
"outside kernels".`,
  options: {},
  positionals: [
    { name: "BACKEND", help: "wasm, js-fast or js (default wasm)" },
    { name: "WORKLOAD", help: "W4, W5 or W6 (default W4)" },
    { name: "ITERS", help: "timed steps (default 30)" },
  ],
});
const [name = "wasm", wl = "W4", itersS = "30"] = positionals;
const iters = Number(itersS);
if (name !== "wasm" && name !== "js-fast" && name !== "js") usageError(`BACKEND: expected wasm, js-fast or js, got "${name}"`);
if (wl !== "W4" && wl !== "W5" && wl !== "W6") usageError(`WORKLOAD: expected W4, W5 or W6, got "${wl}"`);
if (!Number.isInteger(iters) || iters < 1) usageError(`ITERS: expected an integer >= 1, got "${itersS}"`);
registerFastBackends();
sg.setBackend(name);
const inner = getBackend();
const acc = new Map<string, { ms: number; n: number }>();
const wrapped: Record<string, unknown> = { name: `${name}-prof` };
for (const [k, v] of Object.entries(inner)) {
  if (typeof v !== "function") continue;
  wrapped[k] = (...args: unknown[]) => {
    const t = performance.now();
    const r = (v as (...a: unknown[]) => unknown).apply(inner, args);
    const dt = performance.now() - t;
    const key = k === "unary" || k === "binary" || k === "reduce" ? `${k}:${String(args[0])}` : k;
    const e = acc.get(key) ?? { ms: 0, n: 0 };
    e.ms += dt;
    e.n++;
    acc.set(key, e);
    return r;
  };
}
registerBackend(wrapped as unknown as Backend);

const impl = oursImpl(name);
const c = buildCases([wl], false)[0]!;
const run = await impl.prepare(c);
sg.setBackend(`${name}-prof`);
for (let i = 0; i < 5; i++) run();
acc.clear();
const times: number[] = [];
for (let i = 0; i < iters; i++) {
  const t = performance.now();
  run();
  times.push(performance.now() - t);
}
const total = times.reduce((a, b) => a + b, 0) / iters;
let inK = 0;
const rows = [...acc.entries()].sort((a, b) => b[1].ms - a[1].ms);
for (const [k, e] of rows) {
  inK += e.ms / iters;
  console.log(`${k.padEnd(24)} ${(e.ms / iters).toFixed(3).padStart(8)} ms/step  ${String(e.n / iters).padStart(5)} calls/step`);
}
console.log(`kernels total ${inK.toFixed(2)} ms; outside kernels ${(total - inK).toFixed(2)} ms; step mean ${total.toFixed(2)} median ${median(times).toFixed(2)} ms`);
