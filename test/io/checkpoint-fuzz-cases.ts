/**
 * The checkpoint fuzzer behind checkpoint-fuzz.test.ts (which runs it in a worker thread, so a
 * case that hangs fails the test instead of hanging it).
 *
 * Base files are real checkpoints from serializeCheckpoint (a model, an Adam optimizer with and
 * without amsgrad, a scheduler, two generators, step and extra). Each case applies 1 to 3
 * mutations: tensor names (`__proto__`, `constructor`, `prototype` and other odd segments inserted
 * or substituted at every path level), the metadata JSON (values replaced, keys deleted or added,
 * forbidden keys written into the text, truncations), values (NaN, ±Inf, huge, -0 in tensors; zero,
 * NaN, out-of-range generator words; poisoned scheduler and optimizer scalars), dtypes and lengths,
 * byte offsets, header bytes and the file's length. The file is written by a raw writer here (not
 * `serialize`, which refuses some of these), then restored into live parts.
 *
 * Every case must either throw a SafegradError subclass, leaving every part exactly as it was, or
 * succeed with the parts holding what the file says; afterwards Object.prototype, Array.prototype
 * and Object.assign must be untouched. Violations are collected (not thrown), with the case's
 * mutations, so the test can print them.
 */
import { parentPort, workerData } from "node:worker_threads";
import {
  Adam, CosineAnnealingLR, Generator, Linear, SafegradError, Sequential, StepLR, Tanh, deserialize, restoreCheckpoint, serializeCheckpoint, tensor,
  type Module, type TensorRecord,
} from "../../src/index.js";

const META = "safegrad.checkpoint";

/** mulberry32: a small seeded generator, independent of the code under test. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(next() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}
type Rng = ReturnType<typeof rng>;

// ---------------------------------------------------------------------------------------------
// Live parts and base checkpoints

interface Parts {
  model: Module;
  opt: Adam;
  sched: StepLR | CosineAnnealingLR;
  gens: Record<string, Generator>;
}

function makeParts(seed: number, amsgrad: boolean): Parts {
  const g = new Generator(seed);
  const model = new Sequential(new Linear(3, 4, { generator: g }), new Tanh(), new Linear(4, 2, { generator: g }));
  const opt = new Adam(model.parameters(), { lr: 0.01, amsgrad });
  const sched = amsgrad ? new CosineAnnealingLR(opt, { tMax: 10 }) : new StepLR(opt, { stepSize: 2, gamma: 0.5 });
  for (let i = 0; i < 2; i++) {
    opt.zeroGrad();
    model.forward(tensor([[1, 2, 3 + i]])).sum().backward();
    opt.step();
    sched.step();
  }
  const loader = new Generator(seed + 100);
  g.normal(); // a cached second normal
  return { model, opt, sched, gens: { g, loader } };
}

const partsOf = (p: Parts) => ({ model: p.model, optimizer: p.opt, scheduler: p.sched, rng: p.gens });

/** Everything a restore can change, as text (typed arrays as number lists; NaN kept apart from null). */
function snapshot(p: Parts): string {
  return JSON.stringify(
    {
      model: [...p.model.stateDict()].map(([k, t]) => [k, t.dtype, Array.from(t.storage as Float32Array, String)]),
      opt: p.opt.stateDict(),
      lrs: p.opt.paramGroups.map((g) => String(g.lr)),
      sched: p.sched.stateDict(),
      gens: Object.values(p.gens).map((g) => g.getState().map(String)),
    },
    (_, v) => (ArrayBuffer.isView(v) ? Array.from(v as Float32Array, String) : typeof v === "number" ? String(v) : v),
  );
}

/** A checkpoint taken apart: tensors (in order) and the parsed metadata. */
interface Parsed {
  tensors: [string, TensorRecord][];
  meta: any;
}

function parse(bytes: Uint8Array): Parsed {
  const f = deserialize(bytes);
  return { tensors: Object.entries(f.tensors), meta: JSON.parse(f.metadata[META]!) };
}

// ---------------------------------------------------------------------------------------------
// A raw writer: any names (even "__proto__"), any offsets, metadata text as given

const FILE_DTYPE: Record<string, string> = { float32: "F32", float64: "F64", int32: "I32", bool: "BOOL" };

interface RawEntry {
  name: string;
  dtype: string;
  shape: unknown;
  offsets?: unknown;
  bytes: Uint8Array;
}

