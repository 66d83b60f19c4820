/**
 * Cross-check against PyTorch: fixtures/ops.json is written by scripts/fixtures/ops.py with
 * Debian's python3-torch (run it again to refresh). This test only reads the fixture.
 */
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import * as sg from "../../src/index.js";
import { Tensor, grad, tensor } from "../../src/index.js";

interface TRec { data: (number | boolean | string)[]; shape: number[]; dtype: string; requires_grad: boolean }
type Arg = TRec | number | string | null | (TRec | number)[];
interface Case {
  name: string;
  fn: string;
  argnames: string[];
  args: Arg[];
  kwargs: Record<string, unknown>;
  out: TRec | null;
  outs: TRec[] | null;
  out_indices: TRec | null;
  grad_output: TRec | null;
  grad_outputs: TRec[] | null;
  grads: (TRec | TRec[] | null)[] | null;
}

const fixture = JSON.parse(readFileSync(new URL("../../fixtures/ops.json", import.meta.url), "utf8")) as { torch_version: string; cases: Case[] };

/** Cases that use a PyTorch feature safegrad does not have (yet). Adding support means removing a line here. */
const UNSUPPORTED: Record<string, string> = {
  add_alpha: "add(a, b, alpha) is not supported: write add(a, b.mul(alpha))",
};

const num = (v: number | boolean | string): number => (typeof v === "boolean" ? (v ? 1 : 0) : typeof v === "string" ? Number(v.replace("inf", "Infinity")) : v);

function toTensor(r: TRec): Tensor {
  const dtype = r.dtype === "int64" ? "int32" : (r.dtype as sg.DType);
  return tensor(r.data.map(num), { shape: r.shape, dtype, requiresGrad: r.requires_grad });
}

function convArg(a: Arg): unknown {
  if (a === null || typeof a === "number" || typeof a === "string") return a;
  if (Array.isArray(a)) return a.map((x) => (typeof x === "number" ? x : toTensor(x)));
  return toTensor(a);
}

const kw = (c: Case, k: string): any => {
  const v = c.kwargs[k];
  return typeof v === "string" && /inf|nan/.test(v) ? num(v) : v;
};

type Result = Tensor | Tensor[] | sg.ValuesIndices;

