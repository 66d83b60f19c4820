import type { Backend } from "./backend.js";
import { referenceBackend } from "./reference.js";

// NOTE: the registry starts with the reference backend only. Fast backends are registered
// explicitly by the caller (never as an import side effect, so tree-shaking stays safe).
const registry = new Map<string, Backend>([[referenceBackend.name, referenceBackend]]);
let active: Backend = referenceBackend;

/** Make a backend selectable by name with {@link setBackend}. */
export function registerBackend(backend: Backend): void {
  registry.set(backend.name, backend);
}

/**
 * Select the backend used by every op from now on.
 * @example
 * setBackend("js"); // the reference backend
 */
export function setBackend(name: string): Backend {
  const b = registry.get(name);
  if (!b) throw new Error(`setBackend: no backend named "${name}" (registered: ${[...registry.keys()].join(", ")})`);
  active = b;
  return b;
}

/** Names of the registered backends. */
export function listBackends(): string[] {
  return [...registry.keys()];
}

/** The active backend. */
export function getBackend(): Backend {
  return active;
}
