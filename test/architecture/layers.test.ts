/**
 * Layers point one way. The written order (docs/contributing.md, "The layers"):
 *
 *   errors → tensor → kernels → autograd → ops → layers, optim, io, data → guard, onnx, testing → index,
 *   onnx.ts, data.ts, testing.ts, fast.ts → index.node, index.browser (the "safegrad" Node and browsers load:
 *   the fast default backend) → node
 *
 * A file may import (at runtime) only files of its own folder or of a lower layer, and the runtime
 * import graph has no loop but one, by design: Tensor's methods (tensor/tensor.ts) call the op
 * functions (ops/index.ts), which build Tensors. Type-only imports vanish at compile time; the ones
 * that point up are listed here, so each is a decision.
 */
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cycles, importEdges, sourceFiles, type ImportEdge } from "./imports.js";

const SRC = join(import.meta.dirname, "../../src");

export const LAYERS: readonly (readonly string[])[] = [
  ["errors.ts"],
  ["tensor"],
  ["kernels"],
  ["autograd"],
  ["ops"],
  ["layers", "optim", "io", "data"],
  ["guard", "onnx", "testing"],
  ["index.ts", "onnx.ts", "data.ts", "testing.ts", "fast.ts"],
  ["index.node.ts", "index.browser.ts"],
  ["node.ts"],
];

/** The one runtime loop: Tensor's methods are the op functions. */
export const ALLOWED_LOOP_EDGE = { from: "tensor/tensor.ts", to: "ops/index.ts" };

/** Type-only imports that point up the layers (they do not exist at runtime). */
export const ALLOWED_TYPE_BACK_EDGES = [
  "tensor/tensor.ts -> autograd/node.ts", // Tensor.gradFn: Node
  "tensor/tensor.ts -> autograd/engine.ts", // Tensor.backward's BackwardOptions
];

function layerOf(file: string): number {
  const top = file.split("/")[0]!;
  const i = LAYERS.findIndex((names) => names.includes(top));
  if (i < 0) throw new Error(`${file}: its folder has no place in LAYERS; add it`);
  return i;
}

const folderOf = (file: string): string => (file.includes("/") ? file.split("/")[0]! : file);

/** The edges that break the rules: upward runtime imports, and type imports not on the list. */
export function violations(edges: readonly ImportEdge[]): string[] {
  const out: string[] = [];
  for (const e of edges) {
    const same = folderOf(e.from) === folderOf(e.to);
    if (same || layerOf(e.to) < layerOf(e.from)) continue;
    const name = `${e.from} -> ${e.to}`;
    if (e.from === ALLOWED_LOOP_EDGE.from && e.to === ALLOWED_LOOP_EDGE.to) continue;
    if (e.typeOnly && ALLOWED_TYPE_BACK_EDGES.includes(name)) continue;
    out.push(`${name}${e.typeOnly ? " (type only)" : ""}`);
  }
  return out;
}

/** Runtime loops left when the one allowed edge is taken out. */
export function runtimeLoops(files: readonly string[], edges: readonly ImportEdge[]): string[][] {
  const runtime = edges.filter((e) => !e.typeOnly && !(e.from === ALLOWED_LOOP_EDGE.from && e.to === ALLOWED_LOOP_EDGE.to));
  return cycles(files, runtime);
}

describe("layers point one way", () => {
  const edges = importEdges(SRC);
  const files = sourceFiles(SRC).map((f) => f.slice(SRC.length + 1));

  it("reads the import graph (sanity: the known edges are there)", () => {
    expect(files.length).toBeGreaterThan(60);
    expect(edges.some((e) => e.from === "ops/elementwise.ts" && e.to === "kernels/registry.ts" && !e.typeOnly)).toBe(true);
    expect(edges.some((e) => e.from === ALLOWED_LOOP_EDGE.from && e.to === ALLOWED_LOOP_EDGE.to && !e.typeOnly)).toBe(true);
  });

  it("every folder has a layer", () => {
    for (const f of files) expect(() => layerOf(f)).not.toThrow();
  });

  it("no import runs against the written order", () => {
    expect(violations(edges)).toEqual([]);
  });

  it("no runtime import loop but Tensor ↔ ops", () => {
    expect(runtimeLoops(files, edges)).toEqual([]);
  });

  it("the engine depends on the Tensor class as a type only", () => {
    const bad = edges.filter((e) => e.from === "autograd/engine.ts" && e.to === "tensor/tensor.ts" && !e.typeOnly);
    expect(bad).toEqual([]);
  });

  it("the reference backend shares no code with the fast backends (and they none with it but by delegation)", () => {
    const fast = (f: string): boolean => f.startsWith("kernels/js/") || f.startsWith("kernels/wasm/");
    expect(edges.filter((e) => e.from === "kernels/reference.ts" && fast(e.to))).toEqual([]);
    // a fast backend reaches the reference only through completeBackend (kernels/registry.ts)
    expect(edges.filter((e) => fast(e.from) && e.to === "kernels/reference.ts")).toEqual([]);
  });

  it("the checks catch what they are for: a back-edge, a type back-edge, a loop", () => {
    const backEdge: ImportEdge = { from: "tensor/shape.ts", to: "ops/shape.ts", typeOnly: false };
    expect(violations([...edges, backEdge])).toEqual(["tensor/shape.ts -> ops/shape.ts"]);
    const typeEdge: ImportEdge = { from: "kernels/backend.ts", to: "autograd/node.ts", typeOnly: true };
    expect(violations([...edges, typeEdge])).toEqual(["kernels/backend.ts -> autograd/node.ts (type only)"]);
    const loop: ImportEdge = { from: "ops/shape.ts", to: "ops/reduce.ts", typeOnly: false };
    expect(runtimeLoops(files, [...edges, loop]).length).toBe(1);
  });
});