function dispatch(c: Case, args: any[]): Result {
  const [x, y, z, w] = args;
  const op = c.fn.split(".").pop()!;
  const dim = kw(c, "dim");
  const keepdim = kw(c, "keepdim") ?? false;
  switch (op) {
    case "neg": case "abs": case "sign": case "exp": case "log": case "log1p": case "expm1": case "sqrt":
    case "rsqrt": case "square": case "sin": case "cos": case "tanh": case "sigmoid": case "relu":
    case "atan": case "acos": case "asin":
      return (sg as any)[op](x);
    case "logsigmoid": return sg.logSigmoid(x);
    case "leaky_relu": return sg.leakyRelu(x, kw(c, "negative_slope"));
    case "gelu": return sg.gelu(x, { approximate: kw(c, "approximate") ?? "none" });
    case "softplus": return sg.softplus(x, { beta: kw(c, "beta") ?? 1, threshold: kw(c, "threshold") ?? 20 });
    case "clamp": return sg.clamp(x, kw(c, "min"), kw(c, "max"));
    case "add": case "sub": case "mul": case "div": case "pow": case "maximum": case "minimum":
    case "eq": case "ne": case "lt": case "le": case "gt": case "ge": case "atan2": case "hypot":
      return (sg as any)[op](x, y);
    case "where": return sg.where(x, y, z);
    case "sum": return sg.sum(x, dim, keepdim);
    case "mean": return sg.mean(x, dim, keepdim);
    case "amax": return sg.amax(x, dim, keepdim);
    case "amin": return sg.amin(x, dim, keepdim);
    case "max": return dim === undefined ? sg.max(x) : sg.max(x, dim, keepdim);
    case "min": return dim === undefined ? sg.min(x) : sg.min(x, dim, keepdim);
    case "argmax": return sg.argmax(x, dim ?? undefined, keepdim);
    case "argmin": return sg.argmin(x, dim ?? undefined, keepdim);
    case "var": return sg.variance(x, dim, { correction: kw(c, "correction"), keepdim });
    case "std": return sg.std(x, dim, { correction: kw(c, "correction"), keepdim });
    case "logsumexp": return sg.logsumexp(x, dim, keepdim);
    case "vector_norm": return sg.norm(x, kw(c, "ord") ?? 2, dim, keepdim);
    case "matmul": return sg.matmul(x, y);
    case "cdist": return sg.cdist(x, y, kw(c, "p") ?? 2);
    case "softmax": return sg.softmax(x, dim);
    case "log_softmax": return sg.logSoftmax(x, dim);
    case "cat": return sg.cat(x, dim ?? 0);
    case "stack": return sg.stack(x, dim ?? 0);
    case "split": return sg.split(x, kw(c, "split_size_or_sections"), dim ?? 0);
    case "chunk": return sg.chunk(x, kw(c, "chunks"), dim ?? 0);
    case "index_select": return sg.indexSelect(x, y, z);
    case "gather": return sg.gather(x, y, z);
    case "scatter_add": return sg.scatterAdd(x, y, z, w);
    case "pad": return sg.pad(x, kw(c, "pad"), kw(c, "value") ?? 0);
    case "one_hot": return sg.oneHot(x, kw(c, "num_classes") ?? -1);
    case "transpose": return sg.transpose(x, kw(c, "dim0"), kw(c, "dim1"));
    case "permute": return sg.permute(x, kw(c, "dims"));
    case "reshape": return sg.reshape(x, kw(c, "shape"));
    case "expand": return sg.expand(x, kw(c, "size"));
    case "squeeze": return sg.squeeze(x, dim);
    case "unsqueeze": return sg.unsqueeze(x, dim);
    case "narrow": return sg.narrow(x, dim, kw(c, "start"), kw(c, "length"));
    case "conv2d":
      return sg.conv2d(x, y, z, { stride: kw(c, "stride"), padding: kw(c, "padding"), dilation: kw(c, "dilation"), groups: kw(c, "groups") });
    case "max_pool2d":
      return sg.maxPool2d(x, kw(c, "kernel_size"), { stride: kw(c, "stride") ?? undefined, padding: kw(c, "padding"), dilation: kw(c, "dilation"), ceilMode: kw(c, "ceil_mode") });
    case "avg_pool2d":
      return sg.avgPool2d(x, kw(c, "kernel_size"), { stride: kw(c, "stride") ?? undefined, padding: kw(c, "padding"), countIncludePad: kw(c, "count_include_pad"), ceilMode: kw(c, "ceil_mode") });
    case "max_pool1d": {
      const o = { stride: kw(c, "stride") ?? undefined, padding: kw(c, "padding"), dilation: kw(c, "dilation"), ceilMode: kw(c, "ceil_mode") };
      if (!kw(c, "return_indices")) return sg.maxPool1d(x, kw(c, "kernel_size"), o);
      const { values, indices } = sg.maxPool1dWithIndices(x, kw(c, "kernel_size"), o);
      return [values, indices];
    }
    case "avg_pool1d":
      return sg.avgPool1d(x, kw(c, "kernel_size"), { stride: kw(c, "stride") ?? undefined, padding: kw(c, "padding"), countIncludePad: kw(c, "count_include_pad"), ceilMode: kw(c, "ceil_mode") });
    // Tensor idioms (issue 16)
    case "cumsum": return sg.cumsum(x, dim);
    case "cumprod": return sg.cumprod(x, dim);
    case "triu": return sg.triu(x, kw(c, "diagonal") ?? 0);
    case "tril": return sg.tril(x, kw(c, "diagonal") ?? 0);
    case "masked_fill": return sg.maskedFill(x, y, z);
    case "masked_select": return sg.maskedSelect(x, y);
    case "topk": return sg.topk(x, kw(c, "k"), dim ?? -1, { largest: kw(c, "largest") ?? true });
    case "sort": return sg.sort(x, dim ?? -1, kw(c, "descending") ?? false);
    case "argsort": return sg.argsort(x, dim ?? -1, kw(c, "descending") ?? false);
    case "flip": return sg.flip(x, kw(c, "dims"));
    case "roll": return sg.roll(x, kw(c, "shifts"), kw(c, "dims") ?? undefined);
    case "repeat": return sg.repeat(x, y);
    case "tile": return sg.tile(x, kw(c, "dims"));
    case "slice": return sg.slice(x, dim, kw(c, "start"), kw(c, "end"), kw(c, "step"));
    case "bmm": return sg.bmm(x, y);
    case "baddbmm": return sg.baddbmm(x, y, z, { beta: kw(c, "beta"), alpha: kw(c, "alpha") });
    case "einsum": return sg.einsum(x, ...args.slice(1));
  }
  throw new Error(`no mapping for ${c.fn}`);
}

