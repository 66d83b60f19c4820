/**
 * einsum for one or two operands, reduced to sum, permute, reshape and matmul (so its gradient is
 * theirs): "bij,bjk->bik", "ij,jk->ik", "bhqd,bhkd->bhqk", "i,i->", "i,j->ij", "ij->ji", "ij->".
 * Without "->" the output is the letters used once, in alphabetical order (as torch.einsum).
 * Not supported (a ValueError): "...", a letter repeated in one operand (diagonals), three or
 * more operands; sizes of a shared letter must be equal (no broadcasting of size-1 dims).
 */
import { ShapeError, ValueError } from "../errors.js";
import { Tensor } from "../tensor/tensor.js";
import { matmul } from "./linalg.js";
import { sum } from "./reduce.js";
import { permute, reshape } from "./shape.js";

const prod = (xs: readonly number[]): number => xs.reduce((a, b) => a * b, 1);

/** Sum out the letters of `term` that appear in neither `keep` string. */
function sumOut(t: Tensor, term: string, keep: string): [Tensor, string] {
  const dims = [...term].flatMap((l, i) => (keep.includes(l) ? [] : [i]));
  if (dims.length === 0) return [t, term];
  return [sum(t, dims), [...term].filter((l) => keep.includes(l)).join("")];
}

/** Permute t (with letters `term`) so that its letters read `order`. */
function arrange(t: Tensor, term: string, order: string): Tensor {
  return permute(t, [...order].map((l) => term.indexOf(l)));
}

/**
 * Einstein summation over one or two operands (as torch.einsum for those forms), computed with
 * permute, reshape, sum and one batched matmul.
 * @example
 * einsum("ij,jk->ik", randn([2, 3]), randn([3, 4])).shape; // [2, 4]
 * einsum("bhqd,bhkd->bhqk", randn([2, 4, 5, 8]), randn([2, 4, 6, 8])).shape; // [2, 4, 5, 6]
 * einsum("i,i->", tensor([1, 2]), tensor([3, 4])).item(); // 11
 * einsum("i,j->ij", tensor([1, 2]), tensor([3, 4])).toArray(); // [[3, 4], [6, 8]]
 */
export function einsum(equation: string, ...operands: Tensor[]): Tensor {
  const eq = equation.replace(/\s+/g, "");
  if (eq.includes(".")) throw new ValueError("einsum", `"..." is not supported: ${equation}`);
  const [lhs, rhs] = eq.includes("->") ? (eq.split("->") as [string, string]) : [eq, undefined];
  const terms = lhs.split(",");
  if (!/^[a-zA-Z,]*(->[a-zA-Z]*)?$/.test(eq)) throw new ValueError("einsum", `invalid equation ${JSON.stringify(equation)}: letters, one comma at most and "->"`);
  if (terms.length !== operands.length) throw new ValueError("einsum", `${equation} has ${terms.length} operands, got ${operands.length} tensors`);
  if (terms.length > 2 || terms.length === 0) throw new ValueError("einsum", `one or two operands are supported, got ${terms.length}`);
  const sizes = new Map<string, number>();
  terms.forEach((term, i) => {
    const t = operands[i]!;
    if (!(t instanceof Tensor)) throw new ValueError("einsum", `operand ${i} must be a Tensor`);
    if (term.length !== t.ndim) throw new ShapeError("einsum", `operand ${i} has ${t.ndim} dims, "${term}" names ${term.length}`);
    if (new Set(term).size !== term.length) throw new ValueError("einsum", `a letter repeated in one operand ("${term}": a diagonal) is not supported`);
    [...term].forEach((l, d) => {
      const s = t.shape[d]!;
      if (sizes.has(l) && sizes.get(l) !== s) throw new ShapeError("einsum", `letter ${l} has sizes ${sizes.get(l)} and ${s}`);
      sizes.set(l, s);
    });
  });
  const all = terms.join("");
  const out = rhs ?? [...new Set(all)].filter((l) => all.indexOf(l) === all.lastIndexOf(l)).sort().join("");
  if (new Set(out).size !== out.length) throw new ValueError("einsum", `output "${out}" repeats a letter`);
  for (const l of out) if (!sizes.has(l)) throw new ValueError("einsum", `output letter ${l} is in no operand`);
  const size = (ls: string): number[] => [...ls].map((l) => sizes.get(l)!);

  if (terms.length === 1) {
    const [t, term] = sumOut(operands[0]!, terms[0]!, out);
    return arrange(t, term, out);
  }
  const [a, ta] = sumOut(operands[0]!, terms[0]!, out + terms[1]!);
  const [b, tb] = sumOut(operands[1]!, terms[1]!, out + ta);
  const batch = [...out].filter((l) => ta.includes(l) && tb.includes(l)).join("");
  const contr = [...ta].filter((l) => tb.includes(l) && !out.includes(l)).join("");
  const left = [...ta].filter((l) => !tb.includes(l)).join("");
  const right = [...tb].filter((l) => !ta.includes(l)).join("");
  const nb = prod(size(batch));
  const am = reshape(arrange(a, ta, batch + left + contr), [nb, prod(size(left)), prod(size(contr))]);
  const bm = reshape(arrange(b, tb, batch + contr + right), [nb, prod(size(contr)), prod(size(right))]);
  const r = reshape(matmul(am, bm), size(batch + left + right));
  return arrange(r, batch + left + right, out);
}
