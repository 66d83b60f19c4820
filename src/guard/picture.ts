/** Pictures of the graph around the birth of a NaN: Graphviz text and a self-drawn SVG. */

/** One node of a {@link ReportGraph}: a tensor or an op. */
export interface ReportGraphNode {
  /** Unique id within the graph. */
  id: string;
  /** The first line of the node's box (op name or tensor name). */
  label: string;
  /** Extra lines (statistics). */
  detail: string[];
  /** What the node is: the op that made the value, an input tensor, another op, or the loss. */
  role: "culprit" | "input" | "op" | "loss";
}
/** The graph around the birth of a non-finite value, as drawn by `AnomalyReport.toDot()` / `toSVG()`. */
export interface ReportGraph {
  /** The nodes. */
  nodes: ReportGraphNode[];
  /** from -> to, in the direction data flows. */
  edges: [string, string][];
}

const esc = (s: string): string => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
const COLORS: Record<ReportGraphNode["role"], string> = { culprit: "#ffb3b3", input: "#e8f0ff", op: "#f4f4f4", loss: "#e6ffe6" };

export function graphToDot(g: ReportGraph): string {
  const lines = ["digraph anomaly {", "  rankdir=LR;", '  node [shape=box, style="rounded,filled", fontname="Helvetica"];'];
  for (const n of g.nodes) {
    const label = [n.label, ...n.detail].map((s) => s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')).join("\\n");
    lines.push(`  "${n.id}" [label="${label}", fillcolor="${COLORS[n.role]}"${n.role === "culprit" ? ", penwidth=3, color=\"#cc0000\"" : ""}];`);
  }
  for (const [a, b] of g.edges) lines.push(`  "${a}" -> "${b}";`);
  lines.push("}");
  return lines.join("\n");
}

/** Layered left-to-right layout: a node's column is its longest distance from a source. */
export function graphToSVG(g: ReportGraph): string {
  const col = new Map<string, number>();
  for (const n of g.nodes) col.set(n.id, 0);
  // Longest path from a source: one relaxation pass per node settles any DAG (the graphs are small).
  for (let iter = 0; iter < g.nodes.length; iter++) {
    for (const [a, b] of g.edges) col.set(b, Math.max(col.get(b) ?? 0, (col.get(a) ?? 0) + 1));
  }
  const W = 230;
  const lineH = 14;
  const gapX = 60;
  const gapY = 20;
  const rows = new Map<number, number>();
  const pos = new Map<string, { x: number; y: number; h: number }>();
  for (const n of g.nodes) {
    const c = col.get(n.id) ?? 0;
    const y = rows.get(c) ?? 10;
    const h = 24 + lineH * n.detail.length;
    pos.set(n.id, { x: 10 + c * (W + gapX), y, h });
    rows.set(c, y + h + gapY);
  }
  const width = 20 + (Math.max(0, ...col.values()) + 1) * (W + gapX);
  const height = 10 + Math.max(40, ...rows.values());
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
    `<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#555"/></marker></defs>`,
  ];
  for (const [a, b] of g.edges) {
    const p = pos.get(a);
    const q = pos.get(b);
    if (!p || !q) continue;
    parts.push(`<line x1="${p.x + W}" y1="${p.y + p.h / 2}" x2="${q.x}" y2="${q.y + q.h / 2}" stroke="#555" marker-end="url(#arrow)"/>`);
  }
  for (const n of g.nodes) {
    const p = pos.get(n.id)!;
    const stroke = n.role === "culprit" ? ' stroke="#cc0000" stroke-width="3"' : ' stroke="#888"';
    parts.push(`<rect x="${p.x}" y="${p.y}" width="${W}" height="${p.h}" rx="6" fill="${COLORS[n.role]}"${stroke}/>`);
    parts.push(`<text x="${p.x + 8}" y="${p.y + 16}" font-weight="bold">${esc(n.label)}</text>`);
    n.detail.forEach((d, i) => parts.push(`<text x="${p.x + 8}" y="${p.y + 30 + i * lineH}">${esc(d.length > 40 ? d.slice(0, 39) + "…" : d)}</text>`));
  }
  parts.push("</svg>");
  return parts.join("\n");
}
