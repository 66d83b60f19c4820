/**
 * `npm run doctor`: four short training runs that fail the classic ways. For each: the guard's
 * diagnosis of the failing run, then the same run with the safe layer or the right policy.
 */
import { registerFastBackends } from "../src/fast.js";
import { parseCli } from "../scripts/cli.js";
import { scenarios } from "./doctor-scenarios.js";
import { scenarioAudits } from "./doctor-audit.js";

const { values } = parseCli({
  command: "npm run doctor --",
  description: `Four short training runs that fail the classic ways (too high a learning rate in a deep net, a
hand-written L2 normalization of a zero vector, a hand-written std-pooling of a constant vector, a
hand-written MAE as sqrt((y - t)^2)). For each: the guard's diagnosis of the failing run, then the
same run with the safe layer or the right policy. Exits 1 unless all four are diagnosed and recovered.`,
  options: {
    audit: { type: "boolean", help: "first audit each model statically (audit(): interval analysis, no training) and show what it predicts" },
  },
});

registerFastBackends({ select: true });

let predicted = 0;
if (values.audit) {
  for (const [i, a] of scenarioAudits.entries()) {
    console.log(`\n${"=".repeat(100)}\n${i + 1}. ${a.name}: the static audit, before training\n${"=".repeat(100)}`);
    const { bad, safe } = a.run();
    console.log(bad.toString().replace(/^/gm, "  "));
    console.log(`  The safe version: ${safe.toString()}`);
    const hit = a.expectOp === null ? bad.findings.length === 0 : bad.findings.some((f) => f.op === a.expectOp);
    if (hit && safe.findings.length === 0) predicted++;
    console.log(a.expectOp === null ? "  (no static hazard: the step size is not in one pass; the guard below catches the divergence)" : `  Predicted: ${hit ? `op ${a.expectOp}` : "NOT the expected op " + a.expectOp}.`);
  }
  console.log(`\nThe audit predicted ${predicted} of ${scenarioAudits.length} (the learning rate one: no static hazard, as expected).`);
}

let ok = 0;
for (const [i, s] of scenarios.entries()) {
  console.log(`\n${"=".repeat(100)}\n${i + 1}. ${s.name}\n${"=".repeat(100)}`);
  const r = s.run();
  if (!r.report) {
    console.log("The failing run did not fail (unexpected).");
  } else {
    console.log(`The run failed at step ${r.failedAtStep}. The guard re-ran that batch with anomaly detection:\n`);
    console.log(r.report.toString().replace(/^/gm, "  "));
  }
  const first = r.safeLosses[0]!;
  const last = r.safeLosses[r.safeLosses.length - 1]!;
  const finite = r.safeLosses.every(Number.isFinite) || Number.isFinite(last);
  console.log(`\nThe safe version: loss ${first.toFixed(4)} -> ${last.toFixed(4)} over ${r.safeLosses.length} steps (${finite ? "finite" : "NOT finite"}).`);
  const named = r.report?.op === s.expectOp && r.report.hint?.hazard === s.expectHazard;
  console.log(named ? `Diagnosis: op ${s.expectOp}, hazard "${s.expectHazard}" (as expected).` : `Diagnosis differs from the expected op ${s.expectOp} / "${s.expectHazard}".`);
  if (named && Number.isFinite(last) && last < first) ok++;
}
console.log(`\n${ok} of ${scenarios.length} failures diagnosed and recovered.`);
process.exitCode = ok === scenarios.length && (!values.audit || predicted === scenarioAudits.length) ? 0 : 1;
