/**
 * Time of the static hazard audit (issue 17) on the digits MLP and CNN (as `npm start` trains
 * them), a batch of 64 images with pixels anywhere in [0, 16] and any class in 0..9:
 * `npx tsx bench/audit-digits.ts` (fast kernels, as Node loads safegrad) (the first audit of a process includes JIT warm-up; the median
 * of the next runs is printed).
 */
import { audit, crossEntropy } from "../src/index.node.js";
import { buildModel, defaultModelConfig, featureShape } from "../examples/digits-models.js";

for (const kind of ["mlp", "cnn"] as const) {
  const c = defaultModelConfig(kind);
  const model = buildModel(c);
  const x = { shape: [64, ...featureShape(c)], low: 0, high: 16 };
  const y = { shape: [64], low: 0, high: 9, dtype: "int32" as const };
  const fn = (xb: Parameters<typeof model.forward>[0], yb: Parameters<typeof model.forward>[0]) => crossEntropy(model.forward(xb), yb);
  const first = audit(fn, [x, y]);
  const times: number[] = [];
  const cpu: number[] = [];
  let last = first;
  for (let i = 0; i < 7; i++) {
    const t = performance.now();
    const c = process.cpuUsage();
    last = audit(fn, [x, y]);
    const dc = process.cpuUsage(c);
    times.push(performance.now() - t);
    cpu.push((dc.user + dc.system) / 1000);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  // NOTE: on a loaded machine the wall time is inflated; the CPU time of this process is printed too.
  console.log(`${kind}: ${last.findings.length} finding(s), ${last.ops} ops on bounds; first ${first.ms.toFixed(1)} ms, median ${times[3]!.toFixed(1)} ms wall, ${cpu[3]!.toFixed(1)} ms CPU`);
  if (last.findings.length) console.log(last.toString());
}
