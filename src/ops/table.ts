/**
 * THE OP TABLE: every op-table entry of every family, by name. The tests generate their
 * gradchecks from it (an op without a sample fails the suite), and tools that walk the ops (the
 * anomaly hints, a future static audit or exporter) read it. An entry is found by being exported
 * from its family file: adding an op is one `defineOp` beside its public function.
 */
import { ValueError } from "../errors.js";
import type { OpDef } from "../autograd/node.js";
import * as compare from "./compare.js";
import * as conv from "./conv.js";
import * as elementwise from "./elementwise.js";
import * as indexing from "./indexing.js";
import * as linalg from "./linalg.js";
import * as pool from "./pool.js";
import * as reduce from "./reduce.js";
import * as shape from "./shape.js";
import * as softmax from "./softmax.js";

/** The op families, in the order of the map (ops/<family>.ts). */
export const families = { elementwise, compare, shape, indexing, reduce, softmax, linalg, conv, pool } as const;

function isOpDef(v: unknown): v is OpDef {
  return typeof v === "object" && v !== null && "name" in v && "forward" in v && "vjp" in v;
}

/** Every op-table entry by name, with the family that defines it. */
export const opTable: ReadonlyMap<string, { def: OpDef; family: keyof typeof families }> = (() => {
  const m = new Map<string, { def: OpDef; family: keyof typeof families }>();
  for (const [family, mod] of Object.entries(families) as [keyof typeof families, Record<string, unknown>][]) {
    for (const v of Object.values(mod)) {
      if (!isOpDef(v)) continue;
      if (m.has(v.name)) throw new ValueError("opTable", `"${v.name}" is defined twice`);
      m.set(v.name, { def: v, family });
    }
  }
  return m;
})();
