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
import { fmaSupported, ModuleBuilder } from "./emit.js";
import { BASE, ENTERED, EXITED, FAILED, IDLE, LIST, POSTED, sharedMemory, STARTING, type WasmMemory, type WorkerHandle } from "./threads.js";

const PAGE = 65536;
/** Pages a shared memory may grow to (2 GiB; a shared memory reserves its maximum up front). */
export const MAX_PAGES = 32768;

export { BASE };

/** Thrown by {@link WasmRuntime.run} when the worker died in the job: see {@link WasmRuntime.guard}. */
class WorkerLost extends Error {}

/** Workers lost one after the other (none finished a job in between) before no more are started. */
const MAX_LOSSES = 3;

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
  /** The running worker: null before the first start, after it exited and once it was terminated. */
  private worker: WorkerHandle | null = null;
  /** A terminated worker that has not ended yet: no other starts until it has. */
  private dying: WorkerHandle | null = null;
  /**
   * Workers that died (a kernel threw in them, or they failed to start) with no job finished in
   * between; at {@link MAX_LOSSES}, none is started again. terminateWorker does not count.
   */
  private losses = 0;
  /** Lists run by the worker (a test hook: the worker did take work). */
  forked = 0;
  /** Workers started, the first one included (a test hook). */
  started = 0;
  /** Jobs the worker died in, each run again on this thread (a test hook). */
  lostJobs = 0;
  /**
   * Where the arenas start: {@link BASE}, or above all the memory in use while a worker terminated
   * in a job may still write to it (until it has ended: then BASE again).
   */
  base = BASE;
  /**
   * Called once if workers keep dying ({@link MAX_LOSSES} in a row) and this runtime stays on one
   * thread; the default is `console.warn`.
   */
  onWarning: (message: string) => void = (m) => console.warn(m);
  /**
   * Lists the splitting kernels cut their work into: 8 with a worker (taken by two threads, so a
   * late or preempted one costs at most a list), else 1.
   */
  readonly pieces: number;
  /**
   * Milliseconds the calling thread waits, once its own lists are done, for a worker that finishes
   * no kernel call meanwhile, before it terminates it and runs the job again itself (a kernel call
   * is one k block of a GEMM, or one image's im2col or block: far shorter); tests set less.
   */
  stallMs = 10_000;
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
        I[0] = STARTING;
        this.started++;
        try {
          const h: WorkerHandle = shared[1]([mod, this.memory, 1000], () => this.ended(h));
          this.worker = h;
        } catch {
          // NOTE: starting failed (no threads left, a blocked Blob URL): one thread until the next try
          I[0] = EXITED;
          this.lose();
        }
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
    return this.worker !== null && this.ctl?.[0] === IDLE;
  }

  /**
   * Terminate the worker now (tests; or to give its thread back at once). A job it is in is run
   * again on this thread ({@link guard}); the next split call once it has ended starts another.
   */
  terminateWorker(): void {
    const h = this.worker;
    if (!h) return;
    this.worker = null;
    this.dying = h;
    // NOTE: an idle worker is kept out of jobs; one in a job (or starting) may write to the memory
    // until it has ended (termination is asynchronous), so arenas start above it until then
    if (Atomics.compareExchange(this.ctl!, 0, IDLE, EXITED) !== IDLE) this.base = Math.ceil(this.memory.buffer.byteLength / 64) * 64;
    h.terminate();
  }

  /** A worker has ended (its exit event): it no longer touches the memory. */
  private ended(h: WorkerHandle): void {
    if (h === this.dying) {
      this.dying = null;
      this.base = BASE;
    } else if (h === this.worker) {
      this.worker = null;
      // it ended on its own in the middle of things (not the idle exit): a kernel threw in it
      if (this.ctl![0] !== EXITED) this.lose();
    } else return; // an earlier worker that exited when idle
    this.ctl![0] = EXITED;
  }

  /** Count a lost worker; after {@link MAX_LOSSES} in a row, stay on one thread and say so once. */
  private lose(): void {
    if (++this.losses === MAX_LOSSES)
      this.onWarning(`safegrad wasm: the worker thread ended ${MAX_LOSSES} times in a row; running on one thread from now on`);
  }

  /**
   * Run a backend call that may {@link run} split jobs; if the worker dies in one of them (its
   * results are then incomplete), run the whole call again, on this thread: no worker takes part
   * until the dead one has ended, which needs the event loop. The results have the same bits.
   */
  guard<T>(call: () => T): T {
    try {
      return call();
    } catch (e) {
      if (!(e instanceof WorkerLost)) throw e;
      return call();
    }
  }

  /** A bump allocator from {@link base}. */
  arena(): Arena {
    const m = new Arena();
    m.at = this.base;
    return m;
  }

  /**
   * Run lists of kernel calls (`[export index, ...args]`, see threads.ts) in any order and
   * concurrently: this thread and the worker (when one is idle) take lists one at a time from a
   * shared counter, so a worker that wakes late takes fewer (or none) instead of being waited for.
   * Throws WorkerLost if the worker died in the job: call it inside {@link guard}.
   */
  run(lists: number[][]): void {
    const I = this.ctl;
    const A = Atomics;
    const n = lists.length;
    let p = LIST + n + 3;
    for (const l of lists) p += l.length;
    if (I && n > 1 && p <= BASE / 4) {
      // it exited (when idle, or it died and has ended): start another, ready for later calls
      if (!this.dying && I[0] === EXITED && this.losses < MAX_LOSSES) this.spawn!();
      const h = this.worker;
      // NOTE: the worker reads the job only after entering it (state 2 -> 4), so it is written
      // first (never while no worker is running: a terminated one may not have stopped yet);
      // posting (1 -> 2) fails if the worker is starting or has just exited.
      const H = h && A.load(I, 0) === IDLE ? new Int32Array(this.memory.buffer) : null;
      if (H) {
        H[LIST] = n;
        H[LIST + 1] = 0;
        p = LIST + n + 3;
        lists.forEach((l, t) => {
          H[LIST + 2 + t] = p;
          H.set(l, p);
          p += l.length;
        });
        H[LIST + 2 + n] = p;
        A.store(I, 1, 0);
      }
      if (H && A.compareExchange(I, 0, IDLE, POSTED) === IDLE) {
        A.notify(I, 0);
        let done = false;
        try {
          for (let t; (t = A.add(I, 1, 1)) < n; ) this.exec(lists[t]!);
          done = true;
        } finally {
          // take the job back unless the worker entered it (2 -> 4); then wait for its last list
          let s = A.compareExchange(I, 0, POSTED, IDLE);
          let lost = s === FAILED;
          if (s === ENTERED) {
            this.forked++;
            // NOTE: block (Node allows it on the main thread) rather than spin, so a worker sharing
            // this core gets it; a browser's main thread may not block (it throws): it spins. A
            // worker terminated meanwhile (terminateWorker, from a kernel or a test hook) never
            // leaves the job: stop waiting for it. Nor for one that finishes no kernel call in
            // stallMs (it died unseen, or is starved): it is terminated.
            let beat = -1;
            let since = 0;
            while ((s = A.load(I, 0)) === ENTERED && this.worker === h) {
              try {
                A.wait(I, 0, ENTERED, 1);
              } catch {}
              const now = Date.now();
              if (H![LIST + 1] !== beat) [beat, since] = [H![LIST + 1]!, now];
              else if (now - since > this.stallMs) this.terminateWorker();
            }
            lost = s !== IDLE;
          }
          // the worker died in the job (terminated, or a kernel threw in it): the job's results are
          // incomplete, and the lists it took may be half done (accumulating kernels)
          if (lost) {
            this.lostJobs++;
            if (done) throw new WorkerLost("the worker died in a job");
          } else if (s !== POSTED) this.losses = 0; // it took part and finished
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

/**
 * A kernel module of its own (gelu, layer norm, softmax), built and instantiated on a runtime's
 * memory at first use, one instance per runtime; `funcs` adds its functions. `bytes` is its size
 * for the tests (Chrome compiles modules up to 4 KB synchronously).
 */
export function lazyModule<E>(funcs: (mb: ModuleBuilder) => void): { on(rt: WasmRuntime): E; bytes(shared?: boolean): number } {
  const build = (shared: boolean): Uint8Array<ArrayBuffer> => {
    const mb = new ModuleBuilder({ module: "env", name: "mem", initialPages: 1, ...(shared && { maximumPages: MAX_PAGES, shared: true }) });
    funcs(mb);
    return mb.bytes();
  };
  const instances = new WeakMap<WasmRuntime, E>();
  return {
    on(rt) {
      let e = instances.get(rt);
      if (!e) {
        const shared = typeof SharedArrayBuffer !== "undefined" && rt.memory.buffer instanceof SharedArrayBuffer;
        e = new WebAssembly.Instance(new WebAssembly.Module(build(shared)), { env: { mem: rt.memory as WebAssembly.Memory } }).exports as unknown as E;
        instances.set(rt, e);
      }
      return e;
    },
    bytes: (shared = false) => build(shared).length,
  };
}
