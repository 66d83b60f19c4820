/**
 * The conformance kit ("safegrad/testing") on deliberately wrong kernels: each mistake is caught
 * and the report says where (method, case, worst element, ulps, the input there); a partial
 * backend is checked on what it has; a throwing kernel is a failure, not an exception; the example
 * third-party backend (examples/backend-fast-exp.ts) passes, gradchecks included.
 */
import { describe, expect, it } from "vitest";
import { fastExpBackend } from "../../examples/backend-fast-exp.js";
import { getBackend, referenceBackend, registerBackend, setBackend, tensor, type Backend, type PartialBackend, type View } from "../../src/index.js";
import { buildCases, checkBackend, formatReport, KIT_METHODS, ulpDistance, type BackendReport, type GradcheckCase } from "../../src/testing.js";
import { opTable } from "../../src/ops/table.js";
import { uncoveredOps } from "../../src/testing/gradchecks.js";

const quick = { runs: 10, gradchecks: false } as const;

/** `x` moved by `k` float32 ulps away from zero. */
function nudge(x: number, k: number): number {
  const f = new Float32Array([x]);
  const i = new Int32Array(f.buffer);
  if (Number.isFinite(x) && x !== 0) i[0]! += k;
  return f[0]!;
}

const failuresOf = (r: BackendReport, method: string) => r.failures.filter((f) => f.method === method);

