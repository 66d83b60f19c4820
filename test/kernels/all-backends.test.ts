/**
 * The op-table gradcheck suite (float64 central differences) re-run on every fast backend, plus
 * a float32 cross-check of each sample's forward and gradients against the reference backend (the
 * float64 gradchecks exercise the js-fast code paths, since the wasm kernels are float32), through
 * the conformance kit's runner (safegrad/testing's `runGradchecks`), fed with the op-table samples.
 */
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getBackend, setBackend } from "../../src/index.js";
import { registerFastBackends } from "../../src/kernels/fast.js";
import { runGradchecks, type GradcheckCase } from "../../src/testing.js";
import { compositeSamples, opSamples, type GradSample } from "../ops/samples.js";

const RUNS = Number(process.env.GRADCHECK_RUNS_FAST ?? 6);
const names = registerFastBackends();

/** A sample of the op table as a case of the kit's gradcheck runner: seed k gives fast-check's sample for seed k. */
function kitCase(name: string, sample: GradSample): GradcheckCase {
  return { name, samples: RUNS, make: (seed) => fc.sample(sample.arb, { seed, numRuns: 1 })[0]! };
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
      // the same runner as safegrad/testing's checkBackend: float64 gradcheck, then float32 forward
      // and gradients against the reference backend
      it(`${name}: float64 gradcheck, and float32 forward and gradients match the reference backend`, async () => {
        // NOTE: yield to the event loop first: back-to-back synchronous tests kept vitest's worker
        // from answering its RPC for over a minute on a loaded machine ("Timeout calling onTaskUpdate").
        await new Promise((r) => setImmediate(r));
        const [r] = runGradchecks({ cases: [kitCase(name, sample)] });
        expect(r!.ok, `${r!.failure} (seed ${r!.seed})`).toBe(true);
      });
    }
  });
}

it("the backend is restored to the reference after the suite", () => {
  expect(getBackend().name).toBe("js");
});
