/**
 * The import graph of src/, read with the TypeScript compiler API: every `import` / `export ... from`
 * / `import()` of a relative module, marked type-only when it vanishes at compile time.
 */
import { readdirSync, readFileSync } from "node:fs";
import { join, relative, resolve, dirname } from "node:path";
import ts from "typescript";

export interface ImportEdge {
  from: string;
  to: string;
  typeOnly: boolean;
}

export function sourceFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts") && !e.name.endsWith(".d.ts")) out.push(p);
    }
  };
  walk(root);
  return out.sort();
}

function isTypeOnlyImport(node: ts.ImportDeclaration): boolean {
  const c = node.importClause;
  if (!c) return false; // a side-effect import runs
  if (c.isTypeOnly) return true;
  if (c.name) return false;
  const b = c.namedBindings;
  if (!b || ts.isNamespaceImport(b)) return false;
  return b.elements.length > 0 && b.elements.every((e) => e.isTypeOnly);
}

function isTypeOnlyExport(node: ts.ExportDeclaration): boolean {
  if (node.isTypeOnly) return true;
  const c = node.exportClause;
  return !!c && ts.isNamedExports(c) && c.elements.length > 0 && c.elements.every((e) => e.isTypeOnly);
}

/** Edges between files of `root` (paths relative to it, e.g. "tensor/tensor.ts"). */
export function importEdges(root: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(root)) {
    const text = readFileSync(file, "utf8");
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const add = (spec: string, typeOnly: boolean): void => {
      if (!spec.startsWith(".")) return; // node:fs and packages
      const target = resolve(dirname(file), spec).replace(/\.js$/, ".ts");
      edges.push({ from: relative(root, file), to: relative(root, target), typeOnly });
    };
    const visit = (node: ts.Node): void => {
      if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, isTypeOnlyImport(node));
      else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier)) add(node.moduleSpecifier.text, isTypeOnlyExport(node));
      else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) add(node.arguments[0].text, false);
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return edges;
}

/** The cycles of a directed graph (one representative path per strongly connected component of size > 1, or a self-loop). */
export function cycles(nodes: readonly string[], edges: readonly { from: string; to: string }[]): string[][] {
  const adj = new Map<string, string[]>(nodes.map((n) => [n, []]));
  for (const e of edges) adj.get(e.from)?.push(e.to);
  // Tarjan's algorithm, iterative.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  const sccs: string[][] = [];
  for (const start of nodes) {
    if (idx.has(start)) continue;
    const work: [string, number][] = [[start, 0]];
    idx.set(start, index);
    low.set(start, index++);
    stack.push(start);
    onStack.add(start);
    while (work.length) {
      const top = work[work.length - 1]!;
      const [v, i] = top;
      const next = adj.get(v) ?? [];
      if (i < next.length) {
        top[1]++;
        const w = next[i]!;
        if (!idx.has(w)) {
          idx.set(w, index);
          low.set(w, index++);
          stack.push(w);
          onStack.add(w);
          work.push([w, 0]);
        } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
      } else {
        work.pop();
        if (work.length) {
          const u = work[work.length - 1]![0];
          low.set(u, Math.min(low.get(u)!, low.get(v)!));
        }
        if (low.get(v) === idx.get(v)) {
          const comp: string[] = [];
          let w: string;
          do {
            w = stack.pop()!;
            onStack.delete(w);
            comp.push(w);
          } while (w !== v);
          if (comp.length > 1 || (adj.get(v) ?? []).includes(v)) sccs.push(comp.sort());
        }
      }
    }
  }
  return sccs;
}
