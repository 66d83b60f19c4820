/**
 * The WebAssembly instance behind the "wasm" backend: one memory, the generated kernels, and
 * float32 / int32 views that are refreshed when the memory grows (growing detaches old views).
 *
 * Calls are synchronous, so each backend call lays its operands out from byte 0 with an
 * {@link Arena}, runs kernels, and copies its result out before returning.
 */
import { buildKernelModule, type KernelExports } from "./wasm-kernels.js";

const PAGE = 65536;

export class WasmRuntime {
  readonly memory: WebAssembly.Memory;
  readonly k: KernelExports;
  private f32: Float32Array;
  private i32: Int32Array;

  constructor() {
    this.memory = new WebAssembly.Memory({ initial: 16 });
    const bytes = buildKernelModule({ module: "env", name: "mem", initialPages: 1 });
    const mod = new WebAssembly.Module(bytes);
    const inst = new WebAssembly.Instance(mod, { env: { mem: this.memory } });
    this.k = inst.exports as unknown as KernelExports;
    this.f32 = new Float32Array(this.memory.buffer);
    this.i32 = new Int32Array(this.memory.buffer);
  }

  /** A float32 view of memory with at least `bytes` bytes (grows the memory if needed). */
  heap(bytes: number): Float32Array {
    const have = this.memory.buffer.byteLength;
    if (bytes > have) this.memory.grow(Math.ceil((bytes - have) / PAGE));
    if (this.f32.buffer !== this.memory.buffer) {
      this.f32 = new Float32Array(this.memory.buffer);
      this.i32 = new Int32Array(this.memory.buffer);
    }
    return this.f32;
  }

  /** An int32 view of the same memory (valid until the next `heap` call that grows it). */
  ints(): Int32Array {
    return this.i32;
  }
}

/** A bump allocator of byte offsets, 64-byte aligned (a cache line). */
export class Arena {
  at = 0;
  take(bytes: number): number {
    const p = this.at;
    this.at = (this.at + bytes + 63) & ~63;
    return p;
  }
}

export const roundUp = (n: number, m: number): number => Math.ceil(n / m) * m;
