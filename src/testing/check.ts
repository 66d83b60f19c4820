/**
 * checkBackend: every Backend method a backend overrides, run on the kit's cases against the
 * reference backend, and the op-table gradchecks run with it active; the result is a report, not
 * an exception.
 */
import type { Backend, UnaryOp } from "../kernels/backend.js";
import { referenceBackend } from "../kernels/reference.js";
import { completeBackend, getBackend, listBackends, registerBackend, setBackend, type PartialBackend } from "../kernels/registry.js";
import type { DType } from "../tensor/dtype.js";
import { DEFAULT_TOLERANCES, compareArrays, ulpDistance, type KitTolerances } from "./compare.js";
import { buildCases, KIT_METHODS, unaryPairs, type KitCase, type KitMethod } from "./cases.js";
import { denseView, elementAt } from "./generate.js";
import { runGradchecks, type GradcheckCase, type GradcheckResult } from "./gradchecks.js";

/** Options of {@link checkBackend}. */
export interface CheckOptions {
  /** The seed of every random case (default 1): the same seed, the same cases. */
  seed?: number;
  /** Scale of the number of random cases per method (default 40, the project's own; 5 is a quick look). */
  runs?: number;
  /** Most elements of one random input (default 3000). */
  maxElements?: number;
  /** Per-dtype tolerances; the ones given replace the defaults ({@link DEFAULT_TOLERANCES}). */
  tolerances?: Partial<KitTolerances>;
  /** Check only these methods (default: every method the backend overrides). */
  methods?: readonly KitMethod[];
  /** Run the op-table gradchecks with the backend active (default true). */
  gradchecks?: boolean;
  /** Gradcheck cases to run instead of the kit's own (see `kitGradcheckCases`). */
  gradcheckCases?: readonly GradcheckCase[];
  /**
   * Unary or binary ops whose results may differ from the reference's in the sign of a zero (a
   * known difference, named so the report says it is allowed); every other elementwise result
   * must match the reference's 0 or -0 exactly. Sums and dot products never compare signs of zeros.
   */
  looseSignedZeros?: readonly string[];
  /** Keep at most this many failures per method in the report (default 5; the counts are always complete). */
  maxFailuresPerMethod?: number;
}

/** One input of a failed case, as the report shows it. */
export interface FailedInput {
  /** The parameter's name ("x", "a", "gy", ...). */
  name: string;
  /** Its dtype. */
  dtype: DType;
  /** Its shape. */
  shape: number[];
  /** Its strides (0: broadcast). */
  strides: number[];
  /** Its offset into the storage. */
  offset: number;
  /** Elementwise methods: the input's element at the failing position. */
  at?: number;
  /** Its elements in row-major order, when there are at most 64. */
  values?: number[];
}

/** A case whose output is out of bounds (or that threw). */
export interface CaseFailure {
  /** The Backend method. */
  method: KitMethod;
  /** The case, in words: op, dtype, layouts, shape. */
  case: string;
  /** The output's shape. */
  shape: number[];
  /** Largest |got - want| over the output (Infinity for NaN, infinity or length mismatches). */
  maxError: number;
  /** The worst element: flat index, multi-index, values, bound, and its error in ulps. */
  worst: { index: number; position: number[]; got: number; want: number; allowed: number; ulps: number; what: string } | null;
  /** Elements out of bounds. */
  mismatches: number;
  /** The inputs of the call. */
  inputs: FailedInput[];
  /** The message of what the backend threw, if it threw. */
  error?: string;
  /** The seed of the run. */
  seed: number;
  /** The case's position among its method's cases for this run: `replay` rebuilds it. */
  caseIndex: number;
  /** The call that rebuilds the case (`buildCases(...)[caseIndex]`); `.run(backend)` runs it again. */
  replay: string;
}

/** What one method's cases gave. */
export interface MethodSummary {
  /** The Backend method. */
  method: KitMethod;
  /** "checked", or why not: "not overridden" (it is the reference's), "absent" (a partial backend without it). */
  status: "checked" | "not overridden" | "absent";
  /** Cases run. */
  cases: number;
  /** Cases the backend declined (unary returned null, adamUpdate returned false): the reference ran them. */
  declined: number;
  /** Cases out of bounds or that threw. */
  failed: number;
  /** Largest |got - want| over the cases that passed and failed alike. */
  maxError: number;
  /** Largest distance in ulps (of the output's float dtype) over the cases that passed. */
  maxUlps: number;
  /** The ops checked (unary, binary, reduce: the ops the backend did not decline). */
  ops: string[];
}