function write(entries: RawEntry[], metaText: string | null): Uint8Array {
  const parts: string[] = [];
  if (metaText !== null) parts.push(`"__metadata__":${JSON.stringify({ [META]: metaText })}`);
  let at = 0;
  for (const e of entries) {
    const offsets = e.offsets ?? [at, at + e.bytes.length];
    parts.push(`${JSON.stringify(e.name)}:${JSON.stringify({ dtype: e.dtype, shape: e.shape, data_offsets: offsets })}`);
    at += e.bytes.length;
  }
  const header = new TextEncoder().encode(`{${parts.join(",")}}`);
  const out = new Uint8Array(8 + header.length + at);
  new DataView(out.buffer).setBigUint64(0, BigInt(header.length), true);
  out.set(header, 8);
  let p = 8 + header.length;
  for (const e of entries) {
    out.set(e.bytes, p);
    p += e.bytes.length;
  }
  return out;
}

const bytesOf = (a: ArrayBufferView): Uint8Array => new Uint8Array(a.buffer.slice(a.byteOffset, a.byteOffset + a.byteLength));

// ---------------------------------------------------------------------------------------------
// Mutations

const ODD_SEGMENTS = ["__proto__", "constructor", "prototype", "toString", "valueOf", "hasOwnProperty", "__defineGetter__", "", "0", "1", "3", "99", "-1", "01", "1e2", " ", "NaN"];
const FORBIDDEN = ["__proto__", "constructor", "prototype"];
const POISON = [
  null, true, false, 0, -0, -1, 0.5, 1.5, 1e308, -1e308, 2 ** 32, 2 ** 53, -(2 ** 31), "", "x", "0", [], {}, [0, 0, 0, 0, null], [0, 0, 0, 0, 0],
  [1, 2, 3], [null], [-5], [1e308], [0.01, 0.01], { a: 1 },
];
const VALUE_POISON = [NaN, Infinity, -Infinity, 3.4e38, -3.4e38, 1e-45, -0, 0, 1e30];

interface Case {
  entries: RawEntry[];
  meta: any;
  metaText: string | null; // set once the text itself is mutated
  bytesMutation?: (b: Uint8Array) => Uint8Array;
  log: string[];
}

/** Paths to every value in a JSON tree, the root included (as [] ). */
function paths(v: unknown, at: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  out.push(at);
  if (Array.isArray(v)) v.forEach((x, i) => paths(x, [...at, i], out));
  else if (typeof v === "object" && v !== null) for (const k of Object.keys(v)) paths((v as any)[k], [...at, k], out);
  return out;
}

function getAt(root: any, path: (string | number)[]): any {
  return path.reduce((o, k) => (o == null ? undefined : o[k]), root);
}

const NAME_MUTATIONS = ["insert", "replace", "append", "forbidden-everywhere", "prefix", "delete", "duplicate"] as const;

function mutateName(c: Case, r: Rng): void {
  if (c.entries.length === 0) return;
  const i = r.int(c.entries.length);
  const e = c.entries[i]!;
  const segs = e.name.split("/");
  const kind = r.pick(NAME_MUTATIONS);
  const seg = r.next() < 0.6 ? r.pick(FORBIDDEN) : r.pick(ODD_SEGMENTS);
  const k = r.int(segs.length + 1);
  switch (kind) {
    case "insert": segs.splice(k, 0, seg); break;
    case "replace": segs[Math.min(k, segs.length - 1)] = seg; break;
    case "append": segs.push(seg); break;
    case "forbidden-everywhere": for (let j = 0; j < segs.length; j++) segs[j] = r.pick(FORBIDDEN); break;
    case "prefix": segs[0] = r.pick(["model", "optimizer", "rng", "scheduler", "Model", "", "__proto__"]); break;
    case "delete": c.entries.splice(i, 1); c.log.push(`delete tensor ${e.name}`); return;
    case "duplicate": c.entries.push({ ...e, name: `${e.name}${r.pick(["", "/", "/__proto__", ".x"])}` }); c.log.push(`duplicate tensor ${e.name}`); return;
  }
  const name = segs.join("/");
  c.log.push(`rename ${e.name} -> ${name}`);
  e.name = name;
}

