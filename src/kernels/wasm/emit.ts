/**
 * A tiny WebAssembly binary emitter: enough of the module format (type, import, function, export
 * and code sections), LEB128 and the opcodes our kernels use, including the SIMD (0xfd prefix)
 * subset. Kernels are written as TypeScript that calls these helpers, so the `.wasm` bytes are
 * generated at runtime: no binary blob in the repo and no toolchain.
 *
 * Spec: https://webassembly.github.io/spec/core/binary/ and the SIMD proposal's opcode table
 * https://github.com/WebAssembly/simd/blob/main/proposals/simd/BinarySIMD.md
 */

export const I32 = 0x7f;
export const I64 = 0x7e;
export const F32 = 0x7d;
export const F64 = 0x7c;
export const V128 = 0x7b;
export type ValType = typeof I32 | typeof I64 | typeof F32 | typeof F64 | typeof V128;

/** Unsigned LEB128. */
export function uleb(n: number, out: number[] = []): number[] {
  do {
    let b = n & 0x7f;
    n = Math.floor(n / 128);
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

/** Signed LEB128 (for i32.const). */
export function sleb(n: number, out: number[] = []): number[] {
  n |= 0;
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

function utf8(s: string): number[] {
  return [...new TextEncoder().encode(s)];
}

function vec(items: number[][]): number[] {
  return [...uleb(items.length), ...items.flat()];
}


/**
 * Builds one function body. Each method appends an instruction; locals are declared up front by
 * `local(type)`, which returns the local's index.
 */
export class FuncBuilder {
  readonly code: number[] = [];
  private readonly extraLocals: ValType[] = [];
  constructor(readonly params: readonly ValType[], readonly results: readonly ValType[]) {}

  local(t: ValType): number {
    this.extraLocals.push(t);
    return this.params.length + this.extraLocals.length - 1;
  }

  /** `n` new locals of type t. */
  locals(t: ValType, n: number): number[] {
    return Array.from({ length: n }, () => this.local(t));
  }

  /** Append raw bytes (an opcode and its immediates). */
  op(...bytes: number[]): this {
    for (const b of bytes) this.code.push(b);
    return this;
  }
  /** Append a SIMD instruction (0xfd prefix). */
  simd(opcode: number, ...imm: number[]): this {
    return this.op(0xfd, ...uleb(opcode), ...imm);
  }

  // control
  block(): this { return this.op(0x02, 0x40); }
  loop(): this { return this.op(0x03, 0x40); }
  if_(): this { return this.op(0x04, 0x40); }
  else_(): this { return this.op(0x05); }
  end(): this { return this.op(0x0b); }
  br(depth: number): this { return this.op(0x0c, ...uleb(depth)); }
  brIf(depth: number): this { return this.op(0x0d, ...uleb(depth)); }

  // locals and constants
  get(i: number): this { return this.op(0x20, ...uleb(i)); }
  set(i: number): this { return this.op(0x21, ...uleb(i)); }
  tee(i: number): this { return this.op(0x22, ...uleb(i)); }
  i32(n: number): this { return this.op(0x41, ...sleb(n)); }

  // i32 arithmetic
  i32Add(): this { return this.op(0x6a); }
  i32Sub(): this { return this.op(0x6b); }
  i32Mul(): this { return this.op(0x6c); }
  i32Shl(): this { return this.op(0x74); }
  i32LtU(): this { return this.op(0x49); }
  i32GeU(): this { return this.op(0x4f); }
  i32Eqz(): this { return this.op(0x45); }
  i32Ne(): this { return this.op(0x47); }

  i32GeS(): this { return this.op(0x4e); }
  i32Load(offset = 0): this { return this.op(0x28, 2, ...uleb(offset)); }

  // scalar float memory and arithmetic (align = log2 bytes)
  f32Load(offset = 0): this { return this.op(0x2a, 2, ...uleb(offset)); }
  f32Store(offset = 0): this { return this.op(0x38, 2, ...uleb(offset)); }
  f64Add(): this { return this.op(0xa0); }
  f64PromoteF32(): this { return this.op(0xbb); }
  f32Add(): this { return this.op(0x92); }
  f32Const(x: number): this {
    const b = new Uint8Array(new Float32Array([x]).buffer);
    return this.op(0x43, ...b);
  }

  // SIMD (opcodes after the 0xfd prefix). Opcodes without a method here are emitted with
  // `op(...)` / `simd(...)` (the elementwise kernels take theirs from a table).
  v128Load(offset = 0): this { return this.simd(0x00, 4, ...uleb(offset)); }
  v128Store(offset = 0): this { return this.simd(0x0b, 4, ...uleb(offset)); }
  v128Load32Splat(offset = 0): this { return this.simd(0x09, 2, ...uleb(offset)); }
  v128Const(bytes: readonly number[]): this { return this.simd(0x0c, ...bytes); }
  f32x4ExtractLane(lane: number): this { return this.simd(0x1f, lane); }
  f32x4Add(): this { return this.simd(0xe4); }
  f32x4Mul(): this { return this.simd(0xe6); }
  f64x2Add(): this { return this.simd(0xf0); }
  f64x2PromoteLowF32x4(): this { return this.simd(0x5f); }
  f64x2ExtractLane(lane: number): this { return this.simd(0x21, lane); }
  i8x16Shuffle(lanes: readonly number[]): this { return this.simd(0x0d, ...lanes); }

  /** The body as it goes in the code section: locals (run-length encoded) then instructions. */
  body(): number[] {
    const groups: number[][] = [];
    for (const t of this.extraLocals) {
      const last = groups[groups.length - 1];
      if (last && last[1] === t) last[0]!++;
      else groups.push([1, t]);
    }
    const locals = vec(groups.map(([n, t]) => [...uleb(n!), t!]));
    const b = [...locals, ...this.code, 0x0b];
    return [...uleb(b.length), ...b];
  }
}

/** Loop `count` times (a local, counted down), advancing each [pointer, step] after the body. */
export function countdown(f: FuncBuilder, count: number, ptrs: [number, number][], body: () => void): void {
  f.block().loop();
  f.get(count).i32Eqz().brIf(1);
  body();
  for (const [p, s] of ptrs) if (s !== 0) f.get(p).i32(s).i32Add().set(p);
  f.get(count).i32(1).i32Sub().set(count).br(0);
  f.end().end();
}

export interface MemoryImport {
  module: string;
  name: string;
  initialPages: number;
  maximumPages?: number;
  shared?: boolean;
}

/** A module: one imported memory, exported functions. */
export class ModuleBuilder {
  private readonly funcs: { name: string; f: FuncBuilder }[] = [];
  constructor(private readonly memory: MemoryImport) {}

  func(name: string, params: readonly ValType[], results: readonly ValType[], build: (f: FuncBuilder) => void): this {
    const f = new FuncBuilder(params, results);
    build(f);
    this.funcs.push({ name, f });
    return this;
  }

  bytes(): Uint8Array<ArrayBuffer> {
    const section = (id: number, content: number[]): number[] => [id, ...uleb(content.length), ...content];
    const types = this.funcs.map(({ f }) => [0x60, ...vec(f.params.map((t) => [t])), ...vec(f.results.map((t) => [t]))]);
    const m = this.memory;
    const limits =
      m.maximumPages === undefined
        ? [0x00, ...uleb(m.initialPages)]
        : [m.shared ? 0x03 : 0x01, ...uleb(m.initialPages), ...uleb(m.maximumPages)];
    const name = (s: string): number[] => [...uleb(utf8(s).length), ...utf8(s)];
    const imports = vec([[...name(m.module), ...name(m.name), 0x02, ...limits]]);
    const funcIdx = vec(this.funcs.map((_, i) => uleb(i)));
    const exports = vec(this.funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]));
    const code = vec(this.funcs.map(({ f }) => f.body()));
    return new Uint8Array([
      0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
      ...section(1, vec(types)),
      ...section(2, imports),
      ...section(3, funcIdx),
      ...section(7, exports),
      ...section(10, code),
    ]);
  }
}

/**
 * True when this engine validates a module using a v128 SIMD instruction.
 * @example
 * const names = simdSupported() ? ["wasm", "js-fast"] : ["js-fast"]; // what registerFastBackends can offer
 */
export function simdSupported(): boolean {
  return validates((f) => f.get(0).v128Load().f32x4Add());
}

/**
 * True where relaxed SIMD's `f32x4.relaxed_madd` validates (Chrome since 114, Node 22; Node 20
 * only with --experimental-wasm-relaxed-simd).
 * @example
 * fmaSupported(); // false in Node 20 without the flag
 */
export function fmaSupported(): boolean {
  return validates((f) => f.get(0).v128Load().get(0).v128Load().simd(0x105));
}

/** Whether a module whose function stores `v128.load(0)` combined by `op` validates. */
function validates(op: (f: FuncBuilder) => void): boolean {
  if (typeof WebAssembly !== "object" || typeof WebAssembly.validate !== "function") return false;
  try {
    const m = new ModuleBuilder({ module: "env", name: "mem", initialPages: 1 }).func("f", [I32], [], (f) => {
      f.get(0).get(0).v128Load();
      op(f);
      f.v128Store();
    });
    return WebAssembly.validate(m.bytes());
  } catch {
    return false;
  }
}