/** What {@link checkBackend} returns. */
export interface BackendReport {
  /** The backend's name. */
  backend: string;
  /** No case failed and no gradcheck failed. */
  ok: boolean;
  /** The seed the cases came from. */
  seed: number;
  /** The tolerances used. */
  tolerances: KitTolerances;
  /** The ops allowed to differ in the sign of a zero (`looseSignedZeros`). */
  looseSignedZeros: string[];
  /** One entry per Backend method, in the kit's order. */
  methods: MethodSummary[];
  /** The failed cases (at most `maxFailuresPerMethod` per method), worst first within a method. */
  failures: CaseFailure[];
  /** The op-table gradchecks run with the backend active (empty when `gradchecks: false`). */
  gradchecks: GradcheckResult[];
}

type AnyBackend = Backend | PartialBackend;

/** Which methods `b` provides itself (not absent, not the reference's own function). */
function methodStatus(b: AnyBackend, m: KitMethod): MethodSummary["status"] {
  const f = (b as unknown as Record<string, unknown>)[m];
  if (typeof f !== "function") return "absent";
  if (b === referenceBackend) return "checked";
  return f === (referenceBackend as unknown as Record<string, unknown>)[m] ? "not overridden" : "checked";
}

/** Whether the backend's unary takes "op:dtype" on a small dense view (null: it leaves it to the reference). */
function probeUnary(b: Backend, pair: string): boolean {
  const [op, dtype] = pair.split(":") as [UnaryOp, DType];
  try {
    return b.unary(op, denseView([0.5, -1, 2], dtype), {}) !== null;
  } catch {
    return true; // let the cases report what it throws
  }
}

function position(shape: readonly number[], i: number): number[] {
  const p = new Array<number>(shape.length).fill(0);
  for (let d = shape.length - 1; d >= 0; d--) {
    p[d] = i % shape[d]!;
    i = Math.floor(i / shape[d]!);
  }
  return p;
}

function describeInputs(c: KitCase, index: number | null): FailedInput[] {
  return c.inputs.map(({ name, view: v }) => {
    const n = v.shape.reduce((a, b) => a * b, 1);
    const fi: FailedInput = { name, dtype: v.dtype, shape: [...v.shape], strides: [...v.strides], offset: v.offset };
    if (c.elementwise && index !== null && index >= 0 && index < n) fi.at = elementAt(v, index);
    if (n <= 64) fi.values = Array.from({ length: n }, (_, i) => elementAt(v, i));
    return fi;
  });
}

/**
 * Run the conformance kit on `backend`: every Backend method it overrides, on the kit's seeded
 * cases (random shapes with sizes 0, 1, primes and 257; contiguous, transposed, expanded and
 * narrowed layouts; broadcasts; ordinary and adversarial values: 0, -0, ±Infinity, NaN,
 * subnormals, huge values, ties), against the reference backend within per-dtype tolerances;
 * then (unless `gradchecks: false`) the op-table gradchecks with the backend (completed by the
 * reference for what it lacks) active. Never throws for a wrong result: the report lists every
 * failed case with its shape, its worst element, its error and its inputs. `formatReport` prints it.
 *
 * A partial backend (some methods, `unary` may return null) is checked on what it has; a backend
 * spread from the reference (`{ ...referenceBackend, name, unary }`) on what it changed.
 */
