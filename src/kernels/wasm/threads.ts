/**
 * A second thread for the wasm kernels: one worker (worker_threads in Node, a Web Worker in
 * browsers) that instantiates the same compiled module on the same shared WebAssembly.Memory and
 * runs a list of kernel calls while the calling thread runs its own (WasmRuntime.run).
 *
 * Backend calls are synchronous, so nothing here is async: the caller writes a job (several lists)
 * into memory and flips a state word (Atomics); then both threads take lists from a shared counter
 * until none is left. A worker that has not entered the job by the time the caller runs out of
 * lists is not waited for: the caller takes the job back and has run every list itself. Until the
 * worker has started (asynchronously), or after it exited, everything runs on the calling thread:
 * the results are the same, only slower.
 *
 * No pool is left running: the worker exits by itself after 1 s without work (it is started again,
 * asynchronously, on the next split call), and in Node it is `unref`'d, so it never keeps a
 * process alive.
 *
 * A worker that dies (terminated, or a kernel that throws in it) is started again by the next split
 * call once it has ended (after 3 deaths in a row, none is, with one warning); a backend call with a
 * job it died in is run again whole on the calling thread (WasmRuntime.guard), and a worker that
 * finishes no kernel call for `stallMs` while the caller waits for it is terminated.
 *
 * Control block: int32 words at byte 0 of the memory (the arenas start at {@link BASE}):
 * [0] state (STARTING 0, IDLE 1, POSTED 2, EXITED 3, ENTERED 4: the worker is in the job,
 * FAILED 5: a kernel threw in the worker, which left the job unfinished and ends),
 * [1] the next list to take; words 2 to 15 belong to the calling thread's kernels (math.ts
 * keeps its exp constants there). The job starts at word
 * {@link LIST}: the number of lists n, the kernel calls the worker has finished in the job (its
 * heartbeat), n + 1 word offsets (list t is [off[t], off[t + 1])), then the
 * lists: `[export index, ...arguments]` repeated, the argument count being the export's arity. */

/** First byte the arenas use: below it, the control block and the worker's list. */
export const BASE = 65536;
/** First word of the job (it ends before word `BASE / 4`). */
export const LIST = 16;

/** States of word 0 (see above). */
export const STARTING = 0;
export const IDLE = 1;
export const POSTED = 2;
export const EXITED = 3;
export const ENTERED = 4;
export const FAILED = 5;

// NOTE: a kernel that throws (a bug: an out-of-bounds access) ends the worker with an uncaught
// error (in Node, an 'error' event nobody handles: the process fails loudly); the state goes to
// FAILED first, so the caller is never left spinning and runs the job again itself.
// Plain ES2019, identical in Node (CommonJS eval, data via workerData) and browsers (a Blob URL,
// data via postMessage). It does not spin while idle: on two cores shared with other processes a
// spinning worker takes the core the caller needs.
const WORKER = `let go=([m,e,t])=>{let k=Object.values(new WebAssembly.Instance(m,{env:{mem:e}}).exports),I=new Int32Array(e.buffer,0,4),A=Atomics,p,q,f,H,j,z;for(A.store(I,0,1);;){if(A.wait(I,0,1,t)[0]=="t"&&A.compareExchange(I,0,1,3)==1)break;if(A.compareExchange(I,0,2,4)==2){z=0;try{for(H=new Int32Array(e.buffer);(j=A.add(I,1,1))<H[${LIST}];)for(p=H[${LIST + 2}+j],q=H[${LIST + 3}+j];p<q;H[${LIST + 1}]++)f=k[H[p++]],f(...H.subarray(p,p+=f.length))}catch(x){z=[x]}A.store(I,0,z?5:1);A.notify(I,0);if(z)throw z[0]}}this.close?.()};typeof require=="function"?go(require("worker_threads").workerData):onmessage=e=>go(e.data)`;

/** A running worker. */
export interface WorkerHandle {
  terminate(): unknown;
}

/**
 * Starts a worker on (module, memory, idle ms); `onExit` is called (asynchronously, once) when it
 * has ended: exited when idle, thrown, or terminated. From then on it no longer touches the memory.
 */
export type Spawn = (data: unknown[], onExit: () => void) => WorkerHandle;

/** The part of a Node `Worker` used here. */
interface NodeWorker extends WorkerHandle {
  unref(): void;
  once(event: "exit", f: () => void): unknown;
}

/**
 * A WebAssembly memory, typed structurally. NOTE: the published declarations must not name the
 * `WebAssembly` namespace: a consumer compiling without the DOM lib or @types/node would not find it.
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(deltaPages: number): number;
}

/**
 * A shared memory and a way to start workers on it, or null where a second thread is unavailable
 * (no SharedArrayBuffer, a page that is not cross-origin isolated, no workers).
 */
export function sharedMemory(initial: number, maximum: number): [WasmMemory, Spawn] | null {
  const g = globalThis as {
    process?: { getBuiltinModule?: (id: string) => { Worker: new (code: string, o: object) => NodeWorker } | undefined };
    Worker?: new (url: string) => WorkerHandle & { postMessage(d: unknown): void; onerror: unknown };
    setTimeout?: (f: () => void, ms: number) => unknown;
  };
  // NOTE: browsers expose SharedArrayBuffer only to cross-origin isolated pages
  if (typeof SharedArrayBuffer !== "function") return null;
  // NOTE: no `import "node:worker_threads"` (the main entry must bundle for browsers): Node >= 20.16
  // hands out builtins synchronously through process.getBuiltinModule.
  const wt = g.process?.getBuiltinModule?.("node:worker_threads");
  const W = g.Worker;
  const spawn: Spawn | null = wt
    ? (data, onExit) => {
        const w = new wt.Worker(WORKER, { eval: true, workerData: data });
        w.unref();
        w.once("exit", onExit);
        return w;
      }
    : W
      ? (data, onExit) => {
          const w = new W(URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" })));
          let ended = false;
          const end = (): void => void (ended || ((ended = true), onExit()));
          // NOTE: a Web Worker tells nothing when it closes itself (the idle exit: state EXITED says
          // so) or is terminated; an uncaught error (a kernel that threw) reaches onerror. A
          // terminated worker stops at its next loop check: 100 ms is taken as the end of it.
          w.onerror = end;
          w.postMessage(data);
          return { terminate: () => (w.terminate(), g.setTimeout?.(end, 100)) };
        }
      : null;
  try {
    return spawn && [new WebAssembly.Memory({ initial, maximum, shared: true }), spawn];
  } catch {
    return null;
  }
}
