/**
 * Base class of safegrad's typed errors. Every error names the op that raised it (`op`, and the
 * message starts with it); messages name shapes and values.
 * @example
 * try {
 *   add(zeros([2]), zeros([3]));
 * } catch (e) {
 *   if (e instanceof SafegradError) e.op; // "add"
 * }
 */
export class SafegradError extends Error {
  /** The op or function that raised the error ("matmul", "Linear", ...). */
  readonly op: string;
  /**
   * @param op - the op or function raising the error
   * @param message - what went wrong; the error's message is `${op}: ${message}`
   */
  constructor(op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = new.target.name;
    this.op = op;
  }
}

/**
 * Shapes that do not fit: broadcasting, reshape, matmul, concatenation, bad dims.
 * @example
 * try {
 *   matmul(zeros([2, 3]), zeros([2, 3]));
 * } catch (e) {
 *   e instanceof ShapeError; // true
 * }
 */
export class ShapeError extends SafegradError {}

/**
 * Mixed or unsupported dtypes.
 * @example
 * try {
 *   add(zeros([2]), zeros([2], { dtype: "float64" }));
 * } catch (e) {
 *   e instanceof DTypeError; // true: convert one with .to()
 * }
 */
export class DTypeError extends SafegradError {}

/**
 * Misuse of autograd: backward on a non-scalar, a freed graph, no grad to compute.
 * @example
 * try {
 *   a.mul(2).backward(); // not a scalar
 * } catch (e) {
 *   e instanceof AutogradError; // true
 * }
 */
export class AutogradError extends SafegradError {}

/**
 * An index outside its valid range (gather, indexSelect, oneHot, item).
 * @example
 * try {
 *   select(a, 0, 5);
 * } catch (e) {
 *   e instanceof IndexError; // true
 * }
 */
export class IndexError extends SafegradError {}

/**
 * A bad argument value (negative size, step of zero, p not supported).
 * @example
 * try {
 *   arange(0, 1, 0);
 * } catch (e) {
 *   e instanceof ValueError; // true
 * }
 */
export class ValueError extends SafegradError {}