export function checkBackend(backend: AnyBackend, options: CheckOptions = {}): BackendReport {
  const seed = options.seed ?? 1;
  const tolerances: KitTolerances = { ...DEFAULT_TOLERANCES, ...options.tolerances };
  const keep = options.maxFailuresPerMethod ?? 5;
  const loose = options.looseSignedZeros ?? [];
  const statuses = new Map(KIT_METHODS.map((m) => [m, methodStatus(backend, m)] as const));
  const wanted = (options.methods ?? KIT_METHODS).filter((m) => statuses.get(m) === "checked");
  // a partial unary (null for the ops it leaves to the reference) gets its random cases on the ops it takes
  const unary = wanted.includes("unary") ? unaryPairs().filter((p) => probeUnary(backend as Backend, p)) : [];
  const runs = options.runs ?? 40;
  const cases = buildCases({ seed, runs, maxElements: options.maxElements ?? 3000, tolerances, methods: wanted, unary });
  const allPairs = unaryPairs().length;
  const replay = (m: KitMethod, i: number): string => {
    const extra = [runs === 40 ? "" : `, runs: ${runs}`, options.maxElements ? `, maxElements: ${options.maxElements}` : "", options.tolerances ? ", tolerances" : ""];
    const un = m === "unary" && unary.length < allPairs ? `, unary: ${JSON.stringify(unary)}` : "";
    return `buildCases({ seed: ${seed}, methods: ["${m}"]${extra.join("")}${un} })[${i}]`;
  };
  const b = backend as Backend;
  const summaries = new Map<KitMethod, MethodSummary>();
  for (const m of KIT_METHODS) {
    const status = options.methods && !options.methods.includes(m) && statuses.get(m) === "checked" ? "not overridden" : statuses.get(m)!;
    summaries.set(m, { method: m, status, cases: 0, declined: 0, failed: 0, maxError: 0, maxUlps: 0, ops: [] });
  }
  const failures = new Map<KitMethod, CaseFailure[]>();
  for (const c of cases) {
    const s = summaries.get(c.method)!;
    const caseIndex = s.cases++;
    let got: ArrayLike<number> | null;
    try {
      got = c.run(b);
    } catch (e) {
      s.failed++;
      s.maxError = Infinity;
      const f: CaseFailure = { method: c.method, case: c.label, shape: c.shape, maxError: Infinity, worst: null, mismatches: 0, inputs: describeInputs(c, null), error: e instanceof Error ? `${e.name}: ${e.message}` : String(e), seed, caseIndex, replay: replay(c.method, caseIndex) };
      (failures.get(c.method) ?? failures.set(c.method, []).get(c.method)!).push(f);
      continue;
    }
    if (got === null || got === undefined) {
      s.declined++;
      continue;
    }
    if (c.op && !s.ops.includes(c.op)) s.ops.push(c.op);
    const want = c.run(referenceBackend)!;
    const bounds = c.compare(want);
    if (c.op && loose.includes(c.op)) bounds.signedZeros = false;
    const mm = compareArrays(got, want, bounds);
    if (!mm) {
      // the largest error of a passing case, for the summary
      const od: DType | null = want instanceof Float32Array ? "float32" : want instanceof Float64Array ? "float64" : null;
      for (let i = 0; i < want.length; i++) {
        const d = Math.abs(got[i]! - want[i]!);
        if (!(d > 0)) continue;
        if (d > s.maxError) s.maxError = d;
        if (od) s.maxUlps = Math.max(s.maxUlps, ulpDistance(got[i]!, want[i]!, od));
      }
      continue;
    }
    s.failed++;
    s.maxError = Math.max(s.maxError, mm.maxError);
    const f: CaseFailure = {
      method: c.method,
      case: c.label,
      shape: c.shape,
      maxError: mm.maxError,
      mismatches: mm.count,
      worst: mm.index < 0 ? null : { index: mm.index, position: position(c.shape, mm.index), got: mm.got, want: mm.want, allowed: mm.allowed, ulps: ulpDistance(mm.got, mm.want, c.dtype), what: mm.what },
      inputs: describeInputs(c, mm.index),
      seed,
      caseIndex,
      replay: replay(c.method, caseIndex),
      ...(mm.index < 0 ? { error: mm.what } : {}),
    };
    (failures.get(c.method) ?? failures.set(c.method, []).get(c.method)!).push(f);
  }
  const kept: CaseFailure[] = [];
  for (const m of KIT_METHODS) {
    const fs = failures.get(m) ?? [];
    fs.sort((x, y) => (y.worst?.allowed === 0 ? 1 : 0) - (x.worst?.allowed === 0 ? 1 : 0) || y.maxError - x.maxError);
    kept.push(...fs.slice(0, keep));
  }
  const gradchecks = options.gradchecks === false ? [] : withBackend(backend, () => runGradchecks({ seed, ...(options.gradcheckCases ? { cases: options.gradcheckCases } : {}) }));
  const methods = KIT_METHODS.map((m) => summaries.get(m)!);
  return {
    backend: backend.name,
    ok: methods.every((m) => m.failed === 0) && gradchecks.every((g) => g.ok),
    seed,
    tolerances,
    looseSignedZeros: [...loose],
    methods,
    failures: kept,
    gradchecks,
  };
}

/**
 * Run `fn` with `backend` (completed by the reference for the methods it lacks) active, then put
 * back the backend that was active and the one registered under that name, if any (a backend
 * checked for the first time stays registered under its name).
 */
export function withBackend<T>(backend: AnyBackend, fn: () => T): T {
  const before = getBackend();
  // the backend registered under that name, if any (the same object: nothing to register)
  const registered = listBackends().includes(backend.name) ? setBackend(backend.name) : null;
  if (registered !== backend) {
    registerBackend({ ...completeBackend(backend), name: backend.name });
    setBackend(backend.name);
  }
  try {
    return fn();
  } finally {
    if (registered && registered !== backend) registerBackend(registered);
    setBackend(before.name);
  }
}
