/**
 * The op-table gradcheck suite (float64 central differences) re-run on every fast backend, plus
 * a float32 cross-check of each sample's forward and gradients against the reference backend (the
 * float64 gradchecks exercise the js-fast code paths, since the wasm kernels are float32).
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DTypeError, getBackend, grad, gradcheck, setBackend, tensor } from "../../src/index.js";
import { registerFastBackends } from "../../src/kernels/fast.js";
import { isFloat } from "../../src/tensor/dtype.js";
import { compositeSamples, opSamples, type GradSample } from "../ops/samples.js";

const RUNS = Number(process.env.GRADCHECK_RUNS_FAST ?? 6);
const names = registerFastBackends();

/** Forward + gradients of a sample, with inputs cast to float32. */
function f32Eval(s: GradSample["arb"] extends fc.Arbitrary<infer T> ? T : never): { out: number[]; grads: (number[] | null)[] } {
  const xs = s.inputs.map((t) => {
    const c = isFloat(t.dtype) ? tensor(Float32Array.from(t.toTypedArray()), { shape: [...t.shape] }) : t;
    if (t.requiresGrad) c.requiresGrad_();
    return c;
  });
  const out = s.fn(...xs);
  const diff = xs.filter((t) => t.requiresGrad);
  let grads: (number[] | null)[] = [];
  if (isFloat(out.dtype) && out.numel > 0 && diff.length) {
    const w = tensor(Float32Array.from({ length: out.numel }, (_, i) => Math.cos(i + 1)), { shape: [...out.shape] });
    grads = grad([out], diff, { gradOutputs: [w], allowUnused: true }).map((g) => (g ? Array.from(g.toTypedArray()) : null));
  }
  return { out: Array.from(out.toTypedArray()), grads };
}

function close(a: number[], b: number[], what: string): void {
  expect(a.length, what).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if ((Number.isNaN(x) && Number.isNaN(y)) || x === y) continue;
    if (!(Math.abs(x - y) <= 1e-4 + 1e-4 * Math.abs(y))) expect.fail(`${what}: at ${i} ${x} vs ${y}`);
  }
}

for (const backend of names) {
  describe(`op table on backend "${backend}"`, () => {
    beforeAll(() => setBackend(backend));
    afterAll(() => setBackend("js"));

    for (const [name, sample] of [...Object.entries(opSamples), ...Object.entries(compositeSamples)]) {
      if (sample.kind === "custom") {
        it(`${name}: checked by hand`, () => sample.check());
        continue;
      }
      it(`${name}: float64 gradcheck`, () => {
        fc.assert(fc.property(sample.arb, ({ inputs, fn }) => void gradcheck(fn, inputs, { name })), { numRuns: RUNS });
      });
      it(`${name}: float32 forward and gradients match the reference backend`, () => {
        fc.assert(
          fc.property(sample.arb, (s) => {
            setBackend("js");
            let want: ReturnType<typeof f32Eval>;
            try {
              want = f32Eval(s);
            } catch (e) {
              // NOTE: a few samples close over float64 constants (permute, expand): not float32-able.
              if (e instanceof DTypeError) return;
              throw e;
            } finally {
              setBackend(backend);
            }
            const got = f32Eval(s);
            close(got.out, want.out, `${name} forward`);
            got.grads.forEach((g, i) => {
              const w = want.grads[i];
              if (g && w) close(g, w, `${name} grad ${i}`);
              else expect(g === null).toBe(w === null || w === undefined);
            });
          }),
          { numRuns: RUNS },
        );
      });
    }
  });
}

it("the backend is restored to the reference after the suite", () => {
  expect(getBackend().name).toBe("js");
});
