import type { Backend, UnaryOp, UnaryParams, View } from "./backend.js";
import type { TypedArray } from "../tensor/dtype.js";
import { ValueError } from "../errors.js";
import { referenceBackend } from "./reference.js";

/**
 * A backend that implements only some methods (at least a name): a fast backend speeds up what it
 * chooses and leaves the rest to the reference. Its `unary` may also return null for an op it does
 * not implement (a new op of the reference's table, say): that op then runs on the reference.
 * @example
 * const partial: PartialBackend = { name: "my-unary", unary: referenceBackend.unary };
 */
export type PartialBackend = Partial<Omit<Backend, "unary">> & {
  readonly name: string;
  unary?(op: UnaryOp, x: View, params?: UnaryParams): TypedArray | null;
};

/**
 * A whole backend from a partial one: the methods it lacks are the reference backend's. Fast
 * backends are built this way, so the code they share with the oracle is only what they delegate,
 * and the conformance tests know which methods are theirs.
 * @example
 * registerBackend(completeBackend({ name: "my-unary", unary: referenceBackend.unary }));
 * setBackend("my-unary");
 * setBackend("js");
 */
export function completeBackend(partial: PartialBackend): Backend {
  const { unary, ...rest } = partial;
  return {
    ...referenceBackend,
    ...rest,
    unary: unary ? (op, x, params) => unary(op, x, params) ?? referenceBackend.unary(op, x, params) : referenceBackend.unary,
  };
}

// NOTE: the registry starts with the reference backend only. Fast backends are registered
// explicitly by the caller (never as an import side effect, so tree-shaking stays safe).
const registry = new Map<string, Backend>([[referenceBackend.name, referenceBackend]]);
let active: Backend | null = null;
/** True while the active backend is the one chosen on first use (no `setBackend` call since). */
let activeIsDefault = false;
let chooseDefault: (() => Backend) | null = null;
let loader: (() => Promise<unknown>) | null = null;

/**
 * Make a backend selectable by name with {@link setBackend} (replacing one of the same name).
 * @example
 * registerBackend({ ...referenceBackend, name: "my-copy" });
 * setBackend("my-copy");
 */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/**
 * Select the backend used by every op from now on; returns it.
 * @throws ValueError when no backend of that name is registered
 * @example
 * setBackend("js"); // the reference backend
 * registerFastBackends();
 * setBackend("js-fast");
 */
export function setBackend(name: string): Backend {
  const b = registry.get(name);
  if (!b) throw new ValueError("setBackend", `no backend named "${name}" (registered: ${[...registry.keys()].join(", ")})`);
  active = b;
  activeIsDefault = false;
  return b;
}

/**
 * Names of the registered backends.
 * @example
 * listBackends(); // ["js", ...]: fast ones only after registerFastBackends()
 */
export function listBackends(): string[] {
  return [...registry.keys()];
}

/**
 * The active backend.
 * @example
 * getBackend().name; // "js"
 */
export function getBackend(): Backend {
  if (active) return active;
  activeIsDefault = true;
  return (active = chooseDefault?.() ?? referenceBackend);
}

/**
 * Resolves, with the active backend's name, once the backend chosen by default is in place. In
 * Node that is at once (the fast kernels are chosen on the first op). In a browser or a bundle, the
 * fast kernels are a separate chunk loaded on first use, without blocking: ops that run before it
 * arrives use the reference backend (same results within float rounding). Await `ready()` before
 * timing anything or when every op must run on the fast backend, as with TF.js's `tf.ready()`.
 * @example
 * const name = await ready(); // "wasm" where WebAssembly SIMD exists
 */
export async function ready(): Promise<string> {
  getBackend();
  if (loader) await loader();
  return getBackend().name;
}

/**
 * @internal How the browser entry loads the fast kernels (a dynamic import); `ready()` awaits it.
 */
export function setBackendLoader(load: (() => Promise<unknown>) | null): void {
  loader = load;
}

/**
 * @internal Make `name` active unless the user chose a backend with `setBackend` since the first
 * op (their choice wins over a default that arrives late). Returns whether it did.
 */
export function setBackendUnlessChosen(name: string): boolean {
  if (active && !activeIsDefault) return false;
  setBackend(name);
  activeIsDefault = true;
  return true;
}

/**
 * @internal Set how the backend is chosen on first use when no `setBackend` came first: the Node
 * entry points choose the fastest (see kernels/fast.ts); otherwise it is the reference backend.
 */
export function setDefaultBackendChooser(choose: (() => Backend) | null): void {
  chooseDefault = choose;
}

/** @internal The active backend's name, or null before the first op chose one. */
export function activeBackendName(): string | null {
  return active?.name ?? null;
}
