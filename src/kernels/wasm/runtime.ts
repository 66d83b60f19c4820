/**
 * The WebAssembly instance behind the "wasm" backend: one memory, the generated kernels, and a
 * float32 view that is refreshed when the memory grows (growing detaches old views).
 *
 * Calls are synchronous, so each backend call lays its operands out from byte {@link BASE} with an
 * {@link Arena}, runs kernels, and copies its result out before returning.
 *
 * With `threads: 2` (where SharedArrayBuffer and workers exist) the memory is shared and a worker
 * runs the same module on it (threads.ts): kernels that split their work build one list of
 * kernel calls per thread and hand them to {@link WasmRuntime.run}.
 */
import { buildKernelModule, type KernelExports } from "./kernels.js";
import { buildMathModule, type MathExports } from "./math.js";
import { fmaSupported } from "./emit.js";
import { BASE, LIST, sharedMemory, type Spawn, type WasmMemory } from "./threads.js";

const PAGE = 65536;
/** Pages a shared memory may grow to (2 GiB; a shared memory reserves its maximum up front). */
const MAX_PAGES = 32768;

export { BASE };

export class WasmRuntime {
  readonly memory: WasmMemory;
  readonly k: KernelExports;
  /** The second module's kernels (math.ts), on the same memory; this thread only. */
  readonly math: MathExports;
  /** The exports by index, for the call lists of {@link run}. */
  private readonly fns: ((...a: number[]) => unknown)[];
  /** The worker's control block (threads.ts), when running two threads. */
  private readonly ctl: Int32Array | null = null;
  private readonly spawn?: () => void;
  /** Lists run by the worker (a test hook: the worker did take work). */
  forked = 0;
  /**
   * Lists the splitting kernels cut their work into: 8 with a worker (taken by two threads, so a
   * late or preempted one costs at most a list), else 1.
   */
  readonly pieces: number;
  /** Multiply-adds below which a call is not split (a fork costs microseconds); tests set 0. */
  splitMin = 1 << 18;
  private f32: Float32Array;

  constructor(threads = 1) {
    const shared = threads > 1 ? sharedMemory(16, MAX_PAGES) : null;
    this.memory = shared?.[0] ?? new WebAssembly.Memory({ initial: 16 });
    const mem = { module: "env", name: "mem", initialPages: 1, ...(shared && { maximumPages: MAX_PAGES, shared: true }) };
    const imports = { env: { mem: this.memory as WebAssembly.Memory } };
    const mod = new WebAssembly.Module(buildKernelModule(mem, fmaSupported()));
    const inst = new WebAssembly.Instance(mod, imports);
    this.math = new WebAssembly.Instance(new WebAssembly.Module(buildMathModule(mem)), imports).exports as unknown as MathExports;
    this.k = inst.exports as unknown as KernelExports;
    this.fns = Object.values(inst.exports) as ((...a: number[]) => unknown)[];
    if (shared) {
      const I = (this.ctl = new Int32Array(this.memory.buffer, 0, LIST));
      this.spawn = () => {
        I[0] = 0;
        shared[1]([mod, this.memory, 1000]);
      };
      this.spawn();
    }
    this.pieces = shared ? 8 : 1;
    this.f32 = new Float32Array(this.memory.buffer);
  }

  /** A float32 view of memory with at least `bytes` bytes (grows the memory if needed). */
  heap(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    // NOTE: growing a memory detaches its old buffer (length 0); growing a shared one keeps it, but
    // views keep their old length: a length mismatch catches both.
    if (this.f32.length * 4 !== this.memory.buffer.byteLength) this.f32 = new Float32Array(this.memory.buffer);
    return this.f32;
  }

  /** An int32 view of the same memory (valid until the next `heap` call that grows it). */
  ints(): Int32Array {
    return new Int32Array(this.memory.buffer);
  }

  /** True when a worker has started and waits for work. */
  get ready(): boolean {
    return this.ctl?.[0] === 1;
  }

  /**
   * Run lists of kernel calls (`[export index, ...args]`, see threads.ts) in any order and
   * concurrently: this thread and the worker (when one is idle) take lists one at a time from a
   * shared counter, so a worker that wakes late takes fewer (or none) instead of being waited for.
   */
  run(lists: number[][]): void {
    const I = this.ctl;
    const A = Atomics;
    const n = lists.length;
    let p = LIST + n + 2;
    for (const l of lists) p += l.length;
    if (I && n > 1 && p <= BASE / 4) {
      if (I[0] === 3) this.spawn!(); // it exited when idle: start another (ready for later calls)
      // NOTE: the worker reads the job only after entering it (state 2 -> 4), so it is written
      // first; posting (1 -> 2) fails if the worker is starting or has just exited.
      const H = new Int32Array(this.memory.buffer);
      H[LIST] = n;
      p = LIST + n + 2;
      lists.forEach((l, t) => {
        H[LIST + 1 + t] = p;
        H.set(l, p);
        p += l.length;
      });
      H[LIST + 1 + n] = p;
      A.store(I, 1, 0);
      if (A.compareExchange(I, 0, 1, 2) === 1) {
        A.notify(I, 0);
        try {
          for (let t; (t = A.add(I, 1, 1)) < n; ) this.exec(lists[t]!);
        } finally {
          // take the job back unless the worker entered it (2 -> 4); then wait for its last list
          if (A.compareExchange(I, 0, 2, 1) === 4) {
            this.forked++;
            // NOTE: block (Node allows it on the main thread) rather than spin, so a worker sharing
            // this core gets it; a browser's main thread may not block (it throws): it spins.
            while (A.load(I, 0) === 4)
              try {
                A.wait(I, 0, 4, 1);
              } catch {}
          }
        }
        return;
      }
    }
    for (const l of lists) this.exec(l);
  }

  private exec(list: number[]): void {
    for (let p = 0; p < list.length; ) {
      const f = this.fns[list[p++]!]!;
      f(...list.slice(p, (p += f.length)));
    }
  }
}

/** Export indices of the kernels used in call lists (the order of buildKernelModule). */
export const GEMM = 0;
export const GEMM_NT = 1;
export const IM2COL = 2;
export const COL2IM = 3;

/** A bump allocator of byte offsets from {@link BASE}, 64-byte aligned (a cache line). */
export class Arena {
  at = BASE;
  take(bytes: number): number {
    const p = this.at;
    this.at = (this.at + bytes + 63) & ~63;
    return p;
  }
}

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;