function mutateJson(c: Case, r: Rng): void {
  const all = paths(c.meta);
  const path = r.pick(all);
  const parent = path.length ? getAt(c.meta, path.slice(0, -1)) : undefined;
  const key = path[path.length - 1];
  const op = r.int(4);
  if (op === 0 || path.length === 0) {
    const v = structuredClone(r.pick(POISON));
    if (path.length === 0) c.meta = v;
    else parent[key!] = v;
    c.log.push(`json ${path.join(".") || "<root>"} = ${JSON.stringify(v)}`);
  } else if (op === 1) {
    if (Array.isArray(parent)) parent.splice(key as number, 1);
    else delete parent[key!];
    c.log.push(`json delete ${path.join(".")}`);
  } else {
    const target = getAt(c.meta, path);
    if (typeof target !== "object" || target === null) return mutateJson(c, r);
    const k = op === 2 ? r.pick(FORBIDDEN) : r.pick(["x", "0", "99", "lr", "step", "last_epoch", "base_lrs", "state", "param_groups"]);
    const v = structuredClone(r.pick(POISON));
    // NOTE: defineProperty, so "__proto__" becomes an own key that JSON.stringify writes out.
    if (Array.isArray(target)) target.push(v);
    else Object.defineProperty(target, k, { value: v, enumerable: true, writable: true, configurable: true });
    c.log.push(`json add ${path.join(".")}.${k} = ${JSON.stringify(v)}`);
  }
}

/** Poisons a value where it hurts: generator words, scheduler and optimizer scalars. */
function mutateState(c: Case, r: Rng): void {
  const m = c.meta;
  if (typeof m !== "object" || m === null) return;
  const choice = r.int(6);
  const set = (what: string, f: () => void) => {
    try {
      f();
      c.log.push(what);
    } catch {
      // that part is already gone (an earlier mutation)
    }
  };
  const name = r.pick(["g", "loader"]);
  const poisonWord = () => r.pick([0, -1, 1.5, 2 ** 32, 2 ** 40, null, "1", 1e308]);
  if (choice === 0) set(`rng.${name} = zeros`, () => void (m.rng[name] = [0, 0, 0, 0, r.pick([null, 0, 0.5])]));
  else if (choice === 1) set(`rng.${name} word poisoned`, () => void (m.rng[name][r.int(5)] = poisonWord()));
  else if (choice === 2) set(`scheduler poisoned`, () => void (m.scheduler[r.pick(["last_epoch", "base_lrs", "_last_lr", "T_max", "eta_min", "step_size", "gamma"])] = structuredClone(r.pick(POISON))));
  else if (choice === 3) set(`optimizer step poisoned`, () => void (m.optimizer.state[String(r.int(5))].step = r.pick([-1, 1e308, null, "x", 0.5, 2 ** 53])));
  else if (choice === 4) set(`param_groups poisoned`, () => void (m.optimizer.param_groups[0][r.pick(["lr", "betas", "eps", "weight_decay", "params", "amsgrad", "initial_lr"])] = structuredClone(r.pick(POISON))));
  else set(`step poisoned`, () => void (m.step = r.pick([null, -1, 1e308, "3", [], 0.5])));
}

function mutateValues(c: Case, r: Rng): void {
  if (c.entries.length === 0) return;
  const e = r.pick(c.entries);
  const kind = r.int(4);
  if (kind === 0 && (e.dtype === "F32" || e.dtype === "F64")) {
    const a = e.dtype === "F32" ? new Float32Array(e.bytes.buffer.slice(0)) : new Float64Array(e.bytes.buffer.slice(0));
    const v = r.pick(VALUE_POISON);
    if (a.length) a[r.int(a.length)] = v;
    e.bytes = bytesOf(a);
    c.log.push(`${e.name}[?] = ${v}`);
  } else if (kind === 1) {
    // another dtype with the same element count (F64 <-> F32 <-> I32 <-> BOOL)
    const size = (d: string): number => ({ F32: 4, F64: 8, I32: 4, BOOL: 1 })[d] ?? 1;
    const n = Math.floor(e.bytes.length / size(e.dtype));
    const to = r.pick(["F32", "F64", "I32", "BOOL"]);
    e.shape = [n];
    e.dtype = to;
    e.bytes = new Uint8Array(n * size(to)).map(() => (to === "BOOL" ? r.int(2) : r.int(256)));
    c.log.push(`${e.name} as ${to}`);
  } else if (kind === 2) {
    // a wrong length (shape kept: the reader refuses the size) or a consistent new shape
    const drop = r.int(2) === 0;
    e.bytes = drop ? e.bytes.slice(0, Math.max(0, e.bytes.length - 4)) : new Uint8Array([...e.bytes, 0, 0, 0, 0]);
    if (r.int(2) === 0) e.shape = [e.bytes.length / ({ F32: 4, F64: 8, I32: 4, BOOL: 1 }[e.dtype] ?? 1)];
    c.log.push(`${e.name} length ${e.bytes.length}, shape ${JSON.stringify(e.shape)}`);
  } else {
    e.shape = structuredClone(r.pick([[], [0], [1, 1], [-1], [2.5], ["4"], null, [2 ** 53], [4, 0]]));
    c.log.push(`${e.name} shape ${JSON.stringify(e.shape)}`);
  }
}