function expectClose(got: Tensor, want: TRec, what: string, tol: number): void {
  expect(got.shape, `${what} shape`).toEqual(want.shape);
  const g = got.toTypedArray();
  want.data.forEach((w0, i) => {
    const w = num(w0);
    const v = g[i]!;
    if (Number.isNaN(w)) expect(Number.isNaN(v), `${what}[${i}] should be NaN, got ${v}`).toBe(true);
    else if (!Number.isFinite(w)) expect(v, `${what}[${i}]`).toBe(w);
    else expect(Math.abs(v - w), `${what}[${i}]: got ${v}, torch ${w}`).toBeLessThanOrEqual(tol * (1 + Math.abs(w)));
  });
}

describe(`PyTorch cross-check (fixture from torch ${fixture.torch_version})`, () => {
  it("has at least 40 cases, all mapped or listed as unsupported", () => {
    expect(fixture.cases.length).toBeGreaterThanOrEqual(40);
    for (const name of Object.keys(UNSUPPORTED)) expect(fixture.cases.some((c) => c.name === name), name).toBe(true);
  });

  for (const c of fixture.cases) {
    if (UNSUPPORTED[c.name]) {
      if (c.name === "add_alpha") continue; // no alpha parameter to pass: nothing to run
      it(`${c.name} is rejected with a typed error (${UNSUPPORTED[c.name]})`, () => {
        expect(() => dispatch(c, c.args.map(convArg))).toThrow(sg.ValueError);
      });
      continue;
    }
    it(c.name, () => {
      const args = c.args.map(convArg);
      const f32 = c.args.some((a) => a && typeof a === "object" && !Array.isArray(a) && a.dtype === "float32");
      const tol = f32 ? 1e-5 : 1e-9;
      const res = dispatch(c, args);
      const outputs: Tensor[] = [];
      if (Array.isArray(res)) {
        res.forEach((t, i) => expectClose(t, c.outs![i]!, `outs[${i}]`, tol));
        outputs.push(...res);
      } else if (res instanceof Tensor) {
        expectClose(res, c.out!, "out", tol);
        outputs.push(res);
      } else {
        expectClose(res.values, c.out!, "values", tol);
        expectClose(res.indices, c.out_indices!, "indices", 0);
        outputs.push(res.values);
      }
      if (!c.grads) return;
      // Gradients with respect to every tensor argument that requires grad (list args flattened).
      const inputs: Tensor[] = [];
      const expected: TRec[] = [];
      c.args.forEach((a, i) => {
        const g = c.grads![i];
        if (!g) return;
        const conv = args[i];
        if (Array.isArray(g)) (conv as Tensor[]).forEach((t, j) => { inputs.push(t); expected.push(g[j]!); });
        else { inputs.push(conv as Tensor); expected.push(g); }
      });
      const gradOuts = c.grad_outputs ? c.grad_outputs.map(toTensor) : [toTensor(c.grad_output!)];
      const used = outputs.map((o, i) => [o, gradOuts[i]!] as const).filter(([o]) => o.requiresGrad);
      const gs = grad(used.map(([o]) => o), inputs, { gradOutputs: used.map(([, g]) => g), allowUnused: true });
      gs.forEach((g, i) => {
        const want = expected[i]!;
        if (!g) {
          expect(want.data.every((v) => num(v) === 0), `grad ${i} is missing but torch's is non-zero`).toBe(true);
          return;
        }
        expectClose(g, want, `grad ${i}`, tol);
      });
    });
  }
});