describe("checkBackend catches wrong kernels with a readable report", () => {
  it("an exp off by 40 ulps (the float32 tolerance is 2e-6, 17 to 34 ulps)", () => {
    const bad: PartialBackend = {
      name: "exp-40-ulps",
      unary(op, x, p) {
        const out = referenceBackend.unary(op, x, p);
        if (op === "exp" && x.dtype === "float32") for (let i = 0; i < out.length; i++) out[i] = nudge(out[i]!, 40);
        return out;
      },
    };
    const r = checkBackend(bad, quick);
    expect(r.ok).toBe(false);
    const fs = failuresOf(r, "unary");
    expect(fs.length).toBeGreaterThan(0);
    expect(fs.every((f) => f.case.startsWith("exp") && f.case.includes("float32"))).toBe(true);
    expect(fs[0]!.worst!.ulps).toBe(40);
    const unary = r.methods.find((m) => m.method === "unary")!;
    expect(unary.failed).toBeGreaterThan(0);
    // the other ops (and exp in float64) pass
    expect(unary.ops.length).toBeGreaterThan(20);
    const text = formatReport(r);
    expect(text).toContain("FAILED");
    expect(text).toMatch(/FAIL unary exp float32/);
    expect(text).toMatch(/got [-\d.e]+, want [-\d.e]+ \(\|error\| [\d.e-]+ > allowed [\d.e-]+, 40 ulps\)/);
    expect(text).toMatch(/x = [-\d.e]+ at that position/);
  });

  it("an exp off by 1 ulp passes, as the tolerance says", () => {
    const ok: PartialBackend = {
      name: "exp-1-ulp",
      unary: (op, x, p) => (op === "exp" && x.dtype === "float32" ? referenceBackend.unary(op, x, p).map((v) => nudge(v, 1)) : null),
    };
    const r = checkBackend(ok, quick);
    expect(r.ok, formatReport(r)).toBe(true);
    expect(r.methods.find((m) => m.method === "unary")!.maxUlps).toBe(1);
  });

  it("a unary that ignores strides (reads the storage as if contiguous) fails on strided views only", () => {
    const bad: PartialBackend = {
      name: "ignores-strides",
      unary(op, x, p) {
        if (op !== "neg") return null;
        const n = x.shape.reduce((a, b) => a * b, 1);
        const out = referenceBackend.unary(op, { ...x, strides: x.strides.map(() => 0), shape: [] }, p); // for the dtype
        const res = new (out.constructor as Float32ArrayConstructor)(n);
        for (let i = 0; i < n; i++) res[i] = -x.storage[x.offset + i]!;
        return res;
      },
    };
    const r = checkBackend(bad, { ...quick, runs: 20 });
    expect(r.ok).toBe(false);
    const fs = failuresOf(r, "unary");
    expect(fs.length).toBeGreaterThan(0);
    for (const f of fs) {
      expect(f.case).toMatch(/^neg .*(transposed|expanded|narrowed)/);
      expect(f.inputs[0]!.strides.join()).not.toBe(f.inputs[0]!.shape.map((_, d, s) => s.slice(d + 1).reduce((a, b) => a * b, 1)).join());
    }
    // the contiguous cases passed: fewer failures than neg cases
    const negCases = buildCases({ runs: 20, methods: ["unary"], unary: ["neg:float32", "neg:float64"] }).length;
    expect(r.methods.find((m) => m.method === "unary")!.failed).toBeLessThan(negCases);
    expect(formatReport(r)).toMatch(/x: float(32|64) \[[\d,]+\] strides \[[\d,]+\] offset \d+/);
  });

  it("a binary op that ignores a broadcast operand's stride 0 fails on expanded views", () => {
    const bad: PartialBackend = {
      name: "no-broadcast",
      binary(op, a, b, od) {
        if (!b.strides.includes(0)) return referenceBackend.binary(op, a, b, od);
        // the bug: a broadcast operand read as its storage repeated (right only for leading dims)
        const n = b.shape.reduce((x, y) => x * y, 1);
        const storage = b.storage.slice(0, 0);
        const rep = new (storage.constructor as Float64ArrayConstructor)(n);
        for (let i = 0; i < n; i++) rep[i] = b.storage[i % b.storage.length]!;
        const strides = b.shape.map((_, d) => b.shape.slice(d + 1).reduce((x, y) => x * y, 1));
        return referenceBackend.binary(op, a, { ...b, storage: rep, strides, offset: 0 }, od);
      },
    };
    const r = checkBackend(bad, { ...quick, runs: 20 });
    expect(r.ok).toBe(false);
    expect(failuresOf(r, "binary").every((f) => /\/expanded/.test(f.case))).toBe(true);
  });

  it("a relu wrong on -0 (x < 0 ? 0 : x keeps -0; the reference gives +0)", () => {
    const bad: PartialBackend = {
      name: "relu-minus-zero",
      unary(op, x) {
        if (op !== "relu") return null;
        const n = x.shape.reduce((a, b) => a * b, 1);
        const out = x.dtype === "float32" ? new Float32Array(n) : new Float64Array(n);
        const ref = referenceBackend.copy(x, x.dtype);
        for (let i = 0; i < n; i++) out[i] = ref[i]! < 0 ? 0 : ref[i]!;
        return out;
      },
    };
    const r = checkBackend(bad, quick);
    expect(r.ok).toBe(false);
    const f = failuresOf(r, "unary")[0]!;
    expect(f.worst!.what).toBe("-0 where the reference has 0");
    expect(Object.is(f.worst!.got, -0)).toBe(true);
    const text = formatReport(r);
    expect(text).toContain("got -0, want 0 (-0 where the reference has 0");
    expect(text).toContain("x = -0 at that position");
    // the replay line rebuilds the failing case
    expect(f.replay).toBe(`buildCases({ seed: 1, methods: ["unary"], runs: 10, unary: ["relu:float32","relu:float64"] })[${f.caseIndex}]`);
    expect(buildCases({ seed: 1, methods: ["unary"], runs: 10, unary: ["relu:float32", "relu:float64"] })[f.caseIndex]!.label).toBe(f.case);
  });

  it("a matmul a few ulps off passes; one off by 1e-4 relative fails with its bound", () => {
    const off = (eps: number): PartialBackend => ({
      name: `matmul-${eps}`,
      matmul: (a, b) => referenceBackend.matmul(a, b).map((v) => (a.dtype === "float32" ? v * (1 + eps) : v)),
    });
    const good = checkBackend(off(2e-7), { ...quick, methods: ["matmul"] });
    expect(good.ok, formatReport(good)).toBe(true);
    const bad = checkBackend(off(1e-3), { ...quick, methods: ["matmul"] });
    expect(bad.ok).toBe(false);
    expect(failuresOf(bad, "matmul")[0]!.worst!.allowed).toBeGreaterThan(0);
  });

  it("a kernel that throws is a failure in the report, not an exception", () => {
    const bad: PartialBackend = {
      name: "throws",
      reduce() {
        throw new RangeError("not implemented for this layout");
      },
    };
    const r = checkBackend(bad, quick);
    expect(r.ok).toBe(false);
    const f = failuresOf(r, "reduce")[0]!;
    expect(f.error).toBe("RangeError: not implemented for this layout");
    expect(formatReport(r)).toContain("RangeError: not implemented for this layout");
  });

  it("a wrong argmax on ties and NaN (the first index wins; NaN is the extreme)", () => {
    const bad: PartialBackend = {
      name: "last-tie",
      argReduce(op, x, axis) {
        // the last extreme instead of the first
        const flipped = { ...x, strides: x.strides.map((s, d) => (d === axis ? -s : s)), offset: x.offset + (x.shape[axis]! - 1) * x.strides[axis]! };
        return referenceBackend.argReduce(op, flipped, axis).map((i) => x.shape[axis]! - 1 - i);
      },
    };
    const r = checkBackend(bad, quick);
    expect(r.ok).toBe(false);
    expect(failuresOf(r, "argReduce").some((f) => f.case.includes("ties and NaN"))).toBe(true);
  });
});