function mutateOffsets(c: Case, r: Rng): void {
  if (c.entries.length === 0) return;
  let at = 0;
  const starts = c.entries.map((e) => {
    const s = at;
    at += e.bytes.length;
    return s;
  });
  const i = r.int(c.entries.length);
  const e = c.entries[i]!;
  const [b, end] = [starts[i]!, starts[i]! + e.bytes.length];
  const delta = r.pick([-8, -4, -1, 1, 4, 8, 2 ** 32, -(2 ** 53)]);
  e.offsets = r.pick([[b + delta, end + delta], [b, end + delta], [b + delta, end], [end, b], [b], "x", [b, end, 0], [0, at]]);
  c.log.push(`${e.name} offsets ${JSON.stringify(e.offsets)}`);
}

function mutateText(c: Case, r: Rng): void {
  const text = c.metaText ?? JSON.stringify(c.meta);
  const kind = r.int(4);
  let out = text;
  if (kind === 0) {
    // a forbidden key as the first key of a random object
    const opens = [...text.matchAll(/\{(?=")/g)].map((m) => m.index!);
    const at = opens.length ? r.pick(opens) : 0;
    out = `${text.slice(0, at + 1)}"${r.pick(FORBIDDEN)}":${r.pick(['{"isAdmin":true}', "[1]", "1", '{"assign":1}'])}${opens.length ? "," : ""}${text.slice(at + 1)}`;
  } else if (kind === 1) out = text.slice(0, r.int(text.length + 1));
  else if (kind === 2) {
    const nums = [...text.matchAll(/-?\d+(\.\d+)?(e-?\d+)?/g)];
    if (nums.length) {
      const m = r.pick(nums);
      out = `${text.slice(0, m.index)}${r.pick(["0", "-1", "1e308", "-1e308", "4294967296", "1.5", "null", '"x"', "[]", "{}"])}${text.slice(m.index! + m[0].length)}`;
    }
  } else out = r.pick(["", "null", "[]", "{}", "1", '"x"', `{"version":1}`, `{"version":"1"}`, `{"version":1,"rng":{"g":[0,0,0,0,null]}}`]);
  c.metaText = out;
  c.log.push(`text ${kind}: ${out.slice(0, 60)}`);
}

function mutateBytes(c: Case, r: Rng): void {
  const kind = r.int(4);
  const pos = r.next();
  const bit = r.int(8);
  const cut = r.next();
  c.bytesMutation = (b) => {
    const out = b.slice();
    if (kind === 0 && out.length > 8) out[8 + Math.floor(pos * (out.length - 8))]! ^= 1 << bit; // the header or data
    else if (kind === 1) return b.slice(0, Math.floor(cut * b.length)); // truncated
    else if (kind === 2) new DataView(out.buffer).setBigUint64(0, BigInt(Math.floor(cut * b.length * 2)), true); // header length
    else return new Uint8Array([...b, ...new Uint8Array(1 + Math.floor(cut * 16))]); // trailing bytes
    return out;
  };
  c.log.push(`bytes ${["flip", "truncate", "header length", "append"][kind]}`);
}

const MUTATORS = [mutateName, mutateName, mutateJson, mutateJson, mutateState, mutateState, mutateValues, mutateOffsets, mutateText, mutateBytes];

// ---------------------------------------------------------------------------------------------
// The run

export interface FuzzSummary {
  cases: number;
  restored: number;
  refused: Record<string, number>;
  failures: string[];
  maxCaseMs: number;
  totalMs: number;
}

/** What the parts must hold after a successful restore of `bytes`. */
function checkRestored(bytes: Uint8Array, p: Parts, result: { step?: number; extra: unknown }): string | undefined {
  const file = deserialize(bytes);
  const meta = JSON.parse(file.metadata[META]!);
  const sd = p.model.stateDict();
  for (const [name, rec] of Object.entries(file.tensors)) {
    if (name.startsWith("model/")) {
      const t = sd.get(name.slice(6));
      if (!t) return `model tensor ${name} not in the model`;
      const want = Array.from(rec.data as Float32Array, (v) => String(Math.fround(Number(v))));
      if (JSON.stringify(Array.from(t.storage as Float32Array, String)) !== JSON.stringify(want)) return `model tensor ${name} differs from the file`;
    } else {
      const [, i, key] = name.split("/");
      const buf = (p.opt.stateDict().state as any)[i!]?.[key!];
      const want = Array.from(rec.data as Float32Array, (v) => String(Math.fround(Number(v))));
      if (!buf || JSON.stringify(Array.from(buf as Float32Array, String)) !== JSON.stringify(want)) return `optimizer buffer ${name} differs from the file`;
    }
  }
  for (const [name, g] of Object.entries(p.gens)) {
    const want = (meta.rng[name] as (number | null)[]).map((v) => (v === null ? NaN : v));
    if (JSON.stringify(g.getState().map(String)) !== JSON.stringify(want.map(String))) return `generator ${name} differs from the file`;
    const t = performance.now();
    for (let i = 0; i < 4; i++) if (!Number.isFinite(g.normal())) return `generator ${name} gives a non-finite normal`;
    if (performance.now() - t > 100) return `generator ${name} is slow after the restore`;
  }
  if (result.step !== (meta.step ?? undefined)) return `step ${result.step}, the file says ${meta.step}`;
  if (JSON.stringify(result.extra) !== JSON.stringify(meta.extra ?? null)) return "extra differs from the file";
  if (!p.opt.paramGroups.every((g) => Number.isFinite(g.lr) && g.lr >= 0)) return `a learning rate is ${p.opt.paramGroups.map((g) => g.lr)}`;
  return undefined;
}

const protoState = () =>
  [Object.prototype, Array.prototype, Function.prototype, String.prototype, Object]
    .map((o) => Object.getOwnPropertyNames(o).sort().join(","))
    .join("|");

export function runCheckpointFuzz(seed: number, count: number): FuzzSummary {
  const start = performance.now();
  const r = rng(seed);
  const realAssign = Object.assign;
  const cleanProto = protoState();
  const bases = [false, true].map((amsgrad, i) => {
    const src = makeParts(1 + i, amsgrad);
    const bytes = serializeCheckpoint({ ...partsOf(src), step: 3 + i, extra: { note: "x", list: [1, 2, { k: "v" }] } });
    const target = makeParts(10 + i, amsgrad);
    const home = serializeCheckpoint({ ...partsOf(target), step: 0 });
    return { parsed: parse(bytes), target, home };
  });
  const summary: FuzzSummary = { cases: 0, restored: 0, refused: {}, failures: [], maxCaseMs: 0, totalMs: 0 };
  for (let n = 0; n < count; n++) {
    const base = bases[n % bases.length]!;
    const { parsed, target } = base;
    const c: Case = {
      entries: parsed.tensors.map(([name, t]) => ({ name, dtype: FILE_DTYPE[t.dtype]!, shape: [...t.shape], bytes: bytesOf(t.data) })),
      meta: structuredClone(parsed.meta),
      metaText: null,
      log: [],
    };
    const k = 1 + r.int(3);
    for (let j = 0; j < k; j++) r.pick(MUTATORS)(c, r);
    let bytes = write(c.entries, c.metaText ?? JSON.stringify(c.meta));
    if (c.bytesMutation) bytes = c.bytesMutation(bytes);

    const before = snapshot(target);
    const t0 = performance.now();
    let failure: string | undefined;
    try {
      const result = restoreCheckpoint(bytes, partsOf(target));
      summary.restored++;
      failure = checkRestored(bytes, target, result);
      restoreCheckpoint(base.home, partsOf(target)); // back to the same starting point
      if (!failure && snapshot(target) !== before) failure = "could not go back to the starting point";
    } catch (e) {
      if (!(e instanceof SafegradError)) failure = `threw ${e instanceof Error ? `${e.name}: ${e.message.slice(0, 160)}` : String(e)}`;
      else {
        const code = (e as SafegradError).code;
        summary.refused[code] = (summary.refused[code] ?? 0) + 1;
        if (snapshot(target) !== before) failure = `refused (${code}) but changed the parts: ${e.message.slice(0, 120)}`;
      }
    }
    const ms = performance.now() - t0;
    summary.maxCaseMs = Math.max(summary.maxCaseMs, ms);
    if (protoState() !== cleanProto || Object.assign !== realAssign || ({} as any).isAdmin !== undefined) {
      failure = `${failure ?? ""} POLLUTED a prototype or Object.assign`;
      Object.assign = realAssign;
    }
    summary.cases++;
    if (failure) summary.failures.push(`case ${n} (${c.log.join("; ")}): ${failure}`);
  }
  summary.totalMs = performance.now() - start;
  return summary;
}

// As a worker thread (see checkpoint-fuzz.test.ts): run and post the summary.
if (parentPort && workerData?.checkpointFuzz) {
  const { seed, count } = workerData.checkpointFuzz as { seed: number; count: number };
  parentPort.postMessage(runCheckpointFuzz(seed, count));
}
