/**
 * The conformance report in words: one line per Backend method, then each failed case with its
 * worst element, the bound it missed, its error in ulps and the inputs that produced it, then
 * the gradchecks.
 */
import type { BackendReport, CaseFailure, FailedInput } from "./check.js";

const num = (x: number): string => (Object.is(x, -0) ? "-0" : Number.isInteger(x) || !Number.isFinite(x) ? String(x) : x.toPrecision(9).replace(/\.?0+(e|$)/, "$1"));
const err = (x: number): string => (x === 0 ? "0" : Number.isFinite(x) ? x.toExponential(2) : String(x));

function inputLine(i: FailedInput): string {
  const layout = `[${i.shape}] strides [${i.strides}] offset ${i.offset}`;
  const at = i.at !== undefined ? `${i.name} = ${num(i.at)} at that position; ` : "";
  const vals = i.values && i.at === undefined ? ` values [${i.values.map(num).join(", ")}]` : "";
  return `      ${at}${i.name}: ${i.dtype} ${layout}${vals}`;
}

/** One failed case, in a few lines. */
export function formatFailure(f: CaseFailure): string {
  const head = `  FAIL ${f.method} ${f.case}`;
  const lines = [head];
  if (f.error && !f.worst) lines.push(`      ${f.error}`);
  if (f.worst) {
    const w = f.worst;
    const ulps = Number.isFinite(w.ulps) && w.ulps > 0 ? `, ${w.ulps} ulp${w.ulps === 1 ? "" : "s"}` : "";
    lines.push(
      `      ${f.mismatches} element${f.mismatches === 1 ? "" : "s"} out of bounds; worst at [${w.position}] (flat ${w.index}): got ${num(w.got)}, want ${num(w.want)} (${w.what}${ulps})`,
    );
  }
  lines.push(...f.inputs.map(inputLine));
  lines.push(`      replay: ${f.replay}.run(backend)`);
  return lines.join("\n");
}

/**
 * The report as text: a header, one line per method (cases, failures, largest error), each
 * failure (worst element, bound, ulps, inputs), and the gradchecks.
 */
export function formatReport(r: BackendReport): string {
  const out: string[] = [];
  const failed = r.methods.reduce((a, m) => a + m.failed, 0);
  const cases = r.methods.reduce((a, m) => a + m.cases, 0);
  const gfail = r.gradchecks.filter((g) => !g.ok).length;
  out.push(`backend "${r.backend}" against the reference (seed ${r.seed}): ${r.ok ? "OK" : "FAILED"}, ${cases} cases, ${failed} failed; ${r.gradchecks.length} gradchecks, ${gfail} failed`);
  out.push(`tolerances: float32 rtol ${r.tolerances.float32.rtol} atol ${r.tolerances.float32.atol}; float64 rtol ${r.tolerances.float64.rtol} atol ${r.tolerances.float64.atol}; dot products ${r.tolerances.dot32} (float32), ${r.tolerances.dot64} (float64) per term`);
  if (r.looseSignedZeros.length) out.push(`allowed to differ in the sign of a zero: ${r.looseSignedZeros.join(", ")}`);
  out.push("");
  const w = Math.max(...r.methods.map((m) => m.method.length));
  for (const m of r.methods) {
    if (m.status !== "checked") {
      out.push(`  ${m.method.padEnd(w)}  ${m.status === "absent" ? "absent (the reference runs it)" : "not overridden (the reference's own)"}`);
      continue;
    }
    const checked = m.cases - m.declined;
    const declined = m.declined ? `, ${m.declined} declined (the reference ran them)` : "";
    const ops = m.ops.length && m.ops.length <= 6 ? ` [${m.ops.join(", ")}]` : m.ops.length ? ` [${m.ops.length} ops]` : "";
    const verdict = m.failed ? `${m.failed} FAILED` : checked ? "ok" : "nothing checked";
    out.push(`  ${m.method.padEnd(w)}  ${String(checked).padStart(4)} cases${ops}: ${verdict}, max |error| ${err(m.maxError)}${m.maxUlps ? ` (${m.maxUlps} ulp${m.maxUlps === 1 ? "" : "s"})` : ""}${declined}`);
  }
  if (r.failures.length) {
    out.push("", "failures (worst first, at most a few per method):");
    for (const f of r.failures) out.push(formatFailure(f));
  }
  if (r.gradchecks.length) {
    out.push("", `gradchecks with "${r.backend}" active (float64 central differences, and float32 forward and gradients against the reference):`);
    const bad = r.gradchecks.filter((g) => !g.ok);
    out.push(`  ${r.gradchecks.length - bad.length} of ${r.gradchecks.length} ops passed (${r.gradchecks.map((g) => g.name).join(", ")})`);
    for (const g of bad) out.push(`  FAIL ${g.name} (seed ${g.seed}): ${g.failure}`);
  }
  return out.join("\n");
}
