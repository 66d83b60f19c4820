/**
 * THE OP TABLE: every family's entries, by name. The tests generate their gradchecks from it (an
 * op without a sample fails the suite), and tools that walk the ops (the anomaly hints, a static
 * audit, an exporter) read it. Adding an op is one `define` in its family file, beside its public
 * function; this file changes only with a new family.
 */
import { ValueError } from "../errors.js";
import type { OpDef } from "../autograd/node.js";
import { compareOps } from "./compare.js";
import { convOps } from "./conv.js";
import type { OpFamily } from "./define.js";
import { elementwiseOps } from "./elementwise.js";
import { indexingOps } from "./indexing.js";
import { linalgOps } from "./linalg.js";
import { normOps } from "./norm.js";
import { poolOps } from "./pool.js";
import { reduceOps } from "./reduce.js";
import { scanOps } from "./scan.js";
import { shapeOps } from "./shape.js";
import { softmaxOps } from "./softmax.js";

/** The op families, in the order of the map (ops/<family>.ts). */
export const families: readonly OpFamily[] = [elementwiseOps, compareOps, shapeOps, indexingOps, reduceOps, softmaxOps, linalgOps, convOps, poolOps, scanOps, normOps];

/** Every op-table entry by name, with the name of the family that defines it. */
export const opTable: ReadonlyMap<string, { def: OpDef; family: string }> = (() => {
  const m = new Map<string, { def: OpDef; family: string }>();
  for (const f of families) {
    for (const [name, def] of f.ops) {
      if (m.has(name)) throw new ValueError("opTable", `"${name}" is defined by ${m.get(name)!.family} and ${f.name}`);
      m.set(name, { def, family: f.name });
    }
  }
  return m;
})();
