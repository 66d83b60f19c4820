/**
 * Typed errors. Every error names the op that raised it; messages name shapes and values.
 */
export class SafegradError extends Error {
  readonly op: string;
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = new.target.name;
    this.op = op;
  }
}

/** Shapes that do not fit: broadcasting, reshape, matmul, concatenation, bad dims. */
export class ShapeError extends SafegradError {}

/** Mixed or unsupported dtypes. */
export class DTypeError extends SafegradError {}

/** Misuse of autograd: backward on a non-scalar, a freed graph, no grad to compute. */
export class AutogradError extends SafegradError {}

/** An index outside its valid range (gather, indexSelect, oneHot, item). */
export class IndexError extends SafegradError {}

/** A bad argument value (negative size, step of zero, p not supported). */
export class ValueError extends SafegradError {}