describe("what checkBackend checks", () => {
  it("a partial backend on the methods it has; a spread of the reference on what it changed", () => {
    const partial = checkBackend({ name: "only-where", where: (c, a, b) => referenceBackend.where(c, a, b) }, quick);
    expect(partial.methods.filter((m) => m.status === "checked").map((m) => m.method)).toEqual(["where"]);
    expect(partial.methods.find((m) => m.method === "matmul")!.status).toBe("absent");
    const spread: Backend = { ...referenceBackend, name: "spread", softmax: (x, a, l) => referenceBackend.softmax(x, a, l) };
    const r = checkBackend(spread, quick);
    expect(r.methods.filter((m) => m.status === "checked").map((m) => m.method)).toEqual(["softmax"]);
    expect(r.methods.find((m) => m.method === "unary")!.status).toBe("not overridden");
    expect(r.ok).toBe(true);
  });

  it("the gradchecks run with the backend active, then the active and registered backends are put back", () => {
    const before = getBackend();
    const original: Backend = { ...referenceBackend, name: "kit-restore" };
    registerBackend(original);
    let seen = "";
    const probe: GradcheckCase = { name: "probe", samples: 1, float64Only: true, make: () => ({ inputs: [tensor([1], { dtype: "float64", requiresGrad: true })], fn: (x) => ((seen = getBackend().name), x.exp()) }) };
    const r = checkBackend({ name: "kit-restore", where: (c, a, b) => referenceBackend.where(c, a, b) }, { ...quick, gradchecks: true, gradcheckCases: [probe] });
    expect(r.gradchecks).toEqual([{ name: "probe", ok: true, samples: 1 }]);
    expect(seen).toBe("kit-restore");
    expect(getBackend()).toBe(before);
    expect(setBackend("kit-restore")).toBe(original);
    setBackend(before.name);
  });

  it("the reference itself passes every method", () => {
    const r = checkBackend(referenceBackend, { runs: 5, gradchecks: false });
    expect(r.ok, formatReport(r)).toBe(true);
    // all but the optional adamUpdate, which the reference does not have (the kit's loop is the optimizer's)
    expect(r.methods.filter((m) => m.status === "checked").map((m) => m.method)).toEqual(KIT_METHODS.filter((m) => m !== "adamUpdate"));
  });

  it("the same seed gives the same cases; another seed others", () => {
    const a = buildCases({ seed: 3, runs: 5 }).map((c) => c.label);
    expect(buildCases({ seed: 3, runs: 5 }).map((c) => c.label)).toEqual(a);
    expect(buildCases({ seed: 4, runs: 5 }).map((c) => c.label)).not.toEqual(a);
    // one method's cases do not depend on which others are checked
    expect(buildCases({ seed: 3, runs: 5, methods: ["matmul"] }).map((c) => c.label)).toEqual(
      buildCases({ seed: 3, runs: 5 }).filter((c) => c.method === "matmul").map((c) => c.label),
    );
  });

  it("the cases reach every layout, the adversarial values, sizes 0 and 257", () => {
    const cases = buildCases({ runs: 40 });
    for (const l of ["contiguous", "transposed", "expanded", "narrowed", "adversarial", "finite"]) expect(cases.some((c) => c.label.includes(l)), l).toBe(true);
    expect(cases.some((c) => c.shape.includes(0))).toBe(true);
    expect(cases.some((c) => c.shape.includes(257))).toBe(true);
    const values = new Set(cases.flatMap((c) => c.inputs.flatMap((i) => Array.from(i.view.storage as ArrayLike<number>).map((v) => (Object.is(v, -0) ? "-0" : String(v))))));
    for (const v of ["NaN", "Infinity", "-Infinity", "-0", "1e+30", "2.5", "-2.5"]) expect(values.has(v), v).toBe(true);
    // subnormals of both dtypes
    expect([...values].some((x) => Math.abs(Number(x)) > 0 && Math.abs(Number(x)) < 1.1754943508222875e-38)).toBe(true);
    expect([...values].some((x) => Math.abs(Number(x)) > 0 && Math.abs(Number(x)) < 2.2250738585072014e-308)).toBe(true);
  });

  it("ulpDistance", () => {
    expect(ulpDistance(1, nudge(1, 3), "float32")).toBe(3);
    expect(ulpDistance(-0, 0, "float32")).toBe(0);
    expect(ulpDistance(-1e-45, 1e-45, "float32")).toBe(2);
    expect(ulpDistance(1, 1 + 2 ** -52, "float64")).toBe(1);
    expect(ulpDistance(NaN, 1, "float64")).toBe(Infinity);
  });

  it("its gradcheck cases name op-table ops (the rest run no kernel of their own)", () => {
    const all = [...opTable.keys()];
    const missing = uncoveredOps();
    expect(missing.length).toBeLessThan(all.length);
    for (const op of ["exp", "add", "sum", "softmax", "matmul", "conv2d", "gather", "scatterAdd", "where"]) expect(missing).not.toContain(op);
  });
});

describe("the example third-party backend (examples/backend-fast-exp.ts)", () => {
  it("passes the kit, within its stated 1 ulp, with the op-table gradchecks", () => {
    const r = checkBackend(fastExpBackend);
    expect(r.ok, formatReport(r)).toBe(true);
    const unary = r.methods.find((m) => m.method === "unary")!;
    expect(unary.ops).toEqual(["exp"]);
    expect(unary.cases - unary.declined).toBeGreaterThan(100);
    expect(unary.maxUlps).toBeLessThanOrEqual(1);
    expect(r.gradchecks.length).toBeGreaterThan(40);
    expect(r.gradchecks.every((g) => g.ok)).toBe(true);
  }, 120_000);
});
