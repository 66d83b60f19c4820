/**
 * Base class of every error safegrad throws. Every error names the op that raised it (`op`; the
 * message starts with it) and carries a stable `code` that programs can switch on instead of
 * parsing messages; messages name shapes and values.
 *
 * Codes: each class has its own code, in UPPER_SNAKE_CASE, fixed across versions:
 * `"SAFEGRAD"` (this class used directly), `"SHAPE"` ({@link ShapeError}), `"DTYPE"`
 * ({@link DTypeError}), `"AUTOGRAD"` ({@link AutogradError}), `"GRADCHECK"` (`GradcheckError`, an
 * AutogradError), `"INDEX"` ({@link IndexError}), `"VALUE"` ({@link ValueError}), `"STATE_DICT"`
 * (`StateDictError`, a ValueError), `"DATA"` (`DataError`: a malformed data file), `"OPTIMIZER"`
 * (`OptimizerError`), `"CHECKPOINT"` (`CheckpointError`), `"NON_FINITE"` (`NonFiniteError`),
 * `"ANOMALY"` (`AnomalyError`) and `"DISPOSED"` ({@link DisposedError}). `SafetensorsError` is the one exception: its code is the finer
 * lowercase `SafetensorsProblemCode` of the problem (`"header-too-large"`, `"overlap"`, ...), so
 * the two sets never collide. A subclass keeps `instanceof` of its parent (a GradcheckError is an
 * AutogradError) but has its own code.
 * @example
 * try {
 *   add(zeros([2]), zeros([3]));
 * } catch (e) {
 *   if (e instanceof SafegradError) e.code; // "SHAPE" (and e.op is "add")
 * }
 */
export class SafegradError extends Error {
  /** The op or function that raised the error ("matmul", "Linear", ...). */
  readonly op: string;
  /** Stable identifier of the kind of error (see the class documentation for the list). */
  readonly code: string = "SAFEGRAD";
  /**
   * @param op - the op or function raising the error
   * @param message - what went wrong; the error's message is `${op}: ${message}`
   * @param whole - `message` is already the whole message (it is used as it is)
   */
  constructor(op: string, message: string, whole?: boolean) {
    super(whole ? message : `${op}: ${message}`);
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
export class ShapeError extends SafegradError {
  override readonly code: string = "SHAPE";
}

/**
 * Mixed or unsupported dtypes.
 * @example
 * try {
 *   add(zeros([2]), zeros([2], { dtype: "float64" }));
 * } catch (e) {
 *   e instanceof DTypeError; // true: convert one with .to()
 * }
 */
export class DTypeError extends SafegradError {
  override readonly code: string = "DTYPE";
}

/**
 * Misuse of autograd: backward on a non-scalar, a freed graph, no grad to compute.
 * @example
 * try {
 *   a.mul(2).backward(); // not a scalar
 * } catch (e) {
 *   e instanceof AutogradError; // true
 * }
 */
export class AutogradError extends SafegradError {
  override readonly code: string = "AUTOGRAD";
}

/**
 * An index outside its valid range (gather, indexSelect, oneHot, item).
 * @example
 * try {
 *   select(a, 0, 5);
 * } catch (e) {
 *   e instanceof IndexError; // true
 * }
 */
export class IndexError extends SafegradError {
  override readonly code: string = "INDEX";
}

/**
 * A bad argument value (negative size, step of zero, p not supported).
 * @example
 * try {
 *   arange(0, 1, 0);
 * } catch (e) {
 *   e instanceof ValueError; // true
 * }
 */
export class ValueError extends SafegradError {
  override readonly code: string = "VALUE";
}

/**
 * A malformed data file or text (a CSV row with the wrong width, a label out of range, a missing
 * embedded file); the message names the source, line and field.
 * @example
 * try {
 *   parseIrisCsv("");
 * } catch (e) {
 *   e instanceof DataError; // true: "iris.csv: empty file"
 * }
 */
export class DataError extends SafegradError {
  override readonly code: string = "DATA";
}

/**
 * A tensor used after `dispose()` (or after the `tidy` that created it ended); the message names
 * the op.
 * @example
 * const y = x.mul(2);
 * y.dispose();
 * try {
 *   y.add(1);
 * } catch (e) {
 *   e instanceof DisposedError; // true: e.code is "DISPOSED"
 * }
 */
export class DisposedError extends SafegradError {
  override readonly code: string = "DISPOSED";
}
